"""The RFC 5322 form of an ``OutgoingEmail``, shared by the SMTP and outbox transports."""

from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from services.notifier.email.message import OutgoingEmail, PermanentEmailError
from services.notifier.email.transports.addresses import needs_smtputf8, with_ascii_domain

# Headers this module writes itself; letting ``email.headers`` set them too would produce a
# message with two Subjects or a Message-ID that no longer carries the idempotency key.
_HEADERS_WE_OWN = frozenset({"from", "to", "subject", "message-id", "date", "mime-version",
                             "content-type", "content-transfer-encoding"})


#: An internationalized message (RFC 6532): UTF-8 headers, for a recipient whose local part is
#: not ASCII. Everything else keeps RFC 2047 encoded-words, which any 7-bit hop carries.
_INTERNATIONAL = policy.default.clone(utf8=True)


def message_id_for(idempotency_key: str) -> str:
    return f"<{idempotency_key}@herald>"


def build_mime_message(email: OutgoingEmail) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML as the preferred part.

    Non-ASCII names and subjects are RFC 2047-encoded by ``email.policy.default`` (the policy
    ``EmailMessage`` uses), so Mongolian Cyrillic and emoji survive any 7-bit hop. The
    recipient's domain is IDNA-encoded; a non-ASCII local part makes the whole message
    internationalized (UTF-8 headers), which SMTP sends only to a server offering SMTPUTF8.
    Raises ``PermanentEmailError`` for headers no transport could send.
    """
    to_address = with_ascii_domain(email.to_address)
    message = EmailMessage(policy=_INTERNATIONAL if needs_smtputf8(to_address) else policy.default)
    try:
        message["From"] = email.from_header
        # username and domain, not addr_spec: its parser refuses a non-ASCII local part.
        username, _, domain = to_address.rpartition("@")
        message["To"] = Address(display_name=email.to_name, username=username, domain=domain)
        message["Subject"] = email.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id_for(email.idempotency_key)
        for name, value in email.headers.items():
            if name.lower() in _HEADERS_WE_OWN:
                raise PermanentEmailError(f"header {name!r} is set by Herald and cannot be overridden")
            message[name] = value
    except ValueError as exc:
        # Raised by the header policy for e.g. a linefeed in a value (header injection) or an
        # unparsable address: the same email would fail again on every retry.
        raise PermanentEmailError(f"cannot build the MIME message: {exc}") from exc
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message
