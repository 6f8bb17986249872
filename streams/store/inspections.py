"""Inspection plans (双随机、一公开): the plans, their population snapshots and the audit
of every draw. The API writes them; the draw itself is rules/inspections.py.

Keys:
  {prefix}:inspection-plans               plan_id -> plan (JSON, without its snapshot)
  {prefix}:inspection-plans:by-time       plan_ids by drawn_at (epoch seconds)
  {prefix}:inspection-plans:by-scope:S    the same, of the plans a caller scoped to
                                          district S sees (rules/plan_listing.py)
  {prefix}:inspection-plans:summaries     plan_id -> what the list shows of it (JSON)
  {prefix}:inspection-plans:results-entered  plan_id -> how many of its targets have
                                          a result entered (enter_result.lua)
  {prefix}:inspection-plan:ID:population  the population snapshot (zlib'd JSON): with
                                          the parameters and the seed, enough to redraw
  {prefix}:inspection-plan:ID:results     USCC -> the result entered for a target (JSON:
                                          result, findings, by, at)
  {prefix}:entered-results                USCC -> {plan_id: {result, at}}: the results
                                          entered for the firm as the rules read them
                                          (rules/entered_results.py), loaded by the
                                          worker with the state; an entry that changes
                                          it nudges the firm ({prefix}:nudges)
  {prefix}:inspection-audit               every draw (who, when, plan_id, seed, counts,
                                          population digest) and every result entered
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from rules import plan_listing
from rules.jsoncodec import dumps
from streams.store.base import StoreBase, epoch


class InspectionStore(StoreBase):
    @property
    def inspection_plans(self) -> str:
        return f"{self.prefix}:inspection-plans"

    @property
    def inspection_audit(self) -> str:
        return f"{self.prefix}:inspection-audit"

    def _population_key(self, plan_id: str) -> str:
        return f"{self.prefix}:inspection-plan:{plan_id}:population"

    def _results_key(self, plan_id: str) -> str:
        return f"{self.prefix}:inspection-plan:{plan_id}:results"

    def _plan_index(self, scope: str | None) -> str:
        """The plans a caller of this district scope sees, by drawn_at."""
        if scope is None:
            return f"{self.inspection_plans}:by-time"
        return f"{self.inspection_plans}:by-scope:{scope}"

    async def save_plan(
        self, plan: dict[str, Any], population: list[dict[str, Any]], audit: dict[str, Any]
    ) -> None:
        """Store a plan, its snapshot and its audit record in one transaction: no plan
        without its audit record, and no audit record of a plan that is not there."""
        plan_id = plan["plan_id"]
        # the snapshot of a city is large and repetitive: compressed about tenfold
        blob = zlib.compress(dumps(population).encode(), 6)
        pipe = self.redis.pipeline(transaction=True)
        drawn_at = epoch(plan["drawn_at"])
        pipe.hset(self.inspection_plans, plan_id, dumps(plan))
        pipe.hset(f"{self.inspection_plans}:summaries", plan_id, dumps(plan_listing.summary(plan)))
        pipe.hset(f"{self.inspection_plans}:results-entered", plan_id, 0)
        for scope in [None, *plan_listing.scopes(plan["districts"])]:
            pipe.zadd(self._plan_index(scope), {plan_id: drawn_at})
        pipe.set(self._population_key(plan_id), blob)
        pipe.xadd(self.inspection_audit, {"data": dumps(audit)}, maxlen=self.maxlen)
        await pipe.execute()

    async def get_plan(self, plan_id: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(self.inspection_plans, plan_id)
        return json.loads(raw) if raw else None

    async def plan_population(self, plan_id: str) -> list[dict[str, Any]] | None:
        """The population snapshot recorded with a plan, or None."""
        blob: Any = await self.redis.get(self._population_key(plan_id))
        if blob is None:
            return None
        found: list[dict[str, Any]] = json.loads(zlib.decompress(blob))
        return found

    async def list_plans(
        self, scope: str | None, limit: int, before: str | None = None
    ) -> list[dict[str, Any]] | None:
        """The summaries of the plans a caller of this district scope sees (all for
        None), newest first, `limit` of them after the plan `before` (None if that is
        not one of them), each with its `results_entered`. Read from the summaries
        kept with the plans; those of plans drawn before they were kept are written
        on the first read that misses them (`_summarise`)."""
        summaries = f"{self.inspection_plans}:summaries"
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcard(self._plan_index(None))
        pipe.hlen(summaries)
        plans, summarised = await pipe.execute()
        if summarised < plans:  # the scopes' indexes lack those plans too
            ids: Any = await self.redis.zrange(self._plan_index(None), 0, -1)
            kept: Any = await self.redis.hmget(summaries, ids)
            await self._summarise([i.decode() for i, k in zip(ids, kept, strict=True) if not k])
        keys = [self._plan_index(scope), summaries, f"{self.inspection_plans}:results-entered"]
        rows = await self._plan_page(keys, before, limit)
        if rows is None:
            return None
        if missing := [plan_id for plan_id, raw, count in rows if raw is None or count is None]:
            await self._summarise(missing)  # saved by an older version since the check
            rows = await self._plan_page(keys, before, limit) or []
        return [
            {**json.loads(raw), "results_entered": int(count)}
            for _, raw, count in rows
            if raw is not None and count is not None
        ]

    async def _plan_page(
        self, keys: list[str], before: str | None, limit: int
    ) -> list[tuple[str, bytes | None, bytes | None]] | None:
        found: Any = await self._list_plans(keys=keys, args=[before or "", limit])
        if found is None:
            return None
        return [(found[i].decode(), found[i + 1], found[i + 2]) for i in range(0, len(found), 3)]

    async def _summarise(self, plan_ids: list[str]) -> None:
        """Write the summaries of plans drawn before summaries were kept, reading each
        plan in full once, and put them in their scopes' indexes."""
        for plan_id in plan_ids:
            plan = await self.get_plan(plan_id)
            if plan is None:  # in the index without its plan: nothing to list
                await self.redis.zrem(self._plan_index(None), plan_id)
                continue
            scopes = [self._plan_index(s) for s in plan_listing.scopes(plan["districts"])]
            keys = [
                f"{self.inspection_plans}:summaries",
                f"{self.inspection_plans}:results-entered",
                self._results_key(plan_id),
                *scopes,
            ]
            args = [plan_id, dumps(plan_listing.summary(plan)), epoch(plan["drawn_at"])]
            await self._summarise_plan(keys=keys, args=args)

    async def inspection_audit_records(self, limit: int) -> list[dict[str, Any]]:
        """The latest audit records of draws, newest first."""
        entries: Any = await self.redis.xrevrange(self.inspection_audit, count=limit)
        return [json.loads(fields[b"data"]) for _id, fields in entries]

    async def enter_result(
        self, plan_id: str, uscc: str, record: dict[str, Any], audit: dict[str, Any]
    ) -> bool:
        """Record a target's result as entered (a later entry replaces it) with its
        audit record, and hand it to the rules: the firm's entered results, with a
        nudge to re-evaluate it as of `record["at"]`, and the target's first result
        counted in the plan's results entered, in one step. Whether what the rules
        read changed (not for the same result at the same time again)."""
        keys = [
            self._results_key(plan_id),
            self.entered_results_key,
            self.nudges,
            self.inspection_audit,
            f"{self.inspection_plans}:results-entered",
        ]
        args: list[str | int] = [
            uscc,
            dumps(record),
            plan_id,
            record["result"],
            record["at"],
            epoch(record["at"]),
            dumps(audit),
            self.maxlen,
        ]
        return bool(await self._enter_result(keys=keys, args=args))

    async def entered_results(self, plan_id: str) -> dict[str, dict[str, Any]]:
        """USCC -> the result entered for that target of the plan."""
        found: Any = await self.redis.hgetall(self._results_key(plan_id))
        return {k.decode(): json.loads(v) for k, v in found.items()}
