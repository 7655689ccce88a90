"""What every message refuses at validation, field type by field type (shared.schemas.base):
text PostgreSQL cannot store or a header cannot carry, time zones that are not IANA names,
instants Herald cannot process. Refused is a ValidationError: a 422 over HTTP, an
``invalid_event`` dead letter over AMQP."""

import json
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.scheduler.settings import SchedulerSettings
from shared.schemas import MESSAGES, DigestDueV1, NotificationRequestedV1, UserSignedInV1
from shared.schemas.base import iana_time_zones
from tests.support.messages import example_messages, replaced, string_leaves

EXAMPLES = example_messages()
#: Every string field of every message, except those fixed by a Literal or a pattern (their own
#: rules refuse these characters already) and the data values tested on their own below.
STRING_FIELDS = [
    (name, path)
    for name, payload in EXAMPLES.items()
    for path in string_leaves(payload)
    if path[-1] not in ("type", "frequency", "task", "period", "locale", "category", "template", "ip_address")
    and "channels" not in path and "categories" not in path and "data" not in path
]


def refusal(name: str, payload: dict) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        MESSAGES[name].model_validate_json(json.dumps(payload))
    return raised.value


def refused_at(error: ValidationError) -> set[tuple[str, ...]]:
    return {tuple(map(str, e["loc"])) for e in error.errors()}


# -- text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "path"), STRING_FIELDS, ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else v)
def test_a_nul_character_is_refused_in_every_string_field(name, path):
    original = EXAMPLES[name]
    for value in ("a\x00b", "\x00"):
        error = refusal(name, replaced(original, path, value))
        assert tuple(map(str, path)) in {loc[: len(path)] for loc in refused_at(error)}, error


@pytest.mark.parametrize(
    "name",
    [
        "Bat\r\nBcc: victim@example.com",
        "Bat\nBcc: victim@example.com",
        "Bat\rX",
        "Bat\tBold",
        "Bat\x1b[31m",
        "Bat\x7f",
        "Bat\x85Next",  # NEL, a C1 line break
        "Bat\u2028Line",
        "Bat\u2029Para",
    ],
)
def test_a_display_name_that_could_break_a_header_is_refused(name):
    error = refusal("auth.user.signed_in.v1", replaced(EXAMPLES["auth.user.signed_in.v1"], ("user", "name"), name))
    assert ("user", "name") in refused_at(error)
    assert "one line" in error.errors()[0]["msg"]


def test_the_refusal_says_which_character_and_where():
    error = refusal("auth.user.signed_in.v1", replaced(EXAMPLES["auth.user.signed_in.v1"], ("user", "name"), "Ба\x00т"))
    assert "NUL character (U+0000) at position 2" in error.errors()[0]["msg"]


@pytest.mark.parametrize("name", ["Бат", "בת\u200f", "\u202eтаБ", "Bat 👩\u200d💻", "O'Brien, \"Bat\" <b>"])
def test_names_in_any_script_with_bidi_and_joiner_marks_are_accepted(name):
    event = UserSignedInV1.model_validate(replaced(EXAMPLES["auth.user.signed_in.v1"], ("user", "name"), name))
    assert event.user.name == name


def test_surrounding_line_breaks_are_trimmed_not_refused():
    event = UserSignedInV1.model_validate(replaced(EXAMPLES["auth.user.signed_in.v1"], ("user", "name"), "Бат\r\n"))
    assert event.user.name == "Бат"


def test_a_lone_surrogate_is_refused_from_python_and_json():
    payload = replaced(EXAMPLES["auth.user.signed_in.v1"], ("user", "name"), "Ба\ud800т")
    with pytest.raises(ValidationError):
        UserSignedInV1.model_validate(payload)
    with pytest.raises(ValidationError):  # not valid JSON either: json.dumps escapes it as \ud800
        UserSignedInV1.model_validate_json(json.dumps(payload))


@pytest.mark.parametrize(
    ("data", "accepted"),
    [
        ({"excerpt": "line one\nline two\r\n\tindented"}, True),
        ({"excerpt": "a\x00b"}, False),
        ({"deep": [{"deeper": ["a\x00"]}]}, False),
        ({"excerpt": "bell\x07"}, False),
        ({"excerpt": "vertical\x0btab"}, False),
        ({"a\x00": "key"}, False),
        ({"two\nlines": "key"}, False),
        ({"amount": 12.5, "count": 2**63 - 1, "flag": True, "none": None}, True),
        ({"amount": float("inf")}, False),
        ({"amount": float("nan")}, False),
        ({"count": 2**63}, False),
        ({"count": -(2**63) - 1}, False),
    ],
)
def test_notification_data_holds_storable_text_and_finite_numbers(data, accepted):
    payload = replaced(EXAMPLES["notification.requested.v1"], ("data",), data)
    if accepted:
        assert NotificationRequestedV1.model_validate(payload).data == data
    else:
        with pytest.raises(ValidationError) as raised:
            NotificationRequestedV1.model_validate(payload)
        assert ("data",) in refused_at(raised.value)


