"""The due scan: emit ``digest.due`` for every schedule whose ``next_run_at`` has passed.

Each round, in one transaction: take up to ``batch_size`` due schedules (oldest first; locked,
see ScheduleStore.claim_due), publish them as one DigestsDueV1 batch message to
``scheduler.events`` / ``digest.due`` with publisher confirms, then set each one's next run,
``last_period_key`` and ``last_sent_at``, and commit. Rounds repeat until nothing is due.

Guarantees:

* At most once per schedule and period, with several schedulers at once: a due row is locked
  by the scanner that took it (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: BEGIN IMMEDIATE
  serialises the transactions), and after its commit the row is no longer due.
* Nothing is lost: the batch is confirmed by RabbitMQ before the rows are marked. If the publish
  fails, the transaction rolls back (nothing marked) and ``PublishFailed`` (a TransientError)
  propagates, so the next run emits them again. If the commit fails after a confirmed publish,
  the next run emits the same events again, with the same ``event_id``
  (``digest:{schedule_id}:{period_key}``), and notifier drops the repeat.
* Catch-up after downtime: one digest for the most recent missed period, not one per missed
  period. The digest covers every undigested notification since the last one anyway, so a
  burst of stale digests would only repeat it. ``scheduled_for`` is that period's run time.
* A period already emitted (a schedule edited after its run moved its next run back into the
  same period) is not emitted again: the row only moves on to its next run.

The cost of a run follows the number of due schedules, not the total: the select walks the
index on ``next_run_at`` and the update goes by primary key. The per-schedule Python work is
kept small: runs are computed once per distinct (frequency, time, day, time zone) and reused
while still current, and the batch JSON is built from plain dicts (the schema is checked by
the tests, not per event here).
"""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from services.scheduler.digest_schedules.periods import ScheduleSpec, occurrences_around
from services.scheduler.digest_schedules.store import Advance, ScheduleStore
from shared.amqp.event_publisher import RawPublisher
from shared.clock import Clock
from shared.db import unit_of_work
from shared.schemas.scheduler import MAX_DIGESTS_PER_BATCH
from shared.topology import DIGEST_DUE_KEY, SCHEDULER_EXCHANGE

logger = logging.getLogger("herald.scheduler.digests")

#: Distinct schedule shapes whose runs are remembered; past this the memo starts over.
MAX_REMEMBERED_SPECS = 100_000


@dataclass(frozen=True)
class DueRun:
    """For one schedule shape: the run due at some instant, and the next one after it."""

    period_key: str
    scheduled_for: str  # ISO 8601, as it goes on the wire
    due_at: datetime
    next_at: datetime


class DigestScan:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        publisher: RawPublisher,
        clock: Clock,
        batch_size: int = 1000,
    ) -> None:
        if not 1 <= batch_size <= MAX_DIGESTS_PER_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_DIGESTS_PER_BATCH}")
        self._session_factory = session_factory
        self._publisher = publisher
        self._clock = clock
        self._batch_size = batch_size
        self._store = ScheduleStore()
        self._runs: dict[tuple, DueRun] = {}
        self._category_lists: dict[str, list] = {}

    def run_once(self) -> int:
        """Emit every due digest; return how many were emitted."""
        emitted = 0
        while True:
            claimed, sent = self._scan_one_batch()
            emitted += sent
            # A short batch means nothing else is due (or another scanner holds the rest).
            if claimed < self._batch_size:
                break
        if emitted:
            logger.info("emitted %d digest.due events", emitted)
        return emitted

    def _scan_one_batch(self) -> tuple[int, int]:
        with unit_of_work(self._session_factory) as session:
            now = self._clock.now()
            rows = self._store.claim_due(session, now, self._batch_size)
            if not rows:
                return 0, 0
            occurred_at = now.isoformat()
            digests: list[dict] = []
            emitted: list[Advance] = []
            already_sent: list[Advance] = []
            for (
                schedule_id,
                user_id,
                email,
                name,
                locale,
                frequency,
                delivery_time,
                delivery_day,
                time_zone,
                max_items,
                categories_json,
                last_period_key,
            ) in rows:
                run = self._due_run(frequency, delivery_time, delivery_day, time_zone, now)
                if run.period_key == last_period_key:
                    already_sent.append(Advance(schedule_id, run.next_at, last_period_key))
                    continue
                emitted.append(Advance(schedule_id, run.next_at, run.period_key))
                digests.append(
                    {
                        "event_id": f"digest:{schedule_id}:{run.period_key}",
                        "type": "digest.due",
                        "version": 1,
                        "occurred_at": occurred_at,
                        "schedule_id": schedule_id,
                        "period_key": run.period_key,
                        "scheduled_for": run.scheduled_for,
                        "frequency": frequency,
                        "timezone": time_zone,
                        "recipient": {"user_id": user_id, "email": email, "name": name, "locale": locale},
                        "categories": self._categories(categories_json),
                        "max_items": max_items,
                    }
                )
            if digests:
                batch_id = str(uuid.uuid4())
                body = json.dumps(
                    {
                        "type": "digest.due.batch",
                        "version": 1,
                        "batch_id": batch_id,
                        "occurred_at": occurred_at,
                        "digests": digests,
                    },
                    ensure_ascii=False,
                    separators=(",", ":"),
                ).encode()
                # Confirmed before anything is marked: a failure here rolls the batch back.
                self._publisher.publish(SCHEDULER_EXCHANGE, DIGEST_DUE_KEY, body, message_id=batch_id)
            self._store.advance(session, emitted, sent_at=now)
            self._store.advance(session, already_sent, sent_at=None)
            return len(rows), len(digests)

    def _categories(self, categories_json: str) -> list:
        categories = self._category_lists.get(categories_json)
        if categories is None:
            if len(self._category_lists) >= MAX_REMEMBERED_SPECS:
                self._category_lists.clear()
            categories = self._category_lists[categories_json] = json.loads(categories_json)
        return categories

    def _due_run(
        self, frequency: str, delivery_time: str, delivery_day: int | None, time_zone: str, now: datetime
    ) -> DueRun:
        """The run to emit at ``now`` and the next one, remembered per schedule shape while current."""
        key = (frequency, delivery_time, delivery_day, time_zone)
        run = self._runs.get(key)
        if run is not None and run.due_at <= now < run.next_at:
            return run
        latest, following = occurrences_around(ScheduleSpec(frequency, delivery_time, delivery_day, time_zone), now)
        run = DueRun(
            period_key=latest.period_key,
            scheduled_for=latest.at.isoformat(),
            due_at=latest.at,
            next_at=following.at,
        )
        if len(self._runs) >= MAX_REMEMBERED_SPECS:
            self._runs.clear()
        self._runs[key] = run
        return run
