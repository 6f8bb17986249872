"""The pure parts of `creditwatch bench`: pairing warnings with sends, percentiles,
reading the worker's metrics and /proc, the Redis key kinds, the docs section."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

import pytest

from streams.bench import report as bench_report
from streams.bench import workers as workers_report
from streams.bench.baselines import RawConsume
from streams.bench.end_to_end import BenchOptions
from streams.bench.latency import Latencies, SendLog, match_warnings, summarize
from streams.bench.naive import NaiveResult
from streams.bench.phases import LatencyPhase, Sustained, WorkerShare
from streams.bench.redis_memory import KeyCensus, key_kind
from streams.bench.report import END, START
from streams.bench.results_file import update_docs
from streams.bench.worker_under_test import (
    Scrape,
    cpu_seconds,
    merge,
    parse_metrics,
    peak_rss_bytes,
    run_queue_seconds,
)
from streams.simulation import generate_city

USCC = "91440300708461136T"


def entry(ms: int, record: dict) -> tuple[bytes, dict[bytes, bytes]]:
    return f"{ms}-0".encode(), {b"data": json.dumps(record).encode()}


def test_warnings_pair_with_the_send_of_their_event_whatever_the_offset() -> None:
    sends = SendLog()
    event = {"type": "penalty.decided", "uscc": USCC, "occurred_at": "2025-12-01T10:00:00+08:00"}
    sends.record(event, sent_at=1000.000)
    person = {"type": "person.dishonest_listed", "occurred_at": "2025-12-02T09:00:00+08:00"}
    sends.record(person, sent_at=1001.000)
    entries = [
        # the worker writes occurred_at as it parsed it; in UTC here
        entry(
            1000_012, {"uscc": USCC, "occurred_at": "2025-12-01T02:00:00+00:00", "status": "open"}
        ),
        entry(
            1000_020, {"uscc": USCC, "occurred_at": "2025-12-01T10:00:00+08:00", "status": "closed"}
        ),
        # a timer's warning: its occurred_at is the recheck time, no event was sent then
        entry(
            1000_030, {"uscc": USCC, "occurred_at": "2025-11-30T16:00:00+00:00", "status": "open"}
        ),
        # through the fan-out: another firm, the person event's time
        entry(
            1001_050,
            {
                "uscc": "91110000MA00000000",
                "occurred_at": "2025-12-02T09:00:00+08:00",
                "status": "open",
            },
        ),
    ]
    found = match_warnings(entries, sends, Latencies())
    assert found.ms == pytest.approx([12.0, 50.0])
    assert (found.via_fanout, found.unmatched, found.closed) == (1, 1, 1)


def test_of_two_sends_with_one_key_the_latest_before_the_commit_counts() -> None:
    sends = SendLog()
    event = {"type": "complaint.received", "uscc": USCC, "occurred_at": "2025-12-01T10:00:00Z"}
    sends.record(event, 10.0)
    sends.record(event, 20.0)
    assert sends.sent_at(USCC, "2025-12-01T10:00:00+00:00", committed=15.0) == (10.0, False)
    assert sends.sent_at(USCC, "2025-12-01T10:00:00+00:00", committed=25.0) == (20.0, False)


def test_percentiles_stay_within_the_values() -> None:
    values = [float(v) for v in range(1, 101)]
    summary = summarize(reversed(values))
    assert summary["p50"] == pytest.approx(50.5) and summary["max"] == 100.0
    assert summary["p99"] is not None and 99.0 <= summary["p99"] <= 100.0
    assert summary["count"] == 100
    assert summarize([])["p99"] is None


def test_metrics_show_caught_up_only_when_every_partition_reports_zero() -> None:
    lines = [
        f'creditwatch_consumer_lag{{partition="{p}",topic="{t}"}} {lag}'
        for t in ("ev", "fan")
        for p, lag in zip(range(2), (0.0, 0.0), strict=True)
    ]
    text = "\n".join(
        [
            "# TYPE creditwatch_consumer_lag gauge",
            *lines,
            "# TYPE creditwatch_processing_seconds histogram",
            'creditwatch_processing_seconds_bucket{le="+Inf"} 12.0',
            "creditwatch_processing_seconds_count 12.0",
            "creditwatch_processing_seconds_sum 3.0",
            "",
        ]
    )
    scrape = parse_metrics(text, at=5.0)
    assert scrape.processed == 12.0 and scrape.lag("ev") == 0
    assert scrape.caught_up(["ev", "fan"], 2)
    assert not scrape.caught_up(["ev", "fan"], 3)  # a partition not reported yet
    scrape.lags[("fan", 1)] = 4.0
    assert not scrape.caught_up(["ev", "fan"], 2) and scrape.lag("fan") == 4.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_cpu_and_peak_rss_of_a_process() -> None:
    spent = cpu_seconds(os.getpid())
    assert spent is not None and spent > 0
    peak = peak_rss_bytes(os.getpid())
    assert peak is not None and peak > 10 << 20
    assert cpu_seconds(2**22 + 12345) is None  # no such process
    waited = run_queue_seconds(os.getpid())
    assert waited is not None and waited >= 0
    assert run_queue_seconds(2**22 + 12345) is None


def test_key_kinds_and_the_sample_plan() -> None:
    census = KeyCensus(keep=50)
    for n in range(1000):
        census.add(f"cw:{{{n}}}:state", key_kind(f"cw:{{{n}}}:state", "cw"))
    for n in range(10):
        census.add(f"cw:{{a:{n}}}:firms", key_kind(f"cw:{{a:{n}}}:firms", "cw"))
    census.add("cw:directory", key_kind("cw:directory", "cw"))
    plan = census.plan(budget=40)
    assert census.counts == {"state": 1000, "address:firms": 10, "shared:directory": 1}
    assert len(plan["state"]) == 40 and len(plan["address:firms"]) == 10
    assert plan["shared:directory"] == ["cw:directory"]


def test_the_latency_phase_leaves_the_sustained_phase_at_least_half() -> None:
    assert BenchOptions().latency_events == 15_000 and BenchOptions().max_seconds is None
    assert BenchOptions(events=3000, rate=5000, latency_seconds=20).latency_events == 1500
    assert BenchOptions(events=50_000).naive_count == 5_000
    assert BenchOptions(events=3000).naive_count == 3000
    with pytest.raises(ValueError):
        BenchOptions(rate=0)
    with pytest.raises(ValueError):
        BenchOptions(max_seconds=-1)


def test_the_docs_section_is_written_between_the_markers_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench_report, "docs_section", lambda _: f"{START}\nnew figures\n{END}")
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Perf\n\nhow it is measured\n\n{START}\nold figures\n{END}\n\nafter\n")
    update_docs(doc, {})
    update_docs(tmp_path / "new.md", {})
    assert doc.read_text() == (
        f"# Perf\n\nhow it is measured\n\n{START}\nnew figures\n{END}\n\nafter\n"
    )
    assert (tmp_path / "new.md").read_text() == f"# Performance\n\n{START}\nnew figures\n{END}\n"


def _result(caught_up_after: float | None, workers: int = 1, worker: dict | None = None) -> dict:
    city = generate_city(seed=1, enterprises=100, events=600, start=date(2025, 1, 1), days=90)
    latencies = Latencies(ms=[5.0, 7.0, 30.0], via_fanout=1, unmatched=2, closed=1)
    return bench_report.build(
        options=BenchOptions(enterprises=100, events=600, workers=workers),
        command="creditwatch bench --enterprises 100 --events 600",
        city=city,
        naive_values=[b'{"type":"enterprise.registered"}', b'{"type":"penalty.decided"}'],
        sustained_values=[b'{"type":"enterprise.registered"}'] * 3 + [b'{"type":"x"}'],
        coverage={
            "events_sent": 600,
            "events_in_city": 600,
            "share_of_events": 1.0,
            "first_day": "2025-01-01",
            "reached_day": "2025-03-31",
            "share_of_year": 89 / 90,
        },
        batch_size=500,
        partitions=4,
        redis_version="7.0.15",
        sustained=Sustained(
            events=400, seconds=2.0, produce_seconds=0.5, cpu_seconds=1.5, messages=8
        ),
        latency=LatencyPhase(200, 500.0, 498.0, latencies, caught_up_after, 12.0),
        memory={
            "before": 1000,
            "after": 201_000,
            "enterprises": 100,
            "kinds": {"state": {"keys": 100, "bytes_per_enterprise": 900.0}},
        },
        worker=worker
        or {"pid": 1, "cpu_seconds": 1.5, "cpu_percent": 75.0, "peak_rss_bytes": 100 << 20},
        raw=RawConsume(messages=600, items=600, seconds=0.1),
        naive=NaiveResult(events=2, seconds=0.05, round_trips=30),
    )


def test_the_report_holds_every_figure_and_the_ratios_are_their_quotients() -> None:
    result = _result(caught_up_after=0.3)
    assert result["events_per_second"] == 200.0
    assert result["redis_bytes_per_enterprise"] == 2000.0
    assert result["latency_ms"]["count"] == 3 and result["latency_ms"]["max"] == 30.0
    assert result["ratios"]["raw_consume"] == 200.0 / 6000.0
    assert result["ratios"]["naive"] == 200.0 / 40.0
    assert result["baselines"]["naive"]["round_trips_per_event"] == 15.0
    assert result["baselines"]["naive"]["registrations_share"] == 0.5
    assert result["sustained"]["registrations_share"] == 0.75
    text = bench_report.render(result)
    assert "200 events/s" in text and "p99" in text and "above capacity" not in text
    assert "8 (envelopes of up to 100 events)" in text and "(99% of the year)" in text
    assert text.rstrip().endswith(result["command"])
    section = bench_report.docs_section(result)
    assert section.startswith(START) and section.endswith(END)
    assert result["command"] in section and "| Redis per enterprise | 2,000 bytes |" in section


def test_a_worker_that_cannot_keep_up_is_reported_as_such() -> None:
    result = _result(caught_up_after=None)
    assert result["latency"]["above_capacity"]
    assert "offered rate above capacity" in bench_report.render(result)
    assert "offered rate above capacity" in bench_report.docs_section(result)


def test_bulk_messages_go_to_the_partition_the_key_would_get_from_either_client() -> None:
    from aiokafka.partitioner import DefaultPartitioner
    from kafka.partitioner.default import murmur2 as kafka_python_murmur2

    from streams.bench.rig import partition_of

    cache: dict[bytes, int] = {}
    for key in (USCC.encode(), b"426695a0efdb59b9eaedaf0b5ca3eddf", b"a", "某".encode()):
        mine = partition_of(key, 4, cache)
        assert mine == DefaultPartitioner()(key, [0, 1, 2, 3], [0, 1, 2, 3])
        assert mine == (kafka_python_murmur2(key) & 0x7FFFFFFF) % 4  # what ingest uses


# -- several workers ------------------------------------------------------------------
def _owning(*tps: tuple[str, int], lag: float = 0.0, processed: float = 0.0) -> Scrape:
    return Scrape(1.0, dict.fromkeys(tps, lag), processed=processed)


def test_the_group_is_settled_when_each_partition_has_one_worker_and_each_worker_some() -> None:
    every = [("ev", 0), ("ev", 1), ("fan", 0), ("fan", 1)]
    first_alone = merge([_owning(*every), _owning()])  # the second has not joined yet
    assert first_alone.caught_up(["ev", "fan"], 2)
    assert not first_alone.settled(["ev", "fan"], 2)
    # the first still reports what it gave up (its next measure forgets it)
    stale = merge([_owning(*every), _owning(("ev", 1), ("fan", 1))])
    assert not stale.settled(["ev", "fan"], 2)
    shared = merge([_owning(("ev", 0), ("fan", 0)), _owning(("ev", 1), ("fan", 1))])
    assert shared.settled(["ev", "fan"], 2) and shared.caught_up(["ev", "fan"], 2)
    assert not shared.settled(["ev", "fan"], 3)  # a partition nobody reports


def test_a_merged_reading_sums_the_counters_and_keeps_the_larger_lag() -> None:
    a = parse_metrics(
        'creditwatch_consumer_lag{partition="0",topic="ev"} 0.0\n'
        "creditwatch_processing_seconds_count 10.0\n"
        'creditwatch_events_total{source="x",type="y"} 8.0\n'
        "creditwatch_fanout_total 2.0\n"
        'creditwatch_stage_cpu_seconds_total{stage="load"} 1.5\n'
        'creditwatch_state_cache_total{result="hit"} 6.0\n'
        'creditwatch_state_cache_total{result="miss"} 2.0\n',
        at=3.0,
    )
    b = parse_metrics(
        'creditwatch_consumer_lag{partition="0",topic="ev"} 5.0\n'
        'creditwatch_consumer_lag{partition="1",topic="ev"} 1.0\n'
        "creditwatch_processing_seconds_count 4.0\n"
        'creditwatch_events_total{source="x",type="y"} 3.0\n'
        'creditwatch_stage_cpu_seconds_total{stage="load"} 0.5\n'
        'creditwatch_state_cache_total{result="miss"} 1.0\n',
        at=2.0,
    )
    m = merge([a, b])
    assert (a.fanout, a.events_applied) == (2.0, 8.0)
    assert m.at == 2.0 and m.lags == {("ev", 0): 5.0, ("ev", 1): 1.0}
    assert (m.processed, m.events_applied, m.fanout) == (14.0, 11.0, 2.0)
    assert m.stage_cpu == {"load": 2.0} and m.workers == [a, b]
    assert m.state_cache == {"hit": 6.0, "miss": 3.0}


def test_workers_and_their_comparison_are_options_of_the_run() -> None:
    with pytest.raises(ValueError):
        BenchOptions(workers=0)
    with pytest.raises(ValueError):
        BenchOptions(compare_workers=True)  # one worker against one
    command = BenchOptions(workers=2, compare_workers=True).command()
    assert command.endswith("--workers 2 --compare-workers")
    assert "--workers" not in BenchOptions().command()


def _share(name: str, pid: int, cpu: float, events: float) -> WorkerShare:
    return WorkerShare(name, pid, cpu, {"load": cpu / 2}, events, events, 0.0, ["ev:0"])


def test_two_workers_are_reported_summed_and_each_with_the_scaling_figure() -> None:
    shares = [_share("worker-1", 11, 1.0, 250.0), _share("worker-2", 12, 0.5, 150.0)]
    run = Sustained(events=400, seconds=2.0, produce_seconds=0.5, cpu_seconds=1.5, messages=8)
    run.workers, run.stage_cpu = shares, {"load": 0.75}
    run.state_cache = {"hit": 300.0, "miss": 100.0}
    shares[0].waited_seconds, shares[1].waited_seconds = 0.25, 0.5
    final = merge(
        [Scrape(1.0, events_applied=260, fanout=3), Scrape(1.0, events_applied=150, fanout=2)]
    )
    beside = {"redis": 0.5, "broker": None}
    figures = workers_report.worker_figures(run, final, [os.getpid(), os.getpid()], beside)
    assert figures["count"] == 2 and figures["cpu_seconds"] == 1.5
    assert figures["state_cache_hits"] == 0.75
    assert figures["waited_for_cpu_seconds"] == 0.75
    assert figures["input_events_applied"] == 405
    assert [w["sustained_events_applied"] for w in figures["per_worker"]] == [250.0, 150.0]
    assert figures["per_worker"][0]["cpu_us_per_event_by_stage"]["load"] == 2000.0
    result = _result(caught_up_after=0.3, workers=2, worker=figures)
    one = {"workers": 1, "events": 400, "seconds": 4.0, "events_per_second": 100.0}
    one |= {"cpu_seconds": None, "stack_cpu_seconds": {"redis": 1.0, "broker": 2.0}}
    result["scaling"] = workers_report.scaling(one, result)
    assert result["scaling"]["ratio"] == 2.0 and result["scaling"]["same_events"]
    text = bench_report.render(result)
    assert "2 workers in one consumer group" in text and "summed over the workers" in text
    assert "75% of the states loaded reused as committed" in text
    assert "worker-1      250 events applied in the sustained phase" in text
    assert "ratio         2.00x (2 workers against one)" in text
    assert "cpu 1.0 s (50% of a core, 0.2 s runnable waiting for a CPU)" in text
    assert "0.8 s runnable waiting for a CPU over the sustained phase" in text
    assert "beside them   redis 0.5 s (25% of a core) over the sustained phase" in text
    assert "cpu n/a; redis 1.0 s (25% of a core), broker 2.0 s (50% of a core))" in text
    assert workers_report.cpu_between({"a": 1.0, "b": None}, {"a": 3.0, "b": 2.0}) == {
        "a": 2.0,
        "b": None,
    }
    section = bench_report.docs_section(result)
    assert "| sustained, 2 workers against one | 2.00x (2 workers against one)" in section
    assert "Each worker: worker-1 250 events applied" in section
    one_worker = bench_report.render(_result(caught_up_after=0.3))
    assert "one worker," in one_worker and "scaling" not in one_worker


def test_the_sidecar_is_reported_beside_the_workers_and_per_event() -> None:
    run = Sustained(events=1000, seconds=2.0, produce_seconds=0.5, cpu_seconds=1.0, messages=8)
    run.workers = [_share("worker", 11, 1.0, 1000.0)]
    run.sidecar_stage_cpu = {"trainer": 0.05}
    final = merge([Scrape(1.0, events_applied=1000)])
    beside = {"redis": 0.5, "broker": 0.25, "sidecar": 0.2}
    figures = workers_report.worker_figures(run, final, [os.getpid()], beside)
    # µs per event sent: the trainer's stage, and the rest of the sidecar's CPU
    assert figures["sidecar_cpu_us_per_event_by_stage"] == pytest.approx(
        {"trainer": 50.0, "relay and the rest": 150.0}
    )
    result = _result(caught_up_after=0.3, worker=figures)
    text = bench_report.render(result)
    assert "sidecar 0.2 s (10% of a core) over the sustained phase" in text
    assert "  sidecar       cpu per event 200 us: trainer 50, relay and the rest 150" in text
    assert "Sidecar CPU per event: 200 us: trainer 50" in bench_report.docs_section(result)
    # a trainer that learned nothing meanwhile counts 0; without a sidecar, no line
    run.sidecar_stage_cpu = {}
    figures = workers_report.worker_figures(run, final, [os.getpid()], beside)
    assert figures["sidecar_cpu_us_per_event_by_stage"]["trainer"] == 0.0
    del beside["sidecar"]
    figures = workers_report.worker_figures(run, final, [os.getpid()], beside)
    assert figures["sidecar_cpu_us_per_event_by_stage"] == {}
    assert "sidecar" not in bench_report.render(_result(caught_up_after=0.3, worker=figures))
