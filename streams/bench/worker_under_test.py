"""The workers under `creditwatch bench`: how each is started (as `creditwatch up` starts
them, one consumer group, the sidecar beside them), and what the benchmark reads of them
from outside: their /metrics (consumer lag per owned partition, messages committed),
merged over the group, and, on Linux, each one's CPU time and peak RSS from /proc."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from streams.stack.children import sidecar_child, worker_child
from streams.stack.supervisor import ChildSpec

LAG = "creditwatch_consumer_lag"
#: observed once per message whose outputs are committed (agents/pipeline.py), so its
#: count is the number of messages (events and fan-out) the worker has finished
PROCESSED = "creditwatch_processing_seconds"
EVENTS = "creditwatch_events_total"
WARNINGS = "creditwatch_warnings_total"
#: the worker's CPU by pipeline stage (agents/stages.py)
STAGE_CPU = "creditwatch_stage_cpu_seconds_total"
RECHECKS = "creditwatch_rechecks_total"
#: person events fanned out: one message to the fan-out topic per enterprise concerned,
#: each applied (and counted in EVENTS) again by the worker that owns the enterprise
FANOUT = "creditwatch_fanout_total"
#: states loaded: reused as the worker committed them, or decoded (state_cache.py)
STATE_CACHE = "creditwatch_state_cache_total"


def worker_spec(
    name: str,
    metrics_port: int,
    datadir: Path,
    key_prefix: str,
    log_level: str,
    batch_size: int,
) -> ChildSpec:
    """One worker, with the argv `creditwatch up` uses. Timers follow event time (the
    city is in 2025), the lag is measured every 0.25 s so the end of a phase is seen
    soon after it happens."""
    env = {
        "CREDITWATCH_TIMER_CLOCK": "event",
        "CREDITWATCH_LAG_INTERVAL_S": "0.25",
        "CREDITWATCH_KEY_PREFIX": key_prefix,
        "CREDITWATCH_BATCH_SIZE": str(batch_size),
    }
    return worker_child(name, log_level, metrics_port, datadir, env, stop_timeout=30)


def sidecar_spec(metrics_port: int, key_prefix: str, log_level: str) -> ChildSpec:
    """The sidecar beside the workers (the relay and the trainer), as `up` starts it."""
    env = {"CREDITWATCH_KEY_PREFIX": key_prefix}
    return sidecar_child(log_level, metrics_port, env, stop_timeout=30)


@dataclass
class Scrape:
    """One reading of a worker's /metrics, taken at `at` (time.time()), or of all the
    workers of the group merged (`merge`; `workers` then holds each one's reading)."""

    at: float
    #: (topic, partition) -> messages not yet processed
    lags: dict[tuple[str, int], float] = field(default_factory=dict)
    #: messages whose outputs are committed, since the worker started
    processed: float = 0.0
    events_applied: float = 0.0
    warnings: float = 0.0
    #: stage -> CPU seconds since the worker started
    stage_cpu: dict[str, float] = field(default_factory=dict)
    #: rechecks handed out (timers due, nudges, related parties changed)
    rechecks: float = 0.0
    #: the days' sweeps of model labels handed out (one per enterprise and day swept)
    sweeps: float = 0.0
    #: fan-out messages produced (person events times the enterprises they concern)
    fanout: float = 0.0
    #: states loaded by result: "hit" (reused as committed) or "miss" (decoded)
    state_cache: dict[str, float] = field(default_factory=dict)
    #: a merged reading: each worker's own, in the order the workers were started
    workers: list[Scrape] = field(default_factory=list)

    def lag(self, topic: str) -> float:
        return sum(v for (t, _), v in self.lags.items() if t == topic)

    def caught_up(self, topics: list[str], partitions: int) -> bool:
        """Every partition of every topic is reported, with lag 0."""
        wanted = {(t, p) for t in topics for p in range(partitions)}
        return wanted <= set(self.lags) and all(self.lags[tp] == 0 for tp in wanted)

    def settled(self, topics: list[str], partitions: int) -> bool:
        """A merged reading: every partition of `topics` reported by exactly one worker,
        and every worker reporting some (the group has finished rebalancing)."""
        wanted = {(t, p) for t in topics for p in range(partitions)}
        owned = [w.owned() & wanted for w in self.workers]
        return all(owned) and sum(map(len, owned)) == len(wanted) == len(set().union(*owned))

    def owned(self) -> set[tuple[str, int]]:
        """The partitions whose lag this reading reports (a worker reports only those
        it owns)."""
        return set(self.lags)


def merge(parts: Sequence[Scrape]) -> Scrape:
    """The group's reading from each worker's: the union of the partitions reported
    (a partition two workers report, as can happen for a moment during a rebalance,
    counts with the larger lag), the counters summed; `at` is the earliest reading's.

    >>> a = Scrape(2.0, {("ev", 0): 0.0}, processed=3, stage_cpu={"load": 1.0})
    >>> b = Scrape(1.0, {("ev", 0): 2.0, ("ev", 1): 0.0}, processed=4, stage_cpu={"load": 2.0})
    >>> m = merge([a, b])
    >>> m.at, m.lags, m.processed, m.stage_cpu, len(m.workers)
    (1.0, {('ev', 0): 2.0, ('ev', 1): 0.0}, 7.0, {'load': 3.0}, 2)
    """
    out = Scrape(min(p.at for p in parts), workers=list(parts))
    for p in parts:
        for tp, lag in p.lags.items():
            out.lags[tp] = max(lag, out.lags.get(tp, lag))
        out.processed += p.processed
        out.events_applied += p.events_applied
        out.warnings += p.warnings
        out.rechecks += p.rechecks
        out.sweeps += p.sweeps
        out.fanout += p.fanout
        for stage, cpu in p.stage_cpu.items():
            out.stage_cpu[stage] = out.stage_cpu.get(stage, 0.0) + cpu
        for result, n in p.state_cache.items():
            out.state_cache[result] = out.state_cache.get(result, 0.0) + n
    return out


def parse_metrics(text: str, at: float) -> Scrape:
    """The figures the benchmark needs from a Prometheus exposition.

    >>> s = parse_metrics('''creditwatch_consumer_lag{partition="0",topic="ev"} 3.0
    ... creditwatch_processing_seconds_count 7.0
    ... ''', at=1.0)
    >>> s.lags, s.processed
    ({('ev', 0): 3.0}, 7.0)
    """
    scrape = Scrape(at)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == LAG:
                key = (sample.labels["topic"], int(sample.labels["partition"]))
                scrape.lags[key] = sample.value
            elif sample.name == f"{PROCESSED}_count":
                scrape.processed = sample.value
            elif sample.name == EVENTS:
                scrape.events_applied += sample.value
            elif sample.name == WARNINGS:
                scrape.warnings += sample.value
            elif sample.name == RECHECKS and sample.labels.get("cause") == "labels":
                scrape.sweeps += sample.value
            elif sample.name == RECHECKS:
                scrape.rechecks += sample.value
            elif sample.name == FANOUT:
                scrape.fanout += sample.value
            elif sample.name == STATE_CACHE:
                scrape.state_cache[sample.labels["result"]] = sample.value
            elif sample.name == STAGE_CPU:
                scrape.stage_cpu[sample.labels["stage"]] = sample.value
    return scrape


class MetricsProbe:
    """Reads a worker's /metrics."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.client = httpx.AsyncClient(timeout=10.0)

    async def scrape(self) -> Scrape:
        at = time.time()
        response = await self.client.get(self.url)
        response.raise_for_status()
        return parse_metrics(response.text, at)

    async def close(self) -> None:
        await self.client.aclose()


# -- /proc (Linux) ------------------------------------------------------------------
def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (None where /proc is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the name may hold spaces: cut after it
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def run_queue_seconds(pid: int) -> float | None:
    """Time the process's threads have spent runnable but waiting for a CPU (the second
    field of /proc/PID/task/TID/schedstat), or None where /proc has no schedstat. A
    worker behind its backlog that used less than a core either waited on the machine's
    other processes (this figure) or on I/O."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[1])
            except FileNotFoundError:  # the thread ended meanwhile
                continue
    except OSError:
        return None
    return total / 1e9


def peak_rss_bytes(pid: int) -> int | None:
    """The process's peak resident set size (VmHWM), or None where /proc is missing."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # reported in kB
    return None
