"""The day index of label expiries: which enterprises hold a model sample whose label
resolves on a given Beijing day (rules/learning/samples.py). One entry per day, not a
timer per sample: the timers' loop sweeps each day as the clock passes its start
(agents/timers.py), and the worker releases those firms' labels without evaluating
their rules.

Keys: `cw:label-days` (day ISO -> its start in epoch seconds) and `cw:label-firms:DAY`
(the USCCs due that day, as the fields of a hash with empty values: Redis keeps a hash
of up to 512 fields compact, where a set of strings costs about four times the bytes;
`cw:label-day:DAY`, the set written before, is still read and emptied). The commit
script, and the sweep's (lua/sweep.lua: a firm only swept writes its labels and its
state, nothing else, which is all a sweep changes), add their enterprise to the day
before they write its state, and take it off its previous day after (`label_day_keys`,
lua/lib/label_day.lua): a sweep may find a firm with nothing left to release (a
no-op), never miss one."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from rules.calendar import day_start
from streams.store.base import StoreBase, epoch


class LabelDayStore(StoreBase):
    def _label_day(self, day: str) -> str:
        return f"{self.prefix}:label-firms:{day}"

    def _label_day_set(self, day: str) -> str:
        """The day's firms as a set, as written before."""
        return f"{self.prefix}:label-day:{day}"

    def label_day_keys(self, day: str | None, left: str | None) -> tuple[str, str, str]:
        """The commit script's keys of the firms of `day`, the day (ISO) its next label
        resolves on, and of `left`, the day it resolved on before, in both forms (the
        days' index itself where there is none: a key the script declares but does not
        touch)."""
        return (
            self._label_day(day) if day else self.label_days,
            self._label_day(left) if left else self.label_days,
            self._label_day_set(left) if left else self.label_days,
        )

    @staticmethod
    @lru_cache(maxsize=1024)
    def label_day_start(day: str | None) -> str:
        """The day's score in the days' index: its start (epoch seconds), '' for none."""
        return epoch(day_start(date.fromisoformat(day))) if day else ""

    async def due_label_days(self, now: float, limit: int = 100) -> list[tuple[str, float]]:
        """The days whose start is at or before `now` (epoch seconds), earliest first:
        (day ISO, its start)."""
        due: Any = await self.redis.zrangebyscore(
            self.label_days, "-inf", now, start=0, num=limit, withscores=True
        )
        return [(day.decode(), score) for day, score in due]

    async def label_day_firms(self, day: str) -> list[str]:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hkeys(self._label_day(day))
        pipe.smembers(self._label_day_set(day))
        fields, members = await pipe.execute()
        return sorted({u.decode() for u in (*fields, *members)})

    async def clear_label_day(self, day: str, handed_out: list[str]) -> bool:
        """Remove the firms handed out; the day too when none is left. Whether it went."""
        keys = [self.label_days, self._label_day(day), self._label_day_set(day)]
        return bool(await self._clear_label_day(keys=keys, args=[day, *handed_out]))
