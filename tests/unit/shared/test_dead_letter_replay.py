import dramatiq

from shared.jobs.dead_letters import fresh_body


def test_a_replayed_dramatiq_message_starts_over_on_its_work_queue():
    dead = dramatiq.Message(
        queue_name="notifier.critical.DQ",
        actor_name="send_signin_alert",
        args=({"job_id": "j"},),
        kwargs={},
        options={"retries": 5, "traceback": "...", "eta": 1, "requeue_timestamp": 1, "correlation_id": "c-1"},
        message_id="j",
        message_timestamp=1,
    )
    replayed = dramatiq.Message.decode(fresh_body(dead.encode()))
    assert replayed.queue_name == "notifier.critical"
    assert replayed.options == {"correlation_id": "c-1"}
    assert (replayed.message_id, replayed.args) == ("j", ({"job_id": "j"},))
    assert replayed.message_timestamp > dead.message_timestamp


def test_a_foreign_body_is_replayed_as_it_was():
    assert fresh_body(b'{"event_id": "e"}') == b'{"event_id": "e"}'
