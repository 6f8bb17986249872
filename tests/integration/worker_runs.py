"""Worker processes run as `creditwatch worker` against a broker and Redis, one run
per consumer group and key prefix, and the comparison of their final states: shared by
the failover, crash and restart tests."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from kafka import TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from rules.ruleset import RuleSet
from streams.settings import StreamSettings
from streams.stack.embedded import ensure_stream_topics
from streams.stack.processes import ManagedProcess, free_port
from streams.stack.supervisor import http_ready
from streams.store import Store
from streams.topics.ingest import make_producer, send_unchecked

ROOT = Path(__file__).resolve().parents[2]
#: what the timing of a run may change without the outcome being different: when the
#: rules last looked (a timer fired earlier or later); the models' view; and how many
#: events reached the firm, which counts a person's listing fanned out to it only if
#: the listing was processed after the firm's registration linked the person (they
#: lie in different partitions; the listing is in the state either way), and for the
#: same reason the latest event time among them
VOLATILE = ("clock", "recheck_at", "model", "samples", "events_seen", "last_event_at")


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """The state without what depends on timing: the volatile fields, and of each open
    warning all but its rule and severity. A timer-driven warning is dated by the
    evaluation that opened it, and the event-time clock is each process's own (the
    watermark of its partitions): with two workers a timer can come due before a
    firm's next event where one worker saw that event first. Its id follows its date.
    When it was raised and updated are wall-clock stamps."""
    kept = {k: v for k, v in state.items() if k not in VOLATILE}
    kept["open_warnings"] = {
        rule_id: warning["severity"] for rule_id, warning in state["open_warnings"].items()
    }
    return kept


WITHOUT_MODELS = RuleSet(
    "failover-test", {"model_risk": {"enabled": False}, "model_anomaly": {"enabled": False}}
)


async def _put_ruleset(redis_url: str, prefix: str, ruleset: RuleSet) -> None:
    store = Store.from_url(redis_url, prefix)
    try:
        await store.put_ruleset(ruleset)
    finally:
        await store.close()


class Run:
    """One run's topics, group and key prefix, and its worker processes."""

    def __init__(self, name: str, broker: str, redis_url: str, logs: Path):
        self.prefix = f"{name}-{uuid.uuid4().hex[:8]}"
        self.redis_url, self.logs = redis_url, logs
        self.env = {
            **os.environ,
            "CREDITWATCH_KAFKA_BOOTSTRAP": broker,
            "CREDITWATCH_REDIS_URL": redis_url,
            "CREDITWATCH_KEY_PREFIX": self.prefix,
            "CREDITWATCH_CONSUMER_GROUP": f"{self.prefix}.worker",
            "CREDITWATCH_PARTITIONS": "4",
            "CREDITWATCH_TIMER_CLOCK": "event",  # as the demo: a past year, replayed
            "CREDITWATCH_LAG_INTERVAL_S": "0.5",
            # a quick eviction keeps the test short; the default (30 s) suits a loaded worker
            "CREDITWATCH_SESSION_TIMEOUT_S": "10",
        }
        for topic in ("events", "dead_letters", "warnings", "grade_changes", "fanout", "labels"):
            self.env[f"CREDITWATCH_{topic.upper()}_TOPIC"] = f"{self.prefix}.{topic}"
        self.settings = StreamSettings(  # the same settings, read as the workers will
            **{
                k.removeprefix("CREDITWATCH_").lower(): v
                for k, v in self.env.items()
                if k.startswith("CREDITWATCH_")
                and k.removeprefix("CREDITWATCH_").lower() in StreamSettings.model_fields
            }
        )
        ensure_stream_topics(broker, self.settings)
        asyncio.run(_put_ruleset(redis_url, self.prefix, WITHOUT_MODELS))
        self.workers: list[tuple[ManagedProcess, int]] = []

    def launch_worker(self) -> tuple[ManagedProcess, int]:
        """A worker process, started (not yet waited for: see `ready`)."""
        n, port = len(self.workers) + 1, free_port()
        env = {
            **self.env,
            "CREDITWATCH_WORKER_METRICS_PORT": str(port),
            "CREDITWATCH_DATADIR": str(self.logs / f"{self.prefix}-worker-{n}"),
        }
        proc = ManagedProcess(
            f"worker-{n}",
            [sys.executable, "-m", "streams.cli", "worker"],
            log_path=self.logs / f"{self.prefix}-worker-{n}.log",
            env=env,
            cwd=ROOT,
        ).start()
        self.workers.append((proc, port))
        return proc, port

    def produce(self, items: list[Any]) -> None:
        producer = make_producer(self.settings)
        try:
            send_unchecked(producer, self.settings.events_topic, items)
        finally:
            producer.close()

    def stop(self) -> None:
        for proc, _ in self.workers:
            proc.stop()


