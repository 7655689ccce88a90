"""``herald up`` checks everything before it starts anything: each problem is one line, at once."""

import os
import socket
import subprocess
import sys

import pytest

from tests.support.herald_process import free_port


def herald_up(tmp_path, env: dict[str, str]) -> subprocess.CompletedProcess:
    ports = {name: str(free_port()) for name in ("AUTH_EVENTS_PORT", "NOTIFIER_PORT", "SCHEDULER_PORT")}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "up"],
        cwd=tmp_path,
        env={**os.environ, "HERALD_ENV": "test", **ports, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def only_herald_lines(result: subprocess.CompletedProcess) -> list[str]:
    """Every line of output, which must all be ``herald: ...`` lines: no log line (no service
    started, nothing was migrated), no traceback."""
    lines = (result.stdout + result.stderr).splitlines()
    assert all(line.startswith("herald: ") for line in lines), result.stdout + result.stderr
    return lines


def test_a_port_in_use_is_one_line_before_any_service_starts(tmp_path, amqp_url):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = herald_up(tmp_path, {"AMQP_URL": amqp_url, "NOTIFIER_PORT": str(port)})
    assert result.returncode == 1
    assert only_herald_lines(result) == [
        f"herald: NOTIFIER_PORT={port}: cannot listen on 127.0.0.1:{port}: "
        "the port is already in use (another Herald, or another program?)"
    ]


def test_sendgrid_without_a_key_is_one_line_before_any_service_starts(tmp_path, amqp_url):
    result = herald_up(tmp_path, {"AMQP_URL": amqp_url, "EMAIL_TRANSPORT": "sendgrid", "SENDGRID_API_KEY": ""})
    assert result.returncode == 2
    assert only_herald_lines(result) == ["herald: EMAIL_TRANSPORT=sendgrid needs SENDGRID_API_KEY"]


def test_every_problem_is_reported_at_once(tmp_path, rabbit_admin):
    env = {
        "NOTIFIER_PORT": "abc",
        "DEFAULT_LOCALE": "fr",
        "RETENTION_CRON": "61 * * * *",
        "AMQP_URL": rabbit_admin.amqp_url("no-such-vhost-for-herald"),
    }
    result = herald_up(tmp_path, env)
    assert result.returncode == 2
    lines = only_herald_lines(result)
    assert lines[:3] == [
        "herald: NOTIFIER_PORT=abc is not valid: expected an integer (1-65535)",
        "herald: DEFAULT_LOCALE=fr is not valid: expected one of en, mn",
        "herald: RETENTION_CRON='61 * * * *' is not valid: expected a five-field cron expression "
        "(minute hour day month weekday): '61': the last value (61) is higher than the maximum value (59)",
    ]
    assert lines[3].startswith("herald: cannot reach RabbitMQ at amqp://")
    assert lines[3].endswith("/no-such-vhost-for-herald: no such vhost (or the user may not use it)")


def test_a_wrong_rabbitmq_password_is_bad_credentials(tmp_path, rabbit_admin, vhost):
    url = rabbit_admin.amqp_url(vhost).replace("://guest:guest@", "://guest:wrong@")
    if "guest:wrong" not in url:
        pytest.skip("the test broker does not use guest/guest")
    result = herald_up(tmp_path, {"AMQP_URL": url})
    assert result.returncode == 1
    [line] = only_herald_lines(result)
    assert line.endswith(": bad credentials (user or password refused)") and "cannot reach RabbitMQ" in line


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_required")
def test_a_missing_database_is_no_such_database(tmp_path, amqp_url):
    from tests.support.databases import POSTGRES_URL

    url = POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database_for_herald"
    result = herald_up(tmp_path, {"AMQP_URL": amqp_url, "DATABASE_URL": url})
    assert result.returncode == 1
    [line] = only_herald_lines(result)
    assert line.startswith("herald: cannot reach the database at postgresql+psycopg://")
    assert line.endswith("/no_such_database_for_herald: no such database")


@pytest.mark.parametrize("url", ["notaurl", "mysql://root@localhost/herald"])
def test_an_unsupported_database_url_is_one_line_without_a_traceback(tmp_path, url):
    result = herald_up(tmp_path, {"DATABASE_URL": url})
    assert result.returncode == 2
    assert only_herald_lines(result) == [
        f"herald: DATABASE_URL={url} is not valid: unsupported URL: "
        "expected postgresql://user:password@host/database or sqlite:///path"
    ]
