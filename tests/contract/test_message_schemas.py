"""The message contract: committed JSON Schemas match the models, and the models are strict."""

import json

import pytest
from pydantic import ValidationError

from shared.schemas import MESSAGES, UserSignedInV1
from shared.schemas.export import SCHEMA_DIR, render_schemas
from tests.support.events import signed_in_event

DESIGN_EXAMPLE = {
    "event_id": "0b7e6a0c-4a41-4a8e-9d1f-6a3f0e1c2b11",
    "type": "auth.user.signed_in",
    "version": 1,
    "occurred_at": "2026-11-23T08:15:00Z",
    "user": {"id": "u-123", "email": "bat@example.mn", "name": "Бат", "locale": "mn", "timezone": "Asia/Ulaanbaatar"},
    "context": {"provider": "github", "ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) ..."},
}


@pytest.mark.parametrize("file_name", sorted(render_schemas()))
def test_committed_json_schema_matches_the_model(file_name):
    committed = SCHEMA_DIR / file_name
    assert committed.exists(), f"{file_name} is not committed: run python -m shared.schemas.export"
    assert committed.read_text(encoding="utf-8") == render_schemas()[file_name], (
        f"{file_name} drifted from its model: run python -m shared.schemas.export and review the change"
    )


def test_no_stray_schema_files():
    assert {p.name for p in SCHEMA_DIR.glob("*.schema.json")} == set(render_schemas())


def test_every_message_is_frozen_and_forbids_unknown_fields():
    for model in MESSAGES.values():
        assert model.model_config["frozen"] and model.model_config["extra"] == "forbid"


def test_the_design_example_is_a_valid_v1_event():
    event = UserSignedInV1.model_validate_json(json.dumps(DESIGN_EXAMPLE))
    assert event.user.locale == "mn" and str(event.context.ip_address) == "203.0.113.7"


@pytest.mark.parametrize(
    "change, location",
    [
        (lambda e: e.update(typo_field=1), ("typo_field",)),
        (lambda e: e["user"].update(locale="fr"), ("user", "locale")),
        (lambda e: e["user"].update(timezone="Mars/Olympus"), ("user", "timezone")),
        (lambda e: e["user"].update(email="not-an-address"), ("user", "email")),
        (lambda e: e["context"].update(ip_address="999.1.1.1"), ("context", "ip_address")),
        (lambda e: e.update(event_id=""), ("event_id",)),
        (lambda e: e.update(event_id="x" * 129), ("event_id",)),
        (lambda e: e.update(version=2), ("version",)),
        (lambda e: e.update(occurred_at="2026-11-23T08:15:00"), ("occurred_at",)),
        (lambda e: e.update(type="auth.user.signed_out"), ("type",)),
    ],
)
def test_invalid_events_are_rejected_with_the_place_of_the_error(change, location):
    event = signed_in_event()
    change(event)
    with pytest.raises(ValidationError) as raised:
        UserSignedInV1.model_validate(event)
    assert location in {tuple(map(str, error["loc"]))[: len(location)] for error in raised.value.errors()}


def test_locale_and_timezone_are_optional():
    event = signed_in_event()
    del event["user"]["locale"], event["user"]["timezone"]
    assert UserSignedInV1.model_validate(event).user.locale is None
