"""Settings, one class per component, read from CREDITWATCH_* environment variables.

Nothing is built at import time: callers construct the class they need, so tests and
the `up` supervisor can set the environment first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_CONFIG = SettingsConfigDict(env_prefix="CREDITWATCH_", extra="ignore")
#: firms whose last committed state a worker keeps decoded (`StoreSettings.state_cache`)
DEFAULT_STATE_CACHE = 20_000


class StreamSettings(BaseSettings):
    """The broker and the topics."""

    model_config = _CONFIG

    kafka_bootstrap: str = "localhost:9092"
    #: how our producers compress what they send (record batches, decompressed by the
    #: consumers): the broker stores and serves them compressed. The embedded broker
    #: (noida-db) rewrites its whole store to disk about once a second while it takes
    #: writes, so its CPU grows with the bytes it holds: a fifth of them with zstd
    kafka_compression: Literal["none", "gzip", "zstd"] = "zstd"
    partitions: int = 4
    #: replicas of each topic that `creditwatch topics` creates (3 on a production cluster)
    replication_factor: int = 1
    events_topic: str = "creditwatch.events"
    dead_letters_topic: str = "creditwatch.dead-letters"
    warnings_topic: str = "creditwatch.warnings"
    grade_changes_topic: str = "creditwatch.grade-changes"
    #: internal: person events re-keyed to each enterprise they concern
    fanout_topic: str = "creditwatch.fanout"
    #: internal: the labels log, relayed from Redis; one partition, so one trainer
    labels_topic: str = "creditwatch.labels"
    consumer_group: str = "creditwatch-worker"
    batch_size: int = 500
    batch_within_s: float = 0.2
    #: the worker's Prometheus endpoint; 0 = any free port
    worker_metrics_port: int = 9108
    worker_metrics_host: str = "127.0.0.1"
    #: the worker runs the outbox relay and the trainer in threads of its own; false
    #: where a `creditwatch sidecar` runs them beside the workers (`up` does so)
    worker_relay_trainer: bool = True
    #: the sidecar's Prometheus endpoint; 0 = any free port
    sidecar_metrics_port: int = 9109
    sidecar_metrics_host: str = "127.0.0.1"
    #: where the worker keeps Faust's local files
    datadir: str = "var/worker"
    #: what "now" is for time-driven rules: the wall clock (live), or the stream's
    #: watermark (event time: replays, backfills, the demo)
    timer_clock: Literal["wall", "event"] = "wall"
    #: how often due timers are handed to the pipeline
    timer_interval_s: float = 1.0
    #: event clock only: how far behind the latest event time the watermark stays
    allowed_lateness_s: float = 0.0
    #: how often the worker measures its consumer lag for /metrics
    lag_interval_s: float = 5.0
    #: how long the broker waits for a worker's heartbeat before it hands the worker's
    #: partitions to the others: the time a dead worker's partitions wait. Under a
    #: backlog, a busy worker's heartbeats were seen 9 to 15 s late on two cores; with
    #: 10 s the group rebalanced every half minute and redelivered what was in flight
    session_timeout_s: float = 30.0

    #: publish a model snapshot after this many labels, or this long after the last
    model_publish_labels: int = 500
    model_publish_interval_s: float = 30.0

    @property
    def compression_type(self) -> str | None:
        """`kafka_compression` as the Kafka clients take it (None: uncompressed)."""
        return None if self.kafka_compression == "none" else self.kafka_compression

    def topic_names(self) -> list[str]:
        """The topics with `partitions` partitions (the labels topic has one)."""
        return [
            self.events_topic,
            self.dead_letters_topic,
            self.warnings_topic,
            self.grade_changes_topic,
            self.fanout_topic,
        ]


class StoreSettings(BaseSettings):
    """Redis, where every enterprise's state lives."""

    model_config = _CONFIG

    redis_url: str = "redis://localhost:6379/0"
    key_prefix: str = "cw"
    stream_maxlen: int = 100_000
    #: buckets of the related-party indexes in a new store, about firms / 20
    #: (streams/store/members.py); a store keeps the count it was created with until
    #: `creditwatch indexes migrate --buckets N`
    related_buckets: int = Field(default=1024, ge=1)
    #: firms whose last committed state a worker keeps decoded, least recently used
    #: dropped first (streams/store/state_cache.py); about 18 KB each (docs/operations.md);
    #: 0 turns it off
    state_cache: int = Field(default=DEFAULT_STATE_CACHE, ge=0)
    #: how long a command may wait for Redis's reply, so a request fails (503) rather
    #: than hangs while Redis is unreachable; above the longest blocking read (the live
    #: tailer's XREAD BLOCK, CREDITWATCH_LIVE_BLOCK_MS: 5 s), or that read times out
    redis_socket_timeout_s: float = 10.0
    redis_connect_timeout_s: float = 2.0


