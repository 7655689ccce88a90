"""What auth_events counts: events received, by path and by what became of them."""

from prometheus_client import CollectorRegistry, Counter


class IngressMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._events = Counter(
            "herald_events_received",
            "Events received by path (http, amqp) and outcome (accepted, duplicate, invalid, refused, unavailable)",
            ["via", "outcome"],
            registry=registry,
        )

    def count(self, via: str, outcome: str) -> None:
        self._events.labels(via, outcome).inc()
