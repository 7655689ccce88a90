"""Prometheus metrics: the registry a service exposes at ``/metrics``, and the gauges read from
the database at scrape time (job states, dead letters), which stay true across processes."""

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.dead_letters import DeadLetterArchive
from shared.ledger import JobLedger, JobStatus


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


def install_metrics_route(app: FastAPI, registry: CollectorRegistry) -> None:
    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
