"""``herald up`` restarts a service that crashes, and says so, instead of stopping everything."""

import os
import signal
from pathlib import Path

import httpx

from tests.e2e.conftest import herald_env
from tests.support.herald_process import HeraldProcess, alive, child_pids
from tests.support.waiting import wait_until


def service_pids(herald: HeraldProcess) -> dict[str, int]:
    """The live children of ``herald up`` by service (a killed one is a zombie until reaped)."""
    pids = {}
    for pid in child_pids(herald.process.pid):
        try:
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:  # gone since it was listed
            continue
        if alive(pid) and len(arguments) >= 2:
            pids[arguments[-2].decode()] = pid
    return pids


def test_a_killed_service_is_restarted_and_serves_again(tmp_path, amqp_url):
    herald = HeraldProcess(tmp_path, herald_env(amqp_url, "sqlite:///./var/herald.db")).start(timeout=90)
    try:
        wait_until(lambda: "Herald is up" in herald.logs(), timeout=15, what="the banner")
        before = service_pids(herald)
        os.kill(before["notifier"], signal.SIGKILL)  # a crash: no clean exit of its own

        restarted = wait_until(
            lambda: (pids := service_pids(herald)).get("notifier") not in (None, before["notifier"]) and pids,
            timeout=30,
            what="a new notifier process",
        )
        wait_until(
            lambda: _ready(f"{herald.notifier}/readyz"), timeout=60, interval=0.2, what="the new notifier to be ready"
        )
        assert restarted["auth-events"] == before["auth-events"] and restarted["scheduler"] == before["scheduler"]
        assert "notifier was killed by SIGKILL; restarting it in 1 s" in herald.logs()
        assert herald.process.poll() is None
    finally:
        code, _ = herald.stop()
    assert code == 0, herald.logs()[-2000:]
    assert not [pid for pid in restarted.values() if alive(pid)]
    assert herald.logs().count("Herald is up") == 1, "the banner is printed once"


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
