"""How fast Herald takes sign-in events in, and how fast it turns them into alert emails.

Run from the repository root (RabbitMQ with its management API, and PostgreSQL, must be up):

    .venv/bin/python -m bench.signin_pipeline [--rate 500] [--duration 10] [--alerts 2000] [--noop 5000]
        [--ingress-processes 1] [--notifier-processes 1]

Each run uses resources of its own, all removed at the end (Ctrl-C included): a fresh RabbitMQ
vhost and PostgreSQL schema for Herald, another vhost for the baseline, Herald itself as
``herald up`` in a child process (tests.support.herald_process.HeraldProcess) with
EMAIL_TRANSPORT=sendgrid pointed at an in-process SendGridTestServer.

What is measured, and how
-------------------------
1. Ingress latency at a fixed rate, twice: (a) with notifier paused, so the figure is the
   ingress's own, and (b) with notifier sending the alerts on the same cores. An *open-loop* generator: request i is due at
   t0 + i/rate whether or not earlier requests have been answered, and its latency runs from
   that due time to the end of its response. A closed loop (send, wait, send) slows down with
   the server and so hides the queueing a stall causes ("coordinated omission"); here every
   request due during a stall carries it. The first --warmup seconds are sent at the same rate
   and not counted. The generator (asyncio and a minimal HTTP/1.1 client over keep-alive
   connections; KeepAliveClient says why not httpx) runs in a spawned process of its own, so
   that the in-process SendGrid server, busy with the alerts these very requests cause, cannot
   hold its GIL. It reports its own CPU time per request and how late it got requests out, so
   that a slow client shows as such.
2. End-to-end alerts per second. Once every alert of phase 1 has arrived, N more events are
   posted as fast as the ingress takes them (a few connections, each waiting for its answer);
   timed from the first post until the SendGrid server has received the N-th mail (its
   condition-based wait, then the arrival time the server stamped on the last mail).
3. Baseline: how fast plain Dramatiq drains a no-op actor on the same RabbitMQ (own vhost,
   RabbitmqBroker with default settings), with as many worker processes as notifier runs
   (--notifier-processes) and as many threads in each as notifier's critical pool. M messages
   are enqueued first; the workers start, each in a spawned process, and wait; timed from the
   moment they are let go until broker.join(queue) has seen nothing left to deliver and every
   worker's join() has returned (the messages it had prefetched are done). broker.join polls
   every 10 ms and trusts one empty count (nothing else publishes to that queue) instead of its
   test default of ten polls 100 ms apart, which would add a second to a drain of a second or
   two. It runs first, before Herald starts, on a quiet machine.
4. The ratio alerts/s ÷ no-op drain/s, and each goal as PASS or MISS. This is a measurement,
   not a test: the exit status is 0 whatever the figures (non-zero only if the run broke).
"""

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from bench.harness import machine_context, run_and_clean_up
from services.notifier.settings import NotifierSettings
from tests.e2e.conftest import INGRESS_KEY, herald_env
from tests.fakes.sendgrid_server import SendGridTestServer
from tests.support.databases import PostgresSchema
from tests.support.events import signed_in_event
from tests.support.herald_process import HeraldProcess
from tests.support.rabbitmq import RabbitAdmin

GOAL_P99_MS = 10.0
GOAL_RATE = 500
GOAL_RATIO = 0.25

#: Events cycle through this many users, so no single user's rate-limit row is the hot spot.
USERS = 1000
#: Far above anything a run sends: the rate limit is exercised but never says no.
ALERT_LIMIT_PER_HOUR = 1_000_000_000
#: A request still unanswered after this long counts as failed (status 0).
REQUEST_TIMEOUT_S = 30.0
NOOP_QUEUE = "bench.noop"


# -- events and the HTTP clients that post them (these run in a child process) ---------------


