"""The worker's pipeline over a simulated city's full year, in one process: the
Replayer (agents/replay.py: batches, fan-out, timers and label sweeps on the event
clock, the trainer after each batch) on a private redis-server, no Kafka. CPU per
event by stage (agents/stages.py), rechecks and evaluations per event. Run from the
repository root:

    .venv/bin/python -m tests.perf.profile_pipeline --enterprises 3000 --events 30000

Times are CPU times (the process's, and each stage's thread time), so a busy machine
slows them less than wall time; Faust, aiokafka and the relay are not in them (the
bench measures those). `--profile FILE` writes a cProfile of the replay.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=3000)
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--envelope", type=int, default=100)
    parser.add_argument("--batch", type=int, default=5, help="messages per batch")
    parser.add_argument("--profile", help="write a cProfile of the replay here")
    args = parser.parse_args()

    values = city_messages(args.seed, args.enterprises, args.events, args.envelope)
    with private_redis() as url:
        before = _stage_cpu()
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        stats, cpu = asyncio.run(_replay(url, values, args.batch))
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
    applied = getattr(stats, "applied", 0) or 1
    spent = {s: 1e6 * (v - before[s]) / applied for s, v in _stage_cpu().items()}
    rest = 1e6 * cpu / applied - sum(spent.values())
    parts = ", ".join(f"{s} {us:,.0f}" for s, us in spent.items() if us)
    print(f"events applied {applied:,} in {len(values):,} messages")
    print(f"process CPU per event {1e6 * cpu / applied:,.0f} us: {parts}, rest {rest:,.0f}")
    counts = {k: getattr(stats, k, None) for k in ("rechecks", "folded", "swept", "warnings")}
    shown = [f"{k} {v / applied:.3f}" for k, v in counts.items() if v is not None]
    print("per event: " + ", ".join(shown))


if __name__ == "__main__":
    main()
