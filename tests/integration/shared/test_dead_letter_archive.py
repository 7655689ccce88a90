"""The dead-letter archive on the real RabbitMQ and each database: every poison message is its
own row, with its reason and error text, whatever it looks like; only a redelivery of the same
dead letter is stored once; and the queues drain."""

from collections import Counter
from functools import partial

import pika
import pytest

from services.auth_events.bootstrap import bootstrap as bootstrap_auth_events
from services.auth_events.settings import AuthEventsSettings
from services.migrations.migrate import upgrade_to_head
from shared.amqp.consumer import DEAD_LETTER_ID_HEADER, QueueConsumer
from shared.amqp.event_consumer import event_handler
from shared.db import build_engine, build_session_factory
from shared.jobs.dead_letters import DeadLetter, DeadLetterArchive
from shared.jobs.ledger import JobLedger
from shared.schemas import UserSignedInV1
from shared.topology import (
    AUTH_EVENTS_EXCHANGE,
    AUTH_EVENTS_INGRESS,
    AUTH_EVENTS_INGRESS_QUEUE,
    NOTIFICATION_REQUESTED_KEY,
    NOTIFICATIONS_EXCHANGE,
    NOTIFIER_REQUESTS_QUEUE,
    dead_letter_queue,
)
from tests.fakes.clock import FakeClock
from tests.fakes.email import RecordingEmailSender
from tests.support.events import publish_json, signed_in_event
from tests.support.herald_process import free_port
from tests.support.running_notifier import RunningNotifier
from tests.support.waiting import wait_until

#: Poison messages per exchange; the issue saw a quarter of 1,000 merged away.
POISON_PER_EXCHANGE = 100
#: The same bytes and the same headers for every one of them.
POISON_BODY = b'{"event_id": "poison", "type": "nonsense"}'
POISON_HEADERS = {"x-producer": "careless"}


@pytest.fixture
def database(database_url):
    engine = build_engine(database_url)
    upgrade_to_head(engine)
    session_factory = build_session_factory(engine)
    yield session_factory
    engine.dispose()


def archived(session_factory) -> list[DeadLetter]:
    with session_factory() as session:
        return list(session.query(DeadLetter).order_by(DeadLetter.id))


