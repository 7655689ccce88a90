"""The email transports against local sinks: a SendGrid-compatible HTTP server, an aiosmtpd
server (plain, STARTTLS, implicit TLS) and a directory. No RabbitMQ, no database."""

import logging
import socket
import ssl
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

import httpx
import pytest

from services.notifier.email.message import EmailSender, OutgoingEmail, PermanentEmailError, TransientEmailError
from services.notifier.email.transports.build import build_email_sender
from services.notifier.email.transports.log import LogSender
from services.notifier.email.transports.mime import build_mime_message
from services.notifier.email.transports.outbox import OutboxSender
from services.notifier.email.transports.sendgrid import SendGridSender, build_sendgrid_payload, parse_retry_after
from services.notifier.email.transports.smtp import SmtpEndpoint, SmtpSender
from services.notifier.settings import NotifierSettings
from tests.fakes.email import RecordingEmailSender
from tests.fakes.sendgrid_server import ReceivedSendGridMail, SendGridTestServer, validate_mail_send_body
from tests.fakes.smtp_server import ReceivedSmtpMail, SmtpTestServer

SUBJECT = "🔐 Таны бүртгэлд нэвтэрсэн байна - Herald"
TEXT = "Сайн байна уу, Бат!\nТаны бүртгэлд шинэ төхөөрөмжөөс нэвтэрсэн байна."
HTML = "<p>Сайн байна уу, <b>Бат</b>!</p><p>Таны бүртгэлд шинэ төхөөрөмжөөс нэвтэрсэн байна.</p>"


def mongolian_email(**overrides: object) -> OutgoingEmail:
    email = OutgoingEmail(
        to_address="bat@example.mn",
        to_name="Бат",
        from_header="Herald <no-reply@herald.test>",
        subject=SUBJECT,
        text=TEXT,
        html=HTML,
        # Unique per test, so a sink shared by mistake could not make a test pass.
        idempotency_key=f"job-{uuid.uuid4()}",
    )
    return replace(email, **overrides)  # type: ignore[arg-type]


# -- sinks and senders ---------------------------------------------------------------------------


@pytest.fixture
def sendgrid_server() -> Iterator[SendGridTestServer]:
    with SendGridTestServer() as server:
        yield server


@pytest.fixture
def http_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


@pytest.fixture
def sendgrid_sender(sendgrid_server: SendGridTestServer, http_client: httpx.Client) -> SendGridSender:
    return SendGridSender(sendgrid_server.api_key, sendgrid_server.url + "/", http_client)


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


CREDENTIALS = ("herald@example.mn", "p@ss:w/rd %25")  # every character that needs escaping in a URL


@pytest.fixture
def starttls_smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer(tls=True, credentials=CREDENTIALS) as server:
        yield server


@pytest.fixture
def refused_address() -> Iterator[tuple[str, int]]:
    """A port bound but never listened on: connecting is refused, and no one else can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()


@pytest.fixture
def silent_address() -> Iterator[tuple[str, int]]:
    """A port that accepts connections (the kernel does) and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()


# -- SendGrid --------------------------------------------------------------------------------------


def test_sendgrid_delivers_mongolian_email(sendgrid_server: SendGridTestServer, sendgrid_sender: SendGridSender):
    email = mongolian_email(headers={"List-Unsubscribe": "<https://herald.test/unsubscribe/bat>"})

    message_id = sendgrid_sender.send(email)

    [mail] = sendgrid_server.wait_for_mail(lambda m: m.custom_args.get("herald_job_id") == email.idempotency_key)
    assert message_id == mail.message_id
    assert mail.subject == SUBJECT
    assert mail.body["personalizations"][0]["to"] == [{"email": "bat@example.mn", "name": "Бат"}]
    assert mail.body["from"] == {"email": "no-reply@herald.test", "name": "Herald"}
    assert mail.content("text/plain") == TEXT
    assert mail.content("text/html") == HTML
    assert mail.body["headers"] == {"List-Unsubscribe": "<https://herald.test/unsubscribe/bat>"}


