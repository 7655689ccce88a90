"""What the archive makes of a hostile dead letter: always something it can store."""

from decimal import Decimal
from types import SimpleNamespace

import pika

from shared.amqp.consumer import Delivery
from shared.jobs.dead_letters import describe_delivery
from tests.fakes.clock import FakeClock


def delivery(headers: dict, **properties) -> Delivery:
    method = SimpleNamespace(routing_key="auth_events.ingress.XQ", delivery_tag=1)
    return Delivery("auth_events.ingress.XQ", None, method, pika.BasicProperties(headers=headers, **properties), b"\x00")


def describe(d: Delivery) -> dict:
    return describe_delivery(d, FakeClock().now())


def test_forged_and_odd_headers_still_describe_a_storable_dead_letter():
    values = describe(
        delivery(
            {"x-death": "not a list", "price": Decimal("1.5"), "nul\x00key": "nul\x00value", "x-herald-reason": "r" * 500},
            correlation_id="c" * 200,
            message_id="m\x00",
        )
    )
    assert values["queue_name"] == "auth_events.ingress"
    assert values["headers"]["price"] == "1.5"
    assert values["headers"]["nul\ufffdkey"] == "nul\ufffdvalue"
    assert len(values["reason"]) == 64 and len(values["correlation_id"]) == 64
    assert values["message_id"] == "m\ufffd"


def test_identical_dead_letters_get_distinct_keys_unless_stamped_with_the_same_id():
    plain = [describe(delivery({}))["delivery_key"] for _ in range(2)]
    stamped = [describe(delivery({"x-herald-dead-letter-id": "d-1"}))["delivery_key"] for _ in range(2)]
    assert plain[0] != plain[1]
    assert stamped[0] == stamped[1]


def test_a_header_json_cannot_hold_is_kept_as_text():
    values = describe(delivery({"nan": float("nan"), "big": float("inf"), "fine": 1.5}))
    assert values["headers"]["nan"] == "nan" and values["headers"]["big"] == "inf"
    assert values["headers"]["fine"] == 1.5
