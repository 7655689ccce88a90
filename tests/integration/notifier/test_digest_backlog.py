"""A digest for a user with a large backlog, on SQLite and PostgreSQL: the listing, the count of
the rest, marking and the outcomes are set-based, so the backlog's size costs no memory here."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from services.notifier.digests.handlers import DigestOutcome, send_digests
from services.notifier.preferences.model import Preferences
from services.notifier.tables import Notification, NotificationOutcome
from shared.db import unit_of_work
from tests.fakes.clock import FakeClock
from tests.support.digests_due import SCHEDULED_FOR, digest_due, send_digests_command
from tests.support.notifier_deps import notifier_deps

BACKLOG = 5000
#: Every fifth is billing (opted out below), every tenth of the rest security, the others comments.
CATEGORIES = ("comments", "billing", "comments", "security", "comments")
MAX_ITEMS = 10


def notification(id_: str, *, n: int, category: str, user_id="u-1", seconds_before=None, state="pending") -> dict:
    return {
        "id": id_,
        "event_id": f"e-{id_}",
        "user_id": user_id,
        "category": category,
        "template": "t",
        "priority": "low",
        "delivery": "digest",
        "locale": "en",
        "title": f"Title {id_}",
        "body": "Body",
        "data": {},
        # n-00000 is the newest
        "created_at": SCHEDULED_FOR - timedelta(seconds=n + 1 if seconds_before is None else seconds_before),
        "in_app": False,
        "digest_state": state,
    }


def backlog() -> list[dict]:
    return [notification(f"n-{n:05}", n=n, category=CATEGORIES[n % len(CATEGORIES)]) for n in range(BACKLOG)]


#: Not covered: another user's, one created after the digest's time, one digested already, and one
#: of another delivery (no digest state).
NOT_COVERED = [
    notification("other-user", n=0, category="comments", user_id="u-2"),
    notification("too-late", n=0, category="comments", seconds_before=-60),
    notification("digested-before", n=0, category="comments", state="digested"),
    notification("not-for-a-digest", n=0, category="comments", state=None),
]


@pytest.fixture
def deps(session_factory):
    clock = FakeClock(SCHEDULED_FOR + timedelta(minutes=1))
    return notifier_deps(session_factory, clock).digests


@pytest.mark.parametrize(
    "preferences, shown_categories, skip_reason",
    [
        (Preferences(opt_outs=frozenset({("billing", "email")})), {"comments", "security"}, "opted_out"),
        (Preferences(muted=True), {"security"}, "muted"),
    ],
    ids=["opted_out_of_billing", "muted"],
)
def test_a_digest_of_a_large_backlog_lists_the_newest_counts_the_rest_and_covers_all(
    deps, preferences, shown_categories, skip_reason
):
    rows = backlog()
    with unit_of_work(deps.session_factory) as session:
        session.execute(insert(Notification), rows + NOT_COVERED)
        deps.preferences.put(session, "u-1", preferences)
        # A failed outcome gives way to the digest's; any other recorded one stays.
        for row, outcome in ((rows[0], "failed"), (rows[1], "sent")):
            deps.outcomes.record(
                session, job_id=row["id"], user_id="u-1", category=row["category"], channel="email", outcome=outcome,
                reason="earlier",
            )

    command = send_digests_command(digest_due(max_items=MAX_ITEMS))
    assert send_digests(command, deps) == {"digest:s-1:2026-11-24": DigestOutcome.SENT}

    shown = [row for row in rows if row["category"] in shown_categories]  # newest first
    [email] = deps.email_sender.delivered
    listed = [line[2:].split(" (")[0] for line in email.text.splitlines() if line.startswith("- ")]
    assert listed == [row["title"] for row in shown[:MAX_ITEMS]], "the newest shown ones, newest first"
    assert f"…and {len(shown) - MAX_ITEMS} more." in email.text

    with deps.session_factory() as session:
        states = dict(session.execute(select(Notification.id, Notification.digest_state)).all())
        keys = set(session.scalars(select(Notification.digest_period_key).where(Notification.id.like("n-%"))))
        outcomes = session.execute(
            select(
                NotificationOutcome.job_id, NotificationOutcome.category, NotificationOutcome.outcome, NotificationOutcome.reason
            ).where(NotificationOutcome.channel == "email", NotificationOutcome.category != "digest")
        ).all()
        outcome_count = session.scalar(select(func.count()).select_from(NotificationOutcome))
    assert all(states[row["id"]] == "digested" for row in rows) and keys == {"2026-11-24"}
    assert [states[row["id"]] for row in NOT_COVERED] == ["pending", "pending", "digested", None]

    by_job = {job_id: (category, outcome, reason) for job_id, category, outcome, reason in outcomes}
    assert set(by_job) == {row["id"] for row in rows}, "one email outcome per covered notification"
    assert outcome_count == BACKLOG + 1, "and one for the digest"

    def expected(row):
        if row["category"] in shown_categories:
            return row["category"], "sent", None
        return row["category"], "skipped", skip_reason

    assert by_job["n-00000"] == expected(rows[0]), "the earlier failure gave way"
    assert by_job["n-00001"] == ("billing", "sent", "earlier"), "the earlier outcome stayed"
    assert Counter(by_job[row["id"]] for row in rows[2:]) == Counter(expected(row) for row in rows[2:])
