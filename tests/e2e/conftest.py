"""End-to-end: ``herald up`` as a child process, real RabbitMQ and database, real mail sinks."""

import httpx
import pytest

from tests.fakes.sendgrid_server import SendGridTestServer
from tests.support.databases import PostgresSchema
from tests.support.herald_process import HeraldProcess
from tests.support.waiting import wait_until

ADMIN_TOKEN = "e2e-admin-token"
INGRESS_KEY = "e2e-ingress-key"
LIMIT_PER_HOUR = 3


@pytest.fixture(scope="module")
def module_vhost(rabbit_admin):
    name = rabbit_admin.create_vhost()
    yield name
    rabbit_admin.delete_vhost(name)


@pytest.fixture(scope="module")
def sendgrid():
    with SendGridTestServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_sendgrid_failure_plan(request):
    if "sendgrid" in request.fixturenames:
        request.getfixturevalue("sendgrid").reset()


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory, postgres_available):
    """PostgreSQL where it runs (always under CI); the embedded SQLite default elsewhere."""
    if not postgres_available:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'herald.db'}"
        return
    schema = PostgresSchema()
    yield schema.url
    schema.drop()


def herald_env(amqp_url: str, database_url: str, **overrides) -> dict[str, str]:
    return {
        "AMQP_URL": amqp_url,
        "DATABASE_URL": database_url,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "INGRESS_API_KEYS": INGRESS_KEY,
        "SIGNIN_ALERT_LIMIT_PER_HOUR": str(LIMIT_PER_HOUR),
        "PRODUCT_NAME": "Herald",
        **overrides,
    }


@pytest.fixture(scope="module")
def extra_herald_env() -> dict[str, str]:
    """Settings a test module adds to its ``herald``; override the fixture in the module."""
    return {}


@pytest.fixture(scope="module")
def herald(tmp_path_factory, rabbit_admin, module_vhost, module_database_url, sendgrid, extra_herald_env):
    process = HeraldProcess(
        tmp_path_factory.mktemp("herald"),
        herald_env(
            rabbit_admin.amqp_url(module_vhost),
            module_database_url,
            EMAIL_TRANSPORT="sendgrid",
            SENDGRID_API_HOST=sendgrid.url,
            SENDGRID_API_KEY=sendgrid.api_key,
            **extra_herald_env,
        ),
    ).start()
    yield process
    code, _ = process.stop()
    assert code == 0, f"herald up exited with {code}:\n{process.logs()[-3000:]}"


class HeraldClient:
    def __init__(self, process: HeraldProcess) -> None:
        self.process = process
        self.http = httpx.Client(timeout=10)

    def post_event(self, event: dict, *, api_key: str | None = INGRESS_KEY, **headers) -> httpx.Response:
        if api_key:
            headers["X-API-Key"] = api_key
        return self.http.post(f"{self.process.auth_events}/v1/events", json=event, headers=headers)

    def job(self, job_id: str) -> dict:
        response = self.http.get(f"{self.process.notifier}/v1/jobs/{job_id}", headers={"X-API-Key": INGRESS_KEY})
        assert response.status_code in (200, 404), response.text
        return response.json() if response.status_code == 200 else {}

    def wait_for_job(self, job_id: str, status: str, timeout: float = 15.0) -> dict:
        return wait_until(
            lambda: (job := self.job(job_id)).get("status") == status and job,
            timeout=timeout,
            what=f"job {job_id} to be {status}",
        )

    def admin(self, method: str, path: str, token: str | None = ADMIN_TOKEN) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(method, f"{self.process.notifier}{path}", headers=headers)

    def dead_letters(self) -> dict:
        response = self.admin("GET", "/v1/admin/dlq")
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def client(herald):
    return HeraldClient(herald)
