"""The worker's Prometheus metrics (one registry per process: the default one)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

from streams.figures import FiguresCollector

EVENTS = Counter(
    "creditwatch_events_total", "Valid events applied, by type and source", ["type", "source"]
)
DUPLICATES = Counter("creditwatch_duplicate_events_total", "Events skipped as already applied")
STATE_CACHE = Counter(
    "creditwatch_state_cache_total",
    "States loaded: taken as this worker committed them (hit) or decoded (miss)",
    ["result"],
)
DEAD_LETTERS = Counter(
    "creditwatch_dead_letters_total", "Invalid events sent to the dead-letter topic", ["reason"]
)
WARNINGS = Counter(
    "creditwatch_warnings_total", "Warnings raised, by rule and severity", ["rule_id", "severity"]
)
GRADE_CHANGES = Counter(
    "creditwatch_grade_changes_total",
    "Grade changes, by from and to grade",
    ["from_grade", "to_grade"],
)
RULE_ERRORS = Counter("creditwatch_rule_errors_total", "Rule evaluations that raised", ["rule_id"])
FANOUT = Counter("creditwatch_fanout_total", "Person events fanned out to their enterprises")
RELAYED = Counter("creditwatch_relayed_total", "Outputs published to Kafka", ["stream"])
RELAY_SKIPPED = Counter(
    "creditwatch_relay_skipped_total",
    "Outputs in doubt after a crash found already published, so not sent again",
)
BATCH_SECONDS = Histogram(
    "creditwatch_batch_seconds",
    "Time to process one batch (decode to outputs committed in Redis)",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BATCH_SIZE = Histogram(
    "creditwatch_batch_events", "Messages per batch", buckets=(1, 10, 50, 100, 250, 500, 1000)
)
WARNINGS_CLOSED = Counter(
    "creditwatch_warnings_closed_total", "Warnings closed as their condition cleared", ["rule_id"]
)
RECHECKS = Counter(
    "creditwatch_rechecks_total",
    "Rechecks handed out, by cause (timer due, operator nudge, related party changed; "
    "labels: a day's sweep of model labels, no evaluation)",
    ["cause"],
)
TIMERS_FIRED = Counter("creditwatch_timers_fired_total", "Due timers handed to the pipeline")
RULESET = Gauge(
    "creditwatch_ruleset_info", "The rule set in force in this worker (value 1)", ["version"]
)
RULESET_ERRORS = Counter(
    "creditwatch_ruleset_errors_total", "Published rule sets this worker could not load"
)
TIMELINE_REBUILDS = Counter(
    "creditwatch_timeline_rebuilds_total",
    "Grade timelines rebuilt from the journal because an event arrived late",
)
MODEL_SCORING = Gauge(
    "creditwatch_model_scoring_version", "The model snapshot this worker scores with"
)
MODEL_LOAD_ERRORS = Counter(
    "creditwatch_model_load_errors_total", "Model snapshots this worker could not load"
)
MODEL_EVENTS = Counter(
    "creditwatch_model_events_total",
    "The forecaster suspended (quality below the floor), restored, or its loss drifted",
    ["kind"],
)
PROCESSING_SECONDS = Histogram(
    "creditwatch_processing_seconds",
    "From a Kafka record's timestamp to its outputs committed in Redis (per message)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
END_TO_END_SECONDS = Histogram(
    "creditwatch_end_to_end_seconds",
    "From an event's reported_at to the warning it raised committed (per warning)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
REDIS_SECONDS = Histogram(
    "creditwatch_redis_seconds",
    "The worker's Redis round trips, by operation",
    ["op"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)


@contextmanager
def redis_timer(op: str) -> Iterator[None]:
    """Time one Redis round trip: `with redis_timer("commit"): await store.commit(...)`."""
    started = time.perf_counter()
    try:
        yield
    finally:
        REDIS_SECONDS.labels(op).observe(time.perf_counter() - started)


#: consumer lag per partition this worker owns; replaced wholesale at every refresh so a
#: partition handed to another worker stops being reported here
CONSUMER_LAG = FiguresCollector()
REGISTRY.register(CONSUMER_LAG)

#: agents/retry.py: a step (`what`: batch, fanout, relay) repeated through an outage
RETRIES = Counter(
    "creditwatch_dependency_retries_total",
    "Steps retried because Redis or the broker was unavailable, by step",
    ["what"],
)
WAITING = Gauge(
    "creditwatch_dependency_waiting",
    "1 while a step waits for Redis or the broker to come back, by step",
    ["what"],
)
