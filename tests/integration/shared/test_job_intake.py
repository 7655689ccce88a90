"""Group commit at intake: requests that wait together share one transaction and one publish,
and each still gets its own answer. On both databases; the publisher is the tests' fake, which
here can hold a batch in hand so that the next requests have to wait."""

import threading
from concurrent.futures import Future

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services.auth_events.adapters.signin_history import SignInHistory
from services.auth_events.tables import SignInRecord
from shared.amqp.publisher import Outgoing, PublishFailed
from shared.errors import PermanentError
from shared.jobs.intake import MAX_BATCH, Acceptance, BatchLine, JobIntake
from shared.jobs.ledger import Job, JobLedger
from shared.schemas import UserSignedInV1
from shared.topology import SEND_SIGNIN_ALERT
from tests.fakes.clock import FakeClock
from tests.fakes.publisher import RecordingPublisher
from tests.support.events import signed_in_event
from tests.support.waiting import wait_until


class HoldingPublisher(RecordingPublisher):
    """Holds its first batch until released, and remembers the size of every batch."""

    def __init__(self) -> None:
        super().__init__()
        self.batch_sizes: list[int] = []
        self.holding = threading.Event()
        self.release = threading.Event()

    def send_many(self, messages: list[Outgoing]) -> None:
        if not self.batch_sizes:
            self.holding.set()
            assert self.release.wait(30)
        self.batch_sizes.append(len(messages))
        super().send_many(messages)


@pytest.fixture
def publisher():
    return HoldingPublisher()


@pytest.fixture
def intake(session_factory, publisher):
    return JobIntake(session_factory, JobLedger(session_factory, FakeClock()), publisher)


@pytest.fixture
def one_batch_at_a_time(intake):
    # With one transaction in flight, whoever arrives while it is held must wait for it.
    intake.line = BatchLine(max_in_flight=1, max_batch=MAX_BATCH)


def accept_in_thread(intake: JobIntake, event_id: str, *, payload=None, kept_row=None) -> Future:
    """``intake.accept`` for a sign-in event on a thread of its own; its outcome as a Future."""
    event = UserSignedInV1.model_validate(signed_in_event(event_id=event_id))
    history = SignInHistory(FakeClock())
    kept_row = kept_row or (lambda _job_id: history.row(event, received_via="test"))
    outcome: Future = Future()

    def run() -> None:
        try:
            outcome.set_result(
                intake.accept(
                    SEND_SIGNIN_ALERT,
                    event_id=event_id,
                    payload_for_job=payload or (lambda job_id: {"job_id": job_id}),
                    subject_id=event.user.id,
                    kept_row=kept_row,
                )
            )
        except Exception as error:
            outcome.set_exception(error)

    threading.Thread(target=run, daemon=True).start()
    return outcome


def hold_a_batch_then_queue(
    intake: JobIntake, publisher: HoldingPublisher, *event_ids: str, payload=None, kept_row=None
) -> list[Future]:
    """Accept "first" and hold its batch, then the others, which wait for the next batch.
    ``kept_row(event_id)``, if given, is what the service keeps for each of the others."""
    first = accept_in_thread(intake, "first")
    assert publisher.holding.wait(10)
    waiting = [
        accept_in_thread(
            intake, event_id, payload=payload, kept_row=kept_row and (lambda _job_id, event_id=event_id: kept_row(event_id))
        )
        for event_id in event_ids
    ]
    wait_until(lambda: intake.line.waiting == len(event_ids), what="the requests waiting for the next batch")
    publisher.release.set()
    return [first, *waiting]


def count(session_factory, table) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(table))


@pytest.mark.usefixtures("one_batch_at_a_time")
def test_requests_that_wait_together_share_one_transaction_and_each_get_their_own_answer(
    intake, publisher, session_factory
):
    outcomes = hold_a_batch_then_queue(intake, publisher, "e-1", "e-2", "e-3")

    answers = [outcome.result(timeout=30) for outcome in outcomes]
    assert answers == [
        Acceptance(event_id, SEND_SIGNIN_ALERT.job_id_for(event_id), duplicate=False)
        for event_id in ("first", "e-1", "e-2", "e-3")
    ]
    assert publisher.batch_sizes == [1, 3]
    assert [sent.message_id for sent in publisher.sent] == [answer.job_id for answer in answers]
    assert count(session_factory, Job) == 4
    assert count(session_factory, SignInRecord) == 4, "what the service keeps went in with its jobs"


@pytest.mark.usefixtures("one_batch_at_a_time")
def test_the_same_event_twice_in_one_batch_is_accepted_once(intake, publisher, session_factory):
    _, one, again = hold_a_batch_then_queue(intake, publisher, "e-1", "e-1")

    answers = sorted([one.result(timeout=30), again.result(timeout=30)], key=lambda answer: answer.duplicate)
    assert [answer.duplicate for answer in answers] == [False, True]
    assert answers[0].job_id == answers[1].job_id
    assert publisher.batch_sizes == [1, 1]
    assert count(session_factory, Job) == 2


@pytest.mark.usefixtures("one_batch_at_a_time")
def test_a_request_that_cannot_be_served_fails_alone(intake, publisher, session_factory):
    def payload(job_id: str) -> dict:
        if job_id == SEND_SIGNIN_ALERT.job_id_for("e-bad"):
            raise PermanentError("no such template")
        return {"job_id": job_id}

    _, good, bad = hold_a_batch_then_queue(intake, publisher, "e-good", "e-bad", payload=payload)

    assert good.result(timeout=30).duplicate is False
    with pytest.raises(PermanentError, match="no such template"):
        bad.result(timeout=30)
    assert publisher.batch_sizes == [1, 1]
    assert count(session_factory, Job) == 2


def test_a_batch_the_broker_does_not_take_records_nothing_and_every_caller_hears_why(
    intake, publisher, session_factory
):
    publisher.refusing = True
    publisher.release.set()

    outcomes = [accept_in_thread(intake, f"e-{i}") for i in range(4)]

    for outcome in outcomes:
        with pytest.raises(PublishFailed):
            outcome.result(timeout=30)
    assert count(session_factory, Job) == 0
    assert count(session_factory, SignInRecord) == 0
    assert intake.line.in_flight == 0, "the lead was given back"


@pytest.mark.usefixtures("one_batch_at_a_time")
def test_a_request_the_database_refuses_fails_alone_and_its_neighbours_commit(intake, publisher, session_factory):
    history = SignInHistory(FakeClock())

    def kept_row(event_id: str):
        table, row = history.row(UserSignedInV1.model_validate(signed_in_event(event_id=event_id)), received_via="test")
        return table, {**row, "user_id": None} if event_id == "e-bad" else row  # NOT NULL: refused

    _, good, bad, other = hold_a_batch_then_queue(intake, publisher, "e-good", "e-bad", "e-other", kept_row=kept_row)

    assert good.result(timeout=30).duplicate is False
    assert other.result(timeout=30).duplicate is False
    with pytest.raises(IntegrityError):
        bad.result(timeout=30)
    assert count(session_factory, Job) == 3, "first, e-good and e-other; nothing of e-bad"
    assert count(session_factory, SignInRecord) == 3
    assert sorted(sent.message_id for sent in publisher.sent) == sorted(
        SEND_SIGNIN_ALERT.job_id_for(event_id) for event_id in ("first", "e-good", "e-other")
    )
