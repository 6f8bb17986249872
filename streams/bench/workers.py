"""The workers' figures in `creditwatch bench`: summed over the consumer group and each
one's, and, with `--compare-workers`, the scaling figure (the sustained rate with N
workers over the rate with one, each on a fresh stack, the same city and options)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from streams.bench import stages
from streams.bench.worker_under_test import cpu_seconds, peak_rss_bytes

if TYPE_CHECKING:
    from streams.bench.end_to_end import BenchOptions
    from streams.bench.phases import Sustained, WorkerShare
    from streams.bench.worker_under_test import Scrape
    from streams.stack.embedded import EmbeddedStack

#: what the sidecar's stage (the trainer's) does not cover: the relay, its consumers
SIDECAR_OTHER = "relay and the rest"


def stack_cpu(stack: EmbeddedStack) -> dict[str, float | None]:
    """CPU seconds so far of the processes the workers share the machine with: Redis,
    the broker and the sidecar (the relay and the trainer) where one runs."""
    procs = [("redis", stack.redis), ("broker", stack.broker)]
    if "sidecar" in stack.children:
        procs.append(("sidecar", stack.children["sidecar"]))
    return {name: cpu_seconds(proc.pid) if proc.pid is not None else None for name, proc in procs}


def cpu_between(
    before: dict[str, float | None], after: dict[str, float | None]
) -> dict[str, float | None]:
    """Each process's CPU seconds from `before` to `after` (None where unknown)."""
    out: dict[str, float | None] = {}
    for name, start in before.items():
        end = after.get(name)
        out[name] = end - start if start is not None and end is not None else None
    return out


def _percent(cpu: float | None, seconds: float) -> float | None:
    return None if cpu is None else 100 * cpu / seconds


def _sum(values: list[float | None] | list[int | None]) -> float | None:
    """The sum, or None when any is missing (no /proc)."""
    if any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def _one(share: WorkerShare, final: Scrape, seconds: float) -> dict[str, Any]:
    rss = peak_rss_bytes(share.pid)
    return {
        "name": share.name,
        "pid": share.pid,
        "partitions": share.partitions,
        "cpu_seconds": share.cpu_seconds,
        "cpu_percent": _percent(share.cpu_seconds, seconds),
        "waited_for_cpu_seconds": share.waited_seconds,
        "peak_rss_bytes": rss,
        "sustained_messages": share.messages,
        "sustained_events_applied": share.events_applied,
        # over the events this worker applied (fan-out copies included)
        "cpu_us_per_event_by_stage": stages.per_event(
            share.stage_cpu, share.cpu_seconds, round(share.events_applied)
        ),
        "events_applied": final.events_applied,
        "fanout_events": final.fanout,
        "warnings_raised": final.warnings,
    }


def worker_figures(
    run: Sustained, final: Scrape, pids: list[int], beside: dict[str, float | None]
) -> dict[str, Any]:
    """The group's figures: CPU over the sustained phase, peak RSS and the CPU by stage
    summed over the workers (the stages per event sent), the counters at the end of the
    run; `per_worker`, each one's."""
    per_worker = [_one(s, f, run.seconds) for s, f in zip(run.workers, final.workers, strict=True)]
    return {
        "count": len(pids),
        "pids": pids,
        "cpu_seconds": run.cpu_seconds,
        "cpu_percent": _percent(run.cpu_seconds, run.seconds),
        "waited_for_cpu_seconds": _sum([w.waited_seconds for w in run.workers]),
        "peak_rss_bytes": _sum([w["peak_rss_bytes"] for w in per_worker]),
        "rechecks_per_event": run.rechecks / max(1, run.events),
        "sweeps_per_event": run.sweeps / max(1, run.events),
        "state_cache_hits": _hit_share(run.state_cache),
        "cpu_us_per_event_by_stage": stages.per_event(run.stage_cpu, run.cpu_seconds, run.events),
        # every event applied, a fan-out copy (one per enterprise a person event
        # concerns) as one; the input's events are the difference
        "events_applied": final.events_applied,
        "fanout_events": final.fanout,
        "input_events_applied": final.events_applied - final.fanout,
        "warnings_raised": final.warnings,
        "per_worker": per_worker,
        # Redis, the broker and the sidecar over the sustained phase: what the workers
        # wait on
        "stack_cpu_seconds": beside,
        # the sidecar's CPU per event sent: the trainer's stage, the relay and the rest
        "sidecar_cpu_us_per_event_by_stage": _sidecar_per_event(run, beside),
    }


def _sidecar_per_event(run: Sustained, beside: dict[str, float | None]) -> dict[str, float]:
    """The sidecar's CPU per event by stage; a trainer that learned nothing over the
    phase (no labels yet) counts 0, and no sidecar, nothing."""
    if "sidecar" not in beside:
        return {}
    by_stage = {"trainer": 0.0, **run.sidecar_stage_cpu}
    return stages.per_event(by_stage, beside["sidecar"], run.events, SIDECAR_OTHER)


