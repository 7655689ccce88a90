"""ScheduledRetries on Dramatiq's in-memory broker: every failure an actor does not ``throw`` is
retried on the actor's own schedule, then dies; nothing falls back to Dramatiq's jittered one."""

import math

import dramatiq
import pytest
from dramatiq.broker import MessageProxy
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

from shared.errors import PermanentError, TransientError
from shared.jobs.retry_policy import MAX_REQUESTED_DELAY_MS
from shared.middleware.scheduled_retries import ScheduledRetries
from shared.topology import SEND_SIGNIN_ALERT

SIGNIN_ALERT_BACKOFF = SEND_SIGNIN_ALERT.backoff


class EnqueueDelays(dramatiq.Middleware):
    """Remembers the delay of every enqueue: what a retry was scheduled for."""

    def __init__(self) -> None:
        self.delays: list[int | None] = []

    def before_enqueue(self, broker, message, delay):
        self.delays.append(delay)


@pytest.fixture
def broker():
    broker = StubBroker(middleware=[CurrentMessage(), EnqueueDelays(), ScheduledRetries(max_retries=0)])
    broker.emit_after("process_boot")

    @dramatiq.actor(
        broker=broker, max_retries=SIGNIN_ALERT_BACKOFF.max_retries, backoff=SIGNIN_ALERT_BACKOFF, throws=(PermanentError,)
    )
    def send_signin_alert(payload):
        pass

    yield broker
    broker.close()


def delays(broker) -> list:
    return next(m for m in broker.middleware if isinstance(m, EnqueueDelays)).delays


def fail_once(broker, message: MessageProxy, error: BaseException) -> MessageProxy | None:
    """What the worker does when an attempt raises ``error``; the retry it enqueued, if any."""
    retries = next(m for m in broker.middleware if isinstance(m, ScheduledRetries))
    enqueued = len(delays(broker))
    try:
        raise error
    except BaseException as raised:  # the worker calls the middleware inside its except block
        retries.after_process_message(broker, message, exception=raised)
    if len(delays(broker)) == enqueued:
        return None
    queue = broker.queues[dramatiq.common.dq_name("default")]
    return MessageProxy(dramatiq.Message.decode(queue.get_nowait()))


def first_attempt(broker) -> MessageProxy:
    return MessageProxy(dramatiq.Message(queue_name="default", actor_name="send_signin_alert", args=({},), kwargs={}, options={}))


@pytest.mark.parametrize(
    "error",
    [RuntimeError("a bug"), OverflowError("date value out of range"), IsADirectoryError(21, "Is a directory")],
)
def test_an_unexpected_error_follows_the_actors_schedule_then_dies(broker, error):
    message = first_attempt(broker)
    for _ in range(SIGNIN_ALERT_BACKOFF.max_retries):
        message = fail_once(broker, message, error)
        assert message is not None and not message.failed
    assert delays(broker) == [2000, 4000, 8000, 16000]
    assert fail_once(broker, message, error) is None
    assert message.failed, "the fifth failure is the last"
    assert type(error).__name__ in message.options["traceback"], "the traceback is the original error's"


def test_an_endless_retry_after_neither_overflows_nor_parks_the_message(broker):
    fail_once(broker, first_attempt(broker), TransientError("429", retry_after=math.inf))
    fail_once(broker, first_attempt(broker), TransientError("429", retry_after=1e300))
    fail_once(broker, first_attempt(broker), TransientError("429", retry_after=7))
    assert delays(broker) == [MAX_REQUESTED_DELAY_MS, MAX_REQUESTED_DELAY_MS, 7000]


def test_a_failure_the_actor_throws_dies_at_once(broker):
    message = first_attempt(broker)
    assert fail_once(broker, message, PermanentError("550 no such user")) is None
    assert message.failed and delays(broker) == []


def test_a_retry_the_actor_scheduled_itself_keeps_its_delay(broker):
    fail_once(broker, first_attempt(broker), dramatiq.Retry("later", delay=1234))
    assert delays(broker) == [1234]
