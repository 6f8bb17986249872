"""The worker's CPU per event by pipeline stage, over the sustained phase: the deltas
of its per-stage CPU counters (agents/stages.py) divided by the events sent, and what
no stage covers (Faust and aiokafka, the timers, the metrics server, GC between stages;
the relay where the worker runs it) as the process's CPU less the stages'. The same for
the sidecar, whose one stage is the trainer's."""

from __future__ import annotations

from typing import Any

#: the order an event meets them, and how the report names them
NAMES = {
    "decode": "decode",
    "person": "person fan-out",
    "load": "load",
    "evaluate": "evaluate",
    "score": "score",
    "commit": "commit",
    "trainer": "trainer",
}
OTHER = "faust and the rest"


def per_event(
    stage_cpu: dict[str, float], cpu_seconds: float | None, events: int, other: str = OTHER
) -> dict[str, float]:
    """Stage -> microseconds of the process's CPU per event (`other`: the rest of its
    CPU), or {} without the counters.

    >>> per_event({"decode": 0.5, "load": 1.0}, 2.0, 1000)
    {'decode': 500.0, 'load': 1000.0, 'faust and the rest': 500.0}
    """
    if not stage_cpu or events <= 0:
        return {}
    order = [s for s in NAMES if s in stage_cpu] + sorted(set(stage_cpu) - set(NAMES))
    out = {s: 1e6 * stage_cpu[s] / events for s in order}
    if cpu_seconds is not None:
        out[other] = max(0.0, 1e6 * (cpu_seconds - sum(stage_cpu.values())) / events)
    return out


def describe(stages: dict[str, float]) -> str:
    """The total, then each stage, in µs per event.

    >>> describe({"decode": 50.0, "load": 100.0})
    '150 us: decode 50, load 100'
    """
    parts = ", ".join(f"{NAMES.get(s, s)} {us:,.0f}" for s, us in stages.items())
    return f"{sum(stages.values()):,.0f} us: {parts}"


def render(result: dict[str, Any]) -> list[str]:
    stages: dict[str, float] = result.get("worker", {}).get("cpu_us_per_event_by_stage") or {}
    if not stages:
        return []
    rechecks = result["worker"].get("rechecks_per_event")
    sweeps = result["worker"].get("sweeps_per_event")
    also = f" ({rechecks:.2f} rechecks per event" if rechecks is not None else ""
    if also and sweeps is not None:
        also += f", {sweeps:.2f} label sweeps"
    hits = result["worker"].get("state_cache_hits")
    if also and hits is not None:
        also += f", {hits:.0%} of the states loaded reused as committed"
    also += ")" if also else ""
    return [f"  cpu per event {describe(stages)}{also}"]
