"""kill -9 of the worker at random points of a stream, restarted each time: the final
state equals a clean run's, and no output reaches its topic twice.

Two runs read the same synthetic city side by side, each with its own topics, group
and key prefix: a clean one, and one whose worker is killed (SIGKILL to its process
group) `CREDITWATCH_CRASH_KILLS` times and started again each time. The kills are
spread over the stream: before each, the test waits until the group has acknowledged a
random share of the events, then a random part of a second more, so they land in the
middle of batches, commits and relays. The broker is tansu (see test_worker_failover.py
for why not noida-db).

The suite runs a small stream; the issue's size is a documented command (docs/operations.md):

    CREDITWATCH_CRASH_EVENTS=50000 CREDITWATCH_CRASH_KILLS=10 \\
        .venv/bin/pytest tests/integration/test_worker_crashes.py -s

`CREDITWATCH_CRASH_SEED` repeats a run's kill points (the seed is printed).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from agents.published import OUTBOX_HEADER
from streams.simulation import generate_city
from streams.store import Store
from tests.integration.worker_runs import Run, committed_events, ready, settled, wait_done

pytestmark = pytest.mark.integration

EVENTS = int(os.environ.get("CREDITWATCH_CRASH_EVENTS", "1500"))
KILLS = int(os.environ.get("CREDITWATCH_CRASH_KILLS", "2"))


def _topic_records(bootstrap: str, topic: str) -> list[Any]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in range(4)]
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        while len(records) < sum(ends.values()):
            for batch in consumer.poll(timeout_ms=1000).values():
                records += batch
        return records
    finally:
        consumer.close()


async def _outbox_refs(redis_url: str, prefix: str) -> list[bytes]:
    """Every entry the worker committed to the warnings and grade-changes outboxes."""
    store = Store.from_url(redis_url, prefix)
    try:
        refs = []
        for stream in (store.warnings_stream, store.grades_stream):
            for entry_id, _ in await store.redis.xrange(stream):
                refs.append(stream.encode() + b"/" + entry_id)
        return refs
    finally:
        await store.close()


def _kill_and_restart(run: Run) -> None:
    proc, _ = run.workers[-1]
    os.killpg(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
    proc.wait(10)
    ready(run.launch_worker())


@pytest.mark.timeout(max(300, EVENTS // 20))  # the documented full size takes about half that
def test_a_worker_killed_again_and_again_ends_where_a_clean_run_ends(
    tansu: str, redis_server: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("CREDITWATCH_CRASH_SEED", random.randrange(10**6)))
    print(f"\ncrash test: {EVENTS} events, {KILLS} kills, CREDITWATCH_CRASH_SEED={seed}")
    rng = random.Random(seed)
    city = generate_city(
        seed=11,
        enterprises=max(50, EVENTS // 20),
        events=EVENTS,
        start=date(2025, 1, 1),
        days=365,
        invalid_rate=0.01,
    )
    items = list(city.events())
    clean = Run("clean", tansu, redis_server, tmp_path)
    crashy = Run("crashy", tansu, redis_server, tmp_path)
    kills: list[int] = []
    try:
        ready(clean.launch_worker(), crashy.launch_worker())
        clean.produce(items)
        crashy.produce(items)
        started = time.monotonic()
        for share in sorted(rng.uniform(0.05, 0.9) for _ in range(KILLS)):
            deadline = time.monotonic() + 300
            while (done := committed_events(crashy)) < share * len(items):
                assert time.monotonic() < deadline, f"stuck at {done} events"
                time.sleep(0.2)
            time.sleep(rng.uniform(0, 1))
            _kill_and_restart(crashy)
            kills.append(done)
        wait_done(crashy, timeout=600)
        result = settled(redis_server, crashy.prefix)
        print(f"killed at {kills} acknowledged events; {time.monotonic() - started:.0f} s")
        wait_done(clean, timeout=600)
        expected = settled(redis_server, clean.prefix)
        committed = asyncio.run(_outbox_refs(redis_server, crashy.prefix))
        # a dead relay's entries wait until they are 30 s idle before another claims them
        deadline = time.monotonic() + 120
        while True:
            records = _topic_records(tansu, crashy.settings.warnings_topic)
            records += _topic_records(tansu, crashy.settings.grade_changes_topic)
            relayed = {dict(r.headers)[OUTBOX_HEADER] for r in records}
            if relayed >= set(committed) or time.monotonic() > deadline:
                break
            time.sleep(2)
    finally:
        clean.stop()
        crashy.stop()

    assert len(kills) == KILLS
    assert result["grade_counts"] == expected["grade_counts"]
    assert result["states"].keys() == expected["states"].keys()
    differing = {u: s for u, s in expected["states"].items() if result["states"][u] != s}
    assert not differing, (len(differing), list(differing)[:3])

    # every committed output reached its topic, once
    refs = Counter(dict(r.headers)[OUTBOX_HEADER] for r in records)
    assert sorted(refs) == sorted(committed)
    assert [ref for ref, n in refs.items() if n > 1] == []
    warnings = Counter(
        (w["warning_id"], w["status"])
        for w in (json.loads(r.value) for r in records)
        if "warning_id" in w
    )
    assert warnings, "the city raised no warning: nothing was checked"
    assert [w for w, n in warnings.items() if n > 1] == []
    skipped = sum(
        int(m.group(1))
        for log in tmp_path.glob(f"{crashy.prefix}-worker-*.log")
        for m in re.finditer(r"(\d+) outputs in doubt were already published", log.read_text())
    )
    print(
        f"{len(items)} events; {len(refs)} outputs on the topics, none twice; "
        f"{skipped} outputs in doubt after a kill were found published and not resent"
    )
