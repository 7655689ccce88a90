"""Reading a Prometheus text exposition (a /metrics page) the way Prometheus parses it."""

from prometheus_client.parser import text_string_to_metric_families


def metric_value(exposition: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` with exactly ``labels``; fails if there is none."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    raise AssertionError(f"{name}{labels} not in the exposition")