def test_sendgrid_reuses_one_connection_for_several_emails(
    sendgrid_server: SendGridTestServer, sendgrid_sender: SendGridSender
):
    for _ in range(3):
        sendgrid_sender.send(mongolian_email())

    attempts = sendgrid_server.wait_for_attempts(count=3)
    assert len({attempt.client_address for attempt in attempts}) == 1, attempts


@pytest.mark.parametrize(
    ("status", "retry_after", "error_class"),
    [
        (500, None, TransientEmailError),
        (503, None, TransientEmailError),
        (429, 7, TransientEmailError),
        (400, None, PermanentEmailError),
        (403, None, PermanentEmailError),
        (413, None, PermanentEmailError),
    ],
)
def test_sendgrid_classifies_failures(
    sendgrid_server: SendGridTestServer,
    sendgrid_sender: SendGridSender,
    status: int,
    retry_after: int | None,
    error_class: type[Exception],
):
    sendgrid_server.fail_next(status, retry_after=retry_after)

    with pytest.raises(error_class, match=str(status)) as caught:
        sendgrid_sender.send(mongolian_email())

    if error_class is TransientEmailError:
        assert caught.value.retry_after == retry_after
    assert sendgrid_server.mails == []


def test_sendgrid_recovers_after_a_transient_failure(
    sendgrid_server: SendGridTestServer, sendgrid_sender: SendGridSender
):
    sendgrid_server.fail_next(503)
    email = mongolian_email()

    with pytest.raises(TransientEmailError):
        sendgrid_sender.send(email)
    sendgrid_sender.send(email)

    assert [attempt.status for attempt in sendgrid_server.attempts] == [503, 202]
    sendgrid_server.wait_for_mail(lambda m: m.custom_args["herald_job_id"] == email.idempotency_key)


def test_sendgrid_wrong_key_is_permanent_with_the_providers_message(
    sendgrid_server: SendGridTestServer, http_client: httpx.Client
):
    sender = SendGridSender("SG.wrong", sendgrid_server.url, http_client)

    with pytest.raises(PermanentEmailError, match="401.*authorization grant is invalid"):
        sender.send(mongolian_email())


def test_sendgrid_rejected_recipient_is_permanent(sendgrid_server: SendGridTestServer, sendgrid_sender: SendGridSender):
    sendgrid_server.reject_recipient("BAT@example.mn")

    with pytest.raises(PermanentEmailError, match="personalizations.0.to.0.email: The recipient address was rejected"):
        sendgrid_sender.send(mongolian_email())


def test_sendgrid_refused_connection_is_transient(refused_address: tuple[str, int], http_client: httpx.Client):
    host, port = refused_address
    sender = SendGridSender("SG.key", f"http://{host}:{port}", http_client)

    with pytest.raises(TransientEmailError) as caught:
        sender.send(mongolian_email())
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_sendgrid_timeout_is_transient(silent_address: tuple[str, int]):
    host, port = silent_address
    with httpx.Client(timeout=0.3) as client:
        sender = SendGridSender("SG.key", f"http://{host}:{port}", client)
        with pytest.raises(TransientEmailError) as caught:
            sender.send(mongolian_email())
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)


def test_sendgrid_close_leaves_the_injected_client_open(sendgrid_sender: SendGridSender, http_client: httpx.Client):
    sendgrid_sender.close()
    assert not http_client.is_closed


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("7", 7.0),
        (" 120 ", 120.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already past: retry now, not in negative time
        ("soon", None),
    ],
)
def test_parse_retry_after_reads_seconds_and_http_dates(header: str | None, expected: float | None):
    now = datetime(2015, 10, 21, 7, 27, 50, tzinfo=timezone.utc)
    assert parse_retry_after(header, now=now) == expected


def test_sendgrid_payload_is_what_sendgrid_accepts():
    assert validate_mail_send_body(build_sendgrid_payload(mongolian_email())) == []


def test_sendgrid_payload_is_the_documented_v3_body():
    email = mongolian_email(headers={"List-Unsubscribe": "<https://herald.test/u>"})

    assert build_sendgrid_payload(email) == {
        "personalizations": [{"to": [{"email": "bat@example.mn", "name": "Бат"}]}],
        "from": {"email": "no-reply@herald.test", "name": "Herald"},
        "subject": SUBJECT,
        "content": [{"type": "text/plain", "value": TEXT}, {"type": "text/html", "value": HTML}],
        "custom_args": {"herald_job_id": email.idempotency_key},
        "headers": {"List-Unsubscribe": "<https://herald.test/u>"},
    }


