"""Digests end to end on real parts, on SQLite and PostgreSQL.

The scheduler's own schedule logic and due scan run on a controllable clock and emit into the
real RabbitMQ; notifier, started through its bootstrap, turns the events into jobs, and its
Dramatiq workers send the digests through the real SendGrid and SMTP transports to local
servers. Then: two scheduler processes scanning the same database at once emit each digest once.
"""

import multiprocessing
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from services.notifier.tables import DigestDelivery, Notification
from services.scheduler.digest_schedules.handlers import DigestScheduleFields, DigestSchedules
from services.scheduler.digest_schedules.scan import DigestScan
from services.scheduler.tables import DigestSchedule
from shared.amqp.event_publisher import EventPublisher
from shared.jobs.ledger import Job, JobStatus
from shared.schemas.scheduler import DigestDueV1
from tests.fakes.clock import FakeClock
from tests.fakes.sendgrid_server import SendGridTestServer
from tests.fakes.smtp_server import SmtpTestServer
from tests.support.digest_scan_process import scan_in_own_process
from tests.support.digests_due import DigestQueue, due_schedule_row
from tests.support.events import notification_job_id, notification_requested
from tests.support.running_notifier import RunningNotifier
from tests.support.waiting import wait_until

START = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)  # a Tuesday


# -- the mail servers, seen the same way ----------------------------------------------------------


@dataclass(frozen=True)
class ArrivedMail:
    to: list[str]
    subject: str
    text: str


class SendGridSink:
    transport = "sendgrid"

    def __init__(self) -> None:
        self.server = SendGridTestServer().start()

    def settings(self) -> dict:
        return {"sendgrid_api_host": self.server.url, "sendgrid_api_key": self.server.api_key}

    def arrived(self) -> list[ArrivedMail]:
        return [ArrivedMail(m.to_addresses, m.subject, m.content("text/plain")) for m in self.server.mails]

    def stop(self) -> None:
        self.server.stop()


class SmtpSink:
    transport = "smtp"

    def __init__(self) -> None:
        self.server = SmtpTestServer().start()

    def settings(self) -> dict:
        return {"smtp_url": self.server.smtp_url}

    def arrived(self) -> list[ArrivedMail]:
        return [ArrivedMail(m.rcpt_tos, m.subject, m.body("plain")) for m in self.server.mails]

    def stop(self) -> None:
        self.server.stop()


# -- the recipients: one Mongolian (over SendGrid), one English (over SMTP) -------------------------


@dataclass(frozen=True)
class Case:
    sink: type
    recipient: dict
    #: The schedule's zone and local delivery time: 08:00 UTC either way.
    timezone: str
    delivery_time: str
    titles: list[str]
    subject: str
    greeting: str
    #: How the first notification's time (06:00 UTC) reads in the digest, in its language and zone.
    first_item_time: str


MONGOLIAN_OVER_SENDGRID = Case(
    sink=SendGridSink,
    recipient={"user_id": "u-bat", "email": "bat@example.mn", "name": "Бат", "locale": "mn"},
    timezone="Asia/Ulaanbaatar",
    delivery_time="16:00",
    titles=["Болд сэтгэгдэл бичлээ", "Сараа таныг дурдлаа", "Нэхэмжлэл төлөгдлөө"],
    subject="📬 Таны өдрийн тойм - Herald",
    greeting="Сайн байна уу, Бат!",
    first_item_time="2026 оны 11-р сарын 24, 14:00",
)
ENGLISH_OVER_SMTP = Case(
    sink=SmtpSink,
    recipient={"user_id": "u-ann", "email": "ann@example.com", "name": "Ann", "locale": "en"},
    timezone="UTC",
    delivery_time="08:00",
    titles=["Bold commented", "Sara mentioned you", "Invoice paid"],
    subject="📬 Your daily digest from Herald",
    greeting="Hello, Ann!",
    first_item_time="24 November 2026, 06:00",
)


