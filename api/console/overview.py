"""The overview's figures, from indexes and the newest records only: the grade counts
index, and the newest warning records the caller may see (never a scan of every
firm)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from api.auth import Caller
from api.paging import stream_page
from streams.store.ports import ApiReads

#: how many of the newest warning records the overview's warning charts look at
RECENT = 500
GRADES = ("A", "B", "C", "D")
SEVERITIES = ("yellow", "orange", "red")


@dataclass
class Overview:
    grade_counts: dict[str, int] | None  # None: not for a district-scoped caller
    by_rule: list[tuple[str, int]]
    days: list[str]
    opened: list[int]
    closed: list[int]
    open_by_severity: dict[str, int]
    open_by_age: dict[str, int]
    records: int
    last_warning_at: str | None
    last_grade_change_at: str | None
    redis_ok: bool
    notes: list[str] = field(default_factory=list)


def _day(text: str | None) -> str | None:
    return text[:10] if text else None


def _stream_time(entry_id: str) -> str | None:
    ms = int(entry_id.split("-")[0])
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds") if ms else None


def _age_band(raised_at: str, now: datetime) -> str:
    try:
        raised = datetime.fromisoformat(raised_at)
    except ValueError:
        return "?"
    if raised.tzinfo is None:
        raised = raised.replace(tzinfo=UTC)
    days = (now - raised).days
    return "<1d" if days < 1 else "1-7d" if days < 7 else "7-30d" if days < 30 else ">30d"


async def overview(store: ApiReads, caller: Caller) -> Overview:
    # the grade counts index is city-wide: a district-scoped caller does not get it
    counts = await store.grade_counts() if caller.district is None else None
    page = await stream_page(
        store, store.warnings_stream, RECENT, None, None, lambda w: True, caller
    )
    records = page["items"]
    by_rule: Counter[str] = Counter()
    opened: Counter[str] = Counter()
    closed: Counter[str] = Counter()
    still_open: dict[str, dict[str, str]] = {}
    for record in reversed(records):  # oldest first: a close follows its raise
        if record.get("status", "open") == "open":
            by_rule[record["rule_id"]] += 1
            opened[_day(record["raised_at"]) or "?"] += 1
            still_open[record["warning_id"]] = record
        else:
            closed[_day(record.get("closed_at")) or "?"] += 1
            still_open.pop(record["warning_id"], None)
    now = datetime.now(UTC)
    severity = Counter(w["severity"] for w in still_open.values())
    ages = Counter(_age_band(w["raised_at"], now) for w in still_open.values())
    days = sorted(set(opened) | set(closed))
    heads = await store.stream_heads()
    return Overview(
        grade_counts={g: counts.get(g, 0) for g in GRADES} if counts is not None else None,
        by_rule=by_rule.most_common(12),
        days=days,
        opened=[opened[d] for d in days],
        closed=[closed[d] for d in days],
        open_by_severity={s: severity[s] for s in SEVERITIES},
        open_by_age={band: ages[band] for band in ("<1d", "1-7d", "7-30d", ">30d")},
        records=len(records),
        last_warning_at=_stream_time(heads[0]),
        last_grade_change_at=_stream_time(heads[1]),
        redis_ok=await store.ping(),
    )