def test_sendgrid_payload_leaves_out_names_and_headers_it_does_not_have():
    body = build_sendgrid_payload(mongolian_email(to_name="", from_header="no-reply@herald.test"))

    assert body["personalizations"] == [{"to": [{"email": "bat@example.mn"}]}]
    assert body["from"] == {"email": "no-reply@herald.test"}
    assert "headers" not in body


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda body: body.pop("personalizations"), "personalizations"),
        (lambda body: body["personalizations"][0].update(to=[]), "personalizations.0.to"),
        (lambda body: body["personalizations"][0].update(to=[{"email": "not an address"}]),
         "personalizations.0.to.0.email"),
        (lambda body: body.pop("from"), "from.email"),
        (lambda body: body.pop("subject"), "subject"),
        (lambda body: body.update(content=[]), "content"),
        (lambda body: body["content"][0].update(value=""), "content.0"),
    ],
)
def test_sendgrid_test_server_refuses_what_sendgrid_refuses(
    sendgrid_server: SendGridTestServer, http_client: httpx.Client, mutate: Callable[[dict], object], field: str
):
    body = build_sendgrid_payload(mongolian_email())
    mutate(body)

    response = http_client.post(
        f"{sendgrid_server.url}/v3/mail/send", json=body, headers={"Authorization": f"Bearer {sendgrid_server.api_key}"}
    )

    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert sendgrid_server.mails == []


def test_sendgrid_test_server_requires_a_bearer_key(sendgrid_server: SendGridTestServer, http_client: httpx.Client):
    response = http_client.post(f"{sendgrid_server.url}/v3/mail/send", json=build_sendgrid_payload(mongolian_email()))

    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "authorization required"


# -- SMTP ------------------------------------------------------------------------------------------


def assert_round_trips(mail: ReceivedSmtpMail | EmailMessage, email: OutgoingEmail) -> None:
    message = mail.message if isinstance(mail, ReceivedSmtpMail) else mail
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Бат", "bat@example.mn")
    assert message["Subject"] == SUBJECT
    assert message["Message-ID"] == f"<{email.idempotency_key}@herald>"
    assert message.get_body(("plain",)).get_content().rstrip("\n") == TEXT
    assert message.get_body(("html",)).get_content().rstrip("\n") == HTML


def test_smtp_delivers_mongolian_email(smtp_server: SmtpTestServer):
    email = mongolian_email(headers={"X-Herald-Template": "signin_alert"})

    message_id = SmtpSender(smtp_server.smtp_url).send(email)

    [mail] = smtp_server.wait_for_mail(lambda m: m.message["Message-ID"] == message_id)
    assert_round_trips(mail, email)
    assert (mail.mail_from, mail.rcpt_tos) == ("no-reply@herald.test", ["bat@example.mn"])
    assert mail.message["X-Herald-Template"] == "signin_alert"
    # Encoded for any 7-bit hop, not raw UTF-8 in the headers.
    assert "=?utf-8?" in mail.message.as_string().split("\n\n", 1)[0]


def test_smtp_delivers_over_starttls_with_login(starttls_smtp_server: SmtpTestServer):
    email = mongolian_email()
    assert "starttls=true" in starttls_smtp_server.smtp_url

    SmtpSender(starttls_smtp_server.smtp_url).send(email)

    [mail] = starttls_smtp_server.wait_for_mail()
    assert_round_trips(mail, email)


def test_smtp_delivers_over_implicit_tls():
    email = mongolian_email()
    with SmtpTestServer(implicit_tls=True, credentials=CREDENTIALS) as server:
        SmtpSender(server.smtp_url).send(email)
        [mail] = server.wait_for_mail()
    assert_round_trips(mail, email)