@dataclass(frozen=True)
class Sample:
    """One POST: when it was due, when the client got to it, when it ended, and how."""

    due: float  # time.monotonic(), system-wide on Linux, so comparable across processes
    sent: float
    done: float
    status: int  # HTTP status; 0 for a transport error or timeout

    @property
    def latency_ms(self) -> float:
        return (self.done - self.due) * 1000

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class ClientRun:
    samples: list[Sample]
    cpu_s: float  # the client process's own CPU time over the run
    wall_s: float


def event_bodies(count: int) -> list[bytes]:
    """Distinct events (a fresh event_id each) spread over USERS users, serialised up front."""
    bodies = []
    for i in range(count):
        user_id = f"bench-user-{i % USERS}"
        bodies.append(json.dumps(signed_in_event(user_id=user_id, email=f"{user_id}@example.mn")).encode())
    return bodies


class KeepAliveClient:
    """Just enough HTTP/1.1 to POST prepared requests over keep-alive connections opened up front.

    Cheap per request (write the bytes, read a status line, headers and body). httpx.AsyncClient
    measured here at 1.5-2 ms of CPU per request against a do-nothing server, and its pool's
    bookkeeping grows with the requests queued on it, so at 500 req/s it falls behind and then
    further behind. A request that finds every connection busy waits for one: that wait is part
    of its latency.
    """

    def __init__(self, url: str, connections: int) -> None:
        parts = urlsplit(url)
        self._host, self._port, self._path = parts.hostname, parts.port, parts.path
        self._connections = connections
        self._idle: asyncio.Queue = asyncio.Queue()

    async def __aenter__(self) -> "KeepAliveClient":
        for _ in range(self._connections):
            self._idle.put_nowait(await self._connect())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        while not self._idle.empty():
            self._idle.get_nowait()[1].close()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self._host, self._port)

    def prepare(self, body: bytes) -> bytes:
        head = (
            f"POST {self._path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\nX-API-Key: {INGRESS_KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    async def post(self, request: bytes) -> int:
        """Send one prepared request; its HTTP status, or 0 if there was none in time."""
        reader, writer = await self._idle.get()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                status = await self._exchange(reader, writer, request)
                if status is None:  # the server had closed this idle connection: once more, anew
                    writer.close()
                    reader, writer = await self._connect()
                    status = await self._exchange(reader, writer, request) or 0
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, TimeoutError):
            writer.close()  # in an unknown state: replace it
            reader, writer = await self._connect()
            status = 0
        self._idle.put_nowait((reader, writer))
        return status

    @staticmethod
    async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int | None:
        writer.write(request)
        status_line = await reader.readline()
        if not status_line:
            return None
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        return int(status_line.split(b" ", 2)[1])


async def post_one(client: KeepAliveClient, request: bytes, due: float) -> Sample:
    sent = time.monotonic()
    status = await client.post(request)
    return Sample(due, sent, time.monotonic(), status)


async def post_open_loop(client: KeepAliveClient, requests: list[bytes], rate: float) -> list[Sample]:
    """Start request i at start + i/rate, never waiting for answers before starting the next."""
    start = time.monotonic() + 0.05
    posts = []
    for i, request in enumerate(requests):
        due = start + i / rate
        if (delay := due - time.monotonic()) > 0:
            await asyncio.sleep(delay)
        posts.append(asyncio.create_task(post_one(client, request, due)))
    return list(await asyncio.gather(*posts))


async def post_closed_loop(client: KeepAliveClient, requests: list[bytes], concurrency: int) -> list[Sample]:
    """``concurrency`` posters, each sending its next request as soon as its last is answered."""
    remaining = iter(requests)  # shared: each request is sent once
    samples: list[Sample] = []

    async def poster() -> None:
        for request in remaining:
            samples.append(await post_one(client, request, due=time.monotonic()))

    await asyncio.gather(*(poster() for _ in range(concurrency)))
    return samples


