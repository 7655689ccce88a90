"""A local SMTP server (aiosmtpd) that records what it receives and can be told to refuse.

    with SmtpTestServer(tls=True) as smtp:
        ...  # run Herald with SMTP_URL=smtp.smtp_url
        [mail] = smtp.wait_for_mail(lambda mail: mail.rcpt_tos == ["bat@example.mn"])
        assert mail.message["Subject"] == "..."
"""

import datetime as dt
import ipaddress
import secrets
import socket
import ssl
import tempfile
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser, Parser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fakes.mailbox import Mailbox


@dataclass(frozen=True)
class ReceivedSmtpMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    received_monotonic: float

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def body(self, subtype: str) -> str | None:
        """The decoded text of the ``text/<subtype>`` part, if there is one."""
        part = self.message.get_body(preferencelist=(subtype,))
        return part.get_content() if part is not None else None

    def describe(self) -> str:
        return f"from={self.mail_from} to={self.rcpt_tos} subject={self.subject!r} id={self.message['Message-ID']}"


def _write_self_signed_certificate(directory: Path, host: str) -> tuple[Path, Path]:
    """A certificate for ``host`` and localhost, made now: nothing secret lives in the repository."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "herald-test-smtp")])
    now = dt.datetime.now(dt.timezone.utc)
    alt_names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    try:
        alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        alt_names.append(x509.DNSName(host))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _RecordingHandler:
    """aiosmtpd hooks; they run on the controller's event loop thread."""

    def __init__(self, server: "SmtpTestServer") -> None:
        self._server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self._server._is_rejected(address):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        failure_code = self._server._take_planned_failure()
        if failure_code is not None:
            if failure_code < 500:
                return f"{failure_code} 4.3.0 Temporary failure, try again later"
            return f"{failure_code} 5.7.1 Message rejected"
        assert isinstance(envelope.content, bytes)  # decode_data=False
        if envelope.smtp_utf8:  # an internationalized message (RFC 6532): its headers are UTF-8
            message = Parser(policy=default_policy).parsestr(envelope.content.decode("utf-8"))
        else:
            message = BytesParser(policy=default_policy).parsebytes(envelope.content)
        self._server._mails.add(
            ReceivedSmtpMail(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,  # type: ignore[arg-type]  # policy.default parses to EmailMessage
                received_monotonic=time.monotonic(),
            )
        )
        return f"250 2.0.0 Ok: queued as {secrets.token_hex(6)}"


class _BoundSocketController(Controller):
    """Serves on a socket bound beforehand to port 0, so the port is free by construction
    (aiosmtpd's Controller would otherwise need a fixed port, and pick-then-bind races)."""

    def __init__(self, handler: Any, listening_socket: socket.socket, **smtp_options: Any) -> None:
        host, port = listening_socket.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **smtp_options)
        self._listening_socket = listening_socket

    def factory(self) -> SMTP:
        with warnings.catch_warnings():
            # With implicit TLS, auth_require_tls=False is not the risk aiosmtpd warns about:
            # the whole connection is TLS, it just does not know it.
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            return super().factory()

    def _create_server(self):  # the documented override point; must use _factory_invoker
        return self.loop.create_server(self._factory_invoker, sock=self._listening_socket, ssl=self.ssl_context)


