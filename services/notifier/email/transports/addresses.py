"""Recipient addresses in the form a mail system takes: the domain of an internationalized
address (``бат@жишээ.мн``) in its IDNA ASCII form (``бат@xn--f1ae2cuaa.xn--l1ac``).

An IDN domain then goes through any transport. A non-ASCII local part (``бат@``) cannot be
written in ASCII: it needs an SMTP server that offers SMTPUTF8 (RFC 6531) and a message with
UTF-8 headers (RFC 6532).
"""

from email_validator import EmailNotValidError, validate_email

from services.notifier.email.message import PermanentEmailError


def with_ascii_domain(address: str) -> str:
    """``address`` with its domain IDNA-encoded; an ASCII address as it is."""
    if address.isascii():
        return address
    try:
        # The library that validated the address at intake, so both agree on what is valid.
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise PermanentEmailError(f"the recipient's address is not deliverable: {exc}") from exc
    return f"{checked.local_part}@{checked.ascii_domain}"


def needs_smtputf8(address: str) -> bool:
    """Whether ``address`` (domain already in ASCII) can travel only as an internationalized email."""
    return not address.isascii()