class ApiSettings(BaseSettings):
    """The query layer."""

    model_config = _CONFIG

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    #: API processes sharing the port (`creditwatch api`): one uses about one core
    api_workers: int = Field(default=1, ge=1)
    admin_key: SecretStr | None = None
    #: requests per key (anonymous callers: per address) per window, by role; an
    #: account's own `rate_limit` overrides its role's
    rate_window_s: int = 60
    rate_limit_admin: int = 6000
    rate_limit_regulator: int = 1200
    rate_limit_department: int = 600
    rate_limit_public: int = 60
    #: request bodies: at most this many bytes (413 beyond); the routes that take lists
    #: or documents (batch lookups, inspection plans, the rule set) take the larger figure
    max_body_bytes: int = Field(default=64 * 1024, ge=1)
    max_large_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1)
    #: deliver webhooks from this API process (several processes share the work)
    webhooks_enabled: bool = True
    #: webhooks: a failed delivery is retried after base, 2x base, 4x base... (at most
    #: the cap) seconds, `max_attempts` times in all; then the webhook is paused
    webhook_max_attempts: int = 5
    webhook_backoff_base_s: float = 1.0
    webhook_backoff_cap_s: float = 60.0
    #: how long a receiver may take to answer one delivery
    webhook_timeout_s: float = 10.0
    #: how often new records and new webhooks are looked for
    webhook_poll_interval_s: float = 1.0
    #: how long a process's claim on a webhook lasts unless renewed (renewed meanwhile)
    webhook_lease_ms: int = 30_000
    #: records read per stream at a time
    webhook_batch: int = 100
    #: entries kept in each webhook's delivery log
    webhook_log_maxlen: int = 1000
    webhook_max_per_account: int = 50
    #: webhook destinations (api/webhook_policy.py): https only unless http is allowed;
    #: non-public addresses only where this list names the host or a CIDR covers them
    #: (comma-separated, e.g. "hooks.internal.example,10.20.0.0/16")
    webhook_allow_http: bool = False
    webhook_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: the warning workbench: days a warning of each severity may stay open without a
    #: disposition before it is overdue (`GET /warnings/overdue`)
    handling_due_days_red: float = Field(default=1, gt=0)
    handling_due_days_orange: float = Field(default=3, gt=0)
    handling_due_days_yellow: float = Field(default=7, gt=0)
    #: a backtest of a candidate rule set replays at most this many enterprises'
    #: journals (the directory's first, in its order); the result says when it stopped
    backtest_max_firms: int = Field(default=100_000, ge=1)
    #: enterprises read and replayed per step (progress is written after each)
    backtest_chunk: int = Field(default=200, ge=1)
    #: backtests running at once, city-wide (another is refused with 409 meanwhile)
    backtest_max_running: int = Field(default=1, ge=1)
    #: a running backtest's lease, renewed by its API process a third of it at a time;
    #: a job whose lease lapsed reads as failed (its process stopped)
    backtest_lease_s: float = Field(default=30, gt=0)

    @field_validator("webhook_allow", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class LiveSettings(BaseSettings):
    """The API's live subscriptions (SSE, WebSocket): CREDITWATCH_LIVE_*."""

    model_config = SettingsConfigDict(env_prefix="CREDITWATCH_LIVE_", extra="ignore")

    #: a keep-alive after this long without anything sent (proxies drop idle streams)
    keepalive_s: float = 15.0
    #: the reconnection delay suggested to SSE clients
    retry_ms: int = 3000
    #: entries read per stream at a time
    batch: int = 200
    #: how long the tailer's XREAD blocks before it asks again
    block_ms: int = 5000
    #: the tailer's pause after a Redis error, doubled per failure up to the cap
    backoff_s: float = 0.5
    backoff_cap_s: float = 10.0
    #: live subscriptions (SSE and WebSocket together) an account may hold at once
    max_per_account: int = Field(default=10, ge=1)
    #: a console session's tabs share one of its account's slots, up to this many tabs
    max_tabs_per_session: int = Field(default=20, ge=1)
    #: each holds an expiring lease, renewed every third of it while it lasts: the slot
    #: of one whose API process died frees itself after this long
    lease_ms: int = Field(default=30_000, ge=100)


class ConsoleSettings(BaseSettings):
    """The web console (api/console): CREDITWATCH_CONSOLE_*."""

    model_config = SettingsConfigDict(env_prefix="CREDITWATCH_CONSOLE_", extra="ignore")

    #: signs the session cookie; unset, a key derived from the admin key (sessions then
    #: last as long as the admin key does)
    secret: SecretStr | None = None
    #: a session ends this long after sign-in
    session_max_age_s: int = Field(default=8 * 3600, ge=60)
    #: send the cookie over https only (set where the console is served over TLS)
    secure_cookie: bool = False
    #: the districts' boundaries (GeoJSON) for the overview's map; none: no map
    geojson: Path | None = None


class StackSettings(BaseSettings):
    """The embedded stack started by `creditwatch up`: ports 0 mean any free port."""

    model_config = _CONFIG

    kafka_port: int = 0
    redis_port: int = 0
    state_dir: Path = Path("var")
    #: Prometheus's scrape and evaluation interval (ops/prometheus.yml says 15s)
    prometheus_interval: str | None = None
