"""A server's `/metrics` as tests read it: every sample by name and labels, and how much one
grew between two readings."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from loopback import request

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(base_url: str) -> Samples:
    """Every sample `/metrics` answers, by name and labels."""
    reply = request(f"{base_url}/metrics")
    assert reply.status == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much one sample grew."""
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)
