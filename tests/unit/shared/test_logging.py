"""configure_logging with real loggers writing to a captured stream (and to a real terminal)."""

import io
import json
import logging
import os
import re

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from shared.correlation import correlation_scope
from shared.runtime.logging import configure_logging
from tests.support.waiting import wait_until

LIBRARIES = ("apscheduler", "dramatiq", "httpx", "httpcore", "uvicorn.access", "alembic", "asyncio", "pika")
TEXT_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} (?P<level>[A-Z]+) +(?P<service>\S+) +(?P<rest>.*)$")
ADDRESS = "бат@жишээ.мн"
UVICORN_LISTEN_LINE = "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)"


class Terminal(io.StringIO):
    """A captured stream that says it is a terminal, as stderr does in a shell."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging():
    """configure_logging sets the process's root logger: give the next test the one it had."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    library_levels = {name: logging.getLogger(name).level for name in LIBRARIES}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, library_level in library_levels.items():
        logging.getLogger(name).setLevel(library_level)


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def log_uvicorn_start_up(host: str) -> None:
    # The call uvicorn.Server makes once it listens (uvicorn/server.py), colour copy included.
    logging.getLogger("uvicorn.error").info(
        UVICORN_LISTEN_LINE,
        "http",
        host,
        8001,
        extra={"color_message": "Uvicorn running on \x1b[1m%s://%s:%d\x1b[0m (Press CTRL+C to quit)"},
    )


# --- which format -------------------------------------------------------------------------------


def test_json_lines_when_the_stream_is_not_a_terminal():
    stream = io.StringIO()
    configure_logging("notifier", stream=stream)
    logging.getLogger("herald.notifier").info("alert sent", extra={"job_id": "j-1", "attempt": 2})
    [entry] = json_lines(stream)
    assert entry["msg"] == "alert sent" and entry["service"] == "notifier" and entry["logger"] == "herald.notifier"
    assert entry["level"] == "info" and entry["job_id"] == "j-1" and entry["attempt"] == 2


def test_readable_lines_on_a_terminal():
    stream = Terminal()
    configure_logging("notifier", stream=stream)
    with correlation_scope("corr-1"):
        logging.getLogger("herald.notifier").warning(
            "digest not sent; will retry", extra={"job_id": "j-1", "error": "timed out", "queues": ["a", "b"]}
        )
    [line] = stream.getvalue().splitlines()
    parts = TEXT_LINE.match(line)
    assert parts and parts["level"] == "WARNING" and parts["service"] == "notifier"
    assert parts["rest"] == 'digest not sent; will retry  correlation_id=corr-1 job_id=j-1 error="timed out" queues=["a","b"]'


def test_readable_lines_on_a_real_terminal():
    leader, follower = os.openpty()
    with open(follower, "w", encoding="utf-8", closefd=True) as terminal:
        configure_logging("scheduler", stream=terminal)
        logging.getLogger("herald.scheduler").info("maintenance due", extra={"schedule": "retention"})
        terminal.flush()
        output = os.read(leader, 4096).decode()
    os.close(leader)
    parts = TEXT_LINE.match(output.strip())
    assert parts and parts["rest"] == "maintenance due  schedule=retention", output


@pytest.mark.parametrize("stream_class, log_format, parse", [(Terminal, "json", json.loads), (io.StringIO, "text", TEXT_LINE.match)])
def test_log_format_overrides_the_terminal_check(stream_class, log_format, parse):
    stream = stream_class()
    configure_logging("notifier", log_format=log_format, stream=stream)
    logging.getLogger("herald.notifier").info("hello")
    assert parse(stream.getvalue().strip())


def test_an_unknown_log_format_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="LOG_FORMAT='xml': expected one of auto, text, json"):
        configure_logging("notifier", log_format="xml", stream=io.StringIO())


def test_a_line_break_in_a_value_cannot_fake_a_second_text_line():
    stream = Terminal()
    configure_logging("auth-events", stream=stream)
    logging.getLogger("herald.auth_events").info("sign-in from %s", "Bat\r\nINFO forged", extra={"agent": "x\ny"})
    [line] = stream.getvalue().splitlines()
    assert line.endswith(r'sign-in from Bat\r\nINFO forged  agent="x\ny"')


# --- uvicorn's start-up line ----------------------------------------------------------------------


@pytest.mark.parametrize("stream_class", [io.StringIO, Terminal])
def test_uvicorns_listen_address_is_shown_as_is_without_its_colour_copy(stream_class):
    stream = stream_class()
    configure_logging("auth-events", stream=stream)
    log_uvicorn_start_up("10.1.2.3")
    output = stream.getvalue()
    assert "Uvicorn running on http://10.1.2.3:8001 (Press CTRL+C to quit)" in output
    assert "color_message" not in output and "\x1b" not in output and "\\u001b" not in output


