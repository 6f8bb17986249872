"""`creditwatch bench` as a real process at a tiny size, and its naive baseline's Redis
client: one round trip per command, and the same states as the pipelined store.

Figures are only checked for shape and consistency here, never against a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio.connection import AbstractConnection

from agents.pipeline import Pipeline
from agents.replay import Replayer
from rules.state import EnterpriseState
from streams.bench.naive import NaiveRedis, naive_store
from streams.settings import StoreSettings
from streams.simulation import generate_city, to_bytes
from streams.stack.processes import pid_alive
from streams.store import Store, digests

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_bench_runs_the_stack_and_writes_consistent_figures(tmp_path: Path) -> None:
    out, docs = tmp_path / "bench.json", tmp_path / "performance.md"
    old = "<!-- bench:start -->\nold\n<!-- bench:end -->\n"
    docs.write_text(f"# Performance\n\nintro stays\n\n{old}\ntail stays\n")
    # 10,500 events for the sustained part: two chunks of 5,000 go out at once (at most
    # 10,000 wait), the third waits for 5,000 to be processed, and by then the 1 s budget
    # is over: 10,000 are sent (5,000 on a machine so loaded that the first chunk's
    # sending outlasts the budget; never a part of a chunk)
    argv = [
        "--enterprises", "200", "--events", "12000", "--rate", "500", "--latency-seconds", "3",
        "--naive-events", "300", "--seed", "2", "--max-seconds", "1", "--json", str(out),
        "--docs", str(docs), "--no-progress",
    ]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "--log-level", "warning", "bench", *argv],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())

    assert report["enterprises"] == 200 and report["events"] == 12000
    assert report["machine"]["cpu_count"] >= 1 and report["machine"]["python"]
    assert report["command"].startswith("creditwatch bench --enterprises 200 --events 12000")
    assert "--max-seconds 1" in report["command"]
    sent = report["sustained"]["events"]
    assert sent in (5_000, 10_000) and report["sustained"]["offered"] == 10_500
    assert f"the feed stopped after 1 s (--max-seconds): {sent:,} of 10,500" in result.stdout
    positive = [
        report["events_per_second"],
        report["produce_events_per_second"],
        report["offered_rate"],
        report["redis_bytes_per_enterprise"],
        report["baselines"]["raw_consume"]["events_per_second"],
        report["baselines"]["naive"]["events_per_second"],
        report["baselines"]["naive"]["round_trips_per_event"],
    ]
    if sys.platform.startswith("linux"):  # read from /proc
        positive += [report["worker"][k] for k in ("cpu_seconds", "cpu_percent", "peak_rss_bytes")]
    assert all(isinstance(x, int | float) and x > 0 for x in positive), positive
    latency = report["latency_ms"]
    assert set(latency) >= {"p50", "p95", "p99", "max", "count"}
    assert latency["count"] > 0
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert report["latency"]["events"] == 1500
    assert report["redis_breakdown"]["state"]["bytes_per_enterprise"] > 0
    raw = report["baselines"]["raw_consume"]
    assert raw["events_decoded"] == sent + 1500  # what was sent
    # the sustained phase's events went in envelopes, the paced ones one per message
    assert raw["messages"] == report["sustained"]["messages"] + 1500 < raw["events_decoded"]
    assert report["coverage"]["events_sent"] == 11_500
    stages = report["worker"]["cpu_us_per_event_by_stage"]
    if sys.platform.startswith("linux"):
        assert {"decode", "load", "evaluate", "score", "commit"} <= set(stages)
        assert all(us >= 0 for us in stages.values()) and "cpu per event" in result.stdout
    # the sidecar beside the worker relays and trains: its CPU beside Redis and the
    # broker's, and per event, the trainer's stage read from its /metrics
    assert "sidecar" in report["processes"]
    sidecar = report["worker"]["sidecar_cpu_us_per_event_by_stage"]
    if sys.platform.startswith("linux"):
        assert report["worker"]["stack_cpu_seconds"]["sidecar"] > 0
        assert set(sidecar) == {"trainer", "relay and the rest"}
        assert "sidecar       cpu per event" in result.stdout
        assert "trainer" not in stages  # not in the worker's process any more
    # firms met again after their first commit take the state the worker kept
    assert 0 < report["worker"]["state_cache_hits"] <= 1
    assert "of the states loaded reused as committed" in result.stdout
    eps, base = report["events_per_second"], report["baselines"]
    for name in ("raw_consume", "naive"):
        assert report["ratios"][name] == pytest.approx(eps / base[name]["events_per_second"])
    # everything it started is gone
    assert report["processes"] and not any(pid_alive(p) for p in report["processes"].values())

    text = docs.read_text()
    assert text.startswith("# Performance\n\nintro stays\n\n<!-- bench:start -->\n")
    assert text.endswith("<!-- bench:end -->\n\ntail stays\n") and "old" not in text
    assert report["command"] in text and report["command"] in result.stdout
    assert "pipeline / naive" in result.stdout


def test_two_workers_share_the_partitions_and_every_event_sent_is_applied_once(
    tmp_path: Path,
) -> None:
    out = tmp_path / "bench.json"
    argv = [
        "--enterprises", "200", "--events", "3000", "--rate", "200", "--latency-seconds", "2",
        "--naive-events", "200", "--max-seconds", "1", "--workers", "2", "--compare-workers",
        "--json", str(out), "--no-progress",
    ]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "--log-level", "warning", "bench", *argv],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())

    assert report["workers"] == 2 and "--workers 2 --compare-workers" in report["command"]
    assert "2 workers in one consumer group" in result.stdout
    worker = report["worker"]
    assert worker["count"] == 2 and len(worker["per_worker"]) == 2
    each = worker["per_worker"]
    assert [w["name"] for w in each] == ["worker-1", "worker-2"]
    # the partitions of both topics, each owned by one worker
    owned = [set(w["partitions"]) for w in each]
    topics = ("creditwatch.events", "creditwatch.fanout")
    assert not owned[0] & owned[1]
    assert owned[0] | owned[1] == {f"{t}:{p}" for t in topics for p in range(4)}
    for w in each:  # both worked
        assert w["sustained_messages"] > 0 and w["sustained_events_applied"] > 0
        assert w["events_applied"] > 0
        if sys.platform.startswith("linux"):
            assert w["cpu_seconds"] > 0 and w["peak_rss_bytes"] > 0
            assert w["waited_for_cpu_seconds"] >= 0
            assert {"decode", "load", "evaluate", "commit"} <= set(w["cpu_us_per_event_by_stage"])
    if sys.platform.startswith("linux"):
        assert worker["cpu_seconds"] == pytest.approx(sum(w["cpu_seconds"] for w in each))
        assert worker["peak_rss_bytes"] == sum(w["peak_rss_bytes"] for w in each)
        assert worker["stack_cpu_seconds"]["redis"] > 0
    assert worker["events_applied"] == sum(w["events_applied"] for w in each)
    # every event sent applied once: the workers' events less the fan-out copies
    assert report["latency"]["caught_up_after_s"] is not None  # everything was processed
    sent = report["sustained"]["events"] + report["latency"]["events"]
    assert sent == 3000
    assert worker["input_events_applied"] == worker["events_applied"] - worker["fanout_events"]
    assert worker["input_events_applied"] == sent

    scaling = report["scaling"]
    one = scaling["one_worker"]
    assert scaling["workers"] == 2 and one["workers"] == 1
    assert one["events"] == report["sustained"]["events"] and scaling["same_events"]
    assert one["events_per_second"] > 0 and report["events_per_second"] > 0
    assert scaling["ratio"] == pytest.approx(report["events_per_second"] / one["events_per_second"])
    assert f"ratio         {scaling['ratio']:.2f}x (2 workers against one)" in result.stdout
    # both stacks are gone
    pids = [*report["processes"].values(), *one["processes"].values()]
    assert set(one["processes"]) >= {"worker"} and set(report["processes"]) >= {
        "worker-1",
        "worker-2",
    }
    assert not any(pid_alive(p) for p in pids)


# -- the naive client -----------------------------------------------------------------
@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every write any Redis connection sends, as bytes."""
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    async def spy(self: Any, command: Any, check_health: bool = True) -> None:
        data = command.encode() if isinstance(command, str) else command
        sent.append(data if isinstance(data, bytes) else b"".join(data))
        await original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", spy)
    return sent