async def timed_client_run(url: str, count: int, connections: int, post, *args) -> ClientRun:
    """Connect and prepare ``count`` events, then time (wall and CPU) ``post(client, requests, *args)``."""
    async with KeepAliveClient(url, connections) as client:
        requests = [client.prepare(body) for body in event_bodies(count)]
        cpu_started, wall_started = time.process_time(), time.monotonic()
        samples = await post(client, requests, *args)
        return ClientRun(samples, time.process_time() - cpu_started, time.monotonic() - wall_started)


def open_loop_run(url: str, count: int, rate: float, connections: int) -> ClientRun:
    return asyncio.run(timed_client_run(url, count, connections, post_open_loop, rate))


def closed_loop_run(url: str, count: int, concurrency: int) -> ClientRun:
    return asyncio.run(timed_client_run(url, count, concurrency, post_closed_loop, concurrency))


def in_child_process(function, *args):
    """``function(*args)`` in a freshly spawned process; Ctrl-C is left to this one to handle."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1, initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN)) as pool:
        return pool.apply(function, args)


# -- figures ------------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


@dataclass(frozen=True)
class IngressLatency:
    offered_rate: float
    achieved_rate: float
    requests: int
    non_2xx: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    client_cpu_ms_per_request: float
    client_cpu_share: float  # of one core
    client_lateness_p99_ms: float  # how late the generator itself got requests out

    @classmethod
    def of(cls, run: ClientRun, counted: list[Sample], offered_rate: float) -> "IngressLatency":
        latencies = sorted(s.latency_ms for s in counted)
        lateness = sorted((s.sent - s.due) * 1000 for s in counted)
        window = max(s.done for s in counted) - min(s.due for s in counted)
        return cls(
            offered_rate=offered_rate,
            achieved_rate=len(counted) / window,
            requests=len(counted),
            non_2xx=sum(not s.accepted for s in counted),
            p50_ms=percentile(latencies, 50),
            p90_ms=percentile(latencies, 90),
            p99_ms=percentile(latencies, 99),
            max_ms=latencies[-1],
            client_cpu_ms_per_request=run.cpu_s * 1000 / len(run.samples),
            client_cpu_share=run.cpu_s / run.wall_s,
            client_lateness_p99_ms=percentile(lateness, 99),
        )


@dataclass(frozen=True)
class AlertThroughput:
    alerts: int
    seconds: float  # first post to the last alert received
    posting_seconds: float  # first post to the last answer
    refused: int

    @property
    def alerts_per_s(self) -> float:
        return self.alerts / self.seconds

    @property
    def accepted_per_s(self) -> float:
        return self.alerts / self.posting_seconds


@dataclass(frozen=True)
class NoopDrain:
    messages: int
    threads: int
    processes: int
    seconds: float

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds


# -- the measurements -----------------------------------------------------------------------


def measure_ingress_latency(
    herald: HeraldProcess, rate: float, duration: float, warmup: float, connections: int
) -> tuple[IngressLatency, list[Sample]]:
    """Phase 1; also returns every sample, warm-up included, to wait for their alerts."""
    warmup_count = round(rate * warmup)
    run = in_child_process(
        open_loop_run, f"{herald.auth_events}/v1/events", warmup_count + round(rate * duration), rate, connections
    )
    return IngressLatency.of(run, run.samples[warmup_count:], rate), run.samples


def wait_for_alerts_to_settle(sendgrid: SendGridTestServer, samples: list[Sample], quiet_s: float = 1.0) -> float:
    """Wait for an alert per accepted event, then for the mailbox to stop growing (an event that
    timed out at the client may still have been accepted). Returns seconds from the last answer
    to the last alert."""
    sendgrid.wait_for_mail(count=sum(s.accepted for s in samples), timeout=120 + len(samples) / 5)
    seen = -1
    while seen != len(sendgrid.mails):
        seen = len(sendgrid.mails)
        time.sleep(quiet_s)
    return max(mail.received_monotonic for mail in sendgrid.mails) - max(s.done for s in samples)


def measure_alert_throughput(
    herald: HeraldProcess, sendgrid: SendGridTestServer, alerts: int, concurrency: int
) -> AlertThroughput:
    """Phase 2: post ``alerts`` events as fast as they are taken; time until every alert is mailed."""
    sendgrid.reset()
    run = in_child_process(closed_loop_run, f"{herald.auth_events}/v1/events", alerts, concurrency)
    accepted = [s for s in run.samples if s.accepted]
    mails = sendgrid.wait_for_mail(count=len(accepted), timeout=120 + len(accepted) / 5)
    distinct_jobs = {mail.custom_args.get("herald_job_id") for mail in mails}
    if len(distinct_jobs) != len(mails):
        print(f"   note: {len(mails) - len(distinct_jobs)} duplicate mails among {len(mails)}")
    first_post = min(s.sent for s in run.samples)
    return AlertThroughput(
        alerts=len(accepted),
        seconds=max(mail.received_monotonic for mail in mails) - first_post,
        posting_seconds=max(s.done for s in run.samples) - first_post,
        refused=len(run.samples) - len(accepted),
    )


def noop() -> None:
    """The baseline's actor: all the cost is Dramatiq's and RabbitMQ's."""


