"""The worker's CPU per pipeline stage, as counters on /metrics.

`creditwatch bench` reads them before and after a phase and divides by the events, so a
profile of the worker starts from its report. Each stage counts the CPU time of the
thread that runs it (`time.thread_time`): other threads (the metrics server, the relay
and the trainer where they run apart) are not in it. A stage that awaits Redis also
counts what other coroutines of the event loop did meanwhile (Faust's fetcher, the
timers); what no stage covers (Faust and aiokafka, and the rest) is the process's CPU
less the stages'.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from prometheus_client import Counter

from rules.catalogue import Related
from rules.grading import GradingModel
from rules.learning import samples
from rules.learning.features import Features
from rules.learning.learner import Learner
from rules.state import EnterpriseState

STAGE_CPU = Counter(
    "creditwatch_stage_cpu_seconds_total",
    "CPU time of the worker by pipeline stage (the thread that runs it)",
    ["stage"],
)
#: the stages, in the order of an event's path
STAGES = (
    "decode",  # bytes to validated events, dead letters
    "person",  # person events recorded and fanned out
    "load",  # the states and the related-party indexes, read and decoded
    "evaluate",  # fold and evaluate: counters, the 27 rules, grade, timeline
    "score",  # the models: features, scores, samples and their labels
    "commit",  # timelines rebuilt, the commit encoded and run
    "trainer",  # labels learnt, snapshots taken (in the trainer's own thread)
)
# The timers' own work is small and mostly awaits the broker, while batches run: timed
# here it would count their CPU twice. Their cost is the rechecks they hand out, which
# the stages above count (creditwatch_rechecks_total says how many).


@contextmanager
def cpu_stage(stage: str) -> Iterator[None]:
    started = time.thread_time()
    try:
        yield
    finally:
        STAGE_CPU.labels(stage).inc(time.thread_time() - started)


class TimedLearner(Learner):
    """A Learner that adds up the CPU its calls take (`cpu`), for the "score" stage."""

    def __init__(self, scorer: Any = None):
        super().__init__(scorer)
        self.cpu = 0.0

    def on_event(
        self,
        state: EnterpriseState,
        etype: str,
        payload: dict[str, Any],
        event_id: str,
        at: str,
        related: Related,
    ) -> None:
        started = time.thread_time()
        super().on_event(state, etype, payload, event_id, at, related)
        self.cpu += time.thread_time() - started

    def expire(self, state: EnterpriseState) -> list[samples.Label]:
        started = time.thread_time()
        try:
            return super().expire(state)
        finally:
            self.cpu += time.thread_time() - started

    def sweep(self, state: EnterpriseState, at: str) -> list[samples.Label]:
        started = time.thread_time()
        try:
            return super().sweep(state, at)
        finally:
            self.cpu += time.thread_time() - started

    def keep_sample(self, state: EnterpriseState, at: str, grading: GradingModel) -> Features:
        started = time.thread_time()
        try:
            return super().keep_sample(state, at, grading)
        finally:
            self.cpu += time.thread_time() - started

    @staticmethod
    def next_expiry(state: EnterpriseState) -> date | None:
        return samples.next_expiry(state)


class Laps:
    """Consecutive stages of one stretch of code: `lap(stage)` counts the CPU since
    the previous lap (less `less`, counted apart by the caller)."""

    def __init__(self) -> None:
        self.at = time.thread_time()

    def lap(self, stage: str, less: float = 0.0) -> None:
        now = time.thread_time()
        STAGE_CPU.labels(stage).inc(max(0.0, now - self.at - less))
        self.at = now