def test_smtp_verifies_certificates_unless_told_not_to(starttls_smtp_server: SmtpTestServer):
    verifying_url = starttls_smtp_server.smtp_url.replace("&verify=false", "")

    with pytest.raises(TransientEmailError) as caught:
        SmtpSender(verifying_url).send(mongolian_email())
    assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)


def test_smtp_without_starttls_where_required_is_permanent(starttls_smtp_server: SmtpTestServer):
    plain_url = f"smtp://{starttls_smtp_server.host}:{starttls_smtp_server.port}"

    with pytest.raises(PermanentEmailError, match="530"):
        SmtpSender(plain_url).send(mongolian_email())


def test_smtp_wrong_password_is_permanent(starttls_smtp_server: SmtpTestServer):
    url = starttls_smtp_server.smtp_url.replace("p%40ss", "wrong")

    with pytest.raises(PermanentEmailError, match="535"):
        SmtpSender(url).send(mongolian_email())


def test_smtp_rejected_recipient_is_permanent(smtp_server: SmtpTestServer):
    smtp_server.reject_recipient("bat@example.mn")

    with pytest.raises(PermanentEmailError, match="550"):
        SmtpSender(smtp_server.smtp_url).send(mongolian_email())
    assert smtp_server.mails == []


@pytest.mark.parametrize(("code", "error_class"), [(451, TransientEmailError), (554, PermanentEmailError)])
def test_smtp_classifies_refusals_by_reply_code(
    smtp_server: SmtpTestServer, code: int, error_class: type[Exception]
):
    smtp_server.fail_next(code)
    sender = SmtpSender(smtp_server.smtp_url)
    email = mongolian_email()

    with pytest.raises(error_class, match=str(code)):
        sender.send(email)
    sender.send(email)  # the refusal was for one message only

    [mail] = smtp_server.wait_for_mail()
    assert mail.message["Message-ID"] == f"<{email.idempotency_key}@herald>"


def test_smtp_refused_connection_is_transient(refused_address: tuple[str, int]):
    host, port = refused_address

    with pytest.raises(TransientEmailError) as caught:
        SmtpSender(f"smtp://{host}:{port}").send(mongolian_email())
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_smtp_timeout_is_transient(silent_address: tuple[str, int]):
    host, port = silent_address

    with pytest.raises(TransientEmailError, match="timed out"):
        SmtpSender(f"smtp://{host}:{port}", timeout=0.3).send(mongolian_email())


def test_smtp_url_parsing():
    endpoint = SmtpEndpoint.from_url("smtp://apikey:p%40ss%3Aw%2Frd@mail.example.mn:587?starttls=true")
    assert (endpoint.host, endpoint.port) == ("mail.example.mn", 587)
    assert (endpoint.starttls, endpoint.implicit_tls) == (True, False)
    assert (endpoint.username, endpoint.password, endpoint.verify_certificate) == ("apikey", "p@ss:w/rd", True)

    implicit = SmtpEndpoint.from_url("smtps://mail.example.mn?verify=false")
    assert (implicit.port, implicit.implicit_tls, implicit.username, implicit.verify_certificate) == (
        465, True, None, False
    )

    for bad_url in ("http://mail.example.mn", "smtp://mail.example.mn?startls=true",
                    "smtps://mail.example.mn?starttls=true", "smtp://mail.example.mn?verify=maybe", "smtp://"):
        with pytest.raises(ValueError):
            SmtpEndpoint.from_url(bad_url)


# -- MIME, outbox, log ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"Subject": "another subject"}, {"Message-ID": "<other@herald>"}, {"X-Note": "a\r\nBcc: evil@example.com"}],
)
def test_mime_refuses_headers_that_would_change_the_message(headers: dict[str, str]):
    with pytest.raises(PermanentEmailError):
        build_mime_message(mongolian_email(headers=headers))


def test_outbox_writes_one_eml_per_email(tmp_path: Path):
    outbox_dir = tmp_path / "var" / "outbox"  # created on demand
    email = mongolian_email()
    sender = OutboxSender(outbox_dir)

    file_name = sender.send(email)
    sender.send(email)  # a redelivered job replaces its own file

    assert file_name == f"{email.idempotency_key}.eml"
    assert [path.name for path in outbox_dir.iterdir()] == [file_name]  # no temp file left behind
    message = BytesParser(policy=default_policy).parsebytes((outbox_dir / file_name).read_bytes())
    assert_round_trips(message, email)


