"""A local stand-in for SendGrid's v3 Mail Send API (POST /v3/mail/send).

It checks what SendGrid checks for the essentials (bearer key, personalizations, from, subject,
content), answers like SendGrid (202 + X-Message-Id, or 4xx/5xx with ``{"errors": [...]}``), and
can be told to fail. Tests use it in-process; e2e tests point ``SENDGRID_API_HOST`` at ``.url``.

    with SendGridTestServer() as sendgrid:
        sendgrid.fail_next(503)
        ...  # run Herald with SENDGRID_API_HOST=sendgrid.url SENDGRID_API_KEY=sendgrid.api_key
        [mail] = sendgrid.wait_for_mail(lambda mail: mail.to_addresses == ["bat@example.mn"])
"""

import json
import re
import secrets
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from tests.fakes.mailbox import Mailbox

MAIL_SEND_PATH = "/v3/mail/send"
_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
# SendGrid's own check is looser than RFC 5322 but does insist on one "@" and no blanks.
_EMAIL_PATTERN = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


@dataclass(frozen=True)
class ReceivedSendGridMail:
    """One accepted mail send request."""

    body: dict[str, Any]
    message_id: str
    received_monotonic: float

    @property
    def subject(self) -> str | None:
        return self.body.get("subject")

    @property
    def to_addresses(self) -> list[str]:
        return [to["email"] for p in self.body["personalizations"] for to in p["to"]]

    @property
    def custom_args(self) -> dict[str, str]:
        return self.body.get("custom_args", {})

    def content(self, content_type: str) -> str | None:
        return next((c["value"] for c in self.body["content"] if c["type"] == content_type), None)

    def describe(self) -> str:
        return f"to={self.to_addresses} subject={self.subject!r} custom_args={self.custom_args}"


@dataclass(frozen=True)
class SendGridAttempt:
    """One request, whatever the answer."""

    method: str
    path: str
    status: int
    #: The client's (host, port): equal across attempts when the client kept the connection alive.
    client_address: tuple[str, int]
    at_monotonic: float


@dataclass
class _PlannedFailure:
    status: int
    retry_after: int | None


@dataclass
class _Rejection(Exception):
    status: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


def _error(message: str, field_name: str | None = None, help_anchor: str | None = None) -> dict[str, Any]:
    return {"message": message, "field": field_name, "help": f"{_HELP}#{help_anchor}" if help_anchor else None}


def _is_email(value: Any) -> bool:
    return isinstance(value, str) and bool(_EMAIL_PATTERN.match(value))


def validate_mail_send_body(body: Any) -> list[dict[str, Any]]:
    """SendGrid's errors for ``body``, empty when it would accept it."""
    if not isinstance(body, dict):
        return [_error("Bad Request", None, None)]
    errors = []
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        errors.append(_error("The personalizations field is required and must have at least one "
                             "personalization.", "personalizations", "message.personalizations"))
        personalizations = []
    for index, personalization in enumerate(personalizations):
        to = personalization.get("to") if isinstance(personalization, dict) else None
        if not isinstance(to, list) or not to:
            errors.append(_error("The to array is required for all personalization objects, and must have "
                                 "at least one email object with a valid email address.",
                                 f"personalizations.{index}.to", "message.personalizations.to"))
            continue
        for to_index, recipient in enumerate(to):
            if not isinstance(recipient, dict) or not _is_email(recipient.get("email")):
                errors.append(_error("Does not contain a valid address.",
                                     f"personalizations.{index}.to.{to_index}.email",
                                     "message.personalizations.to"))
    sender = body.get("from")
    if not isinstance(sender, dict) or not _is_email(sender.get("email")):
        errors.append(_error("The from object must be provided for every email send. It is an object that "
                             "requires an email parameter, but may also contain a name parameter.",
                             "from.email", "message.from"))
    subject = body.get("subject")
    if not (isinstance(subject, str) and subject) and not (
        personalizations and all(isinstance(p, dict) and p.get("subject") for p in personalizations)
    ):
        errors.append(_error("The subject is required. You can get around this requirement if you use a "
                             "template with a subject defined or if every personalization has a subject "
                             "defined.", "subject", "message.subject"))
    content = body.get("content")
    if not isinstance(content, list) or not content:
        errors.append(_error("Unless a valid template_id is provided, the content parameter is required. "
                             "There must be at least one defined content block.", "content", "message.content"))
    else:
        for index, item in enumerate(content):
            if not isinstance(item, dict) or not item.get("type") or not isinstance(item.get("value"), str) \
                    or not item["value"]:
                errors.append(_error("Each content block needs a type and a non-empty value.",
                                     f"content.{index}", "message.content"))
        types = [item.get("type") for item in content if isinstance(item, dict)]
        if "text/plain" in types and types.index("text/plain") != 0:
            errors.append(_error("If present, text/plain content must be first, followed by text/html.",
                                 "content", "message.content"))
    custom_args = body.get("custom_args", {})
    if not isinstance(custom_args, dict) or not all(isinstance(v, str) for v in custom_args.values()):
        errors.append(_error("Custom args values must be strings.", "custom_args", "message.custom_args"))
    return errors


