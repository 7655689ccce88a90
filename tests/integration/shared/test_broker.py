"""Herald's RabbitMQ plumbing on the real broker: confirms, reconnects, graceful shutdown."""

import json
import threading
import uuid
from datetime import datetime, timezone

import pika
import pytest

from shared.amqp.publisher import DramatiqPublisher, Outgoing, PublishFailed
from shared.broker import build_broker
from shared.jobs.ledger import JobStatus
from shared.schemas import SendSignInAlertV1
from shared.topology import SEND_SIGNIN_ALERT
from tests.fakes.clock import FakeClock
from tests.fakes.email import RecordingEmailSender
from tests.support.events import publish_json
from tests.support.running_notifier import RunningNotifier
from tests.support.waiting import wait_until


def ready_messages(amqp_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def alert_payload(job_id: str) -> dict:
    return SendSignInAlertV1(
        job_id=job_id,
        event_id=job_id,
        occurred_at=datetime(2026, 11, 23, 8, 15, tzinfo=timezone.utc),
        user={"id": "u-1", "email": "bat@example.mn", "name": "Бат", "locale": "mn"},
        context={"provider": "github", "ip_address": "203.0.113.7", "user_agent": ""},
    ).model_dump(mode="json")


def test_a_publisher_whose_idle_connection_was_dropped_reconnects(amqp_url, rabbit_admin, vhost):
    broker = build_broker(amqp_url)
    publisher = DramatiqPublisher(broker)
    try:
        publisher.send(SEND_SIGNIN_ALERT, alert_payload("a"), message_id="a")
        # What a missed heartbeat or a broker restart does to an idle publisher's connection.
        rabbit_admin.close_connections(vhost)
        publisher.send(SEND_SIGNIN_ALERT, alert_payload("b"), message_id="b")
    finally:
        broker.close()
    assert ready_messages(amqp_url, SEND_SIGNIN_ALERT.queue_name) == 2


def test_a_publish_the_broker_cannot_take_fails_loudly(amqp_url, rabbit_admin, vhost):
    broker = build_broker(amqp_url)
    publisher = DramatiqPublisher(broker)
    try:
        publisher.send(SEND_SIGNIN_ALERT, alert_payload("a"), message_id="a")
        rabbit_admin.refuse_connections(vhost)
        with pytest.raises(PublishFailed):
            publisher.send(SEND_SIGNIN_ALERT, alert_payload("b"), message_id="b")
    finally:
        rabbit_admin.accept_connections(vhost)
        broker.close()


def received(amqp_url: str, queue: str) -> list[dict]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel, bodies = connection.channel(), []
        while (delivery := channel.basic_get(queue, auto_ack=True))[0] is not None:
            bodies.append(json.loads(delivery[2]))
        return bodies
    finally:
        connection.close()


def test_messages_published_together_arrive_as_dramatiq_messages_with_their_correlation_ids(amqp_url):
    broker = build_broker(amqp_url)
    publisher = DramatiqPublisher(broker)
    try:
        publisher.send_many(
            [Outgoing(SEND_SIGNIN_ALERT, alert_payload(job_id), job_id, f"corr-{job_id}") for job_id in ("a", "b", "c")]
        )
    finally:
        broker.close()
    messages = received(amqp_url, SEND_SIGNIN_ALERT.queue_name)
    assert [(m["message_id"], m["options"]["correlation_id"], m["args"][0]["job_id"]) for m in messages] == [
        ("a", "corr-a", "a"),
        ("b", "corr-b", "b"),
        ("c", "corr-c", "c"),
    ]
    assert {m["actor_name"] for m in messages} == {SEND_SIGNIN_ALERT.actor_name}


def test_publishing_together_recovers_from_a_dropped_connection_and_fails_loudly_when_refused(
    amqp_url, rabbit_admin, vhost
):
    broker = build_broker(amqp_url)
    publisher = DramatiqPublisher(broker)
    batch = lambda *ids: [Outgoing(SEND_SIGNIN_ALERT, alert_payload(i), i) for i in ids]  # noqa: E731
    try:
        publisher.send_many(batch("a", "b"))
        rabbit_admin.close_connections(vhost)
        publisher.send_many(batch("c", "d"))  # tried again on a fresh connection
        rabbit_admin.refuse_connections(vhost)
        with pytest.raises(PublishFailed):
            publisher.send_many(batch("e", "f"))
    finally:
        rabbit_admin.accept_connections(vhost)
        broker.close()
    assert [m["message_id"] for m in received(amqp_url, SEND_SIGNIN_ALERT.queue_name)] == ["a", "b", "c", "d"]


def test_publishing_together_to_a_queue_deleted_under_the_publisher_declares_it_again(amqp_url):
    broker = build_broker(amqp_url)
    publisher = DramatiqPublisher(broker)
    batch = lambda *ids: [Outgoing(SEND_SIGNIN_ALERT, alert_payload(i), i) for i in ids]  # noqa: E731
    try:
        publisher.send_many(batch("a", "b"))
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        connection.channel().queue_delete(SEND_SIGNIN_ALERT.queue_name)
        connection.close()
        publisher.send_many(batch("c", "d"))  # returned as unroutable, then sent again to the queue declared anew
    finally:
        broker.close()
    assert [m["message_id"] for m in received(amqp_url, SEND_SIGNIN_ALERT.queue_name)] == ["c", "d"]


class BlockingEmailSender(RecordingEmailSender):
    """Holds every send until released, so a test can stop the worker mid-job."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = threading.Semaphore(0)
        self.release = threading.Event()

    def send(self, email):
        self.in_flight.release()
        self.release.wait(30)
        return super().send(email)


def test_stopping_notifier_finishes_jobs_in_hand_and_leaves_the_rest_queued(amqp_url, database_url):
    notifier = RunningNotifier(amqp_url, database_url, clock=FakeClock())
    sender = BlockingEmailSender()
    notifier.build(sender, critical_worker_threads=2)
    publisher = DramatiqPublisher(build_broker(amqp_url))
    job_ids = [str(uuid.uuid4()) for _ in range(10)]
    for job_id in job_ids:
        publisher.send(SEND_SIGNIN_ALERT, alert_payload(job_id), message_id=job_id)

    critical_pool = notifier.component("notifier-critical")
    notifier.start()
    for _ in range(2):  # both worker threads are now inside a send
        assert sender.in_flight.acquire(timeout=15)
    stopping = threading.Thread(target=notifier.stop)
    stopping.start()
    # Let the sends finish only once the critical pool's threads have been told to stop, as when
    # SIGTERM arrives mid-send.
    wait_until(critical_pool.threads_told_to_stop, what="workers told to stop")
    sender.release.set()
    stopping.join(20)

    assert not stopping.is_alive()
    assert len(sender.delivered) == 2, "the two jobs in hand finished"
    statuses = [notifier.job_status(job_id) for job_id in job_ids]
    assert statuses.count(JobStatus.COMPLETED) == 2 and JobStatus.PROCESSING not in statuses
    assert ready_messages(amqp_url, SEND_SIGNIN_ALERT.queue_name) == 8, "the rest went back to the queue"
    notifier.engine.dispose()


def test_a_dead_letter_consumer_keeps_a_delivery_it_failed_on(amqp_url):
    """On a dead-letter queue a rejected delivery would be gone: it is requeued instead."""
    from shared.amqp.consumer import QueueConsumer

    seen = []

    def flaky_archive(delivery):
        seen.append(delivery.body)
        if len(seen) == 1:
            raise RuntimeError("archive unavailable")
        delivery.ack()

    consumer = QueueConsumer(
        "test-archiver", amqp_url, ["test.XQ"], flaky_archive,
        declare=lambda channel: channel.queue_declare("test.XQ", durable=True), requeue_on_error=True,
    )
    consumer.start()
    try:
        assert consumer.connected.wait(10)
        publish_json(amqp_url, "", "test.XQ", b"dead letter")
        wait_until(lambda: len(seen) == 2, what="the failed delivery to come back")
    finally:
        consumer.stop()
    assert seen == [b"dead letter", b"dead letter"]
    assert ready_messages(amqp_url, "test.XQ") == 0