class Pipeline:
    """notifier started for real through its bootstrap, and the scheduler's parts beside it,
    all on one fake clock: the notifications' times, the schedule and the scan agree."""

    def __init__(self, amqp_url: str, database_url: str, sink) -> None:
        self.amqp_url = amqp_url
        self.sink = sink
        self.clock = FakeClock(START)
        self.notifier = RunningNotifier(amqp_url, database_url, clock=self.clock)
        self.notifier.build(email_transport=sink.transport, email_from="Herald <no-reply@herald.test>", **sink.settings())
        self.session_factory = self.notifier.session_factory
        self.publisher = EventPublisher(amqp_url)
        self.schedules = DigestSchedules(self.session_factory, self.clock)
        self.scan = DigestScan(self.session_factory, self.publisher, self.clock)

    def start(self) -> None:
        self.notifier.start()

    def request_digest_notification(self, recipient: dict, title: str) -> str:
        """Ask for a notification by email in the user's digest, as another service would;
        return its job id once notifier has delivered it (left pending for the digest)."""
        body = notification_requested(
            occurred_at=self.clock.now().isoformat(),
            recipient=recipient,
            data={"title": title, "body": f"{title}."},
            channels=["email"],
            priority="normal",
            delivery="digest",
        )
        self.notifier.publish_request(body)
        job_id = notification_job_id(body)
        wait_until(
            lambda: self.notifier.job_status(job_id) == JobStatus.COMPLETED, timeout=20, what=f"job {job_id} completed"
        )
        return job_id

    def create_schedule(self, case: Case) -> dict:
        fields = {
            "recipient": case.recipient,
            "frequency": "daily",
            "delivery_time": case.delivery_time,
            "timezone": case.timezone,
            "max_items": 10,
        }
        return self.schedules.create(DigestScheduleFields.model_validate(fields))

    def digest_delivery(self, schedule_id: str, period_key: str) -> DigestDelivery | None:
        with self.session_factory() as session:
            return session.get(DigestDelivery, (schedule_id, period_key))

    def digest_states(self, job_ids: list[str]) -> list[str | None]:
        with self.session_factory() as session:
            return [session.get(Notification, job_id).digest_state for job_id in job_ids]

    def batch_jobs(self) -> list[str]:
        with self.session_factory() as session:
            return list(session.scalars(select(Job.status).where(Job.type == "digest_batch")))

    def stop(self) -> None:
        self.notifier.stop()
        self.publisher.close()
        self.sink.stop()


