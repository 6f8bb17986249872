"""The day index of label expiries: which enterprises hold a model sample whose label
resolves on a given Beijing day (rules/learning/samples.py). One entry per day, not a
timer per sample: the timers' loop sweeps each day as the clock passes its start
(agents/timers.py), and the worker releases those firms' labels without evaluating
their rules.

Keys: `cw:label-days` (day ISO -> its start in epoch seconds) and `cw:label-day:DAY`
(the USCCs due that day). A commit adds its enterprise before its state is written, and
takes it off its previous day only after, so the index may name a firm with nothing left
to release (the sweep is then a no-op), never miss one."""

from __future__ import annotations

from datetime import date
from typing import Any

from rules.calendar import day_start
from streams.store.base import StoreBase, epoch


class LabelDayStore(StoreBase):
    def _label_day(self, day: str) -> str:
        return f"{self.prefix}:label-day:{day}"

    def index_label_day(self, pipe: Any, uscc: str, day: str | None) -> None:
        """Queue on `pipe` the commands that list `uscc` under `day` (ISO), if any."""
        if day:
            pipe.zadd(self.label_days, {day: epoch(day_start(date.fromisoformat(day)))})
            pipe.sadd(self._label_day(day), uscc)

    async def unlist_label_days(self, moved: list[tuple[str, str]]) -> None:
        """Take each (USCC, day) off the day: its commit moved it to another, so that
        day's sweep would find nothing to release. Only after the commit took effect
        (a commit that lost a race leaves the state, and its day, as they were)."""
        if not moved:
            return
        pipe = self.redis.pipeline(transaction=False)
        for uscc, day in moved:
            pipe.srem(self._label_day(day), uscc)
        await pipe.execute()

    async def due_label_days(self, now: float, limit: int = 100) -> list[tuple[str, float]]:
        """The days whose start is at or before `now` (epoch seconds), earliest first:
        (day ISO, its start)."""
        due: Any = await self.redis.zrangebyscore(
            self.label_days, "-inf", now, start=0, num=limit, withscores=True
        )
        return [(day.decode(), score) for day, score in due]

    async def label_day_firms(self, day: str) -> list[str]:
        members: Any = await self.redis.smembers(self._label_day(day))
        return sorted(u.decode() for u in members)

    async def clear_label_day(self, day: str, handed_out: list[str]) -> bool:
        """Remove the firms handed out; the day too when none is left. Whether it went."""
        keys = [self.label_days, self._label_day(day)]
        return bool(await self._clear_label_day(keys=keys, args=[day, *handed_out]))
