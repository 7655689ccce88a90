"""What an event intake counts: events received, by path and by what became of them."""

from prometheus_client import CollectorRegistry, Counter


class IngressMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._events = Counter(
            "herald_events_received",
            "Events received by type, path (http, amqp) and outcome "
            "(accepted, duplicate, invalid, refused, unavailable)",
            ["event_type", "via", "outcome"],
            registry=registry,
        )

    def counter(self, event_type: str):
        """A ``count(via, outcome)`` function for one event type."""
        return lambda via, outcome: self._events.labels(event_type, via, outcome).inc()
