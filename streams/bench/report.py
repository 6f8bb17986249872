"""What `creditwatch bench` reports: one dict (the JSON file), printed as text, and as
the results section of a markdown file (written by streams/bench/results_file.py)."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rules.ruleset import default_ruleset
from streams.bench import stages, workers

if TYPE_CHECKING:
    from streams.bench.baselines import RawConsume
    from streams.bench.end_to_end import BenchOptions
    from streams.bench.naive import NaiveResult
    from streams.bench.phases import LatencyPhase, Sustained
    from streams.simulation import City

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
_PACKAGES = ("creditwatch", "faust-streaming", "aiokafka", "redis", "noida-db", "river")
_REGISTERED = b'"type":"enterprise.registered"'


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def build(
    *,
    options: BenchOptions,
    command: str,
    city: City,
    naive_values: list[bytes],
    sustained_values: list[bytes],
    coverage: dict[str, Any],
    batch_size: int,
    partitions: int,
    redis_version: str,
    sustained: Sustained,
    latency: LatencyPhase,
    memory: dict[str, Any],
    worker: dict[str, Any],
    raw: RawConsume,
    naive: NaiveResult,
) -> dict[str, Any]:
    eps = sustained.events_per_second
    lat = latency.latencies
    return {
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "enterprises": city.enterprises,
        "events": city.total,
        "seed": options.seed,
        "batch_size": batch_size,
        "partitions": partitions,
        "workers": options.workers,
        "rules": len(default_ruleset().active()),
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "versions": {**{p: _version(p) for p in _PACKAGES}, "redis-server": redis_version},
        "events_per_second": eps,
        "produce_events_per_second": sustained.produce_events_per_second,
        "sustained": {
            "events": sustained.events,
            "offered": sustained.offered,
            "seconds": sustained.seconds,
            "produce_seconds": sustained.produce_seconds,
            "max_seconds": options.max_seconds,
            "registrations_share": registrations_share(sustained_values),
            "messages": sustained.messages,
            "envelope": options.envelope,
        },
        "coverage": coverage,
        "target_rate": latency.target_rate,
        "offered_rate": latency.offered_rate,
        "latency_ms": lat.summary(),
        "latency": {
            "events": latency.events,
            "warnings_measured": len(lat.ms),
            "via_fanout": lat.via_fanout,
            "unmatched_warnings": lat.unmatched,
            "closed_warnings": lat.closed,
            "behind_at_last_send": latency.behind_at_last_send,
            "caught_up_after_s": latency.caught_up_after,
            "above_capacity": latency.above_capacity,
        },
        "redis_bytes_per_enterprise": (memory["after"] - memory["before"])
        / max(1, memory["enterprises"]),
        "redis": {
            "used_memory_before": memory["before"],
            "used_memory_after": memory["after"],
            "enterprises_stored": memory["enterprises"],
        },
        "redis_breakdown": memory["kinds"],
        "worker": worker,
        "baselines": {
            "raw_consume": {
                "events_per_second": raw.events_per_second,
                "messages": raw.messages,
                "events_decoded": raw.items,
                "seconds": raw.seconds,
            },
            "naive": {
                "events_per_second": naive.events_per_second,
                "round_trips_per_event": naive.round_trips_per_event,
                "events": naive.events,
                "seconds": naive.seconds,
                "round_trips": naive.round_trips,
                "registrations_share": registrations_share(naive_values),
            },
        },
        "ratios": {
            "raw_consume": _ratio(eps, raw.events_per_second),
            "naive": _ratio(eps, naive.events_per_second),
        },
    }


def write_json(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# -- text ---------------------------------------------------------------------------
def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} ms"


def _bytes(value: float | None) -> str:
    if value is None:
        return "n/a"
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(value) >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value:,.0f} B"


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.2f}x"


def latency_line(result: dict[str, Any]) -> str:
    lat = result["latency_ms"]
    if not lat["count"]:
        return "no warning raised by a paced event"
    return (
        f"p50 {_ms(lat['p50'])}, p95 {_ms(lat['p95'])}, p99 {_ms(lat['p99'])}, "
        f"max {_ms(lat['max'])} ({lat['count']:,} warnings)"
    )


def capacity_note(result: dict[str, Any]) -> str | None:
    info = result["latency"]
    if not info["above_capacity"]:
        return None
    after = info["caught_up_after_s"]
    caught = "had not caught up 60 s after" if after is None else f"caught up {after:.1f} s after"
    return (
        f"offered rate above capacity: the worker was {info['behind_at_last_send']:,.0f} events "
        f"behind at the last send and {caught} it; only the warnings committed by then "
        "are measured"
    )


def registrations_share(values: list[bytes]) -> float:
    """How much of a mix is registrations (they cost more than most events)."""
    return sum(_REGISTERED in v for v in values) / max(1, len(values))


def budget_note(sustained: dict[str, Any]) -> list[str]:
    """A line when the time budget stopped the feed before the sustained part ran out."""
    if sustained["events"] >= sustained["offered"]:
        return []
    return [
        f"  budget        the feed stopped after {sustained['max_seconds']:g} s "
        f"(--max-seconds): {sustained['events']:,} of {sustained['offered']:,} events sent; "
        "the rate is over those"
    ]


def coverage_line(result: dict[str, Any]) -> list[str]:
    """How far into the city's year the run went (sustained and latency phases)."""
    c = result.get("coverage")
    if not c:
        return []
    return [
        f"  city covered  {c['events_sent']:,} of {c['events_in_city']:,} events "
        f"({c['share_of_events']:.0%}); event time {c['first_day']} to {c['reached_day']} "
        f"({c['share_of_year']:.0%} of the year)"
    ]