def test_outbox_write_failure_is_transient(tmp_path: Path):
    not_a_directory = tmp_path / "outbox"
    not_a_directory.write_text("a file where the outbox should be")

    with pytest.raises(TransientEmailError):
        OutboxSender(not_a_directory).send(mongolian_email())


def test_outbox_refuses_keys_that_are_not_file_names(tmp_path: Path):
    with pytest.raises(PermanentEmailError):
        OutboxSender(tmp_path).send(mongolian_email(idempotency_key="../../etc/cron.d/job"))
    assert list(tmp_path.iterdir()) == []


def test_log_sender_logs_one_line(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="herald.email")
    email = mongolian_email()

    assert LogSender().send(email) is None

    [record] = [r for r in caplog.records if r.name == "herald.email"]
    assert all(part in record.getMessage() for part in ("bat@example.mn", SUBJECT, email.idempotency_key))


# -- choosing a transport ------------------------------------------------------------------------


def settings(**values: object) -> NotifierSettings:
    return NotifierSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("values", "sender_class"),
    [
        ({"email_transport": "sendgrid", "sendgrid_api_key": "SG.key"}, SendGridSender),
        ({"email_transport": "smtp", "smtp_url": "smtp://127.0.0.1:1025"}, SmtpSender),
        ({"email_transport": "outbox", "outbox_dir": "var/outbox"}, OutboxSender),
        ({"email_transport": "log"}, LogSender),
    ],
)
def test_build_email_sender_chooses_by_transport(
    values: dict[str, str], sender_class: type, http_client: httpx.Client
):
    assert isinstance(build_email_sender(settings(**values), http_client), sender_class)


@pytest.mark.parametrize(
    ("values", "message"),
    [({"email_transport": "sendgrid", "sendgrid_api_key": ""}, "SENDGRID_API_KEY"),
     ({"email_transport": "smtp", "smtp_url": ""}, "SMTP_URL")],
)
def test_build_email_sender_names_missing_configuration(
    values: dict[str, str], message: str, http_client: httpx.Client
):
    with pytest.raises(ValueError, match=message):
        build_email_sender(settings(**values), http_client)


# -- one contract for every sender, the fake included ---------------------------------------------


@dataclass
class Sink:
    """A sender plus what a test needs to look at, and break, the place it delivers to."""

    sender: EmailSender
    #: Asserts that the email arrived, waiting up to a deadline where delivery is asynchronous.
    assert_delivered: Callable[[OutgoingEmail], None]
    #: Whether the email is at the sink right now.
    holds: Callable[[OutgoingEmail], bool]
    fail_next_transiently: Callable[[], None] | None = None
    fail_next_permanently: Callable[[], None] | None = None


def _assert_held(holds: Callable[[OutgoingEmail], bool]) -> Callable[[OutgoingEmail], None]:
    # For sinks that are written before send() returns: nothing to wait for.
    def assert_delivered(email: OutgoingEmail) -> None:
        assert holds(email), f"{email.idempotency_key} is not at the sink"

    return assert_delivered


def _fake_sink(request: pytest.FixtureRequest) -> Sink:
    fake = RecordingEmailSender()
    holds = lambda email: email in fake.delivered  # noqa: E731
    return Sink(
        fake,
        _assert_held(holds),
        holds,
        fail_next_transiently=lambda: fake.fail_next(TransientEmailError("planned")),
        fail_next_permanently=lambda: fake.fail_next(PermanentEmailError("planned")),
    )


def _sendgrid_sink(request: pytest.FixtureRequest) -> Sink:
    server: SendGridTestServer = request.getfixturevalue("sendgrid_server")

    def carries(email: OutgoingEmail) -> Callable[[ReceivedSendGridMail], bool]:
        return lambda mail: mail.custom_args.get("herald_job_id") == email.idempotency_key

    return Sink(
        request.getfixturevalue("sendgrid_sender"),
        lambda email: server.wait_for_mail(carries(email)),
        lambda email: any(map(carries(email), server.mails)),
        fail_next_transiently=lambda: server.fail_next(503),
        fail_next_permanently=lambda: server.fail_next(400),
    )


