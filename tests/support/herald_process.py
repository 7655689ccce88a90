"""``herald up`` as a user runs it: a child process with its own environment, ports and logs."""

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.waiting import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE_PORTS = ("AUTH_EVENTS_PORT", "NOTIFIER_PORT", "SCHEDULER_PORT")


#: Below Linux's ephemeral range (32768-60999 by default), so that a port handed to a service is
#: not taken in the meantime by an outgoing connection (the pools keep many): port 0 would pick
#: one from that very range.
PORT_RANGE = range(20000, 32768)


def free_port() -> int:
    """A port nothing listens on now, for a service to listen on."""
    for _ in range(100):
        port = random.choice(PORT_RANGE)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORT_RANGE}")


def child_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


class HeraldProcess:
    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.ports = {name: free_port() for name in SERVICE_PORTS}
        self.env = {**os.environ, "HERALD_ENV": "test", "LOG_LEVEL": "INFO", **env}
        self.env.update({name: str(port) for name, port in self.ports.items()})
        self.log_path = workdir / "herald.log"
        self.process: subprocess.Popen | None = None
        self.children: list[int] = []

    def url(self, port_name: str) -> str:
        return f"http://127.0.0.1:{self.ports[port_name]}"

    @property
    def auth_events(self) -> str:
        return self.url("AUTH_EVENTS_PORT")

    @property
    def notifier(self) -> str:
        return self.url("NOTIFIER_PORT")

    @property
    def scheduler(self) -> str:
        return self.url("SCHEDULER_PORT")

    def start(self, timeout: float = 60.0) -> "HeraldProcess":
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up"], cwd=self.workdir, env=self.env, stdout=log, stderr=log
        )
        try:
            wait_until(self._all_ready, timeout=timeout, interval=0.1, what="every service to be ready")
        except BaseException:
            self.children = child_pids(self.process.pid)
            self.stop()  # a start that failed must not leave services running behind the test
            raise
        self.children = child_pids(self.process.pid)
        return self

    def _all_ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"herald up exited with {self.process.returncode}:\n{self.logs()[-3000:]}")
        try:
            return all(httpx.get(f"{self.url(p)}/readyz", timeout=1).status_code == 200 for p in SERVICE_PORTS)
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 20.0) -> tuple[int, float]:
        """SIGTERM, as a process manager would; returns the exit code and seconds it took."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
            for pid in self.children:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
        return code, time.monotonic() - started

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
