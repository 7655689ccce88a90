"""Personal data kept out of logs: email addresses and IP addresses are masked.

``bat@example.mn`` → ``b***@example.mn``; ``бат@жишээ.мн`` → ``б***@жишээ.мн``;
``203.0.113.7`` → ``203.0.x.x``; ``2001:db8::1`` → ``2001:db8:x:x``. Loopback and unspecified
addresses (``127.0.0.1``, ``::1``, ``0.0.0.0``) are nobody's, so they are left as they are.
Applied to every log record (``shared.runtime.logging``), so no call site can forget.
"""

import ipaddress
import re

# An escaped character, as JSON (\u0431), Python reprs (\xe9, \u0431) or bytes reprs of those
# (\\u0431) write them: an address can reach a log line in any of these forms.
_ESCAPE = r"\\+(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|x[0-9A-Fa-f]{2})"
# Anything an address's local part can hold (RFC 5322 atext and dots; any non-ASCII character,
# RFC 6531): everything but spaces, control characters and the specials "(),:;<>@[\]".
_LOCAL_CHARACTER = r"[^\s\x00-\x1f\x7f\"(),:;<>@\[\\\]]"
# A domain label's characters: letters, digits and hyphens in any script (IDN); everything but
# spaces, control characters and ASCII punctuation other than "-".
_LABEL_CHARACTER = r"[^\s\x00-\x2c\x2e\x2f\x3a-\x40\x5b-\x60\x7b-\x7f\u3002\uff0e\uff61]"
# "." and the dots IDNA treats as one (ideographic, fullwidth, halfwidth).
_DOT = r"[.\u3002\uff0e\uff61]"
_LOCAL_UNIT = rf"(?:{_ESCAPE}|{_LOCAL_CHARACTER})"
_LABEL = rf"(?:{_ESCAPE}|{_LABEL_CHARACTER})+"
# The whole run of address characters before "@" is the local part: masking too much of a URL
# beats leaking the end of an address.
_EMAIL = re.compile(rf"(?<!{_LOCAL_CHARACTER})({_LOCAL_UNIT}){_LOCAL_UNIT}*@({_LABEL}(?:{_DOT}{_LABEL})+)")
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d.])")
# Candidate IPv6 tokens; each is checked with ipaddress before it is masked, so times such as
# "08:15:00" are left alone.
_IPV6_CANDIDATE = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")


def mask_email(address: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


def _is_nobodys(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_loopback or address.is_unspecified


def _mask_ipv4(match: re.Match) -> str:
    token = match.group(0)
    try:
        if _is_nobodys(ipaddress.IPv4Address(token)):
            return token
    except ValueError:  # 999.1.1.1: not an address, but masked all the same
        pass
    return f"{match.group(1)}.{match.group(2)}.x.x"


def _mask_ipv6(match: re.Match) -> str:
    token = match.group(0)
    try:
        parsed = ipaddress.IPv6Address(token)
    except ValueError:
        return token
    if _is_nobodys(parsed):
        return token
    groups = parsed.exploded.split(":")
    return f"{int(groups[0], 16):x}:{int(groups[1], 16):x}:x:x"


def mask_sensitive(text: str) -> str:
    """Mask every email address and IP address found in ``text``."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _IPV4.sub(_mask_ipv4, text)
    return _IPV6_CANDIDATE.sub(_mask_ipv6, text)