def _smtp_sink(request: pytest.FixtureRequest) -> Sink:
    server: SmtpTestServer = request.getfixturevalue("smtp_server")

    def carries(email: OutgoingEmail) -> Callable[[ReceivedSmtpMail], bool]:
        return lambda mail: mail.message["Message-ID"] == f"<{email.idempotency_key}@herald>"

    return Sink(
        SmtpSender(server.smtp_url),
        lambda email: server.wait_for_mail(carries(email)),
        lambda email: any(map(carries(email), server.mails)),
        fail_next_transiently=lambda: server.fail_next(451),
        fail_next_permanently=lambda: server.fail_next(550),
    )


def _outbox_sink(request: pytest.FixtureRequest) -> Sink:
    outbox_dir: Path = request.getfixturevalue("tmp_path") / "outbox"
    holds = lambda email: (outbox_dir / f"{email.idempotency_key}.eml").is_file()  # noqa: E731
    return Sink(
        OutboxSender(outbox_dir),
        _assert_held(holds),
        holds,
        # A directory cannot be told to fail once; a file in its place makes every write fail.
        fail_next_transiently=lambda: outbox_dir.write_text("in the way"),
    )


def _log_sink(request: pytest.FixtureRequest) -> Sink:
    caplog: pytest.LogCaptureFixture = request.getfixturevalue("caplog")
    caplog.set_level(logging.INFO, logger="herald.email")

    def holds(email: OutgoingEmail) -> bool:
        return any(
            record.name == "herald.email" and email.idempotency_key in record.getMessage()
            for record in caplog.records
        )

    return Sink(LogSender(), _assert_held(holds), holds)


_SINK_FACTORIES = {
    "recording-fake": _fake_sink,
    "sendgrid": _sendgrid_sink,
    "smtp": _smtp_sink,
    "outbox": _outbox_sink,
    "log": _log_sink,
}
# The log has no failure to provoke, and the outbox none that is permanent.
_SINKS_THAT_FAIL_TRANSIENTLY = ["recording-fake", "sendgrid", "smtp", "outbox"]
_SINKS_THAT_FAIL_PERMANENTLY = ["recording-fake", "sendgrid", "smtp"]


@pytest.fixture(params=list(_SINK_FACTORIES))
def sink(request: pytest.FixtureRequest) -> Sink:
    return _SINK_FACTORIES[request.param](request)


class TestEmailSenderContract:
    def test_send_returns_and_the_email_reaches_the_sink(self, sink: Sink):
        email = mongolian_email()

        result = sink.sender.send(email)

        assert result is None or isinstance(result, str)
        sink.assert_delivered(email)

    def test_each_email_is_delivered_on_its_own(self, sink: Sink):
        first, second = mongolian_email(), mongolian_email()

        sink.sender.send(first)
        sink.sender.send(second)

        sink.assert_delivered(first)
        sink.assert_delivered(second)

    @pytest.mark.parametrize("sink", _SINKS_THAT_FAIL_TRANSIENTLY, indirect=True)
    def test_transient_failure_raises_transient_error_and_delivers_nothing(self, sink: Sink):
        assert sink.fail_next_transiently is not None
        sink.fail_next_transiently()
        email = mongolian_email()

        with pytest.raises(TransientEmailError):
            sink.sender.send(email)
        assert not sink.holds(email)

    @pytest.mark.parametrize("sink", _SINKS_THAT_FAIL_PERMANENTLY, indirect=True)
    def test_permanent_failure_raises_permanent_error_and_delivers_nothing(self, sink: Sink):
        assert sink.fail_next_permanently is not None
        sink.fail_next_permanently()
        email = mongolian_email()

        with pytest.raises(PermanentEmailError):
            sink.sender.send(email)
        assert not sink.holds(email)

    def test_has_a_name_and_closes_twice(self, sink: Sink):
        assert isinstance(sink.sender.name, str) and sink.sender.name
        sink.sender.close()
        sink.sender.close()