def messages_left(amqp_url: str, queues: list[str]) -> dict[str, int]:
    """Ready messages per queue (unacked ones count too once their consumers have stopped)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        return {queue: channel.queue_declare(queue, passive=True).method.message_count for queue in queues}
    finally:
        connection.close()


def publish_poison(amqp_url: str, exchange: str, routing_key: str, count: int) -> set[str]:
    """``count`` identical poison messages; half with a message id each, half with none."""
    message_ids = set()
    for n in range(count):
        properties = {"headers": dict(POISON_HEADERS)}
        if n % 2 == 0:
            properties["message_id"] = message_id = f"{exchange}-{n}"
            message_ids.add(message_id)
        publish_json(amqp_url, exchange, routing_key, POISON_BODY, **properties)
    return message_ids


def test_every_identical_poison_message_on_both_exchanges_is_its_own_row(amqp_url, database_url, database):
    auth_events = bootstrap_auth_events(
        AuthEventsSettings(amqp_url=amqp_url, database_url=database_url, auth_events_port=free_port())
    )
    notifier = RunningNotifier(amqp_url, database_url, clock=FakeClock())
    queues = [AUTH_EVENTS_INGRESS_QUEUE, NOTIFIER_REQUESTS_QUEUE]
    all_queues = queues + [dead_letter_queue(queue) for queue in queues]
    auth_events.start()
    try:
        notifier.start(RecordingEmailSender())
        assert all(consumer.connected.wait(15) for consumer in auth_events.intake if hasattr(consumer, "connected"))
        ids = publish_poison(amqp_url, AUTH_EVENTS_EXCHANGE, "auth.user.signed_in", POISON_PER_EXCHANGE)
        ids |= publish_poison(amqp_url, NOTIFICATIONS_EXCHANGE, NOTIFICATION_REQUESTED_KEY, POISON_PER_EXCHANGE)

        rows = wait_until(
            lambda: len(rows := archived(database)) >= 2 * POISON_PER_EXCHANGE and rows,
            timeout=60,
            what="every poison message archived",
        )
    finally:
        notifier.stop()
        auth_events.stop()

    assert len(archived(database)) == 2 * POISON_PER_EXCHANGE, "no more rows once everything is settled"
    assert Counter(row.queue_name for row in rows) == {queue: POISON_PER_EXCHANGE for queue in queues}
    assert {row.message_id for row in rows} - {None} == ids
    assert all(row.body == POISON_BODY and row.headers["x-producer"] == "careless" for row in rows)
    assert {row.reason for row in rows} == {"invalid_event"}
    assert all(row.last_error and "Field required" in row.last_error for row in rows)
    assert messages_left(amqp_url, all_queues) == {queue: 0 for queue in all_queues}


class Archiver:
    """A foreign-event consumer and the archiver of its dead letters, as the services wire them."""

    def __init__(self, amqp_url: str, session_factory, accept) -> None:
        self.archive = DeadLetterArchive(session_factory, JobLedger(session_factory, FakeClock()), FakeClock())
        self.consumers = [
            QueueConsumer(
                "ingress", amqp_url, [AUTH_EVENTS_INGRESS_QUEUE], event_handler(UserSignedInV1, accept), AUTH_EVENTS_INGRESS.declare
            ),
            QueueConsumer(
                "archiver",
                amqp_url,
                [dead_letter_queue(AUTH_EVENTS_INGRESS_QUEUE)],
                partial(self.archive.archive_delivery, carries_dramatiq_messages=False),
                AUTH_EVENTS_INGRESS.declare,
                requeue_on_error=True,
            ),
        ]

    def __enter__(self):
        for consumer in self.consumers:
            consumer.start()
        assert all(consumer.connected.wait(15) for consumer in self.consumers)
        return self

    def __exit__(self, *exc):
        for consumer in self.consumers:
            consumer.stop()


def fails_unexpectedly(event):
    # What a validator reading a zone name that is a directory ("Asia") did: not a ValueError.
    raise IsADirectoryError(21, "Is a directory", "/usr/share/zoneinfo/Asia")


def test_an_event_that_fails_unexpectedly_is_archived_with_the_error(amqp_url, database):
    event = signed_in_event(event_id="same-for-all")
    with Archiver(amqp_url, database, fails_unexpectedly):
        for _ in range(20):
            publish_json(amqp_url, AUTH_EVENTS_EXCHANGE, "auth.user.signed_in", event)
        rows = wait_until(lambda: len(rows := archived(database)) >= 20 and rows, timeout=30, what="20 dead letters")

    assert len(archived(database)) == 20
    assert {row.reason for row in rows} == {"unexpected_error"}
    assert {row.last_error for row in rows} == {"IsADirectoryError: [Errno 21] Is a directory: '/usr/share/zoneinfo/Asia'"}
    queues = [AUTH_EVENTS_INGRESS_QUEUE, dead_letter_queue(AUTH_EVENTS_INGRESS_QUEUE)]
    assert messages_left(amqp_url, queues) == {queue: 0 for queue in queues}


def test_only_a_redelivery_of_the_same_dead_letter_is_stored_once(amqp_url, database):
    def publish_dead_letter(headers: dict) -> None:
        publish_json(amqp_url, "", dead_letter_queue(AUTH_EVENTS_INGRESS_QUEUE), POISON_BODY, headers=headers)

    with Archiver(amqp_url, database, lambda event: None):
        stamped = {"x-herald-reason": "invalid_event", "x-herald-error": "bad", DEAD_LETTER_ID_HEADER: "d-1"}
        publish_dead_letter(stamped)
        publish_dead_letter(stamped)  # as if the archiver had died between its commit and its ack
        publish_dead_letter({"x-death": [{"queue": AUTH_EVENTS_INGRESS_QUEUE, "reason": "rejected", "count": 1}]})
        publish_dead_letter({"x-death": [{"queue": AUTH_EVENTS_INGRESS_QUEUE, "reason": "rejected", "count": 1}]})
        wait_until(
            lambda: messages_left(amqp_url, [dead_letter_queue(AUTH_EVENTS_INGRESS_QUEUE)])[
                dead_letter_queue(AUTH_EVENTS_INGRESS_QUEUE)
            ] == 0 and len(archived(database)) >= 3,
            what="the dead letters consumed",
        )

    rows = archived(database)
    assert sorted(row.reason for row in rows) == ["invalid_event", "rejected", "rejected"]
