"""The warning workbench's rules of thumb, apart from HTTP: when a snooze holds, which
warnings it covers, when a warning is overdue. The one place the live streams, the
webhooks and the lists ask whether a warning was snoozed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from prometheus_client import Counter, Gauge

from rules.calendar import day_start
from streams.settings import ApiSettings
from streams.store.api_ports import ApiReads

DISPOSITIONS_DONE = Counter(
    "creditwatch_warning_dispositions_total",
    "Dispositions recorded by this API process",
    ["rule", "disposition"],
)
FALSE_ALARM_RATIO = Gauge(
    "creditwatch_warning_false_alarm_ratio",
    "Per rule, the share of warnings with a disposition whose latest is false_alarm",
    ["rule"],
)
DISPOSED = Gauge(
    "creditwatch_warning_disposed",
    "Per rule and disposition, warnings whose latest disposition it is (all processes)",
    ["rule", "disposition"],
)


def rule_rates(counts: dict[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    """rule -> disposition -> warnings, from the store's counts (zeros left out).

    >>> rule_rates({("r", "false_alarm"): 1, ("r", "verified"): 3, ("q", "verified"): 0})
    {'r': {'false_alarm': 1, 'verified': 3}}
    """
    rules: dict[str, dict[str, int]] = {}
    for (rule_id, disposition), n in sorted(counts.items()):
        if n > 0:
            rules.setdefault(rule_id, {})[disposition] = n
    return rules


def publish_figures(counts: dict[tuple[str, str], int]) -> None:
    """Set the gauges from the store's counts (at each scrape)."""
    totals: dict[str, int] = {}
    for (rule_id, disposition), n in counts.items():
        DISPOSED.labels(rule_id, disposition).set(n)
        totals[rule_id] = totals.get(rule_id, 0) + n
    for rule_id, total in totals.items():
        false_alarms = counts.get((rule_id, "false_alarm"), 0)
        FALSE_ALARM_RATIO.labels(rule_id).set(false_alarms / total if total else 0.0)


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def snooze_end(snooze: dict[str, Any]) -> datetime:
    """When a snooze stops holding: the end of its last day (Beijing), or its lifting.

    >>> snooze_end({"until": "2026-03-01", "lifted_at": None}).isoformat()
    '2026-03-01T16:00:00+00:00'
    """
    end = datetime.fromisoformat(day_start(date.fromisoformat(snooze["until"]) + timedelta(days=1)))
    lifted = _instant(snooze.get("lifted_at") or "")
    return min(end, lifted) if lifted else end


def covers(snooze: dict[str, Any], at: str) -> bool:
    """Whether the snooze held at `at` (a warning's `raised_at`)."""
    moment, start = _instant(at), _instant(snooze["set_at"])
    return moment is not None and start is not None and start <= moment < snooze_end(snooze)


def in_force(snooze: dict[str, Any], now: datetime | None = None) -> bool:
    return (now or datetime.now(UTC)) < snooze_end(snooze)


def snoozed(handling: dict[str, dict[str, Any]], warning: dict[str, Any]) -> bool:
    """Whether the warning was raised while its rule was snoozed for its firm (the
    firm's handling record as the store keeps it)."""
    snooze = handling.get(f"s:{warning.get('rule_id')}")
    return snooze is not None and covers(snooze, warning.get("raised_at", ""))


async def snoozed_warnings(store: ApiReads, records: list[dict[str, Any]]) -> set[str]:
    """The warning_ids among `records` (warnings, or anything else: ignored) raised
    under a snooze, in one round trip."""
    firms = sorted({r["uscc"] for r in records if r.get("warning_id") and r.get("uscc")})
    if not firms:
        return set()
    handlings = await store.handlings(firms)
    return {
        r["warning_id"]
        for r in records
        if r.get("warning_id") and snoozed(handlings.get(r.get("uscc", ""), {}), r)
    }


async def mark_snoozed(store: ApiReads, warnings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The warnings, each with `snoozed`."""
    found = await snoozed_warnings(store, warnings)
    return [{**w, "snoozed": w.get("warning_id") in found} for w in warnings]


def due_days(settings: ApiSettings, severity: str | None) -> float:
    """Days a warning of this severity may stay without a disposition."""
    return {
        "red": settings.handling_due_days_red,
        "orange": settings.handling_due_days_orange,
    }.get(severity or "", settings.handling_due_days_yellow)


def due_at(settings: ApiSettings, warning: dict[str, Any]) -> datetime | None:
    raised = _instant(warning.get("raised_at", ""))
    if raised is None:
        return None
    return raised + timedelta(days=due_days(settings, warning.get("severity")))
