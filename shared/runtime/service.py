"""Running one service: its HTTP API, Dramatiq workers and consumers, started and stopped together.

Stop order matters: first stop taking new work (HTTP, consumers), then let workers finish what
they hold (unacked messages go back to RabbitMQ when their connection closes).
"""

import logging
import signal
import socket
import threading
from dataclasses import dataclass, field
from typing import Protocol

import dramatiq
import uvicorn

from shared.runtime.platform import StartupError

logger = logging.getLogger("herald.runtime")

#: Time a worker gets to finish jobs in hand; ``herald up`` allows each service 15 s in all.
WORKER_STOP_TIMEOUT_MS = 8_000


class Component(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


class HttpServer:
    """Uvicorn on a thread of its own, so the main thread keeps the signal handlers.

    ``shared_port``: several processes of the service listen on the same port (SO_REUSEPORT) and
    the kernel spreads the connections over them. Off by default, so that a second Herald
    started by mistake fails with "address in use" instead of quietly taking half the traffic.
    """

    def __init__(self, name: str, app, host: str, port: int, *, shared_port: bool = False) -> None:
        self.name = name
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._host, self._port, self._shared_port = host, port, shared_port
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Return once the server listens; StartupError when it cannot (the port is taken)."""
        try:
            sockets = [_shared_listening_socket(self._host, self._port)] if self._shared_port else None
        except OSError as error:
            raise StartupError(f"{self.name} could not listen on {self._address}: {error.strerror}") from error
        self._thread = threading.Thread(target=self._server.run, args=(sockets,), name=self.name, daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():  # uvicorn logged why, then ended its thread
                raise StartupError(f"{self.name} could not listen on {self._address}")
            self._thread.join(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(5)

    @property
    def _address(self) -> str:
        return f"{self._host}:{self._port}"


def _shared_listening_socket(host: str, port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    return listener


class _SeveralWorkersPerBroker(logging.Filter):
    """Dramatiq warns when a second Worker joins a broker; per-urgency pools do that on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "adding a middleware of the same type twice" not in record.getMessage()


class WorkerPool:
    """A Dramatiq worker over some queues, with its own threads (its own capacity)."""

    def __init__(self, name: str, broker: dramatiq.Broker, queues: set[str], threads: int) -> None:
        self.name = name
        logging.getLogger("dramatiq.broker.RabbitmqBroker").addFilter(_SEVERAL_WORKERS_FILTER)
        # worker_timeout: how often idle threads look at the delay queue; 100 ms keeps
        # retry delays within a tenth of a second of their schedule.
        self._worker = dramatiq.Worker(broker, queues=queues, worker_threads=threads, worker_timeout=100)

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop(timeout=WORKER_STOP_TIMEOUT_MS)

    def threads_told_to_stop(self) -> bool:
        """Whether every thread has been told to stop (each still finishes the message in hand)."""
        return all(not thread.running for thread in self._worker.workers)


_SEVERAL_WORKERS_FILTER = _SeveralWorkersPerBroker()


@dataclass
class Service:
    name: str
    intake: list[Component] = field(default_factory=list)  # stopped first: no new work
    work: list[Component] = field(default_factory=list)  # stopped last: finish work in hand
    on_close: list = field(default_factory=list)

    def start(self) -> None:
        started = []
        try:
            for component in [*self.work, *self.intake]:
                component.start()
                started.append(component)
        except BaseException:
            _stop_all(reversed(started))
            raise
        logger.info("service started", extra={"service_name": self.name})

    def stop(self) -> None:
        _stop_all([*self.intake, *self.work])
        for close in self.on_close:
            close()
        logger.info("service stopped", extra={"service_name": self.name})


def _stop_all(components) -> None:
    for component in components:
        try:
            component.stop()
        except Exception:
            logger.exception("component failed to stop cleanly", extra={"component": component.name})


def run_until_signalled(services: list[Service]) -> None:
    """Start the services, block until SIGINT or SIGTERM, then stop them in reverse order."""
    stop_requested = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop_requested.set())
    started: list[Service] = []
    try:
        for service in services:
            service.start()
            started.append(service)
        while not stop_requested.wait(1.0):
            pass
    finally:
        for service in reversed(started):
            service.stop()