def _workers(result: dict[str, Any]) -> str:
    n = result.get("workers", 1)
    return "one worker" if n == 1 else f"{n} workers in one consumer group"


def _summed(result: dict[str, Any]) -> str:
    return "" if result.get("workers", 1) == 1 else " (summed over the workers)"


def render(result: dict[str, Any]) -> str:
    v, m, w = result["versions"], result["machine"], result["worker"]
    lat, base, ratios = result["latency"], result["baselines"], result["ratios"]
    sus, redis = result["sustained"], result["redis"]
    cpu = (
        f"{w['cpu_seconds']:,.1f} s, {w['cpu_percent']:.0f}% of one core"
        if w["cpu_seconds"] is not None
        else "n/a (needs Linux /proc)"
    )
    if w.get("waited_for_cpu_seconds") is not None:
        cpu += f", {w['waited_for_cpu_seconds']:,.1f} s runnable waiting for a CPU"
    naive = base["naive"]
    lines = [
        "creditwatch bench: the whole pipeline on the embedded stack",
        "setup",
        f"  city          {result['enterprises']:,} enterprises, {result['events']:,} events "
        f"(seed {result['seed']}), 2025 in event time",
        f"  pipeline      {_workers(result)}, {result['rules']} rules and the models on, "
        f"batches of up to {result['batch_size']}, {result['partitions']} partitions, "
        "timers on event time",
        f"  machine       {m['cpu_count']} CPUs, {m['platform']}, Python {m['python']}",
        "  versions      " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "sustained (first send -> every output committed)",
        f"  end to end    {result['events_per_second']:,.0f} events/s "
        f"({sus['events']:,} events in {sus['seconds']:,.1f} s, "
        f"{sus['registrations_share']:.0%} registrations)",
        f"  messages      {sus['messages']:,} (envelopes of up to {sus['envelope']} events)",
        *budget_note(sus),
        *coverage_line(result),
        f"  producer      {result['produce_events_per_second']:,.0f} events/s alone "
        f"({sus['produce_seconds']:,.1f} s sending and acknowledged, in chunks that keep "
        "the worker's backlog bounded)",
        f"latency (send -> warning committed), paced at {result['target_rate']:,.0f} events/s",
        f"  offered       {lat['events']:,} events at {result['offered_rate']:,.0f} events/s "
        "achieved",
        f"  latency       {latency_line(result)}",
        f"  warnings      {lat['via_fanout']:,} of them through the fan-out; "
        f"{lat['unmatched_warnings']:,} raised by timers or earlier events, not counted; "
        f"{lat['closed_warnings']:,} closed",
    ]
    if lat["caught_up_after_s"] is not None:
        lines.append(f"  caught up     {lat['caught_up_after_s']:.1f} s after the last send")
    note = capacity_note(result)
    if note:
        lines.append(f"  NOTE          {note}")
    lines += [
        "redis",
        f"  per enterprise {result['redis_bytes_per_enterprise']:,.0f} bytes (used_memory "
        f"{_bytes(redis['used_memory_before'])} -> {_bytes(redis['used_memory_after'])}, "
        f"{redis['enterprises_stored']:,} enterprises stored)",
        "  by kind of key, bytes per enterprise (sampled with MEMORY USAGE):",
        *(
            f"    {kind:<24} {k['bytes_per_enterprise']:>10,.0f}   ({k['keys']:,} keys)"
            for kind, k in result["redis_breakdown"].items()
        ),
        "worker",
        f"  cpu           {cpu} over the sustained phase{_summed(result)}",
        *stages.render(result),
        f"  peak RSS      {_bytes(w['peak_rss_bytes'])}{_summed(result)}",
        *workers.per_worker_lines(result, _bytes),
        *workers.beside_lines(result),
        "baselines",
        f"  raw consume   {base['raw_consume']['events_per_second']:,.0f} events/s, decode only "
        f"({base['raw_consume']['events_decoded']:,} events in "
        f"{base['raw_consume']['messages']:,} messages); pipeline / raw = "
        f"{_times(ratios['raw_consume'])}",
        f"  naive         {naive['events_per_second']:,.0f} events/s, one Redis round trip per "
        f"operation, {naive['round_trips_per_event']:.1f} per event (the sustained phase's "
        f"first {naive['events']:,} events, {naive['registrations_share']:.0%} "
        "registrations); "
        f"pipeline / naive = {_times(ratios['naive'])}",
        *workers.scaling_lines(result),
        "phases (s)",
        "  "
        + ", ".join(f"{k} {s:,.1f}" for k, s in result.get("phase_seconds", {}).items())
        + f"; total {result.get('total_seconds', 0):,.1f}",
        "command",
        f"  {result['command']}",
    ]
    return "\n".join(lines)


