"""Building and sending digests, with fakes: a real in-memory SQLite, a fake clock and a
recording email sender."""

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.notifier.digests.handlers import DigestOutcome, digest_job_id, send_digests
from services.notifier.email.message import PermanentEmailError, TransientEmailError
from services.notifier.preferences.model import Preferences
from services.notifier.tables import DigestDelivery, Notification, NotificationOutcome
from shared.db import unit_of_work
from tests.fakes.clock import FakeClock
from tests.support.databases import in_memory_session_factory
from tests.support.digests_due import SCHEDULED_FOR
from tests.support.digests_due import digest_due as digest
from tests.support.digests_due import send_digests_command as batch
from tests.support.notifier_deps import notifier_deps


@pytest.fixture
def clock():
    return FakeClock(SCHEDULED_FOR + timedelta(minutes=1))


@pytest.fixture
def deps(clock):
    return notifier_deps(in_memory_session_factory(), clock).digests


def add_notification(deps, n, *, user_id="u-1", category="comments", minutes_before=60, state="pending"):
    with unit_of_work(deps.session_factory) as session:
        session.add(
            Notification(
                id=f"n-{n}",
                event_id=f"e-{n}",
                user_id=user_id,
                category=category,
                template="comment",
                priority="normal",
                delivery="digest",
                locale="en",
                title=f"Title {n}",
                body=f"Body {n}",
                data={},
                created_at=SCHEDULED_FOR - timedelta(minutes=minutes_before),
                in_app=False,
                digest_state=state,
            )
        )


def states(deps) -> dict[str, tuple]:
    with deps.session_factory() as session:
        rows = session.execute(select(Notification.id, Notification.digest_state, Notification.digest_period_key))
        return {id_: (state, key) for id_, state, key in rows}


def outcomes(deps, category="digest") -> list[tuple]:
    with deps.session_factory() as session:
        rows = session.execute(
            select(NotificationOutcome.category, NotificationOutcome.outcome, NotificationOutcome.reason)
            .where(NotificationOutcome.category == category)
            .order_by(NotificationOutcome.job_id)
        )
        return [tuple(row) for row in rows]


def test_sends_the_pending_notifications_newest_first_and_marks_them_digested(deps):
    for n, minutes_before in ((1, 120), (2, 30), (3, 60)):
        add_notification(deps, n, minutes_before=minutes_before)

    assert send_digests(batch(digest()), deps) == {"digest:s-1:2026-11-24": DigestOutcome.SENT}

    [email] = deps.email_sender.delivered
    assert email.to_address == "u-1@example.mn"
    assert email.subject == "📬 Your daily digest from Herald"
    assert email.text.index("Title 2") < email.text.index("Title 3") < email.text.index("Title 1")
    assert "24 November 2026, 08:30" in email.text, "times in the digest's time zone"
    assert email.idempotency_key == digest_job_id(batch(digest()).batch.digests[0])
    assert states(deps) == {f"n-{n}": ("digested", "2026-11-24") for n in (1, 2, 3)}
    assert outcomes(deps) == [("digest", "sent", None)]
    assert outcomes(deps, "comments") == [("comments", "sent", None)] * 3, "each notification's email outcome"



def test_filters_by_the_digests_categories(deps):
    add_notification(deps, 1, category="comments")
    add_notification(deps, 2, category="billing")

    send_digests(batch(digest(categories=["billing"])), deps)

    [email] = deps.email_sender.delivered
    assert "Title 2" in email.text and "Title 1" not in email.text
    assert states(deps)["n-1"] == ("pending", None), "another category waits for its own digest"


def test_caps_the_list_at_max_items_and_says_how_many_more(deps):
    for n in range(5):
        add_notification(deps, n, minutes_before=60 - n)

    send_digests(batch(digest(max_items=2)), deps)

    [email] = deps.email_sender.delivered
    assert "Title 4" in email.text and "Title 3" in email.text and "Title 2" not in email.text
    assert "…and 3 more." in email.text and "…and 3 more." in email.html
    assert all(state == "digested" for state, _ in states(deps).values()), "the digest covers the rest too"