def noop_worker_process(amqp_url: str, threads: int, ready, go, drained, finished) -> None:
    """One baseline process: a Dramatiq worker that starts on ``go``; once the queue is
    ``drained`` (nothing left to deliver), it finishes the messages in hand and says so."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    broker = RabbitmqBroker(url=amqp_url)
    dramatiq.actor(noop, broker=broker, actor_name="bench_noop", queue_name=NOOP_QUEUE)
    worker = dramatiq.Worker(broker, queues={NOOP_QUEUE}, worker_threads=threads)
    ready.release()
    go.wait()
    worker.start()
    try:
        drained.wait()
        worker.join()  # the messages prefetched but not yet processed
        finished.release()
    finally:
        worker.stop()
        broker.close()


def measure_noop_drain(amqp_url: str, messages: int, threads: int, processes: int) -> NoopDrain:
    """Phase 3: enqueue ``messages`` first, then time fresh workers (as many processes and threads
    as notifier's critical pool has) draining them."""
    broker = RabbitmqBroker(url=amqp_url)
    context = multiprocessing.get_context("spawn")
    ready, go, drained, finished = context.Semaphore(0), context.Event(), context.Event(), context.Semaphore(0)
    workers = [
        context.Process(target=noop_worker_process, args=(amqp_url, threads, ready, go, drained, finished))
        for _ in range(processes)
    ]
    try:
        actor = dramatiq.actor(noop, broker=broker, actor_name="bench_noop", queue_name=NOOP_QUEUE)
        for _ in range(messages):
            actor.send()
        for worker in workers:
            worker.start()
        for _ in workers:
            if not ready.acquire(timeout=60):
                raise RuntimeError("a baseline worker process did not start")
        started = time.monotonic()
        go.set()
        broker.join(NOOP_QUEUE, min_successes=1, idle_time=10)  # nothing left to deliver
        drained.set()
        for _ in workers:
            if not finished.acquire(timeout=60):
                raise RuntimeError("a baseline worker process did not finish")
        seconds = time.monotonic() - started
    finally:
        drained.set()
        for worker in workers:
            worker.join(30)
        broker.close()
    return NoopDrain(messages, threads, processes, seconds)


# -- setting up and tearing down ------------------------------------------------------------


def critical_worker_threads() -> int:
    return NotifierSettings.model_fields["critical_worker_threads"].default


def configure_herald(
    workdir: Path,
    amqp_url: str,
    database_url: str,
    sendgrid: SendGridTestServer,
    *,
    ingress_processes: int,
    notifier_processes: int,
) -> HeraldProcess:
    env = herald_env(
        amqp_url,
        database_url,
        AUTH_EVENTS_PROCESSES=str(ingress_processes),
        NOTIFIER_PROCESSES=str(notifier_processes),
        EMAIL_TRANSPORT="sendgrid",
        SENDGRID_API_HOST=sendgrid.url,
        SENDGRID_API_KEY=sendgrid.api_key,
        SIGNIN_ALERT_LIMIT_PER_HOUR=str(ALERT_LIMIT_PER_HOUR),
        LOG_LEVEL="WARNING",  # keeps log formatting off the hot path
    )
    return HeraldProcess(workdir, env)


#: Phase 1 runs twice. First with notifier stopped (SIGSTOP; its alerts wait in RabbitMQ and are
#: sent after SIGCONT), which is what the ingress costs on its own, as on a host of its own;
#: then with notifier sending every alert on the same two cores, which is what this box does.
INGRESS_ALONE = "a ingress alone (notifier paused)"
INGRESS_BESIDE_NOTIFIER = "b beside notifier sending the alerts on the same cores"


@contextlib.contextmanager
def notifier_paused(herald: HeraldProcess):
    pids = [pid for pid in herald.children if b"notifier" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def stop_herald(herald: HeraldProcess) -> None:
    if herald.process is None:
        return
    code, seconds = herald.stop()
    if code != 0:
        print(f"herald up exited with {code} after {seconds:.1f} s; its log ends:\n{herald.logs()[-3000:]}")


# -- reporting ------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "PASS" if met else "MISS"


def report_ingress(latency: IngressLatency, duration: float, warmup: float, connections: int, setting: str) -> None:
    print(
        f"\n1{setting[0]}. Ingress latency, {setting[2:]}: open loop, POST /v1/events at {latency.offered_rate:g} req/s "
        f"for {duration:g} s (after {warmup:g} s warm-up), up to {connections} keep-alive connections"
    )
    print(f"   achieved rate      {latency.achieved_rate:.1f} req/s ({latency.requests} requests, "
          f"{latency.non_2xx} non-2xx)")
    print(f"   latency            p50 {latency.p50_ms:.1f} ms, p90 {latency.p90_ms:.1f} ms, "
          f"p99 {latency.p99_ms:.1f} ms, max {latency.max_ms:.1f} ms (from each request's due time)")
    print(f"   client cost        {latency.client_cpu_ms_per_request:.2f} ms CPU per request "
          f"({latency.client_cpu_share:.0%} of one core); p99 send lateness {latency.client_lateness_p99_ms:.1f} ms")
    if latency.achieved_rate < 0.95 * latency.offered_rate:
        print("   overloaded: requests arrived faster than they were answered, so the queue (and the latency)\n"
              "   grew for the whole run; these percentiles measure the run's length, not a steady state")


def report_alerts(throughput: AlertThroughput, settle_s: float, concurrency: int) -> None:
    print(f"\n   (phase 1's own alerts: the last arrived {settle_s:.1f} s after its last answer)")
    print(f"\n2. End-to-end sign-in alerts: {throughput.alerts} events posted over {concurrency} connections "
          f"as fast as accepted ({throughput.refused} refused)")
    print(f"   ingress accepted   {throughput.accepted_per_s:.1f} events/s ({throughput.posting_seconds:.2f} s)")
    print(f"   alerts delivered   {throughput.alerts_per_s:.1f} alerts/s "
          f"({throughput.alerts} mails in {throughput.seconds:.2f} s from the first post)")


def report_baseline_and_goals(
    drain: NoopDrain, latencies: dict[str, IngressLatency], throughput: AlertThroughput
) -> None:
    print(f"\n3. Baseline: Dramatiq no-op actor, {drain.messages} messages, {drain.processes} process(es) of "
          f"{drain.threads} worker threads "
          f"(run before Herald started)")
    print(f"   drained            {drain.messages_per_s:.1f} messages/s ({drain.seconds:.2f} s)")
    ratio = throughput.alerts_per_s / drain.messages_per_s
    print(f"\n4. Ratio alerts/s ÷ no-op drain/s = {throughput.alerts_per_s:.1f} ÷ {drain.messages_per_s:.1f} "
          f"= {ratio:.3f}")
    for setting, latency in latencies.items():
        at_goal_rate = latency.offered_rate >= GOAL_RATE
        print(f"   goal: ingress p99 ≤ {GOAL_P99_MS:g} ms at {GOAL_RATE} req/s  "
              f"{verdict(at_goal_rate and latency.p99_ms <= GOAL_P99_MS)} (p99 {latency.p99_ms:.1f} ms at "
              f"{latency.offered_rate:g} req/s offered, {setting[2:]})")
    print(f"   goal: ratio ≥ {GOAL_RATIO:g}                     {verdict(ratio >= GOAL_RATIO)} ({ratio:.3f})")


# -- the run --------------------------------------------------------------------------------


def run(args: argparse.Namespace, admin: RabbitAdmin, cleanup: contextlib.ExitStack) -> None:
    noop_vhost = admin.create_vhost()
    cleanup.callback(admin.delete_vhost, noop_vhost)
    schema = PostgresSchema()
    cleanup.callback(schema.drop)
    print("Herald sign-in pipeline benchmark")
    print(machine_context(schema.url, admin))

    threads = critical_worker_threads()
    print(f"\nbaseline: draining {args.noop} no-op messages with {args.notifier_processes} x {threads} threads ...", flush=True)
    drain = measure_noop_drain(admin.amqp_url(noop_vhost), args.noop, threads, args.notifier_processes)

    sendgrid = cleanup.enter_context(SendGridTestServer())
    workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="herald-bench-")))
    herald_vhost = admin.create_vhost()
    cleanup.callback(admin.delete_vhost, herald_vhost)
    herald = configure_herald(
        workdir,
        admin.amqp_url(herald_vhost),
        schema.url,
        sendgrid,
        ingress_processes=args.ingress_processes,
        notifier_processes=args.notifier_processes,
    )
    cleanup.callback(stop_herald, herald)
    print("starting herald up ...", flush=True)
    herald.start(timeout=60)

    latencies = {}
    try:
        for setting in (INGRESS_ALONE, INGRESS_BESIDE_NOTIFIER):
            # Only this run's alerts in the mailbox: waiting for as many mails as it had events
            # accepted would otherwise be met at once by the previous run's.
            sendgrid.reset()
            pause = notifier_paused(herald) if setting == INGRESS_ALONE else contextlib.nullcontext()
            with pause:
                latency, samples = measure_ingress_latency(
                    herald, args.rate, args.duration, args.warmup, args.connections
                )
            latencies[setting] = latency
            report_ingress(latency, args.duration, args.warmup, args.connections, setting)
            settle_s = wait_for_alerts_to_settle(sendgrid, samples)
        throughput = measure_alert_throughput(herald, sendgrid, args.alerts, args.post_concurrency)
        report_alerts(throughput, settle_s, args.post_concurrency)
    except Exception:
        print(f"herald's log ends:\n{herald.logs()[-3000:]}", file=sys.stderr)
        raise
    report_baseline_and_goals(drain, latencies, throughput)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.signin_pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=GOAL_RATE, help="ingress requests per second (phase 1)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of measured load (phase 1)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of uncounted load first (phase 1)")
    parser.add_argument("--connections", type=int, default=64, help="client keep-alive connections (phase 1)")
    parser.add_argument("--alerts", type=int, default=2000, help="events to post end to end (phase 2)")
    parser.add_argument("--post-concurrency", type=int, default=4, help="connections posting (phase 2)")
    parser.add_argument("--noop", type=int, default=5000, help="no-op messages to drain (phase 3)")
    parser.add_argument("--ingress-processes", type=int, default=1, help="AUTH_EVENTS_PROCESSES")
    parser.add_argument("--notifier-processes", type=int, default=1, help="NOTIFIER_PROCESSES")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_and_clean_up(lambda cleanup: run(args, RabbitAdmin(), cleanup), "herald, vhosts, schema")


if __name__ == "__main__":
    sys.exit(main())
