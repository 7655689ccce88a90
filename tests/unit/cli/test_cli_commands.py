"""The ``herald`` command line: help people can read, --version, usage errors, send-test-email."""

import email
import re

import pytest

from services import cli

COMMANDS = ["up", "run", "migrate", "schedules", "send-test-email"]


def herald(capsys, *argv: str) -> tuple[int, str, str]:
    """Run ``herald argv``; help, --version and usage errors exit (SystemExit) as in a shell."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_every_command_with_a_description_and_no_rest_markup(capsys):
    code, out, _ = herald(capsys, "--help")
    assert code == 0
    assert "``" not in out and ":func:" not in out
    for command in COMMANDS:
        line = next(line for line in out.splitlines() if re.search(rf"│ {re.escape(command)}\s", line))
        assert len(line.split(command, 1)[1].strip(" │")) > 10, f"{command} has no description"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_its_own_help(capsys, command):
    code, out, _ = herald(capsys, command, "--help")
    assert code == 0
    assert f"Usage: herald {command}" in out
    assert "``" not in out


def test_version(capsys):
    code, out, _ = herald(capsys, "--version")
    assert code == 0
    assert re.fullmatch(r"herald \d+\.\d+\.\d+\S*\n", out)


def test_an_unknown_service_is_a_usage_error(capsys):
    code, _, err = herald(capsys, "run", "no-such-service")
    assert code == 2
    assert "no-such-service" in err


@pytest.fixture
def environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMAIL_TRANSPORT", "outbox")
    monkeypatch.setenv("OUTBOX_DIR", "var/outbox")
    return monkeypatch


def test_send_test_email_writes_a_sign_in_alert_to_the_outbox_and_says_where(capsys, environment, tmp_path):
    code, out, err = herald(capsys, "send-test-email", "--to", "dorj@example.com", "--locale", "mn")
    assert code == 0, err
    match = re.fullmatch(r"herald: sent via outbox: (var/outbox/test-email-\S+\.eml)\n", out)
    assert match, out
    message = email.message_from_bytes((tmp_path / match.group(1)).read_bytes())
    assert message["To"] == "dorj@example.com"
    assert "Herald" in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert message.get_content_type() == "multipart/alternative"


def test_send_test_email_to_a_bad_address_says_so(capsys, environment):
    code, out, err = herald(capsys, "send-test-email", "--to", "not-an-address")
    assert code == 1
    assert err.startswith("herald: --to not-an-address is not an email address Herald can send to")
    assert "Traceback" not in err


def test_send_test_email_with_sendgrid_but_no_key_names_what_is_missing(capsys, environment):
    environment.setenv("EMAIL_TRANSPORT", "sendgrid")
    code, _, err = herald(capsys, "send-test-email", "--to", "dorj@example.com")
    assert code == 1
    assert err == "herald: EMAIL_TRANSPORT=sendgrid needs SENDGRID_API_KEY\n"


def test_send_test_email_reports_what_the_transport_said(capsys, environment):
    environment.setenv("EMAIL_TRANSPORT", "smtp")
    environment.setenv("SMTP_URL", "smtp://127.0.0.1:1")  # nothing listens there
    code, _, err = herald(capsys, "send-test-email", "--to", "dorj@example.com")
    assert code == 1
    assert err.startswith("herald: smtp could not send it now (worth another try): ")


def test_bad_settings_are_one_line_each_and_exit_code_2(capsys, environment):
    environment.setenv("DEFAULT_LOCALE", "fr")
    environment.setenv("EMAIL_TRANSPORT", "pigeon")
    code, _, err = herald(capsys, "send-test-email", "--to", "dorj@example.com")
    assert code == 2
    assert sorted(err.splitlines()) == [
        "herald: DEFAULT_LOCALE=fr is not valid: expected one of en, mn",
        "herald: EMAIL_TRANSPORT=pigeon is not valid: expected one of outbox, sendgrid, smtp, log",
    ]