def test_infinity_from_json_is_refused():
    body = json.dumps(EXAMPLES["notification.requested.v1"]).replace('"count": 2', '"count": 1e400')
    with pytest.raises(ValidationError):
        NotificationRequestedV1.model_validate_json(body)


# -- time zones ------------------------------------------------------------------------------------

TIME_ZONE_FIELDS = [
    ("auth.user.signed_in.v1", ("user", "timezone")),
    ("notification.requested.v1", ("recipient", "timezone")),
    ("digest.due.v1", ("timezone",)),
    ("notifier.send_digests.v1", ("batch", "digests", 0, "timezone")),
]


@pytest.mark.parametrize(("name", "path"), TIME_ZONE_FIELDS)
@pytest.mark.parametrize(
    "zone",
    ["Asia", "America", "Etc", "America/Argentina", "posixrules", "localtime", "Factory", "right/UTC",
     "posix/UTC", "../zoneinfo/UTC", "/usr/share/zoneinfo/UTC", "zone.tab", "tzdata.zi", "Mars/Olympus",
     "asia/ulaanbaatar", "", "UTC\x00"],
)
def test_time_zones_that_are_not_iana_names_are_refused(name, path, zone):
    error = refusal(name, replaced(EXAMPLES[name], path, zone))
    assert tuple(map(str, path)) in refused_at(error)


@pytest.mark.parametrize("zone", ["Asia/Ulaanbaatar", "UTC", "Etc/GMT+5", "America/Argentina/Buenos_Aires", "US/Eastern"])
def test_iana_time_zones_are_accepted(zone):
    event = UserSignedInV1.model_validate(replaced(EXAMPLES["auth.user.signed_in.v1"], ("user", "timezone"), zone))
    assert event.user.timezone == zone


def test_every_accepted_time_zone_loads():
    assert "Asia/Ulaanbaatar" in iana_time_zones() and "localtime" not in iana_time_zones()
    for zone in iana_time_zones():
        zoneinfo.ZoneInfo(zone)


@pytest.mark.parametrize("zone", ["Asia", "posixrules", "right/UTC", "Factory"])
def test_the_scheduler_time_zone_setting_is_checked_the_same_way(zone):
    with pytest.raises(ValidationError):
        SchedulerSettings(scheduler_timezone=zone)
    assert SchedulerSettings(scheduler_timezone="Asia/Ulaanbaatar").scheduler_timezone == "Asia/Ulaanbaatar"


# -- instants --------------------------------------------------------------------------------------

DATETIME_FIELDS = [
    ("auth.user.signed_in.v1", ("occurred_at",)),
    ("notification.requested.v1", ("occurred_at",)),
    ("notifier.send_signin_alert.v1", ("occurred_at",)),
    ("notifier.deliver_notification.v1", ("request", "occurred_at")),
    ("digest.due.v1", ("occurred_at",)),
    ("digest.due.v1", ("scheduled_for",)),
    ("digest.due.batch.v1", ("occurred_at",)),
    ("maintenance.due.v1", ("scheduled_for",)),
    ("notifier.run_maintenance.v1", ("due", "occurred_at")),
]


@pytest.mark.parametrize(("name", "path"), DATETIME_FIELDS)
@pytest.mark.parametrize(
    "instant",
    ["9999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
     "1970-01-01T00:00:00Z", "2000-01-01T07:00:00+08:00", "2026-11-23T08:15:00", "2026-11-23", "not a date"],
)
def test_instants_out_of_range_or_without_an_offset_are_refused(name, path, instant):
    error = refusal(name, replaced(EXAMPLES[name], path, instant))
    assert tuple(map(str, path)) in refused_at(error)


@pytest.mark.parametrize("instant", ["2000-01-01T00:00:00Z", "2026-11-23T16:15:00+08:00", "2000-01-01T09:00:00+08:00"])
def test_instants_in_range_are_accepted(instant):
    UserSignedInV1.model_validate(replaced(EXAMPLES["auth.user.signed_in.v1"], ("occurred_at",), instant))


def test_a_producer_may_be_a_little_ahead_but_not_more_than_a_day():
    now = datetime.now(UTC)
    event = EXAMPLES["auth.user.signed_in.v1"]
    UserSignedInV1.model_validate(replaced(event, ("occurred_at",), (now + timedelta(hours=23)).isoformat()))
    error = refusal("auth.user.signed_in.v1", replaced(event, ("occurred_at",), (now + timedelta(days=2)).isoformat()))
    assert "more than a day in the future" in error.errors()[0]["msg"]


def test_scheduler_instants_may_be_in_the_future():
    """A scan run under a test's clock (or one catching up) emits digests for later periods."""
    later = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    digest = replaced(replaced(EXAMPLES["digest.due.v1"], ("occurred_at",), later), ("scheduled_for",), later)
    DigestDueV1.model_validate(digest)
