"""Helpers shared by the metrics tests: read samples out of a registry or a scrape."""

from __future__ import annotations

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

__all__ = ["label_sets", "samples", "value"]


Source = Collector | str | list[Metric]


def samples(source: Source) -> list[Sample]:
    """Every sample of a registry, of a text-format scrape body or of collected families."""
    if isinstance(source, str):
        families = list(text_string_to_metric_families(source))
    elif isinstance(source, list):
        families = source
    else:
        families = list(source.collect())
    return [sample for family in families for sample in family.samples]


def value(source: Source, name: str, **labels: str) -> float | None:
    """The value of the sample ``name`` whose labels include ``labels``; None when absent."""
    for sample in samples(source):
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    return None


def label_sets(source: Source, name: str) -> set[tuple[tuple[str, str], ...]]:
    """The distinct label sets of sample ``name``."""
    return {tuple(sorted(s.labels.items())) for s in samples(source) if s.name == name}