def test_terminal_escapes_never_reach_a_json_line():
    stream = io.StringIO()
    configure_logging("notifier", stream=stream)
    logging.getLogger("somelib").warning("\x1b[31mred\x1b[0m alert", extra={"state": "\x1b[1mbold\x1b[0m"})
    [entry] = json_lines(stream)
    assert entry["msg"] == "red alert" and entry["state"] == "bold"
    assert "\\u001b" not in stream.getvalue()


# --- masking: every logger, every part of a record ------------------------------------------------


@pytest.mark.parametrize("stream_class", [io.StringIO, Terminal])
def test_addresses_in_arguments_extras_and_tracebacks_are_masked(stream_class):
    stream = stream_class()
    configure_logging("notifier", stream=stream)
    logger = logging.getLogger("herald.notifier")
    logger.info("alert skipped: rate limited", extra={"user_id": ADDRESS, "seen": {"ip": "203.0.113.7"}})
    logger.info("sent to %s from %s", ADDRESS, "2001:db8::1")
    try:
        raise ValueError(f"cannot deliver to {ADDRESS} from 198.51.100.20")
    except ValueError:
        logger.exception("delivery failed")
    output = stream.getvalue()
    assert output.count("б***@жишээ.мн") == 3 and "203.0.x.x" in output and "2001:db8:x:x" in output
    assert "бат@" not in output and "113.7" not in output and "2001:db8::1" not in output and "100.20" not in output


def test_a_correlation_id_a_client_chose_is_masked_too():
    stream = io.StringIO()
    configure_logging("auth-events", stream=stream)
    with correlation_scope(ADDRESS):
        logging.getLogger("herald.auth_events").info("event accepted")
    [entry] = json_lines(stream)
    assert entry["correlation_id"] == "б***@жишээ.мн"


def test_dramatiqs_failed_message_line_has_the_payload_masked():
    stream = io.StringIO()
    configure_logging("notifier", stream=stream)
    broker = StubBroker()
    broker.emit_after("process_boot")

    def send_alert(user: dict) -> None:
        raise RuntimeError("smtp said no")

    actor = dramatiq.actor(send_alert, broker=broker, max_retries=0)
    worker = dramatiq.Worker(broker, worker_timeout=100)
    worker.start()
    try:
        actor.send({"email": ADDRESS, "ip": "203.0.113.7"})
        line = wait_until(
            lambda: next((line for line in stream.getvalue().splitlines() if "Failed to process message" in line), None),
            what="Dramatiq's failure line",
        )
    finally:
        worker.stop()
        broker.close()
    entry = json.loads(line)
    assert "send_alert({'email': '***@жишээ.мн', 'ip': '203.0.x.x'})" in entry["msg"]
    assert "smtp said no" in entry["exc"]
    assert "бат" not in stream.getvalue() and "113.7" not in stream.getvalue()


# --- third-party chatter ---------------------------------------------------------------------------


def test_libraries_speak_from_warning_up_and_herald_from_its_level():
    stream = io.StringIO()
    configure_logging("scheduler", level="INFO", stream=stream)
    logging.getLogger("apscheduler.executors.default").info('Running job "digest-scan"')
    logging.getLogger("httpx").info("HTTP Request: POST https://api.sendgrid.com/v3/mail/send")
    logging.getLogger("pika.adapters").error("connection refused")
    logging.getLogger("dramatiq.worker.WorkerThread").warning("Failed to process message")
    logging.getLogger("herald.scheduler").info("maintenance due")
    assert [entry["msg"] for entry in json_lines(stream)] == ["Failed to process message", "maintenance due"]


def test_log_level_debug_lets_every_library_speak():
    stream = io.StringIO()
    configure_logging("scheduler", level="DEBUG", stream=stream)
    logging.getLogger("apscheduler.executors.default").info('Running job "digest-scan"')
    logging.getLogger("pika.adapters").debug("connecting")
    assert [entry["msg"] for entry in json_lines(stream)] == ['Running job "digest-scan"', "connecting"]


def test_a_quieter_log_level_quiets_the_libraries_as_well():
    stream = io.StringIO()
    configure_logging("scheduler", level="ERROR", stream=stream)
    logging.getLogger("apscheduler.scheduler").warning("job missed")
    logging.getLogger("herald.scheduler").warning("scheduled run failed")
    logging.getLogger("herald.scheduler").error("gave up")
    assert [entry["msg"] for entry in json_lines(stream)] == ["gave up"]
