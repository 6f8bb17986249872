"""The worker's Prometheus metrics (one registry per process: the default one)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "creditwatch_events_total", "Valid events applied, by type and source", ["type", "source"]
)
DUPLICATES = Counter("creditwatch_duplicate_events_total", "Events skipped as already applied")
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
    "Re-evaluations without an event, by cause (timer due, related party changed)",
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