# -- markdown -----------------------------------------------------------------------
def docs_section(result: dict[str, Any]) -> str:
    m, v, w = result["machine"], result["versions"], result["worker"]
    base, ratios, lat = result["baselines"], result["ratios"], result["latency_ms"]
    worker = (
        f"{w['cpu_seconds']:,.0f} s CPU ({w['cpu_percent']:.0f}% of a core), "
        f"peak RSS {_bytes(w['peak_rss_bytes'])}"
        if w["cpu_seconds"] is not None
        else "n/a"
    )
    p99 = f"p99 {_ms(lat['p99'])}" if lat["count"] else "no warnings measured"
    scale = result.get("scaling")
    scaling_rows = (
        [(f"sustained, {scale['workers']} workers against one",
          f"{workers.ratio_text(scale)}: {scale['events_per_second_n']:,.0f} against "
          f"{scale['events_per_second_one']:,.0f} events/s", "≥ 1.6×")]
        if scale else []
    )  # fmt: skip
    rows = [
        ("end to end, sustained", f"{result['events_per_second']:,.0f} events/s",
         "≥ 15,000 events/s"),
        ("producer alone", f"{result['produce_events_per_second']:,.0f} events/s", ""),
        (f"latency at {result['offered_rate']:,.0f} events/s offered", latency_line(result),
         "p99 < 50 ms at 1,000 messages/s"),
        ("Redis per enterprise", f"{result['redis_bytes_per_enterprise']:,.0f} bytes",
         "≤ 1,000 bytes after the full year"),
        ("worker" if result.get("workers", 1) == 1 else f"{result['workers']} workers, summed",
         worker, ""),
        *scaling_rows,
        ("raw consume (decode only)",
         f"{base['raw_consume']['events_per_second']:,.0f} events/s "
         f"(pipeline: {_times(ratios['raw_consume'])})", ""),
        ("naive (a round trip per operation)",
         f"{base['naive']['events_per_second']:,.0f} events/s, "
         f"{base['naive']['round_trips_per_event']:.1f} round trips per event "
         f"(pipeline: {_times(ratios['naive'])})", ""),
    ]  # fmt: skip
    kinds = ", ".join(
        f"{kind} {k['bytes_per_enterprise']:,.0f}" for kind, k in result["redis_breakdown"].items()
    )
    note = capacity_note(result)
    by_stage = "".join(stages.render(result))
    coverage = "".join(coverage_line(result))
    lines = [
        START,
        f"Last run {result['date']}: {result['enterprises']:,} enterprises, "
        f"{result['events']:,} events, {_workers(result)}, {result['rules']} rules, "
        "batches of up to "
        f"{result['batch_size']}; {m['cpu_count']} CPUs ({m['platform']}), Python "
        f"{m['python']}; " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        "```sh",
        result["command"],
        "```",
        "",
        "| figure | measured | target |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        "",
        f"Latency ({p99}): {result['latency']['warnings_measured']:,} warnings measured, "
        f"{result['latency']['unmatched_warnings']:,} raised by timers or earlier events not "
        "counted." + (f" **{note}.**" if note else ""),
        "",
        f"Redis by kind of key, bytes per enterprise: {kinds}.",
        *(["", f"Worker CPU per event by stage: {by_stage.strip()[14:]}."] if by_stage else []),
        *(["", f"City covered: {coverage.strip()[14:]}."] if coverage else []),
        *_per_worker_prose(result),
        *(f"\nSidecar CPU per event: {s}." for s in workers.sidecar_stages(result)),
        END,
    ]
    return "\n".join(lines)


def _per_worker_prose(result: dict[str, Any]) -> list[str]:
    each = result["worker"].get("per_worker") or []
    if len(each) < 2:
        return []
    parts = "; ".join(
        f"{w['name']} {w['sustained_events_applied']:,.0f} events applied in the sustained "
        f"phase, "
        + (f"{w['cpu_seconds']:,.0f} s CPU" if w["cpu_seconds"] is not None else "")
        + f", peak RSS {_bytes(w['peak_rss_bytes'])}"
        for w in each
    )
    return ["", f"Each worker: {parts}."]
