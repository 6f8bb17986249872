"""The worker's pipeline over a simulated city's full year, in one process: the
Replayer (agents/replay.py: batches, fan-out, timers and label sweeps on the event
clock, the trainer after each batch) on a private redis-server, no Kafka. CPU per
event by stage (agents/stages.py), rechecks and evaluations per event. Run from the
repository root:

    .venv/bin/python -m tests.perf.profile_pipeline --enterprises 3000 --events 30000

Times are CPU times (the process's, and each stage's thread time), so a busy machine
slows them less than wall time; Faust, aiokafka and the relay are not in them (the
bench measures those). `--profile FILE` writes a cProfile of the replay;
`--redis-commands` prints what the private Redis spent per event applied: its CPU
(INFO cpu) and its top commands (INFO commandstats: calls and usec; the commands a
script calls are counted both on their own and within its EVALSHA).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

from redis import Redis

from agents.pipeline import Pipeline
from agents.replay import Replayer
from agents.stages import STAGE_CPU, STAGES
from agents.training import TrainerLoop
from rules.ruleset import default_ruleset
from streams.simulation import event_key, generate_city, to_bytes
from streams.store import Store
from streams.topics.envelopes import pack


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def city_messages(seed: int, enterprises: int, events: int, envelope: int) -> list[bytes]:
    """A simulated year (2025) of a city, as the envelopes the bulk path sends."""
    city = generate_city(seed=seed, enterprises=enterprises, events=events,
                         start=date(2025, 1, 1), days=365)  # fmt: skip
    keyed = ((event_key(e).encode(), to_bytes(e)) for e in city.events())
    return [m.value for m in pack(keyed, 1, envelope)]


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of its own on a free port, in a temporary folder: its URL."""
    port, folder = _free_port(), tempfile.mkdtemp()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", folder],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(0.3)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def redis_figures(url: str) -> dict[str, tuple[float, float]]:
    """Redis's own CPU seconds ('cpu': (0, seconds)) and each command's (calls, usec)
    so far."""
    with Redis.from_url(url) as client:
        cpu: Any = client.info("cpu")
        stats: Any = client.info("commandstats")
    out = {"cpu": (0.0, float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]))}
    for name, figures in stats.items():
        out[name.removeprefix("cmdstat_")] = (float(figures["calls"]), float(figures["usec"]))
    return out


def print_redis(before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]],
                applied: int, top: int = 12) -> None:  # fmt: skip
    """Redis's CPU and its top commands by usec, per event applied."""
    spent = {
        name: ((calls - before.get(name, (0, 0))[0]) / applied,
               (usec - before.get(name, (0, 0))[1]) / applied)
        for name, (calls, usec) in after.items() if name != "cpu"
    }  # fmt: skip
    cpu = 1e6 * (after["cpu"][1] - before["cpu"][1]) / applied
    print(f"redis CPU per event {cpu:,.0f} us; commands per event (calls, usec):")
    ranked = sorted(spent.items(), key=lambda kv: -kv[1][1])
    for name, (calls, usec) in ranked[:top]:
        print(f"  {name:<20} {calls:8.3f} {usec:9.1f}")
    print(f"  {'(all, nested twice)':<20} {sum(c for c, _ in spent.values()):8.3f} "
          f"{sum(u for _, u in spent.values()):9.1f}")  # fmt: skip


def _stage_cpu() -> dict[str, float]:
    return {s: STAGE_CPU.labels(s)._value.get() for s in STAGES}


async def _replay(url: str, values: list[bytes], batch: int) -> tuple[object, float]:
    store = Store.from_url(url, prefix="perf")
    trainer = TrainerLoop(store, publish_labels=500, publish_interval_s=float("inf"))
    pipeline = Pipeline(store, "fanout", default_ruleset(), False)
    replayer = Replayer(pipeline, batch, trainer=trainer)
    started = time.process_time()
    stats = await replayer.run(values)
    cpu = time.process_time() - started
    await store.close()
    return stats, cpu


def replay_arguments(description: str) -> argparse.ArgumentParser:
    """The simulated city's options and the batch size, as the replays take them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--enterprises", type=int, default=3000)
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--envelope", type=int, default=100)
    parser.add_argument("--batch", type=int, default=5, help="messages per batch")
    return parser


def main() -> None:
    parser = replay_arguments(__doc__.splitlines()[0])
    parser.add_argument("--profile", help="write a cProfile of the replay here")
    parser.add_argument("--redis-commands", action="store_true",
                        help="print Redis's CPU and top commands per event")  # fmt: skip
    args = parser.parse_args()

    values = city_messages(args.seed, args.enterprises, args.events, args.envelope)
    with private_redis() as url:
        before = _stage_cpu()
        redis_before = redis_figures(url) if args.redis_commands else {}
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        stats, cpu = asyncio.run(_replay(url, values, args.batch))
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        redis_after = redis_figures(url) if args.redis_commands else {}
    applied = getattr(stats, "applied", 0) or 1
    spent = {s: 1e6 * (v - before[s]) / applied for s, v in _stage_cpu().items()}
    rest = 1e6 * cpu / applied - sum(spent.values())
    parts = ", ".join(f"{s} {us:,.0f}" for s, us in spent.items() if us)
    print(f"events applied {applied:,} in {len(values):,} messages")
    print(f"process CPU per event {1e6 * cpu / applied:,.0f} us: {parts}, rest {rest:,.0f}")
    counts = {k: getattr(stats, k, None) for k in ("rechecks", "folded", "swept", "warnings")}
    shown = [f"{k} {v / applied:.3f}" for k, v in counts.items() if v is not None]
    print("per event: " + ", ".join(shown))
    if args.redis_commands:
        print_redis(redis_before, redis_after, applied)


if __name__ == "__main__":
    main()
