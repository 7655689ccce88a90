"""Addresses with a non-ASCII domain (``bat@жишээ.мн``) or local part (``бат@жишээ.мн``) through
every transport: a real aiosmtpd server, the outbox directory and the SendGrid-compatible server."""

import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import Parser
from email.policy import default as default_policy
from pathlib import Path

import httpx
import pytest

from services.notifier.email.message import OutgoingEmail, PermanentEmailError
from services.notifier.email.transports.addresses import with_ascii_domain
from services.notifier.email.transports.outbox import OutboxSender
from services.notifier.email.transports.sendgrid import SendGridSender
from services.notifier.email.transports.smtp import SmtpSender
from tests.fakes.sendgrid_server import SendGridTestServer
from tests.fakes.smtp_server import SmtpTestServer

IDN_DOMAIN = "bat@жишээ.мн"
IDN_DOMAIN_ASCII = "bat@xn--f1ae2cuaa.xn--l1ac"
NON_ASCII_LOCAL = "бат@жишээ.мн"
NON_ASCII_LOCAL_ASCII_DOMAIN = "бат@xn--f1ae2cuaa.xn--l1ac"
SUBJECT = "Таны бүртгэлд нэвтэрсэн байна"


def headers_of(raw_message: bytes) -> bytes:
    return raw_message.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]


def email_to(address: str) -> OutgoingEmail:
    return OutgoingEmail(
        to_address=address,
        to_name="Бат",
        from_header="Herald <no-reply@herald.test>",
        subject=SUBJECT,
        text="Сайн байна уу, Бат!",
        html="<p>Сайн байна уу, Бат!</p>",
        idempotency_key=f"job-{uuid.uuid4()}",
    )


def plain_text(message: EmailMessage) -> str:
    """The text part of a message parsed from text: an 8bit part's payload is the text as it is
    (get_content would decode it a second time)."""
    part = message.get_body(("plain",))
    assert part["Content-Transfer-Encoding"] == "8bit"
    return part.get_payload().strip()


def read_eml(path: Path):
    # Parsed as text: an internationalized message's headers are UTF-8 (RFC 6532).
    return Parser(policy=default_policy).parsestr(path.read_bytes().decode("utf-8"))


def test_the_domain_is_idna_encoded_and_the_local_part_kept():
    assert with_ascii_domain("bat@example.mn") == "bat@example.mn"
    assert with_ascii_domain(IDN_DOMAIN) == IDN_DOMAIN_ASCII
    assert with_ascii_domain("bat@ЖИШЭЭ.МН") == IDN_DOMAIN_ASCII
    assert with_ascii_domain(NON_ASCII_LOCAL) == NON_ASCII_LOCAL_ASCII_DOMAIN
    assert with_ascii_domain("bat@мон.мон") == "bat@xn--l1acc.xn--l1acc"


def test_an_address_that_is_not_one_is_a_permanent_error():
    with pytest.raises(PermanentEmailError):
        with_ascii_domain("бат@жишээ..мн")


# -- SMTP ------------------------------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer(smtputf8=False) as server:
        yield server


@pytest.fixture
def smtputf8_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer(smtputf8=True) as server:
        yield server


def test_smtp_delivers_to_an_idn_domain_in_ascii_to_any_server(smtp_server: SmtpTestServer):
    email = email_to(IDN_DOMAIN)

    message_id = SmtpSender(smtp_server.smtp_url).send(email)

    [mail] = smtp_server.wait_for_mail(lambda m: m.message["Message-ID"] == message_id)
    assert mail.rcpt_tos == [IDN_DOMAIN_ASCII]
    assert mail.message["To"].addresses[0].addr_spec == IDN_DOMAIN_ASCII
    assert mail.message["To"].addresses[0].display_name == "Бат"
    assert mail.subject == SUBJECT
    assert headers_of(mail.message.as_bytes()).isascii()  # no header needs SMTPUTF8


def test_smtp_delivers_to_a_non_ascii_local_part_with_smtputf8(smtputf8_server: SmtpTestServer):
    email = email_to(NON_ASCII_LOCAL)

    message_id = SmtpSender(smtputf8_server.smtp_url).send(email)

    [mail] = smtputf8_server.wait_for_mail(lambda m: m.message["Message-ID"] == message_id)
    assert mail.rcpt_tos == [NON_ASCII_LOCAL_ASCII_DOMAIN]
    assert mail.message["To"].addresses[0].addr_spec == NON_ASCII_LOCAL_ASCII_DOMAIN
    assert mail.subject == SUBJECT
    assert plain_text(mail.message) == "Сайн байна уу, Бат!"


def test_smtp_without_smtputf8_refuses_a_non_ascii_local_part_permanently(smtp_server: SmtpTestServer):
    with pytest.raises(PermanentEmailError, match="SMTPUTF8"):
        SmtpSender(smtp_server.smtp_url).send(email_to(NON_ASCII_LOCAL))
    assert smtp_server.mails == []


# -- outbox ----------------------------------------------------------------------------------------


def test_outbox_writes_an_idn_domain_in_ascii(tmp_path: Path):
    email = email_to(IDN_DOMAIN)

    file_name = OutboxSender(tmp_path).send(email)

    assert headers_of((tmp_path / file_name).read_bytes()).isascii()
    message = read_eml(tmp_path / file_name)
    assert message["To"].addresses[0].addr_spec == IDN_DOMAIN_ASCII
    assert message["Subject"] == SUBJECT


def test_outbox_writes_a_non_ascii_local_part_as_an_internationalized_message(tmp_path: Path):
    email = email_to(NON_ASCII_LOCAL)

    file_name = OutboxSender(tmp_path).send(email)

    message = read_eml(tmp_path / file_name)
    assert message["To"].addresses[0].addr_spec == NON_ASCII_LOCAL_ASCII_DOMAIN
    assert message["To"].addresses[0].display_name == "Бат"
    assert message["Subject"] == SUBJECT
    assert plain_text(message) == "Сайн байна уу, Бат!"


# -- SendGrid --------------------------------------------------------------------------------------


@pytest.fixture
def sendgrid_server() -> Iterator[SendGridTestServer]:
    with SendGridTestServer() as server:
        yield server


@pytest.mark.parametrize(("address", "sent_as"), [(IDN_DOMAIN, IDN_DOMAIN_ASCII), (NON_ASCII_LOCAL, NON_ASCII_LOCAL_ASCII_DOMAIN)])
def test_sendgrid_gets_the_domain_in_ascii(sendgrid_server: SendGridTestServer, address: str, sent_as: str):
    email = email_to(address)
    with httpx.Client(timeout=5.0) as http_client:
        SendGridSender(sendgrid_server.api_key, sendgrid_server.url, http_client).send(email)

    [mail] = sendgrid_server.wait_for_mail(lambda m: m.custom_args.get("herald_job_id") == email.idempotency_key)
    assert mail.body["personalizations"][0]["to"] == [{"email": sent_as, "name": "Бат"}]
    assert mail.subject == SUBJECT
