"""RabbitMQ for tests: a vhost of its own per test, through the management API."""

import os
import subprocess
import uuid
from urllib.parse import quote

import httpx

MANAGEMENT_URL = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://127.0.0.1:15672")
AMQP_HOST = os.environ.get("RABBITMQ_HOST", "127.0.0.1:5672")
CREDENTIALS = ("guest", "guest")


class RabbitAdmin:
    def __init__(self) -> None:
        self.http = httpx.Client(base_url=MANAGEMENT_URL, auth=CREDENTIALS, timeout=10)

    def problem(self) -> str | None:
        """Why the tests cannot use the management API (wrong credentials are not "unreachable"),
        or None when they can."""
        try:
            response = self.http.get("/api/overview")
        except httpx.HTTPError as error:
            return f"the RabbitMQ management API at {MANAGEMENT_URL} is not reachable: {type(error).__name__}: {error}"
        if response.status_code == 401:
            return f"the RabbitMQ management API at {MANAGEMENT_URL} refused user {CREDENTIALS[0]!r} (401): wrong credentials"
        if response.status_code != 200:
            return f"the RabbitMQ management API at {MANAGEMENT_URL} answered {response.status_code}"
        return None

    def create_vhost(self) -> str:
        vhost = f"herald-test-{uuid.uuid4().hex[:12]}"
        self.http.put(f"/api/vhosts/{quote(vhost, safe='')}").raise_for_status()
        self.http.put(
            f"/api/permissions/{quote(vhost, safe='')}/guest", json={"configure": ".*", "write": ".*", "read": ".*"}
        ).raise_for_status()
        return vhost

    def delete_vhost(self, vhost: str) -> None:
        self.http.delete(f"/api/vhosts/{quote(vhost, safe='')}")

    def amqp_url(self, vhost: str) -> str:
        return f"amqp://guest:guest@{AMQP_HOST}/{quote(vhost, safe='')}"

    def refuse_connections(self, vhost: str) -> None:
        """Simulate a broker outage for one vhost: no new connections, existing ones closed."""
        self.http.put(
            f"/api/vhost-limits/{quote(vhost, safe='')}/max-connections", json={"value": 0}
        ).raise_for_status()
        self.close_connections(vhost)

    def accept_connections(self, vhost: str) -> None:
        self.http.delete(f"/api/vhost-limits/{quote(vhost, safe='')}/max-connections")

    def close_connections(self, vhost: str) -> None:
        """Close every client connection to ``vhost`` now.

        rabbitmqctl, because the management API lists connections from statistics that lag
        by seconds: a connection opened just before would be missed.
        """
        subprocess.run(
            ["rabbitmqctl", "--quiet", "close_all_connections", "--vhost", vhost, "test: simulated outage"],
            check=True,
            capture_output=True,
            timeout=60,
        )
