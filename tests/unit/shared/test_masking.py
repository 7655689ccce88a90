import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.runtime.masking import mask_email, mask_sensitive


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


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("to бат@жишээ.мн, ok", "to б***@жишээ.мн, ok"),
        ("user_id бат.д@mail.жишээ.мн", "user_id б***@mail.жишээ.мн"),
        ("ideographic dot bat@例え。テスト", "ideographic dot b***@例え。テスト"),
        ('{"to": "\\u0431\\u0430\\u0442@\\u0436\\u0438.\\u043c\\u043d"}', '{"to": "\\u0431***@\\u0436\\u0438.\\u043c\\u043d"}'),
        ("punycode bat@xn--80ahbca0ddc.xn--l1acc", "punycode b***@xn--80ahbca0ddc.xn--l1acc"),
    ],
)
def test_non_ascii_and_escaped_addresses_are_masked(raw, masked):
    assert mask_sensitive(raw) == masked


def test_the_servers_own_loopback_and_unspecified_addresses_are_left_alone():
    line = "listening on http://127.0.0.1:8001, 0.0.0.0:8002 and [::1]:8003"
    assert mask_sensitive(line) == line


# --- properties over generated addresses -------------------------------------------------------

# Letters and digits of every script, as local parts and IDN labels carry them.
_letters = st.characters(categories=("L", "N"))
_label = st.text(st.one_of(_letters, st.characters(categories=("M",)), st.just("-")), min_size=1, max_size=12)
_top_level = st.text(st.characters(categories=("L",)), min_size=2, max_size=6)
_unicode_domain = st.builds(lambda labels, top: ".".join([*labels, top]), st.lists(_label, min_size=1, max_size=3), _top_level)
# The same domains as IDNA writes them on the wire: "xn--" labels.
_punycode_domain = _unicode_domain.map(
    lambda domain: ".".join(
        label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii") for label in domain.split(".")
    )
)
_domain = st.one_of(_unicode_domain, _punycode_domain)
_plain_local = st.text(st.one_of(_letters, st.sampled_from("._+-")), min_size=2, max_size=20)
# Everything RFC 5322 and 6531 let a local part hold ("*" aside: the mask itself is "***").
_any_local = st.text(st.one_of(_letters, st.sampled_from(".!#$%&'+-/=?^_`{|}~")), min_size=2, max_size=20)

RENDERINGS = {
    "as is": lambda s: s,
    "JSON": lambda s: json.dumps(s)[1:-1],
    "JSON, non-ASCII kept": lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    "repr": lambda s: repr(s)[1:-1],
    "bytes repr of JSON": lambda s: repr(json.dumps(s)[1:-1].encode())[2:-1],
}


@given(local=_plain_local, domain=_domain)
def test_an_address_in_any_script_keeps_only_its_first_letter_and_its_domain(local, domain):
    line = f"sent to {local}@{domain}, then done"
    assert mask_sensitive(line) == f"sent to {local[0]}***@{domain}, then done"


@given(local=_any_local, domain=_domain, rendering=st.sampled_from(sorted(RENDERINGS)))
def test_no_rendering_of_an_address_leaves_its_local_part_in_a_log_line(local, domain, rendering):
    render = RENDERINGS[rendering]
    line = f"payload {{'to': '{render(local + '@' + domain)}'}} end"
    assert render(local) + "@" not in mask_sensitive(line)


@given(address=st.ip_addresses().filter(lambda ip: not (ip.is_loopback or ip.is_unspecified)))
def test_no_raw_ip_address_is_left_in_a_log_line(address):
    for line in (f"login from {address} at 08:15:00", f"client={address}", f"[{address}]:443"):
        masked = mask_sensitive(line)
        assert str(address) not in masked and address.exploded not in masked
