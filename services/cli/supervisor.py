"""``herald up``'s children: one process per service process, kept running and stopped together.

A child that exits while nobody asked it to is restarted after a delay that doubles with each
crash (1 s, 2 s, 4 s ... up to 30 s). One that keeps crashing (``max_crashes`` within
``window_s``) is not going to recover by itself: then every child is stopped and ``herald up``
exits non-zero. On a stop request each child gets up to ``stop_grace_s`` to finish its work in
hand, and whatever is still alive then is killed, so no child outlives ``herald up``.
"""

import ctypes
import logging
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger("herald.cli")

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(frozen=True)
class RestartPolicy:
    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    #: Crashes of one child within ``window_s`` after which ``herald up`` gives up.
    max_crashes: int = 5
    window_s: float = 60.0

    def delay_after(self, crashes_in_window: int) -> float:
        return min(self.max_delay_s, self.first_delay_s * 2 ** max(0, crashes_in_window - 1))


@dataclass
class CrashHistory:
    """When one child crashed, as far back as the policy's window."""

    policy: RestartPolicy
    times: deque[float] = field(default_factory=deque)

    def record(self, now: float) -> int:
        """Note a crash at ``now``; return how many fall within the window."""
        self.times.append(now)
        while self.times and self.times[0] <= now - self.policy.window_s:
            self.times.popleft()
        return len(self.times)

    @property
    def too_many(self) -> bool:
        return len(self.times) >= self.policy.max_crashes


@dataclass(frozen=True)
class ChildSpec:
    name: str
    command: list[str]
    env: dict[str, str] | None = None


class Supervisor:
    def __init__(
        self,
        specs: list[ChildSpec],
        *,
        policy: RestartPolicy = RestartPolicy(),
        stop_grace_s: float,
        on_exit: Callable[[ChildSpec, int], None] = lambda spec, pid: None,
    ) -> None:
        self._specs = {spec.name: spec for spec in specs}
        self._policy = policy
        self._stop_grace_s = stop_grace_s
        self._on_exit = on_exit  # e.g. tidy up what the dead process left (its metrics files)
        self._children: dict[str, subprocess.Popen] = {}
        self._restart_at: dict[str, float] = {}
        self._crashes = {name: CrashHistory(policy) for name in self._specs}
        # A plain flag, set from signal handlers: an Event's lock could deadlock there.
        self._stop_requested = False

    def request_stop(self, *_signal_args) -> None:
        self._stop_requested = True

    @property
    def stopping(self) -> bool:
        return self._stop_requested

    @property
    def pids(self) -> dict[str, int]:
        return {name: child.pid for name, child in self._children.items()}

    def run(self, poll_s: float = 0.2) -> int:
        """Start every child and keep them running until a stop is requested (exit code 0 or the
        worst child's) or one keeps crashing (1)."""
        for spec in self._specs.values():
            if not self._stop_requested:
                self._children[spec.name] = _spawn(spec)
        gave_up = False
        while not self._stop_requested and not gave_up:
            now = time.monotonic()
            for name, child in list(self._children.items()):
                if child.poll() is not None and not self._stop_requested:
                    del self._children[name]
                    gave_up = self._crashed(name, child, now) or gave_up
            for name, when in list(self._restart_at.items()):
                if now >= when and not gave_up and not self._stop_requested:
                    del self._restart_at[name]
                    self._children[name] = _spawn(self._specs[name])
            time.sleep(poll_s)
        worst = self._stop_children()
        return 1 if gave_up else worst

    def _crashed(self, name: str, child: subprocess.Popen, now: float) -> bool:
        """Schedule the child's restart; True when it has crashed too often to go on."""
        self._on_exit(self._specs[name], child.pid)
        history = self._crashes[name]
        crashes = history.record(now)
        how = _how_it_ended(child.returncode)
        if history.too_many:
            logger.error(
                f"{name} {how}, {crashes} times within {self._policy.window_s:g} s: giving up, stopping every service",
                extra={"service_name": name, "exit_code": child.returncode, "crashes": crashes},
            )
            return True
        delay = self._policy.delay_after(crashes)
        logger.warning(
            f"{name} {how}; restarting it in {delay:g} s",
            extra={"service_name": name, "exit_code": child.returncode, "crashes": crashes, "restart_in_s": delay},
        )
        self._restart_at[name] = now + delay
        return False

    def _stop_children(self) -> int:
        for child in self._children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self._stop_grace_s
        worst = 0
        for name, child in self._children.items():
            try:
                code = child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("service did not stop in time; killing it", extra={"service_name": name})
                child.kill()
                code = child.wait()
            worst = worst or (code if code not in (0, -signal.SIGTERM) else 0)
        return worst


def _how_it_ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


def _spawn(spec: ChildSpec) -> subprocess.Popen:
    return subprocess.Popen(spec.command, env=spec.env, preexec_fn=_stop_with_parent)


#: Looked up once, in the parent: after fork, with other threads running, a child must not dlopen.
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _stop_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when ``herald up`` dies, even by SIGKILL,
    so that no service outlives it."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)