def sustained_figures(
    run: Sustained, options: BenchOptions, beside: dict[str, float | None]
) -> dict[str, Any]:
    """The one-worker run of `--compare-workers`: its sustained phase only."""
    return {
        "workers": len(run.workers),
        "events": run.events,
        "offered": run.offered,
        "messages": run.messages,
        "seconds": run.seconds,
        "events_per_second": run.events_per_second,
        "max_seconds": options.max_seconds,
        "cpu_seconds": run.cpu_seconds,
        "cpu_percent": _percent(run.cpu_seconds, run.seconds),
        "waited_for_cpu_seconds": _sum([w.waited_seconds for w in run.workers]),
        "stack_cpu_seconds": beside,
    }


def scaling(one: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """N workers' sustained rate (the main run's) against one worker's."""
    eps = result["events_per_second"]
    return {
        "workers": result["workers"],
        "one_worker": one,
        "events_per_second_one": one["events_per_second"],
        "events_per_second_n": eps,
        "ratio": eps / one["events_per_second"] if one["events_per_second"] else None,
        # with --max-seconds the faster run may send more of the city (a later mix)
        "same_events": one["events"] == result["sustained"]["events"],
    }


# -- text ---------------------------------------------------------------------------
def _cpu(w: dict[str, Any]) -> str:
    if w["cpu_seconds"] is None:
        return "cpu n/a"
    waited = w.get("waited_for_cpu_seconds")
    also = f", {waited:,.1f} s runnable waiting for a CPU" if waited is not None else ""
    return f"cpu {w['cpu_seconds']:,.1f} s ({w['cpu_percent']:.0f}% of a core{also})"


def beside_text(cpu: dict[str, float | None], seconds: float) -> str:
    return ", ".join(
        f"{name} {s:,.1f} s ({100 * s / seconds:.0f}% of a core)"
        for name, s in cpu.items()
        if s is not None
    )


def beside_lines(result: dict[str, Any]) -> list[str]:
    cpu = result["worker"].get("stack_cpu_seconds") or {}
    text = beside_text(cpu, result["sustained"]["seconds"])
    lines = [f"  beside them   {text} over the sustained phase"] if text else []
    return lines + [f"  sidecar       cpu per event {s}" for s in sidecar_stages(result)]


def sidecar_stages(result: dict[str, Any]) -> list[str]:
    """The sidecar's CPU per event by stage, described, if it ran."""
    by_stage = result["worker"].get("sidecar_cpu_us_per_event_by_stage")
    return [stages.describe(by_stage)] if by_stage else []


def per_worker_lines(result: dict[str, Any], size: Any) -> list[str]:
    """Each worker's line, when there are several. `size` formats bytes."""
    workers: list[dict[str, Any]] = result["worker"].get("per_worker") or []
    if len(workers) < 2:
        return []
    lines = []
    for w in workers:
        owned = ", ".join(w["partitions"])
        lines.append(
            f"  {w['name']:<13} {w['sustained_events_applied']:,.0f} events applied in the "
            f"sustained phase, {w['events_applied']:,.0f} in all; {_cpu(w)}; peak RSS "
            f"{size(w['peak_rss_bytes'])}; partitions {owned}"
        )
        if w["cpu_us_per_event_by_stage"]:
            per = stages.describe(w["cpu_us_per_event_by_stage"])
            lines.append(f"  {'':<13} cpu per event it applied {per}")
    return lines


def scaling_lines(result: dict[str, Any]) -> list[str]:
    s = result.get("scaling")
    if not s:
        return []
    one, n = s["one_worker"], s["workers"]
    beside = beside_text(one.get("stack_cpu_seconds") or {}, one["seconds"])
    beside = f"; {beside}" if beside else ""
    lines = [
        f"scaling (the sustained phase, 1 worker then {n}, each on a fresh stack)",
        f"  1 worker      {one['events_per_second']:,.0f} events/s ({one['events']:,} events "
        f"in {one['seconds']:,.1f} s, {_cpu(one)}{beside})",
        f"  {n} workers     {s['events_per_second_n']:,.0f} events/s "
        f"({result['sustained']['events']:,} events in {result['sustained']['seconds']:,.1f} s)",
        f"  ratio         {ratio_text(s)}",
    ]
    if not s["same_events"]:
        lines.append(
            "  NOTE          the time budget stopped the two runs at different points of the "
            "city: the rates are over different mixes"
        )
    return lines


def ratio_text(s: dict[str, Any]) -> str:
    ratio = "n/a" if s["ratio"] is None else f"{s['ratio']:.2f}x"
    return f"{ratio} ({s['workers']} workers against one)"


def _hit_share(loads: dict[str, float]) -> float | None:
    """The share of the states loaded that were reused as committed, not decoded."""
    total = loads.get("hit", 0.0) + loads.get("miss", 0.0)
    return loads.get("hit", 0.0) / total if total else None
