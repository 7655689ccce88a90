"""Property tests over every message model: whatever a producer sends (NUL, control characters,
lone surrogates, bidi marks, every zoneinfo edge, extreme dates, wrong types), validation either
refuses it with a ValidationError, or what it accepts can be stored and processed: no NUL, every
string encodable to UTF-8, header fields on one line, time zones Herald can load, instants in
range, JSON without NaN."""

import json
import math
import re
import zoneinfo
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared.schemas import MESSAGES
from shared.schemas.base import (
    EARLIEST_EVENT_TIME,
    HEADER_SAFE_TEXT_PATTERN,
    LATEST_EVENT_TIME,
    TEXT_PATTERN,
    header_safe_text,
    iana_time_zones,
    storable_text,
)
from tests.support.messages import example_messages, replaced, string_leaves

EXAMPLES = example_messages()

#: Characters that have broken something somewhere: NUL, C0 and C1 controls, line separators,
#: bidi and zero-width marks, a BOM, lone surrogates, non-characters.
HOSTILE_CHARACTERS = [
    "\x00", "\t", "\n", "\r", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\u2029",
    "\u200e", "\u200f", "\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\ud800", "\udfff", "\uffff",
    "\U0010ffff", "@", "<", ">", '"', "\\", "%", "{", "}",
]
hostile_text = st.one_of(
    st.text(st.sampled_from(HOSTILE_CHARACTERS) | st.characters(), max_size=40),
    st.text(st.characters(codec=None), max_size=40),  # surrogates included
    st.builds(lambda a, b, c: a + b + c, st.text(max_size=10), st.sampled_from(HOSTILE_CHARACTERS), st.text(max_size=10)),
)
ZONEINFO_EDGES = [
    "Asia", "America", "Etc", "America/Argentina", "posixrules", "localtime", "Factory", "right/UTC",
    "posix/UTC", "right", "posix", "../UTC", "/usr/share/zoneinfo/UTC", "UTC/", "zone.tab", "zone1970.tab",
    "tzdata.zi", "leapseconds", "iso3166.tab", "SystemV/AST4", "Etc/GMT+13", "Etc/GMT-14", "utc",
]
time_zones = st.sampled_from(sorted(iana_time_zones())) | st.sampled_from(ZONEINFO_EDGES) | hostile_text
offsets = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12)), timezone(timedelta(hours=8))])
instants = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),  # naive
    st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2100-01-01T00:00:00Z", "1999-12-31T23:59:59.999999Z",
                     "2000-01-01T00:00:00Z", "2099-12-31T23:59:59+00:00", "2026-11-23T08:15:00+14:00"]),
)
anything = st.one_of(
    hostile_text, time_zones, instants, st.none(), st.booleans(), st.integers(), st.floats(),
    st.integers(min_value=2**62, max_value=2**80), st.text(min_size=200, max_size=2000),
    st.recursive(st.none() | st.floats() | hostile_text | st.integers(), lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(hostile_text, inner, max_size=3), max_leaves=8),
)


def leaves(value, path=()):
    """Every (path, value) of scalars in a dumped model."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, "<key>"), key
            yield from leaves(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def assert_processable(model: BaseModel) -> None:
    for path, value in leaves(model.model_dump()):
        if isinstance(value, str):
            assert "\x00" not in value, path
            value.encode("utf-8")  # no lone surrogate
            if "data" not in path:
                header_safe_text(value)
            if path[-1] == "timezone" and value is not None:
                assert value in iana_time_zones()
                zoneinfo.ZoneInfo(value)
        elif isinstance(value, datetime):
            assert value.tzinfo is not None and EARLIEST_EVENT_TIME <= value < LATEST_EVENT_TIME, path
            value.astimezone(zoneinfo.ZoneInfo("Pacific/Kiritimati"))  # +14: the furthest any render goes
        elif isinstance(value, float):
            assert math.isfinite(value), path
    # What a Dramatiq message and a JSON column hold: strict JSON, and it validates again.
    json.dumps(model.model_dump(mode="json"), allow_nan=False)
    assert type(model).model_validate_json(model.model_dump_json()) == model


def validate_both_ways(name: str, payload: dict) -> None:
    model = MESSAGES[name]
    try:
        assert_processable(model.model_validate(payload))
        event("accepted")  # --hypothesis-show-statistics: both outcomes are reached
    except ValidationError:
        event("refused")
    try:
        body = json.dumps(payload)  # escapes a lone surrogate as \udXXX, which is not valid JSON
    except ValueError:  # NaN is fine (json writes it); this is only a circular structure, never here
        return
    try:
        assert_processable(model.model_validate_json(body))
    except ValidationError:
        pass


names = st.sampled_from(sorted(MESSAGES))
PROPERTY_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(data=st.data(), name=names)
def test_any_value_in_any_string_field_is_refused_or_processable(data, name):
    payload = EXAMPLES[name]
    path = data.draw(st.sampled_from(string_leaves(payload)))
    validate_both_ways(name, replaced(payload, path, data.draw(anything)))


@PROPERTY_SETTINGS
@given(data=st.data(), name=names, zone=time_zones)
def test_any_time_zone_is_refused_or_loadable(data, name, zone):
    payload = EXAMPLES[name]
    paths = [path for path in string_leaves(payload) if path[-1] == "timezone"]
    if paths:
        validate_both_ways(name, replaced(payload, data.draw(st.sampled_from(paths)), zone))


@PROPERTY_SETTINGS
@given(data=st.data(), name=names, instant=instants)
def test_any_instant_is_refused_or_in_range(data, name, instant):
    payload = EXAMPLES[name]
    paths = [path for path in string_leaves(payload) if path[-1] in ("occurred_at", "scheduled_for")]
    validate_both_ways(name, replaced(payload, data.draw(st.sampled_from(paths)), instant))


@PROPERTY_SETTINGS
@given(data=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=20,
))
def test_any_notification_data_is_refused_or_storable(data):
    validate_both_ways("notification.requested.v1", replaced(EXAMPLES["notification.requested.v1"], ("data",), {"x": data}))


@settings(max_examples=2000, deadline=None)
@given(text=st.text(st.sampled_from(HOSTILE_CHARACTERS) | st.characters(exclude_categories=["Cs"])))
def test_the_json_schema_patterns_say_what_the_validators_do(text):
    """Producers read the rules in the committed JSON Schemas: they must be the rules enforced."""

    def accepts(check, value):
        try:
            check(value)
            return True
        except ValueError:
            return False

    assert accepts(header_safe_text, text) == bool(re.fullmatch(HEADER_SAFE_TEXT_PATTERN, text))
    assert accepts(storable_text, text) == bool(re.fullmatch(TEXT_PATTERN, text))
