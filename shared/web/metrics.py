"""Prometheus metrics: the registry a service exposes at ``/metrics``, and the gauges read from
the database at scrape time (job states, dead letters), which stay true across processes.

Several processes of one service (``herald up`` with ``*_PROCESSES`` above 1) share a port, so a
scrape reaches any one of them. ``herald up`` then gives them a directory in
``PROMETHEUS_MULTIPROC_DIR``, where prometheus_client keeps each process's counters, histograms
and gauges in files, and ``/metrics`` sums those over the processes.
"""

import os

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

#: prometheus_client reads it when it is imported: set it in the environment a process starts with.
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

from shared.jobs.dead_letters import DeadLetterArchive
from shared.jobs.ledger import JobLedger, JobStatus


class LedgerCollector(Collector):
    def __init__(self, ledger: JobLedger, dead_letters: DeadLetterArchive) -> None:
        self._ledger = ledger
        self._dead_letters = dead_letters

    def collect(self):
        jobs = GaugeMetricFamily("herald_jobs", "Jobs in the ledger by status", labels=["status"])
        counts = self._ledger.count_by_status()
        for status in JobStatus:
            jobs.add_metric([status.value], counts.get(status.value, 0))
        yield jobs
        yield GaugeMetricFamily("herald_dead_letters", "Dead letters in the archive", value=self._dead_letters.count())


class AcrossProcesses(Collector):
    """The service's metrics summed over its processes, from the files in ``directory``; the
    collectors that read the database, which every process answers alike, from this one."""

    def __init__(self, registry: CollectorRegistry, directory: str) -> None:
        self._registry = registry
        self._files = MultiProcessCollector(None, path=directory)

    def collect(self):
        summed = list(self._files.collect())
        yield from summed
        in_files = {family.name for family in summed}
        # This process's own values of the same metrics would be a second, partial copy.
        yield from (family for family in self._registry.collect() if family.name not in in_files)


def install_metrics_route(app: FastAPI, registry: CollectorRegistry) -> None:
    directory = os.environ.get(MULTIPROCESS_DIR_ENV)
    source = AcrossProcesses(registry, directory) if directory else registry

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(source), media_type=CONTENT_TYPE_LATEST)
