"""The overview's figures, all from the counts the commit script keeps
(streams/store/indexes.py), never a scan of every firm: firms by grade overall, by
district and by industry section; grade counts per day; warnings opened and closed per
day by rule; open warnings by severity and age; events applied per second. A
district-scoped caller gets its districts' figures only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from api.auth import Caller
from api.indexed import grades_by, in_scope, index_keys
from streams.store.api_ports import ApiReads
from streams.store.indexes import NONE

GRADES = ("A", "B", "C", "D")
SEVERITIES = ("yellow", "orange", "red")
#: age bands of open warnings: label, from (days ago), to (days ago; None: no end)
AGES: tuple[tuple[str, float, float | None], ...] = (
    ("<1d", 0, 1),
    ("1-7d", 1, 7),
    ("7-30d", 7, 30),
    (">30d", 30, None),
)
#: how many days the charts over time show, up to the latest day with figures
DAYS_SHOWN = 120
#: the minutes over which events/s is averaged
RATE_MINUTES = 5
#: GB/T 4754-2017 sections (门类)
SECTIONS = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}


@dataclass
class Series:
    name: str
    data: list[int]


@dataclass
class Overview:
    grade_counts: dict[str, int]
    ungraded: int
    #: (district code or "-", {grade: firms})
    by_district: list[tuple[str, dict[str, int]]]
    #: (section letter, its name, {grade: firms})
    by_industry: list[tuple[str, str, dict[str, int]]]
    days: list[str]
    #: per grade, firms at it at the end of each day
    grades_over_time: list[Series]
    opened: list[Series]  # per rule, warnings opened each day
    closed: list[Series]  # per rule, warnings closed each day
    #: rule, opened, closed over the days shown
    by_rule: list[tuple[str, int, int]]
    open_by_severity: dict[str, int]
    #: severity -> age band -> open warnings
    open_by_age: dict[str, dict[str, int]]
    events_per_s: float
    applied_per_minute: list[int]
    last_warning_at: str | None
    last_grade_change_at: str | None
    redis_ok: bool
    city_wide: bool = True


def _stream_time(entry_id: str) -> str | None:
    ms = int(entry_id.split("-")[0])
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds") if ms else None


def _day_range(days: set[str]) -> list[str]:
    """Every day up to the latest with figures, at most DAYS_SHOWN of them."""
    if not days:
        return []
    last = date.fromisoformat(max(days))
    first = max(date.fromisoformat(min(days)), last - timedelta(days=DAYS_SHOWN - 1))
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _per_day(table: dict[str, dict[str, int]], days: list[str]) -> list[Series]:
    found = [Series(rule, [per_day.get(d, 0) for d in days]) for rule, per_day in table.items()]
    return sorted((s for s in found if any(s.data)), key=lambda s: (-sum(s.data), s.name))


async def overview(store: ApiReads, caller: Caller) -> Overview:
    counts = await store.index_counts()
    by_district = grades_by(store, counts, caller, "district")
    by_section = grades_by(store, counts, caller, "industry")
    totals = {g: sum(per.get(g, 0) for per in by_district.values()) for g in GRADES}
    ungraded = sum(per.get(NONE, 0) for per in by_district.values())
    # the daily counts: city-wide, or the caller's districts' own
    districts = None
    if caller.district is not None:
        districts = sorted(d for d in by_district if d != NONE)
    daily = await store.daily(districts)
    days = _day_range(
        {
            d
            for table in (daily.grades, daily.opened, daily.closed)
            for t in table.values()
            for d in t
        }
    )
    grades_over_time = []
    for g in GRADES:
        changes = daily.grades.get(g, {})
        level = sum(n for d, n in changes.items() if days and d < days[0])
        points = []
        for d in days:
            level += changes.get(d, 0)
            points.append(level)
        grades_over_time.append(Series(g, points))
    opened, closed = _per_day(daily.opened, days), _per_day(daily.closed, days)
    rules = {s.name for s in opened} | {s.name for s in closed}
    sums_open = {s.name: sum(s.data) for s in opened}
    sums_closed = {s.name: sum(s.data) for s in closed}
    by_rule = sorted(
        ((r, sums_open.get(r, 0), sums_closed.get(r, 0)) for r in rules),
        key=lambda row: (-row[1], row[0]),
    )
    # open warnings: counts by age band, per severity, over the districts in scope
    open_keys = [k for k in index_keys(store, counts, "open") if in_scope(k, caller, None)]
    now = datetime.now(UTC).timestamp()
    ranges = []
    for k in open_keys:
        for _, start, end in AGES:
            low = "-inf" if end is None else repr(now - end * 86400)
            high = f"({now - start * 86400!r}" if start else "+inf"
            ranges.append((k.key, low, high))
    found = await store.count_ranges(ranges)
    by_age = {s: {band: 0 for band, _, _ in AGES} for s in SEVERITIES}
    for i, k in enumerate(open_keys):
        severity = k.parts[0]
        if severity not in by_age:
            continue
        for j, (band, _, _) in enumerate(AGES):
            by_age[severity][band] += found[i * len(AGES) + j]
    applied = await store.applied_events(RATE_MINUTES)
    heads = await store.stream_heads()
    return Overview(
        grade_counts=totals,
        ungraded=ungraded,
        by_district=sorted(by_district.items()),
        by_industry=[(s, SECTIONS.get(s, s), per) for s, per in sorted(by_section.items())],
        days=days,
        grades_over_time=grades_over_time,
        opened=opened[:12],
        closed=closed[:12],
        by_rule=by_rule,
        open_by_severity={s: sum(by_age[s].values()) for s in SEVERITIES},
        open_by_age=by_age,
        events_per_s=sum(applied) / (RATE_MINUTES * 60),
        applied_per_minute=applied,
        last_warning_at=_stream_time(heads[0]),
        last_grade_change_at=_stream_time(heads[1]),
        redis_ok=await store.ping(),
        city_wide=caller.district is None,
    )