class SendGridTestServer:
    def __init__(self, api_key: str = "SG.herald-test-key", host: str = "127.0.0.1", port: int = 0) -> None:
        self.api_key = api_key
        self._address = (host, port)
        self._mails: Mailbox[ReceivedSendGridMail] = Mailbox(describe=ReceivedSendGridMail.describe)
        self._attempts: Mailbox[SendGridAttempt] = Mailbox()
        self._planned_failures: deque[_PlannedFailure] = deque()
        self._rejected_recipients: set[str] = set()
        self._lock = threading.Lock()
        self._http_server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "SendGridTestServer":
        if self._http_server is not None:
            raise RuntimeError("already started")
        http_server = _ConnectionTrackingServer(self._address, _MailSendHandler)
        http_server.sendgrid = self  # type: ignore[attr-defined]  # read by the handler
        self._http_server = http_server
        self._thread = threading.Thread(
            # A short poll keeps stop() quick; shutdown() waits for the loop to look up.
            target=http_server.serve_forever, kwargs={"poll_interval": 0.05}, name="sendgrid-test-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._http_server is None:
            return
        self._http_server.shutdown()  # returns once serve_forever has stopped
        self._http_server.server_close()
        self._http_server.drop_open_connections()
        assert self._thread is not None
        self._thread.join()
        self._http_server = None
        self._thread = None

    def __enter__(self) -> "SendGridTestServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._http_server is None:
            raise RuntimeError("start() the server first")
        return self._http_server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    # -- steering --------------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (and ``Retry-After``, if given)."""
        with self._lock:
            self._planned_failures.extend(_PlannedFailure(status, retry_after) for _ in range(times))

    def reject_recipient(self, address: str) -> None:
        """Answer 400 to every request addressed to ``address`` from now on."""
        with self._lock:
            self._rejected_recipients.add(address.lower())

    def reset(self) -> None:
        """Forget planned failures, rejections and everything received."""
        with self._lock:
            self._planned_failures.clear()
            self._rejected_recipients.clear()
        self._mails.clear()
        self._attempts.clear()

    # -- observation -----------------------------------------------------------------------

    @property
    def mails(self) -> list[ReceivedSendGridMail]:
        return self._mails.items()

    @property
    def attempts(self) -> list[SendGridAttempt]:
        return self._attempts.items()

    def wait_for_mail(
        self, predicate: Callable[[ReceivedSendGridMail], bool] | None = None, count: int = 1, timeout: float = 10.0
    ) -> list[ReceivedSendGridMail]:
        return self._mails.wait_for(predicate, count, timeout)

    def wait_for_attempts(
        self, predicate: Callable[[SendGridAttempt], bool] | None = None, count: int = 1, timeout: float = 10.0
    ) -> list[SendGridAttempt]:
        return self._attempts.wait_for(predicate, count, timeout)

    # -- the API, called from handler threads ------------------------------------------------

    def _answer(
        self, authorization: str | None, content_type: str | None, raw_body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            body = self._accept(authorization, content_type, raw_body)
        except _Rejection as rejection:
            return rejection.status, rejection.headers, json.dumps({"errors": rejection.errors}).encode()
        message_id = secrets.token_urlsafe(16)
        self._mails.add(ReceivedSendGridMail(body, message_id, time.monotonic()))
        return 202, {"X-Message-Id": message_id}, b""

    def _accept(self, authorization: str | None, content_type: str | None, raw_body: bytes) -> dict[str, Any]:
        with self._lock:
            planned = self._planned_failures.popleft() if self._planned_failures else None
            rejected_recipients = set(self._rejected_recipients)
        if planned is not None:
            headers = {"Retry-After": str(planned.retry_after)} if planned.retry_after is not None else {}
            message = "too many requests" if planned.status == 429 else f"planned failure {planned.status}"
            raise _Rejection(planned.status, [_error(message)], headers)
        if authorization is None:
            raise _Rejection(401, [_error("authorization required")])
        if authorization != f"Bearer {self.api_key}":
            raise _Rejection(401, [_error("The provided authorization grant is invalid, expired, or revoked")])
        if (content_type or "").split(";")[0].strip().lower() != "application/json":
            raise _Rejection(400, [_error("Content-Type should be application/json.")])
        try:
            body = json.loads(raw_body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _Rejection(400, [_error("Bad Request")]) from None
        errors = validate_mail_send_body(body)
        if errors:
            raise _Rejection(400, errors)
        for index, personalization in enumerate(body["personalizations"]):
            for to_index, recipient in enumerate(personalization["to"]):
                if recipient["email"].lower() in rejected_recipients:
                    raise _Rejection(400, [_error("The recipient address was rejected.",
                                                  f"personalizations.{index}.to.{to_index}.email")])
        return body

    def _record_attempt(self, method: str, path: str, status: int, client_address: tuple[str, int]) -> None:
        self._attempts.add(SendGridAttempt(method, path, status, client_address, time.monotonic()))


class _ConnectionTrackingServer(ThreadingHTTPServer):
    """Remembers open connections so that stop() really stops: otherwise a kept-alive
    connection would go on being served by its handler thread after the server "stopped"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open_connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, client_address = super().get_request()
        with self._connections_lock:
            self._open_connections.add(connection)
        return connection, client_address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._open_connections.discard(request)
        super().shutdown_request(request)

    def drop_open_connections(self) -> None:
        with self._connections_lock:
            connections, self._open_connections = self._open_connections, set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:  # the peer closed it meanwhile: already what we want
                pass


class _MailSendHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    timeout = 30  # an idle kept-alive connection must not hold a thread forever

    @property
    def sendgrid(self) -> SendGridTestServer:
        return self.server.sendgrid  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length")
        if length is None:
            self._respond(411, {}, b"")
            return
        raw_body = self.rfile.read(int(length))
        if self.path != MAIL_SEND_PATH:
            self._respond(404, {}, json.dumps({"errors": [_error("not found")]}).encode())
            return
        status, headers, body = self.sendgrid._answer(
            self.headers.get("Authorization"), self.headers.get("Content-Type"), raw_body
        )
        self._respond(status, headers, body)

    def do_GET(self) -> None:
        self._respond(405, {}, json.dumps({"errors": [_error("method not allowed")]}).encode())

    def _respond(self, status: int, headers: dict[str, str], body: bytes) -> None:
        # Recorded before answering, so a client that got its answer also finds the attempt.
        self.sendgrid._record_attempt(self.command, self.path, status, self.client_address[:2])
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows the attempts through the server's records instead."""