def test_with_nothing_pending_sends_nothing(deps):
    add_notification(deps, 1, user_id="someone-else")
    add_notification(deps, 2, minutes_before=-5)  # after the digest's time: the next one's

    assert send_digests(batch(digest()), deps) == {"digest:s-1:2026-11-24": DigestOutcome.EMPTY}

    assert deps.email_sender.sent == []
    assert outcomes(deps) == [], "an empty period writes nothing"


def test_a_muted_user_gets_no_digest_and_the_items_do_not_pile_up(deps):
    add_notification(deps, 1)
    with unit_of_work(deps.session_factory) as session:
        deps.preferences.put(session, "u-1", Preferences(muted=True))

    assert send_digests(batch(digest()), deps) == {"digest:s-1:2026-11-24": DigestOutcome.MUTED}

    assert deps.email_sender.sent == []
    assert states(deps)["n-1"] == ("digested", "2026-11-24")
    assert outcomes(deps) == [("digest", "skipped", "muted")]
    assert outcomes(deps, "comments") == [("comments", "skipped", "muted")]


def test_when_every_covered_notification_is_opted_out_of_nothing_is_sent_and_they_do_not_pile_up(deps):
    add_notification(deps, 1, category="comments")
    with unit_of_work(deps.session_factory) as session:
        deps.preferences.put(session, "u-1", Preferences(opt_outs=frozenset({("comments", "email")})))

    assert send_digests(batch(digest()), deps) == {"digest:s-1:2026-11-24": DigestOutcome.OPTED_OUT}

    assert deps.email_sender.sent == []
    assert states(deps)["n-1"] == ("digested", "2026-11-24"), "not taken again every period"
    assert outcomes(deps) == [("digest", "skipped", "opted_out")]
    assert outcomes(deps, "comments") == [("comments", "skipped", "opted_out")]
    with deps.session_factory() as session:
        assert session.get(DigestDelivery, ("s-1", "2026-11-24")).outcome == "opted_out"


def test_a_muted_user_with_nothing_pending_is_an_empty_period_that_writes_nothing(deps):
    with unit_of_work(deps.session_factory) as session:
        deps.preferences.put(session, "u-1", Preferences(muted=True))

    assert send_digests(batch(digest()), deps) == {"digest:s-1:2026-11-24": DigestOutcome.EMPTY}
    assert outcomes(deps) == []


@pytest.mark.parametrize(
    "preferences, reason",
    [(Preferences(muted=True), "muted"), (Preferences(opt_outs=frozenset({("digest", "email")})), "opted_out")],
)
def test_a_user_who_muted_digests_still_gets_the_security_notifications_in_one(deps, preferences, reason):
    add_notification(deps, 1, category="comments")
    add_notification(deps, 2, category="security")
    with unit_of_work(deps.session_factory) as session:
        deps.preferences.put(session, "u-1", preferences)

    assert send_digests(batch(digest()), deps) == {"digest:s-1:2026-11-24": DigestOutcome.SENT}

    [email] = deps.email_sender.delivered
    assert "Title 2" in email.text and "Title 1" not in email.text
    assert states(deps) == {"n-1": ("digested", "2026-11-24"), "n-2": ("digested", "2026-11-24")}
    assert outcomes(deps, "security") == [("security", "sent", None)]
    assert outcomes(deps, "comments") == [("comments", "skipped", reason)]


def test_an_opt_out_of_a_category_by_email_leaves_it_out_of_the_digest(deps):
    add_notification(deps, 1, category="comments")
    add_notification(deps, 2, category="billing")
    with unit_of_work(deps.session_factory) as session:
        deps.preferences.put(session, "u-1", Preferences(opt_outs=frozenset({("billing", "email")})))

    send_digests(batch(digest()), deps)

    [email] = deps.email_sender.delivered
    assert "Title 1" in email.text and "Title 2" not in email.text
    assert outcomes(deps, "billing") == [("billing", "skipped", "opted_out")]


