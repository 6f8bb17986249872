"""Prometheus gauges from (name, help, labels, value) figures computed elsewhere (the
models' quality, rules/learning/trainer.py), served by the worker and the API alike.
A collector, so a scrape sees the latest figures set, never a half-updated set; one per
process (`MODEL_FIGURES`): the trainer sets it in a worker, each scrape in the API."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

Figure = tuple[str, str, dict[str, str], float]


class FiguresCollector(Collector):
    def __init__(self) -> None:
        self.figures: Sequence[Figure] = ()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families: dict[str, GaugeMetricFamily] = {}
        for name, text, labels, value in self.figures:
            family = families.get(name)
            if family is None:
                family = families[name] = GaugeMetricFamily(name, text, labels=sorted(labels))
            family.add_metric([labels[k] for k in sorted(labels)], value)
        yield from families.values()


MODEL_FIGURES = FiguresCollector()
REGISTRY.register(MODEL_FIGURES)
