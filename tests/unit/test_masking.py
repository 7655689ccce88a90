import pytest

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