def test_running_the_same_batch_again_sends_nothing_more(deps):
    add_notification(deps, 1)
    send_digests(batch(digest()), deps)
    add_notification(deps, 2, minutes_before=10)

    assert send_digests(batch(digest(), batch_id="b-2"), deps) == {"digest:s-1:2026-11-24": DigestOutcome.ALREADY_DONE}
    assert len(deps.email_sender.sent) == 1
    assert states(deps)["n-2"] == ("pending", None)


def test_speaks_mongolian_to_a_mongolian_reader(deps):
    add_notification(deps, 1)

    send_digests(batch(digest(locale="mn")), deps)

    [email] = deps.email_sender.delivered
    assert email.subject == "📬 Таны өдрийн тойм - Herald"
    assert "Сайн байна уу, Бат!" in email.text
    assert "2026 оны 11-р сарын 24, 08:00" in email.text
    assert "Asia/Ulaanbaatar" in email.text


def test_escapes_notification_text_in_html_only(deps):
    add_notification(deps, 1)
    with unit_of_work(deps.session_factory) as session:
        session.get(Notification, "n-1").title = "<b>bold</b>"

    send_digests(batch(digest()), deps)

    [email] = deps.email_sender.delivered
    assert "&lt;b&gt;bold&lt;/b&gt;" in email.html and "<b>bold</b>" not in email.html
    assert "<b>bold</b>" in email.text


def test_a_transient_failure_retries_only_the_digests_not_yet_sent(deps):
    add_notification(deps, 1, user_id="u-1")
    add_notification(deps, 2, user_id="u-2")
    deps.email_sender.fail_next(TransientEmailError("503"))
    command = batch(digest(schedule_id="s-1", user_id="u-1"), digest(schedule_id="s-2", user_id="u-2"))

    with pytest.raises(TransientEmailError):
        send_digests(command, deps)
    assert [email.to_address for email in deps.email_sender.delivered] == ["u-2@example.mn"]

    send_digests(command, deps)  # the retry
    assert [email.to_address for email in deps.email_sender.delivered] == ["u-2@example.mn", "u-1@example.mn"]


def test_a_refused_address_fails_that_digest_and_the_rest_go_out(deps):
    add_notification(deps, 1, user_id="u-1")
    add_notification(deps, 2, user_id="u-2")
    deps.email_sender.fail_next(PermanentEmailError("550 no such user"))

    result = send_digests(batch(digest(schedule_id="s-1", user_id="u-1"), digest(schedule_id="s-2", user_id="u-2")), deps)

    assert result == {"digest:s-1:2026-11-24": DigestOutcome.FAILED, "digest:s-2:2026-11-24": DigestOutcome.SENT}
    assert states(deps)["n-1"][0] == "pending", "kept for the next period"
    assert sorted(outcomes(deps)) == [("digest", "failed", "permanent_error"), ("digest", "sent", None)]
    with deps.session_factory() as session:
        assert session.get(DigestDelivery, ("s-1", "2026-11-24")).outcome == "failed"


def test_a_notification_that_turns_pending_while_the_digest_is_sent_waits_for_the_next_one(deps):
    add_notification(deps, 1)
    late = {}

    class PendingArrivesDuringSend:
        """The email transport, while it sends, sees a late delivery job make n-2 pending."""

        name = "recording"

        def send(self, email):
            add_notification(deps, 2)
            late["during_send"] = True
            return deps.email_sender.send(email)

        def close(self):
            pass

    result = send_digests(batch(digest()), replace(deps, email_sender=PendingArrivesDuringSend()))

    assert result == {"digest:s-1:2026-11-24": DigestOutcome.SENT} and late
    assert states(deps)["n-1"][0] == "digested"
    assert states(deps)["n-2"][0] == "pending", "not in this email, so not marked digested"
