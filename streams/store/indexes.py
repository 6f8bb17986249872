"""The console's indexes: sorted sets kept by the commit script, so that lists and the
overview read a few keys instead of scanning every firm.

What each firm belongs to is worked out here from its directory entry and its open
warnings (`memberships`), handed to the commit script, which adds what is new, removes
what it no longer belongs to (it remembers the firm's memberships in front of its
state, `{USCC}:state`: lua/lib/index.lua) and counts each index's members:

  {prefix}:ix:dg:DISTRICT:GRADE       firms of a district (division code) and grade
                                      (`-`: none yet), members USCCs at score 0, read
                                      in USCC order (ZRANGE BYLEX)
  {prefix}:ix:dig:DISTRICT:IND:GRADE  the same by industry too (IND: the GB/T 4754
                                      division, letter and two digits, e.g. I65)
  {prefix}:ix:unseen:DISTRICT:GRADE   active graded firms (USCCs) by the day they were
                                      last inspected or penalised (days since
                                      1970-01-01, 0 never): how many blind spots is a
                                      count of a range
  {prefix}:ix:worst:DISTRICT:GRADE    the same firms by their credit score (unscored:
                                      9999), members `DAY|USCC` (DAY: the day number
                                      above, six digits): blind spots worst first
  {prefix}:ix:tag:DISTRICT:GRADE:TAG  active graded firms with that tag (USCCs, score 0):
                                      the inspection draw's tag filter and exemptions
                                      (only firms with tags pay for it)
  {prefix}:ix:open:DISTRICT:SEVERITY  open warnings by the time they were raised
                                      (epoch seconds), members `USCC|WARNING_ID|RULE`:
                                      overdue is a range (raised before now less the
                                      severity's days), age bands are counts
  {prefix}:ix:counts                  index key -> members: what the overview counts
                                      and which keys a list has to read
  {prefix}:ix:daily                   `grade|DAY|G` -> the change that day in firms at
                                      grade G (a firm's grade moves on the day of the
                                      event time that moved it: the sum up to a day is
                                      the count at its end); `opened|DAY|RULE`,
                                      `closed|DAY|RULE` -> warnings raised, closed
                                      (days of event time, China Standard Time);
  {prefix}:ix:daily:DISTRICT          the same for the firms of one district
  {prefix}:applied:MINUTE             events applied in that minute of wall-clock time
                                      (expires after an hour): events/s

A district is the division code of the firm's registration (its directory entry's
`district`), `-` when it has none. The index keys are global, as the directory is:
a Redis Cluster deployment splits them by slot with the rest of the global keys.
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from rules.calendar import CHINA
from rules.records import DirectoryEntry, WarningRecord
from streams.store.base import StoreBase

GRADES = ("A", "B", "C", "D")
NONE = "-"
#: how long a minute's count of applied events is kept
APPLIED_TTL_S = 3600
_EPOCH_DAY = date(1970, 1, 1).toordinal()


def china_day(iso: str | None) -> str | None:
    """The day (China Standard Time) of a UTC ISO instant; naive ones are UTC.

    >>> china_day("2026-03-01T16:30:00+00:00"), china_day("2026-03-01T10:00:00")
    ('2026-03-02', '2026-03-01')
    """
    if not iso:
        return None
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(CHINA).date().isoformat()


def industry_division(code: str | None) -> str:
    """The GB/T 4754 division (门类 letter and 大类 digits) an industry code is in.

    >>> industry_division("I6513"), industry_division(None)
    ('I65', '-')
    """
    return code[:3] if code else NONE


def day_number(iso_day: str | None) -> int:
    """Days since 1970-01-01 of a YYYY-MM-DD day (0 for none)."""
    return date.fromisoformat(iso_day[:10]).toordinal() - _EPOCH_DAY if iso_day else 0


@dataclass(frozen=True)
class Keys:
    """The index keys under a prefix."""

    prefix: str

    def dg(self, district: str, grade: str) -> str:
        return f"{self.prefix}:ix:dg:{district}:{grade}"

    def dig(self, district: str, division: str, grade: str) -> str:
        return f"{self.prefix}:ix:dig:{district}:{division}:{grade}"

    def unseen(self, district: str, grade: str) -> str:
        return f"{self.prefix}:ix:unseen:{district}:{grade}"

    def worst(self, district: str, grade: str) -> str:
        return f"{self.prefix}:ix:worst:{district}:{grade}"

    def tag(self, district: str, grade: str, tag: str) -> str:
        return f"{self.prefix}:ix:tag:{district}:{grade}:{tag}"

    def open(self, district: str, severity: str) -> str:
        return f"{self.prefix}:ix:open:{district}:{severity}"

    @property
    def counts(self) -> str:
        return f"{self.prefix}:ix:counts"

    @property
    def daily(self) -> str:
        return f"{self.prefix}:ix:daily"

    def applied(self, minute: int) -> str:
        return f"{self.prefix}:applied:{minute}"

    def parse(self, key: str) -> tuple[str, ...]:
        """An index key's family and parts: ("dg", district, grade), ...; a tag (which
        may hold a colon) is one part."""
        parts = key[len(self.prefix) + 4 :].split(":")
        if parts[0] == "tag":
            return (*parts[:3], ":".join(parts[3:]))
        return tuple(parts)


def memberships(
    keys: Keys, uscc: str, entry: DirectoryEntry, open_warnings: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str, str]]:
    """(index key, score, member) of every index the firm belongs to now."""
    district = entry.get("district") or NONE
    grade = entry.get("grade") or NONE
    found = [
        (keys.dg(district, grade), "0", uscc),
        (keys.dig(district, industry_division(entry.get("industry")), grade), "0", uscc),
    ]
    if entry.get("status") == "active" and entry.get("grade"):
        touched = max(entry.get("last_inspected") or "", entry.get("last_penalized") or "")
        day = day_number(touched or None)
        found.append((keys.unseen(district, grade), str(day), uscc))
        score = entry.get("score")
        worst = str(score) if score is not None else "9999"
        found.append((keys.worst(district, grade), worst, f"{day:06d}|{uscc}"))
        for tag in sorted(set(entry.get("tags") or ())):
            found.append((keys.tag(district, grade, tag), "0", uscc))
    for rule_id, w in sorted(open_warnings.items()):
        try:
            raised = datetime.fromisoformat(str(w.get("raised_at")))
        except ValueError:
            continue
        if raised.tzinfo is None:
            raised = raised.replace(tzinfo=UTC)
        severity = w.get("severity") or NONE
        member = f"{uscc}|{w['warning_id']}|{rule_id}"
        found.append((keys.open(district, severity), repr(raised.timestamp()), member))
    return found


def tallies(warnings: Sequence[WarningRecord]) -> list[tuple[str, str]]:
    """(field of the daily hash, increment) for the warnings a commit writes."""
    found: list[tuple[str, str]] = []
    for w in warnings:
        if w.get("status", "open") == "open":
            if w.get("updated_at"):  # new evidence for a warning already counted
                continue
            day = china_day(w.get("raised_at"))
            kind = "opened"
        else:
            day = china_day(w.get("closed_at") or w.get("raised_at"))
            kind = "closed"
        if day:
            found.append((f"{kind}|{day}|{w['rule_id']}", "1"))
    return found


@dataclass
class Daily:
    """The daily hash read back: days (sorted) and, per day, the figures."""

    #: grade -> the change in firms at it, per day
    grades: dict[str, dict[str, int]]
    #: rule -> warnings opened per day
    opened: dict[str, dict[str, int]]
    #: rule -> warnings closed per day
    closed: dict[str, dict[str, int]]


class IndexStore(StoreBase):
    @property
    def ix(self) -> Keys:
        return Keys(self.prefix)

    async def index_counts(self) -> dict[str, int]:
        """Index key -> how many members it has (keys emptied stay at 0)."""
        found: Any = await self.redis.hgetall(self.ix.counts)
        return {k.decode(): int(v) for k, v in found.items()}

    async def daily(self, districts: Sequence[str] | None = None) -> Daily:
        """The daily counts, city-wide or (given) summed over these districts."""
        if districts is None:
            wanted = [self.ix.daily]
        else:
            wanted = [f"{self.ix.daily}:{d}" for d in districts]
        pipe = self.redis.pipeline(transaction=False)
        for key in wanted:
            pipe.hgetall(key)
        out = Daily({}, {}, {})
        for found in await pipe.execute():
            for raw, n in found.items():
                kind, day, what = raw.decode().split("|", 2)
                table = {"grade": out.grades, "opened": out.opened, "closed": out.closed}[kind]
                per_day = table.setdefault(what, {})
                per_day[day] = per_day.get(day, 0) + int(n)
        return out

    async def applied_events(self, minutes: int, now: float | None = None) -> list[int]:
        """Events applied in each of the last `minutes` whole minutes, oldest first."""
        current = int((now or time.time()) // 60)
        wanted = [self.ix.applied(m) for m in range(current - minutes, current)]
        found: Any = await self.redis.mget(wanted)
        return [int(v) if v else 0 for v in found]

    async def count_ranges(self, ranges: Sequence[tuple[str, str, str]]) -> list[int]:
        """ZCOUNT of each (key, min, max), in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for key, low, high in ranges:
            pipe.zcount(key, low, high)
        return [int(n) for n in await pipe.execute()]

    async def firms_after(
        self, keys: Sequence[str], after: str | None, limit: int
    ) -> tuple[list[str], bool]:
        """The first `limit` USCCs after `after` in the union of these firm indexes, in
        USCC order, and whether there are more."""
        if not keys:
            return [], False
        low = f"({after}" if after else "-"
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.zrange(key, low, "+", bylex=True, offset=0, num=limit + 1)
        replies = await pipe.execute()
        merged = heapq.merge(*([m.decode() for m in reply] for reply in replies))
        found: list[str] = []
        for uscc in merged:
            if found and found[-1] == uscc:
                continue
            found.append(uscc)
            if len(found) > limit:
                return found[:limit], True
        return found, False

    async def members_by_score(self, keys: Sequence[str], low: str, high: str) -> list[list[str]]:
        """Each key's members with a score in [low, high], in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.zrangebyscore(key, low, high)
        return [[m.decode() for m in reply] for reply in await pipe.execute()]

    async def handling_of(
        self, warnings: Sequence[tuple[str, str]]
    ) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
        """(disposition, assignment) of each (USCC, warning id), from the firms'
        handling records (streams/store/handling.py), in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for uscc, wid in warnings:
            pipe.hmget(self._ent(uscc, "handling"), [f"d:{wid}", f"a:{wid}"])
        found = await pipe.execute()
        return [(json.loads(d) if d else None, json.loads(a) if a else None) for d, a in found]

    async def oldest_members(
        self, keys: Sequence[str], high: Sequence[str], offsets: Sequence[int], count: int
    ) -> list[list[tuple[str, float]]]:
        """Per key, `count` members from its offset with a score up to its `high`,
        lowest score first, with their scores."""
        pipe = self.redis.pipeline(transaction=False)
        for key, top, offset in zip(keys, high, offsets, strict=True):
            pipe.zrangebyscore(key, "-inf", top, start=offset, num=count, withscores=True)
        return [[(m.decode(), s) for m, s in reply] for reply in await pipe.execute()]
