"""Sends email over SMTP, configured by one ``SMTP_URL``.

    smtp://user:pass@host:587?starttls=true   plain connection upgraded with STARTTLS
    smtps://user:pass@host:465                implicit TLS
    smtp://127.0.0.1:1025                     plain, no login (a local catcher)

``?verify=false`` skips certificate checks, for local test servers with self-signed certificates.
"""

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from services.notifier.email.message import OutgoingEmail, PermanentEmailError, TransientEmailError
from services.notifier.email.transports.addresses import needs_smtputf8, with_ascii_domain
from services.notifier.email.transports.mime import build_mime_message

DEFAULT_TIMEOUT_SECONDS = 10.0
_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_KNOWN_OPTIONS = {"starttls", "verify"}


def _flag(options: dict[str, list[str]], name: str, default: bool) -> bool:
    if name not in options:
        return default
    value = options[name][-1].lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ValueError(f"SMTP_URL option {name}={value!r} is not a boolean")


@dataclass(frozen=True)
class SmtpEndpoint:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    verify_certificate: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> "SmtpEndpoint":
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS:
            raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, got {parts.scheme!r}")
        if not parts.hostname:
            raise ValueError("SMTP_URL has no host")
        options = parse_qs(parts.query, keep_blank_values=True)
        unknown = set(options) - _KNOWN_OPTIONS
        if unknown:
            # A typo such as ?startls=true would otherwise silently send in clear text.
            raise ValueError(f"SMTP_URL has unknown options: {', '.join(sorted(unknown))}")
        implicit_tls = parts.scheme == "smtps"
        starttls = _flag(options, "starttls", default=False)
        if implicit_tls and starttls:
            raise ValueError("SMTP_URL: smtps:// is already TLS; drop ?starttls=true")
        return cls(
            host=parts.hostname,
            port=parts.port or _DEFAULT_PORTS[parts.scheme],
            implicit_tls=implicit_tls,
            starttls=starttls,
            verify_certificate=_flag(options, "verify", default=True),
            # urlsplit leaves percent-escapes in place; a password may well contain "@" or "/".
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.verify_certificate:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def _error_for_code(code: int, description: str) -> TransientEmailError | PermanentEmailError:
    # SMTP reply classes: 5yz is a permanent refusal, 4yz asks the client to come back later.
    if 500 <= code < 600:
        return PermanentEmailError(description)
    return TransientEmailError(description)


def _reply_text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else message


def _require_smtputf8(session: smtplib.SMTP) -> None:
    session.ehlo_or_helo_if_needed()
    if not session.has_extn("smtputf8"):
        raise PermanentEmailError(
            "the recipient's address has a non-ASCII local part, which needs SMTPUTF8, "
            "and the SMTP server does not offer it"
        )


class SmtpSender:
    name = "smtp"

    def __init__(self, smtp_url: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._endpoint = SmtpEndpoint.from_url(smtp_url)
        self._timeout = timeout
        # Built once: loading the CA store costs tens of milliseconds, and a context is safe to share.
        uses_tls = self._endpoint.implicit_tls or self._endpoint.starttls
        self._tls_context = self._endpoint.tls_context() if uses_tls else None

    def send(self, email: OutgoingEmail) -> str | None:
        message = build_mime_message(email)
        envelope_from = parseaddr(email.from_header)[1]
        envelope_to = with_ascii_domain(email.to_address)
        try:
            with self._session() as session:
                if needs_smtputf8(envelope_to):
                    _require_smtputf8(session)
                # A non-ASCII address makes smtplib ask for SMTPUTF8 (and send UTF-8 headers).
                session.send_message(message, from_addr=envelope_from, to_addrs=[envelope_to])
        except smtplib.SMTPRecipientsRefused as exc:
            # Raised when every recipient was refused; the code tells "unknown user" (550)
            # from "mailbox busy, try later" (450/451).
            code, reply = next(iter(exc.recipients.values()))
            raise _error_for_code(code, f"SMTP refused recipient: {code} {_reply_text(reply)}") from exc
        except smtplib.SMTPResponseException as exc:  # includes SMTPSenderRefused, SMTPDataError
            raise _error_for_code(
                exc.smtp_code, f"SMTP server answered {exc.smtp_code} {_reply_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise TransientEmailError(f"SMTP server disconnected: {exc}") from exc
        except smtplib.SMTPException as exc:
            # What remains is a mismatch between this configuration and the server, e.g. STARTTLS
            # or AUTH not offered: retrying the same configuration cannot succeed.
            raise PermanentEmailError(f"SMTP session failed: {exc!r}") from exc
        except OSError as exc:  # refused connection, timeout, TLS failure
            raise TransientEmailError(f"SMTP server unreachable: {exc!r}") from exc
        return message["Message-ID"]

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        # One connection per email: no idle connection to keep alive or to find dead later.
        endpoint = self._endpoint
        if endpoint.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                endpoint.host, endpoint.port, timeout=self._timeout, context=self._tls_context
            )
        else:
            smtp = smtplib.SMTP(endpoint.host, endpoint.port, timeout=self._timeout)
        try:
            if endpoint.starttls:
                smtp.starttls(context=self._tls_context)
            if endpoint.username:
                smtp.login(endpoint.username, endpoint.password or "")
            yield smtp
        except BaseException:
            smtp.close()
            raise
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            # The message was already accepted; a failed goodbye must not turn into a retry
            # that delivers it twice.
            smtp.close()

    def close(self) -> None:
        """Nothing held open between sends."""
