"""``herald up``'s supervisor with real child processes: a crash is restarted after a backoff, a
child that keeps crashing stops everything with a non-zero exit, a stop ends every child."""

import sys
import threading
from pathlib import Path

import pytest

from services.cli.supervisor import ChildSpec, CrashHistory, RestartPolicy, Supervisor
from tests.support.herald_process import alive
from tests.support.waiting import wait_until

QUICK = RestartPolicy(first_delay_s=0.05, max_delay_s=0.2, max_crashes=3, window_s=30)

#: Crashes (exit 3) the first ``crashes`` times it starts, then runs until SIGTERM.
CRASHES_AT_FIRST = """
import signal, sys, time
from pathlib import Path
starts = Path(sys.argv[1])
starts.write_text(starts.read_text() + "x" if starts.exists() else "x")
if len(starts.read_text()) <= int(sys.argv[2]):
    sys.exit(3)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    time.sleep(0.05)
"""


def child(name: str, starts: Path, crashes: int) -> ChildSpec:
    return ChildSpec(name, [sys.executable, "-c", CRASHES_AT_FIRST, str(starts), str(crashes)])


class Running:
    """A supervisor running on a thread, as ``herald up`` runs it on its main thread."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.exit_code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.exit_code = self.supervisor.run(poll_s=0.02)

    def stop(self) -> int:
        self.supervisor.request_stop()
        self.thread.join(20)
        assert not self.thread.is_alive()
        return self.exit_code


def starts_of(path: Path) -> int:
    return len(path.read_text()) if path.exists() else 0


def test_a_crashed_child_is_restarted_with_a_log_line_and_the_others_keep_running(tmp_path, caplog):
    flaky, steady = tmp_path / "flaky", tmp_path / "steady"
    running = Running(
        Supervisor([child("flaky", flaky, crashes=2), child("steady", steady, crashes=0)], policy=QUICK, stop_grace_s=5)
    )
    try:
        wait_until(lambda: starts_of(flaky) == 3 and "flaky" in running.supervisor.pids, timeout=15, what="a third start")
        steady_pid = running.supervisor.pids["steady"]
    finally:
        code = running.stop()
    assert code == 0
    assert starts_of(steady) == 1, "the steady child was never restarted"
    assert not alive(steady_pid)
    restarts = [r.getMessage() for r in caplog.records if "restarting it in" in r.getMessage()]
    assert restarts == ["flaky exited with code 3; restarting it in 0.05 s", "flaky exited with code 3; restarting it in 0.1 s"]


def test_a_child_that_keeps_crashing_stops_everything_with_a_non_zero_exit(tmp_path, caplog):
    steady = tmp_path / "steady"
    supervisor = Supervisor(
        [child("broken", tmp_path / "broken", crashes=1000), child("steady", steady, crashes=0)], policy=QUICK, stop_grace_s=5
    )
    running = Running(supervisor)
    running.thread.join(20)
    assert running.exit_code == 1
    assert starts_of(tmp_path / "broken") == QUICK.max_crashes
    assert any("broken exited with code 3, 3 times within 30 s: giving up" in r.getMessage() for r in caplog.records)
    wait_until(lambda: steady.exists(), timeout=5, what="the steady child to have started")


def test_a_stop_during_a_backoff_does_not_start_the_child_again(tmp_path):
    slow = RestartPolicy(first_delay_s=30, max_crashes=5, window_s=60)
    flaky = tmp_path / "flaky"
    running = Running(Supervisor([child("flaky", flaky, crashes=1)], policy=slow, stop_grace_s=5))
    wait_until(lambda: starts_of(flaky) == 1 and not running.supervisor.pids, timeout=10, what="the first crash")
    assert running.stop() == 0
    assert starts_of(flaky) == 1


@pytest.mark.parametrize(
    ("crash_times", "expected_counts"),
    [
        ([0, 1, 2], [1, 2, 3]),
        ([0, 31, 62], [1, 1, 1]),  # each one after the previous left the 30 s window
        ([0, 10, 35, 36], [1, 2, 2, 3]),
    ],
)
def test_crashes_count_within_the_window_only(crash_times, expected_counts):
    history = CrashHistory(QUICK)
    assert [history.record(t) for t in crash_times] == expected_counts


def test_the_delay_doubles_up_to_its_limit():
    policy = RestartPolicy(first_delay_s=1, max_delay_s=30)
    assert [policy.delay_after(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