@pytest.mark.parametrize("case", [MONGOLIAN_OVER_SENDGRID, ENGLISH_OVER_SMTP], ids=["mn-sendgrid", "en-smtp"])
def test_a_due_schedule_on_the_scheduler_clock_sends_one_digest_per_period_to_the_mail_server(
    case, amqp_url, database_url
):
    pipeline = Pipeline(amqp_url, database_url, case.sink())
    try:
        pipeline.start()
        job_ids = []
        for title in case.titles:
            job_ids.append(pipeline.request_digest_notification(case.recipient, title))
            pipeline.clock.advance(minutes=1)
        someone_else = {"user_id": "u-other", "email": "other@example.com", "name": "", "locale": "en"}
        other_job = pipeline.request_digest_notification(someone_else, "Not for this digest")
        assert pipeline.digest_states(job_ids + [other_job]) == ["pending"] * 4
        assert pipeline.sink.arrived() == [], "digest notifications wait for the digest"

        schedule = pipeline.create_schedule(case)
        assert schedule["next_run_at"] == datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
        assert pipeline.scan.run_once() == 0, "not due yet"

        pipeline.clock.current = datetime(2026, 11, 24, 8, 0, 5, tzinfo=timezone.utc)
        assert pipeline.scan.run_once() == 1
        [mail] = wait_until(pipeline.sink.arrived, timeout=30, what="the digest at the mail server")
        assert mail.to == [case.recipient["email"]]
        assert mail.subject == case.subject
        assert case.greeting in mail.text
        listed = [line[2:].split(" (")[0] for line in mail.text.splitlines() if line.startswith("- ")]
        assert listed == list(reversed(case.titles)), "this user's notifications, newest first"
        assert f"- {case.titles[0]} ({case.first_item_time})" in mail.text
        assert "Not for this digest" not in mail.text
        wait_until(
            lambda: pipeline.digest_states(job_ids) == ["digested"] * 3, what="the listed notifications digested"
        )
        assert pipeline.digest_states([other_job]) == ["pending"]
        today = pipeline.digest_delivery(schedule["id"], "2026-11-24")
        assert (today.outcome, today.items) == ("sent", 3)

        # Later the same day: the period has had its digest, the scan emits nothing.
        pipeline.clock.current = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
        assert pipeline.scan.run_once() == 0
        pipeline.clock.current = datetime(2026, 11, 24, 23, 59, tzinfo=timezone.utc)
        assert pipeline.scan.run_once() == 0

        # The next day with nothing new: its digest is due and handled, but no email goes out.
        pipeline.clock.current = datetime(2026, 11, 25, 8, 0, 5, tzinfo=timezone.utc)
        assert pipeline.scan.run_once() == 1
        wait_until(
            lambda: (jobs := pipeline.batch_jobs()) == [JobStatus.COMPLETED] * 2 and jobs,
            timeout=30,
            what="both batch jobs completed",
        )
        assert pipeline.digest_delivery(schedule["id"], "2026-11-25") is None, "an empty period writes nothing"
        assert len(pipeline.sink.arrived()) == 1, "one digest in all"
    finally:
        pipeline.stop()


# -- two scheduler processes at once ------------------------------------------------------------------

SCHEDULE_COUNT = 3000

def test_two_scheduler_processes_at_once_emit_each_due_digest_exactly_once(
    database_url, migrated_engine, amqp_url
):
    ids = [str(uuid.uuid4()) for _ in range(SCHEDULE_COUNT)]
    rows = [due_schedule_row(schedule_id, START, locale="mn") for schedule_id in ids]
    with migrated_engine.begin() as connection:
        connection.execute(insert(DigestSchedule.__table__), rows)
    digest_queue = DigestQueue(amqp_url)

    on_postgresql = database_url.startswith("postgresql")
    context = multiprocessing.get_context("spawn")
    start_together = context.Barrier(2)
    # PostgreSQL: each process holds a claimed batch while the other claims its own (SKIP
    # LOCKED). SQLite serialises the scans' transactions, so there they only race.
    all_holding_a_batch = context.Barrier(2) if on_postgresql else None
    results = context.Queue()
    now = START + timedelta(hours=3)
    processes = [
        context.Process(
            target=scan_in_own_process,
            args=(database_url, amqp_url, now, 100, start_together, results, all_holding_a_batch),
            name=f"scheduler-{index}",
        )
        for index in range(2)
    ]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert all(process.exitcode == 0 for process in processes)
    assert [kind for kind, _ in reports] == ["emitted", "emitted"], reports
    emitted = [count for _, count in reports]
    assert sum(emitted) == SCHEDULE_COUNT
    if on_postgresql:
        assert all(count > 0 for count in emitted), "both processes emitted, their scans overlapping"

    received: list[DigestDueV1] = []
    wait_until(
        lambda: received.extend(digest_queue.digests()) or len(received) >= SCHEDULE_COUNT,
        timeout=30,
        what="every digest in the test's queue",
    )
    assert len(received) == SCHEDULE_COUNT, "no digest was emitted twice"
    event_ids = [digest.event_id for digest in received]
    assert len(set(event_ids)) == SCHEDULE_COUNT, "no event_id twice"
    assert set(event_ids) == {f"digest:{schedule_id}:2026-11-24" for schedule_id in ids}
    with migrated_engine.connect() as connection:
        assert connection.scalar(select(DigestSchedule.id).where(DigestSchedule.next_run_at <= now)) is None