async def _calls(client: Any) -> dict[str, int]:
    stats = await client.info("commandstats")
    return {name: int(entry["calls"]) for name, entry in stats.items()}


async def test_the_naive_client_sends_each_command_on_its_own(
    redis_server: str, store_settings: StoreSettings, writes: list[bytes]
) -> None:
    key = store_settings.key_prefix
    store, client = naive_store(redis_server, key)
    observer = NaiveRedis.from_url(redis_server)
    try:
        await observer.script_flush()  # so the script below meets a NOSCRIPT
        await client.ping()  # the connection's handshake is not what is measured
        before = await _calls(observer)
        writes.clear()
        client.round_trips = 0
        pipe = client.pipeline(transaction=False)
        pipe.set(f"{key}:a", "1")
        pipe.hset(f"{key}:h", "f", "v")
        pipe.get(f"{key}:a")
        # a store script queued on the pipeline, as the commit does: NOSCRIPT, then load
        await store._clear_timers(keys=[f"{key}:z"], args=["x", "1"], client=pipe)
        assert len(pipe) == 4 and writes == []  # queued, nothing sent yet
        replies = await pipe.execute()
        own = len(writes)
        after = await _calls(observer)
    finally:
        await observer.aclose()
        await store.close()

    assert replies == [True, 1, b"1", 0]
    # set, hset, get, evalsha (NOSCRIPT), script load, evalsha again: one write each
    assert own == client.round_trips == 6
    assert all(w.count(b"\r\n*") == 0 and w.startswith(b"*") for w in writes[:own])
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    assert delta["cmdstat_set"] == delta["cmdstat_hset"] == delta["cmdstat_get"] == 1
    loads = sum(n for k, n in delta.items() if k.startswith("cmdstat_script"))  # 6.2: no |load
    assert delta["cmdstat_evalsha"] == 2 and loads == 1


