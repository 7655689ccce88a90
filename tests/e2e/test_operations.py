"""Running Herald: the embedded defaults with SMTP, a broker outage, shutdown, start-up errors."""

import socket
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from shared.topology import SEND_SIGNIN_ALERT
from tests.e2e.conftest import INGRESS_KEY, HeraldClient, herald_env
from tests.fakes.smtp_server import SmtpTestServer
from tests.support.events import publish_to_auth_events, signed_in_event
from tests.support.herald_process import HeraldProcess, alive
from tests.support.metrics import metric_value
from tests.support.waiting import wait_until


@pytest.fixture
def smtp_server():
    with SmtpTestServer(tls=True) as server:
        yield server


@pytest.fixture
def herald_on_sqlite_with_smtp(tmp_path, amqp_url, smtp_server):
    """Herald as a new user first runs it: SQLite under ./var, but mail to an SMTP server."""
    process = HeraldProcess(
        tmp_path, {**herald_env(amqp_url, "sqlite:///./var/herald.db"), "EMAIL_TRANSPORT": "smtp", "SMTP_URL": smtp_server.smtp_url}
    ).start()
    yield process
    if process.process.poll() is None:
        process.stop()


def test_an_amqp_event_reaches_an_smtp_server_over_starttls_on_sqlite(herald_on_sqlite_with_smtp, smtp_server):
    herald = herald_on_sqlite_with_smtp
    event = signed_in_event(user_id=f"u-{uuid.uuid4()}", locale="en", name="Dorj", email="dorj@example.com")
    publish_to_auth_events(herald.env["AMQP_URL"], event)

    [mail] = smtp_server.wait_for_mail(timeout=15)
    assert mail.rcpt_tos == ["dorj@example.com"]
    assert mail.subject == "🔐 New sign-in to your Herald account"
    assert mail.message["Message-ID"] == f"<{SEND_SIGNIN_ALERT.job_id_for(event['event_id'])}@herald>"
    assert "Dorj" in mail.body("plain") and "<html" in mail.body("html")
    assert (herald.workdir / "var" / "herald.db").exists()


def test_when_the_broker_cannot_confirm_ingress_answers_503_and_recovers(herald_on_sqlite_with_smtp, rabbit_admin, vhost, smtp_server):
    client = HeraldClient(herald_on_sqlite_with_smtp)
    rabbit_admin.refuse_connections(vhost)
    try:
        event = signed_in_event(user_id=f"u-{uuid.uuid4()}")
        refused = client.post_event(event)
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == "5"
        assert refused.headers["content-type"] == "application/problem+json"
    finally:
        rabbit_admin.accept_connections(vhost)

    accepted = client.post_event(event)
    assert accepted.status_code == 202, "nothing was recorded by the refused attempt"
    client.wait_for_job(accepted.json()["job_id"], "completed", timeout=30)
    smtp_server.wait_for_mail(timeout=5)


def test_sigterm_stops_every_service_within_15_seconds_and_leaves_no_child(herald_on_sqlite_with_smtp):
    herald = herald_on_sqlite_with_smtp
    children = list(herald.children)
    assert len(children) == 3

    code, seconds = herald.stop()

    assert code == 0, herald.logs()[-2000:]
    assert seconds < 15
    assert not [pid for pid in children if alive(pid)]
    assert herald.logs().count('"msg": "service stopped"') == 3


def run_herald(tmp_path, env: dict, *args: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unreachable_broker_is_one_clear_line_and_a_non_zero_exit(tmp_path):
    result = run_herald(tmp_path, {"AMQP_URL": "amqp://guest:guest@127.0.0.1:1/%2F"}, "up")
    assert result.returncode != 0
    assert "herald: cannot reach RabbitMQ at amqp://127.0.0.1:1/" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_one_clear_line_and_a_non_zero_exit(tmp_path):
    env = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = run_herald(tmp_path, env, "run", "notifier")
    assert result.returncode != 0
    assert "herald: cannot reach the database at postgresql+psycopg://127.0.0.1:1/none" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_one_clear_line_and_a_non_zero_exit(tmp_path, amqp_url):
    env = {"AMQP_URL": amqp_url, "DATABASE_URL": "sqlite:///./var/herald.db"}
    assert run_herald(tmp_path, env, "migrate").returncode == 0
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = run_herald(tmp_path, {**env, "AUTH_EVENTS_PORT": str(port)}, "run", "auth-events")
    assert result.returncode == 1
    assert f"herald: auth-events-http could not listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def listening_sockets(port: int) -> int:
    """Sockets listening on ``port`` (IPv4), from the kernel's table."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if row.split()[1].endswith(f":{port:04X}") and row.split()[3] == "0A")


def test_several_processes_of_a_service_share_its_port_and_stop_together(tmp_path, amqp_url):
    process = HeraldProcess(
        tmp_path,
        {**herald_env(amqp_url, "sqlite:///./var/herald.db"), "AUTH_EVENTS_PROCESSES": "2", "NOTIFIER_PROCESSES": "2"},
    ).start()
    children = list(process.children)
    try:
        services = sorted(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[-2].decode() for pid in children)
        assert services == ["auth-events", "auth-events", "notifier", "notifier", "scheduler"]
        for port_name in ("AUTH_EVENTS_PORT", "NOTIFIER_PORT"):
            # Ready means one process answered /readyz; the other may still be starting.
            port = process.ports[port_name]
            wait_until(lambda: listening_sockets(port) == 2, timeout=30, what=f"two listeners on {port_name}")
        client = HeraldClient(process)
        events = [signed_in_event(user_id=f"u-{i}") for i in range(6)]  # under the hourly limit each
        for event in events:
            # A connection of its own each (httpx.post): the kernel spreads connections.
            headers = {"X-API-Key": INGRESS_KEY}
            assert httpx.post(f"{process.auth_events}/v1/events", json=event, headers=headers).status_code == 202
        for event in events:
            client.wait_for_job(SEND_SIGNIN_ALERT.job_id_for(event["event_id"]), "completed")
        for _ in range(4):  # whichever process answers, it counts every process's events
            metrics = httpx.get(f"{process.auth_events}/metrics", timeout=10).text
            accepted = {"event_type": "auth.user.signed_in", "via": "http", "outcome": "accepted"}
            assert metric_value(metrics, "herald_events_received_total", **accepted) == 6
            jobs = httpx.get(f"{process.notifier}/metrics", timeout=10).text
            assert metric_value(jobs, "herald_job_attempts_total", actor="send_signin_alert", outcome="completed") == 6
    finally:
        code, _ = process.stop()
    assert code == 0, process.logs()[-2000:]
    assert not [pid for pid in children if alive(pid)]


def test_production_refuses_unsafe_settings(tmp_path):
    result = run_herald(tmp_path, {"HERALD_ENV": "production", "AMQP_URL": "amqp://guest:guest@rabbit.internal/%2F"}, "run", "notifier")
    assert result.returncode == 2
    for problem in ("ADMIN_TOKEN is empty", "guest account off localhost", "EMAIL_TRANSPORT=outbox"):
        assert problem in result.stderr


def test_services_stop_even_when_herald_up_is_killed_outright(herald_on_sqlite_with_smtp):
    herald = herald_on_sqlite_with_smtp
    children = list(herald.children)
    herald.process.kill()  # SIGKILL: herald up gets no chance to stop anything itself
    herald.process.wait()
    wait_until(lambda: not [pid for pid in children if alive(pid)], timeout=15, what="every service to exit")