def samples(port: int, name: str) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of a metric on a worker's /metrics."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def applied(port: int) -> float:
    """Events a worker applied."""
    return sum(value for _, value in samples(port, "creditwatch_events_total"))


def owns_everything(port: int) -> bool:
    """The worker reports the lag of all eight partitions (events and fan-out)."""
    return len(samples(port, "creditwatch_consumer_lag")) == 8


def offsets(run: Run) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    """Per partition of the input topics (events and fan-out): the group's committed
    offset (0 before any commit) and the end offset."""
    from kafka import KafkaAdminClient, KafkaConsumer

    bootstrap, group = run.settings.kafka_bootstrap, run.settings.consumer_group
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tps = [
            tp
            for topic in (run.settings.events_topic, run.settings.fanout_topic)
            for tp in (TopicPartition(topic, p) for p in range(4))
        ]
        committed = admin.list_group_offsets({group: tps})[group]
        ends = consumer.end_offsets(tps)
    finally:
        consumer.close()
        admin.close()
    at = {tp: max(0, committed[tp].offset) if tp in committed else 0 for tp in tps}
    return at, ends


def behind(run: Run) -> dict[str, int]:
    """Per partition of the input topics, the messages after the group's committed
    offset: what the group has not yet processed and acknowledged."""
    at, ends = offsets(run)
    return {f"{tp.topic}/{tp.partition}": ends[tp] - at[tp] for tp in at if ends[tp] > at[tp]}


def committed_events(run: Run) -> int:
    """How many messages of the events topic the group has acknowledged."""
    at, _ = offsets(run)
    return sum(n for tp, n in at.items() if tp.topic == run.settings.events_topic)


def wait_done(run: Run, timeout: float = 180) -> None:
    """Until the group has committed every input message."""
    deadline = time.monotonic() + timeout
    while left := behind(run):
        assert time.monotonic() < deadline, f"{left}\n{diagnosis(run)}"
        time.sleep(0.5)


#: the lines of a worker's log that tell what the group did with it
_GROUP_NEWS = (
    "rebalanc",
    "assigned",
    "revok",
    "heartbeat",
    "commit",
    "joined",
    "error",
    "fail",
    "retr",
    "stop",
)


def diagnosis(run: Run) -> str:
    """What each live worker of the run has processed, by its own account (the lag of
    the outputs it committed, per partition), and what its log said of the group: a
    stalled takeover tells apart work not done from offsets not committed."""
    parts = []
    for proc, port in run.workers:
        if proc.is_running():
            try:
                lag = {
                    f"{labels['topic']}/{labels['partition']}": value
                    for labels, value in samples(port, "creditwatch_consumer_lag")
                }
                parts.append(f"{proc.name}: applied {applied(port):.0f}, lag {lag}")
            except httpx.HTTPError as exc:
                parts.append(f"{proc.name}: /metrics unreadable ({exc!r})")
        else:
            parts.append(f"{proc.name}: exited ({proc.returncode})")
        path = proc.log_path
        log = path.read_text(errors="replace").splitlines() if path.exists() else []
        news = [line for line in log if any(word in line.lower() for word in _GROUP_NEWS)]
        parts.append("\n".join(news[-25:]))
    return "\n".join(parts)


async def final_state(redis_url: str, prefix: str) -> dict[str, Any]:
    store = Store.from_url(redis_url, prefix)
    try:
        usccs = sorted([u async for u, _ in store.iter_directory()])
        states = await store.get_enterprises(usccs)
        return {
            "states": {u: comparable(vars(s)) for u, s in states.items()},
            "grade_counts": await store.grade_counts(),
        }
    finally:
        await store.close()


def settled(redis_url: str, prefix: str, timeout: float = 120) -> dict[str, Any]:
    """The final state once two reads two seconds apart agree (timers and rechecks
    may keep a run busy a little after its last message)."""
    deadline = time.monotonic() + timeout
    last = asyncio.run(final_state(redis_url, prefix))
    while True:
        time.sleep(2)
        now = asyncio.run(final_state(redis_url, prefix))
        if now == last and now["states"]:
            return now
        assert time.monotonic() < deadline, "the run did not settle"
        last = now


def ready(*workers: tuple[ManagedProcess, int]) -> None:
    for proc, port in workers:
        proc.wait_until(http_ready(f"http://127.0.0.1:{port}/metrics"), 90, "serving")


class Reference:
    """A clean run's final state, computed in a thread from the moment it is made: the
    tests start their own runs meanwhile (mostly waiting on outages and the broker) and
    wait for it only when they compare."""

    def __init__(self, compute: Callable[[], dict[str, Any]]) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="reference-run")
        self._future: Future[dict[str, Any]] = self._pool.submit(compute)

    def __call__(self, timeout: float = 300) -> dict[str, Any]:
        return self._future.result(timeout)

    def close(self) -> None:
        """Wait for the run to end (it stops its own worker), whatever its outcome."""
        self._pool.shutdown(wait=True)
