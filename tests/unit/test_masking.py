import json
import logging

import pytest

from shared.correlation import correlation_scope
from shared.logging import MaskedJsonFormatter
from shared.masking import mask_email, mask_sensitive


def test_email_keeps_first_letter_and_domain():
    assert mask_email("bat@example.mn") == "b***@example.mn"


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("login from 203.0.113.7", "login from 203.0.x.x"),
        ("to bat@example.mn and dorj.b+x@mail.example.com", "to b***@example.mn and d***@mail.example.com"),
        ("v6 2001:db8::1 here", "v6 2001:db8:x:x here"),
        ("at 08:15:00 on 2026-11-23", "at 08:15:00 on 2026-11-23"),
    ],
)
def test_sensitive_values_are_masked_and_others_left_alone(raw, masked):
    assert mask_sensitive(raw) == masked


def test_a_log_line_is_json_with_correlation_id_and_no_personal_data():
    formatter = MaskedJsonFormatter("notifier")
    record = logging.makeLogRecord(
        {"name": "t", "levelname": "INFO", "msg": "sent to %s", "args": ("bat@example.mn",), "ip": "203.0.113.7"}
    )
    with correlation_scope("corr-1"):
        line = formatter.format(record)
    entry = json.loads(line)
    assert entry["msg"] == "sent to b***@example.mn"
    assert entry["ip"] == "203.0.x.x"
    assert entry["correlation_id"] == "corr-1" and entry["service"] == "notifier"
    assert "bat@" not in line and "113.7" not in line
