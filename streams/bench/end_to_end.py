"""`creditwatch bench`: the whole pipeline, end to end, on the embedded stack.

A synthetic city goes through a real broker into real worker processes (one by default,
`--workers N` in one consumer group, started as `creditwatch up --workers N` starts
them, every rule and the models on, the sidecar beside them relaying the outputs and
training the models) writing to a real Redis:
- sustained: the first events as fast as they can be produced; events/s from the first
  send until the worker shows everything processed (streams/bench/phases.py);
- Redis memory per enterprise, in total and by kind of key (streams/bench/redis_memory.py);
- latency: the last `rate * latency_seconds` events paced at `rate`; produce-to-warning
  latency from the warnings outbox (streams/bench/latency.py);
- the workers' CPU time and peak RSS, summed and each one's (streams/bench/workers.py);
- with `--compare-workers`, the sustained phase first with one worker on a stack of
  its own: the ratio of the two rates (streams/bench/workers.py);
- two baselines: a consumer that only decodes, and the pipeline with one Redis round
  trip per operation (streams/bench/baselines.py, streams/bench/naive.py).
The report goes to stdout, and optionally to a JSON file and a markdown section
(streams/bench/report.py).
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from tqdm import tqdm

from rules.jsoncodec import loads
from streams.bench import report as bench_report
from streams.bench import results_file
from streams.bench import workers as workers_report
from streams.bench.baselines import raw_consume
from streams.bench.naive import replay_naive
from streams.bench.phases import latency, sustained
from streams.bench.redis_memory import memory_breakdown, used_memory
from streams.bench.rig import Rig, bar
from streams.bench.worker_under_test import MetricsProbe, sidecar_spec, worker_spec
from streams.settings import StackSettings, StreamSettings
from streams.simulation import City, event_key, generate_city, to_bytes
from streams.stack.embedded import EmbeddedStack, start_stack
from streams.stack.processes import ManagedProcess, free_port
from streams.stack.supervisor import Supervisor
from streams.store import Store
from streams.topics.envelopes import DEFAULT_ENVELOPE, partition_of

log = logging.getLogger(__name__)

#: the worker's keys, and the naive baseline's beside them in the same Redis
PREFIX = "bench"
NAIVE_PREFIX = "bench-naive"
#: the city's year in event time
CITY_START, CITY_DAYS = date(2025, 1, 1), 365


@dataclass(frozen=True)
class BenchOptions:
    enterprises: int = 10_000
    events: int = 100_000
    rate: float = 1000.0
    latency_seconds: float = 15.0
    #: None: min(events, 20,000)
    naive_events: int | None = None
    seed: int = 3
    #: None: the worker's default (CREDITWATCH_BATCH_SIZE)
    batch_size: int | None = None
    #: no more of the sustained part is sent after this many seconds (None: all of it)
    max_seconds: float | None = None
    #: events per Kafka message in the sustained phase (batch envelopes, as a backfill)
    envelope: int = DEFAULT_ENVELOPE
    #: worker processes in the consumer group (at most the partitions)
    workers: int = 1
    #: the sustained phase with one worker first, on a stack of its own: the scaling figure
    compare_workers: bool = False
    json_path: Path | None = None
    docs_path: Path | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.enterprises < 1 or self.events < 2:
            raise ValueError("--enterprises must be >= 1 and --events >= 2")
        if self.rate <= 0 or self.latency_seconds <= 0:
            raise ValueError("--rate and --latency-seconds must be positive")
        if self.naive_events is not None and self.naive_events < 1:
            raise ValueError("--naive-events must be >= 1")
        if self.max_seconds is not None and self.max_seconds <= 0:
            raise ValueError("--max-seconds must be positive")
        if self.envelope < 1:
            raise ValueError("--envelope must be >= 1")
        if self.workers < 1:
            raise ValueError("--workers must be >= 1")
        if self.compare_workers and self.workers < 2:
            raise ValueError("--compare-workers compares one worker with --workers N >= 2")

    @property
    def latency_events(self) -> int:
        """The paced part: rate x seconds, but the sustained part keeps at least half."""
        return max(1, min(round(self.rate * self.latency_seconds), self.events // 2))

    @property
    def naive_count(self) -> int:
        return min(self.events, self.naive_events or 5_000)

    def command(self) -> str:
        """The command line that repeats this run, every size spelled out."""
        parts = [
            "creditwatch", "bench",
            "--enterprises", str(self.enterprises), "--events", str(self.events),
            "--rate", f"{self.rate:g}", "--latency-seconds", f"{self.latency_seconds:g}",
            "--naive-events", str(self.naive_count), "--seed", str(self.seed),
        ]  # fmt: skip
        if self.batch_size is not None:
            parts += ["--batch-size", str(self.batch_size)]
        parts += ["--max-seconds", f"{self.max_seconds:g}" if self.max_seconds else "0"]
        parts += ["--envelope", str(self.envelope)]
        if self.workers != 1:
            parts += ["--workers", str(self.workers)]
        if self.compare_workers:
            parts.append("--compare-workers")
        if self.json_path is not None:
            parts += ["--json", str(self.json_path)]
        if self.docs_path is not None:
            parts += ["--docs", str(self.docs_path)]
        return shlex.join(parts)


@dataclass
class CityParts:
    """The city split for the phases: messages (key, value) to produce as fast as
    possible, then events to pace (stamped with `reported_at` when sent)."""

    city: City
    bulk: list[tuple[int, bytes, bytes]]
    paced: list[dict[str, Any]]
    start: date = CITY_START
    end: date = CITY_START + timedelta(days=CITY_DAYS)

    def values(self, count: int) -> list[bytes]:
        """The first `count` values of the bulk part."""
        return [value for _, _, value in self.bulk[:count]]

    def coverage(self, sent: int) -> dict[str, Any]:
        """How much of the city in event time the first `sent` events reach: the day of
        the last one sent, and that day's share of the city's span."""
        # the bulk part, then the paced part, as `paced_after` hands them out
        if sent <= len(self.bulk):
            occurred = str(loads(self.bulk[sent - 1][2])["occurred_at"])
        else:
            occurred = str(
                self.paced[min(sent - len(self.bulk), len(self.paced)) - 1]["occurred_at"]
            )
        reached = date.fromisoformat(occurred[:10])
        span = (self.end - self.start).days or 1
        return {
            "events_sent": sent,
            "events_in_city": self.city.total,
            "share_of_events": sent / max(1, self.city.total),
            "first_day": self.start.isoformat(),
            "reached_day": reached.isoformat(),
            "share_of_year": min(1.0, max(0.0, (reached - self.start).days / span)),
        }

    def paced_after(self, sent: int, count: int) -> list[dict[str, Any]]:
        """The events to pace once `sent` of the bulk part are in: those that follow in
        event time. (Pacing the city's last events after a run cut short by the time
        budget would move the event clock months on at once, and every timer between
        would fire in the latency phase.)"""
        unsent = [loads(value) for _, _, value in self.bulk[sent : sent + count]]
        return unsent + self.paced[: count - len(unsent)]


def make_city(options: BenchOptions, partitions: int) -> CityParts:
    city = generate_city(
        seed=options.seed, enterprises=options.enterprises, events=options.events,
        start=CITY_START, days=CITY_DAYS,
    )  # fmt: skip
    split = city.total - options.latency_events
    bulk: list[tuple[int, bytes, bytes]] = []
    paced: list[dict[str, Any]] = []
    cache: dict[bytes, int] = {}
    items = tqdm(
        city.events(), total=city.total, desc="generate", unit="ev", unit_scale=True,
        disable=not options.progress,
    )  # fmt: skip
    for n, item in enumerate(items):
        assert isinstance(item, dict)  # no invalid_rate: every item is an event
        if n < split:
            key = event_key(item).encode()
            bulk.append((partition_of(key, partitions, cache), key, to_bytes(item)))
        else:
            paced.append(item)
    return CityParts(city, bulk, paced)


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=dict)
    _mark: float = field(default_factory=time.monotonic)

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = now - self._mark
        self._mark = now


def run_bench(options: BenchOptions, log_level: str = "info") -> dict[str, Any] | None:
    """Run the benchmark and write the files asked for; the figures (render them with
    `bench_report.render`), or None when a signal stopped it.

    With `compare_workers`, the sustained phase first runs alone with one worker on a
    stack of its own, then the whole benchmark with `workers` on a fresh one: the same
    city, options and end condition; the report adds the ratio of the two rates."""
    for chatty in ("httpx", "httpcore"):  # their INFO is one line per request
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.root.level))
    timings = Timings()
    streams = StreamSettings()
    if options.workers > streams.partitions:
        raise ValueError(
            f"--workers {options.workers} needs at least as many partitions; the topics get "
            f"{streams.partitions} (set CREDITWATCH_PARTITIONS)"
        )
    parts = make_city(options, streams.partitions)
    timings.lap("generate")
    batch_size = options.batch_size or streams.batch_size
    one: dict[str, Any] | None = None
    if options.compare_workers:

        async def sustained_only(rig: Rig, stack: EmbeddedStack) -> dict[str, Any]:
            await rig.assigned()
            timings.lap("1 worker: assigned")
            cpu0 = workers_report.stack_cpu(stack)
            run = await sustained(rig, parts.bulk, options.max_seconds, envelope=options.envelope)
            beside = workers_report.cpu_between(cpu0, workers_report.stack_cpu(stack))
            timings.lap("1 worker: sustained")
            return workers_report.sustained_figures(run, options, beside)

        one = _on_a_stack(
            options, streams, 1, log_level, batch_size, timings, sustained_only, "1 worker: "
        )
        if one is None:
            return None

    async def measure(rig: Rig, stack: EmbeddedStack) -> dict[str, Any]:
        return await _measure(options, parts, rig, stack, batch_size, timings)

    result = _on_a_stack(options, streams, options.workers, log_level, batch_size, timings, measure)
    if result is None:
        return None
    if one is not None:
        result["scaling"] = workers_report.scaling(one, result)
    result["phase_seconds"] = timings.seconds
    result["total_seconds"] = sum(timings.seconds.values())
    if options.json_path is not None:
        bench_report.write_json(options.json_path, result)
    if options.docs_path is not None:
        results_file.update_docs(options.docs_path, result)
    return result


def _on_a_stack(
    options: BenchOptions,
    streams: StreamSettings,
    workers: int,
    log_level: str,
    batch_size: int,
    timings: Timings,
    measure: Callable[[Rig, EmbeddedStack], Awaitable[dict[str, Any]]],
    lap_prefix: str = "",
) -> dict[str, Any] | None:
    """A fresh stack in a temporary directory, the sidecar and `workers` workers in one
    consumer group (started one after the other, as `creditwatch up --workers N` starts
    them), and `measure` run against them; its figures with the processes started, or
    None when a signal stopped it. Everything is stopped on the way out."""
    with tempfile.TemporaryDirectory(prefix="creditwatch-bench-") as tmp:
        state_dir = Path(tmp)
        with Supervisor(state_dir / "logs") as sup:
            stack_settings = StackSettings(state_dir=state_dir, kafka_port=0, redis_port=0)
            stack = start_stack(sup, stack_settings, streams)
            timings.lap(f"{lap_prefix}stack")
            sidecar_port = free_port()
            spec = sidecar_spec(sidecar_port, PREFIX, log_level)
            sidecar = stack.children["sidecar"] = sup.spawn(spec, base_env=stack.child_env())
            ports = [free_port() for _ in range(workers)]
            procs = []
            for n, port in enumerate(ports, start=1):
                name = f"worker-{n}" if workers > 1 else "worker"
                spec = worker_spec(name, port, state_dir / name, PREFIX, log_level, batch_size)
                procs.append(sup.spawn(spec, base_env=stack.child_env()))
            timings.lap(f"{lap_prefix}workers start")
            on_stack = streams.model_copy(update={"kafka_bootstrap": stack.kafka_bootstrap})
            side = (sidecar, sidecar_port)
            result = asyncio.run(_with_rig(options, on_stack, stack, procs, ports, side, measure))
            result["processes"] = {p.name: p.pid for p in sup.children}
            log.info("stopping the stack")
        timings.lap(f"{lap_prefix}stop")
        if sup.stop_signal is not None:
            return None
    return result


async def _with_rig(
    options: BenchOptions,
    streams: StreamSettings,
    stack: EmbeddedStack,
    workers: list[ManagedProcess],
    ports: list[int],
    sidecar: tuple[ManagedProcess, int],
    measure: Callable[[Rig, EmbeddedStack], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    store = Store.from_url(stack.redis_url, PREFIX)
    probes = [MetricsProbe(port) for port in ports]
    sidecar_probe = MetricsProbe(sidecar[1])
    offsets = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap.split(","))
    await offsets.start()
    try:
        rig = Rig(
            streams, workers, probes, store, offsets, options.progress, sidecar[0], sidecar_probe
        )
        return await measure(rig, stack)
    finally:
        await offsets.stop()
        for probe in [*probes, sidecar_probe]:
            await probe.close()
        await store.close()


async def _measure(
    options: BenchOptions,
    parts: CityParts,
    rig: Rig,
    stack: EmbeddedStack,
    batch_size: int,
    timings: Timings,
) -> dict[str, Any]:
    streams, store = rig.streams, rig.store
    await rig.assigned()
    timings.lap("workers assigned")
    before = await used_memory(store.redis)
    cpu0 = workers_report.stack_cpu(stack)
    sustained_run = await sustained(rig, parts.bulk, options.max_seconds, envelope=options.envelope)
    beside = workers_report.cpu_between(cpu0, workers_report.stack_cpu(stack))
    timings.lap("sustained")
    after = await used_memory(store.redis)
    stored = int(await store.redis.hlen(store.directory))
    breakdown = await memory_breakdown(store.redis, PREFIX, stored)
    timings.lap("redis memory")
    paced = parts.paced_after(sustained_run.events, options.latency_events)
    latency_run = await latency(rig, paced, options.rate)
    timings.lap("latency")
    final = await rig.scrape()
    worker_figures = workers_report.worker_figures(sustained_run, final, rig.pids, beside)
    # the baselines run on a quiet machine: the workers and the sidecar go first
    # all at once: a worker whose peer leaves the group while it stops can hang in the
    # rebalance until its SIGKILL (stop_timeout later); at once, that wait is paid once
    quiet = [*rig.workers, *([rig.sidecar] if rig.sidecar is not None else [])]
    await asyncio.gather(*(asyncio.to_thread(p.stop) for p in quiet))
    timings.lap("workers stop")
    raw = await raw_consume(
        stack.kafka_bootstrap, streams.events_topic, streams.partitions,
        sustained_run.messages + latency_run.events, options.progress,
    )  # fmt: skip
    timings.lap("raw consume")
    # the sustained phase's own first events: the same mix (with the time budget at
    # the default size, that phase sends only the head of the city, registrations)
    naive_values = parts.values(min(options.naive_count, sustained_run.events))
    with bar(options.progress, len(naive_values), "naive") as naive_bar:
        naive = await replay_naive(
            stack.redis_url, NAIVE_PREFIX, streams.fanout_topic, naive_values,
            naive_bar.update,
        )  # fmt: skip
    timings.lap("naive")
    server: Any = await store.redis.info("server")
    return bench_report.build(
        options=options,
        command=options.command(),
        city=parts.city,
        naive_values=naive_values,
        sustained_values=parts.values(sustained_run.events),
        coverage=parts.coverage(sustained_run.events + latency_run.events),
        batch_size=batch_size,
        partitions=streams.partitions,
        redis_version=str(server.get("redis_version")),
        sustained=sustained_run,
        latency=latency_run,
        memory={"before": before, "after": after, "enterprises": stored, "kinds": breakdown},
        worker=worker_figures,
        raw=raw,
        naive=naive,
    )