async def test_a_normal_pipeline_sends_its_commands_in_one_write(
    redis_server: str, writes: list[bytes]
) -> None:
    """The spy can tell the difference (the control for the test above)."""
    client = NaiveRedis.from_url(redis_server)
    plain = Store.from_url(redis_server, "control").redis
    try:
        await plain.ping()
        writes.clear()
        pipe = plain.pipeline(transaction=False)
        for n in range(3):
            pipe.set(f"control:{n}", n)
        await pipe.execute()
    finally:
        await plain.aclose()
        await client.aclose()
    assert len(writes) == 1


def _comparable(raw: bytes) -> dict[str, Any]:
    """A stored state without what the wall clock writes: a warning's raised_at and
    updated_at are the time its batch ran (`now` in agents/pipeline.py), which differs
    between any two runs; everything else follows from the events alone."""
    state = json.loads(EnterpriseState.from_stored(digests.unwrap(raw)[1]).to_json())
    for warning in state.get("open_warnings", {}).values():
        warning.pop("raised_at", None)
        warning.pop("updated_at", None)
    return dict(state)


async def test_the_naive_replay_stores_what_the_pipelined_store_stores(
    redis_server: str, store_settings: StoreSettings
) -> None:
    city = generate_city(seed=4, enterprises=100, events=1000, start=date(2025, 1, 1), days=365)
    values = [to_bytes(item) for item in city.events()]
    fast = Store.from_url(redis_server, f"{store_settings.key_prefix}-fast")
    naive, client = naive_store(redis_server, f"{store_settings.key_prefix}-naive")
    try:
        # the same batches (one message each), so only the client differs
        await Replayer(Pipeline(fast, "fanout"), batch_size=1).run(values)
        await Replayer(Pipeline(naive, "fanout"), batch_size=1).run(values)
        states: dict[str, dict[str, dict[str, Any]]] = {}
        for name, store in (("fast", fast), ("naive", naive)):
            usccs = [u.decode() for u in await store.redis.hkeys(store.directory)]
            raws = await store.redis.mget([f"{store.prefix}:{{{u}}}:state" for u in usccs])
            states[name] = {u: _comparable(raw) for u, raw in zip(usccs, raws, strict=True)}
    finally:
        await fast.close()
        await naive.close()
    assert len(states["fast"]) >= 90
    assert states["naive"] == states["fast"]
    assert client.round_trips > len(values)  # several per event: nothing was batched