class SmtpTestServer:
    def __init__(
        self,
        *,
        tls: bool = False,
        implicit_tls: bool = False,
        credentials: tuple[str, str] | None = None,
        host: str = "127.0.0.1",
        smtputf8: bool = True,
    ) -> None:
        """``tls``: offer and require STARTTLS, with a fresh self-signed certificate.
        ``implicit_tls``: speak TLS from the first byte (smtps://) instead.
        ``credentials``: require AUTH with this (user, password); offered only once under TLS.
        ``smtputf8``: offer SMTPUTF8 (RFC 6531), for addresses with a non-ASCII local part, as
        aiosmtpd's Controller does by default; False for a server that does not."""
        if tls and implicit_tls:
            raise ValueError("choose STARTTLS (tls=True) or implicit TLS, not both")
        self.host = host
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.credentials = credentials
        self.smtputf8 = smtputf8
        self._mails: Mailbox[ReceivedSmtpMail] = Mailbox(describe=ReceivedSmtpMail.describe)
        self._rejected_recipients: set[str] = set()
        self._planned_failure_codes: deque[int] = deque()
        self._lock = threading.Lock()
        self._controller: _BoundSocketController | None = None
        self._certificate_dir: tempfile.TemporaryDirectory[str] | None = None
        self.port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "SmtpTestServer":
        if self._controller is not None:
            raise RuntimeError("already started")
        options: dict[str, Any] = {"server_hostname": "herald-test-smtp", "ready_timeout": 10.0}
        if self.tls:
            options.update(tls_context=self._make_tls_context(), require_starttls=True)
        if self.implicit_tls:
            # aiosmtpd counts only STARTTLS as TLS when deciding whether to offer AUTH.
            options.update(ssl_context=self._make_tls_context(), auth_require_tls=False)
        options.update(enable_SMTPUTF8=self.smtputf8)
        if self.credentials is not None:
            options.update(authenticator=self._authenticate, auth_required=True)
        listening_socket = socket.create_server((self.host, 0))
        self.port = listening_socket.getsockname()[1]
        self._controller = _BoundSocketController(_RecordingHandler(self), listening_socket, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._certificate_dir is not None:
            self._certificate_dir.cleanup()
            self._certificate_dir = None

    def __enter__(self) -> "SmtpTestServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def smtp_url(self) -> str:
        """Ready for SMTP_URL; under TLS it skips verifying the self-signed certificate."""
        if self.port is None:
            raise RuntimeError("start() the server first")
        userinfo = ""
        if self.credentials is not None:
            user, password = self.credentials
            userinfo = f"{quote(user, safe='')}:{quote(password, safe='')}@"
        if self.implicit_tls:
            return f"smtps://{userinfo}{self.host}:{self.port}?verify=false"
        query = "?starttls=true&verify=false" if self.tls else ""
        return f"smtp://{userinfo}{self.host}:{self.port}{query}"

    # -- steering --------------------------------------------------------------------------

    def reject_recipient(self, address: str) -> None:
        """Refuse ``address`` at RCPT TO with 550 (permanent) from now on."""
        with self._lock:
            self._rejected_recipients.add(address.lower())

    def fail_next(self, code: int = 451, times: int = 1) -> None:
        """Answer ``code`` after DATA for the next ``times`` messages: 451 is "try again later",
        a 5xx code a permanent refusal."""
        with self._lock:
            self._planned_failure_codes.extend([code] * times)

    # -- observation -----------------------------------------------------------------------

    @property
    def mails(self) -> list[ReceivedSmtpMail]:
        return self._mails.items()

    def wait_for_mail(
        self, predicate: Callable[[ReceivedSmtpMail], bool] | None = None, count: int = 1, timeout: float = 10.0
    ) -> list[ReceivedSmtpMail]:
        return self._mails.wait_for(predicate, count, timeout)

    # -- used by the handler -----------------------------------------------------------------

    def _is_rejected(self, address: str) -> bool:
        with self._lock:
            return address.lower() in self._rejected_recipients

    def _take_planned_failure(self) -> int | None:
        with self._lock:
            return self._planned_failure_codes.popleft() if self._planned_failure_codes else None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self.credentials is not None
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = self.credentials
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    def _make_tls_context(self) -> ssl.SSLContext:
        self._certificate_dir = tempfile.TemporaryDirectory(prefix="herald-smtp-tls-")
        cert_path, key_path = _write_self_signed_certificate(Path(self._certificate_dir.name), self.host)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_path, key_path)
        return context
