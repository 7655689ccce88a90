"""Personal data kept out of logs: email addresses and IP addresses are masked.

``bat@example.mn`` → ``b***@example.mn``; ``203.0.113.7`` → ``203.0.x.x``;
``2001:db8::1`` → ``2001:db8:x:x``. Applied to whole log lines, so no call site can forget.
"""

import ipaddress
import re

_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}(?![\d.])")
# Candidate IPv6 tokens; each is checked with ipaddress before it is masked, so times such as
# "08:15:00" are left alone.
_IPV6_CANDIDATE = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _mask_ipv6(match: re.Match) -> str:
    token = match.group(0)
    try:
        parsed = ipaddress.IPv6Address(token)
    except ValueError:
        return token
    groups = parsed.exploded.split(":")
    return f"{int(groups[0], 16):x}:{int(groups[1], 16):x}:x:x"


def mask_sensitive(text: str) -> str:
    """Mask every email address and IP address found in ``text``."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _IPV4.sub(lambda m: f"{m.group(1)}.{m.group(2)}.x.x", text)
    return _IPV6_CANDIDATE.sub(_mask_ipv6, text)
