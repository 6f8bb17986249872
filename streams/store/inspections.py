"""Inspection plans (双随机、一公开): the plans, their population snapshots and the audit
of every draw. The API writes them; the draw itself is rules/inspections.py.

Keys:
  {prefix}:inspection-plans               plan_id -> plan (JSON, without its snapshot)
  {prefix}:inspection-plans:by-time       plan_ids by drawn_at (epoch seconds)
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

    async def save_plan(
        self, plan: dict[str, Any], population: list[dict[str, Any]], audit: dict[str, Any]
    ) -> None:
        """Store a plan, its snapshot and its audit record in one transaction: no plan
        without its audit record, and no audit record of a plan that is not there."""
        plan_id = plan["plan_id"]
        # the snapshot of a city is large and repetitive: compressed about tenfold
        blob = zlib.compress(dumps(population).encode(), 6)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.inspection_plans, plan_id, dumps(plan))
        pipe.zadd(f"{self.inspection_plans}:by-time", {plan_id: epoch(plan["drawn_at"])})
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

    async def list_plans(self) -> list[dict[str, Any]]:
        """Every plan, newest first."""
        ids: Any = await self.redis.zrevrange(f"{self.inspection_plans}:by-time", 0, -1)
        if not ids:
            return []
        found: Any = await self.redis.hmget(self.inspection_plans, ids)
        return [json.loads(raw) for raw in found if raw]

    async def inspection_audit_records(self, limit: int) -> list[dict[str, Any]]:
        """The latest audit records of draws, newest first."""
        entries: Any = await self.redis.xrevrange(self.inspection_audit, count=limit)
        return [json.loads(fields[b"data"]) for _id, fields in entries]

    async def enter_result(
        self, plan_id: str, uscc: str, record: dict[str, Any], audit: dict[str, Any]
    ) -> bool:
        """Record a target's result as entered (a later entry replaces it) with its
        audit record, and hand it to the rules: the firm's entered results, with a
        nudge to re-evaluate it as of `record["at"]`, in one step. Whether what the
        rules read changed (not for the same result at the same time again)."""
        keys = [
            f"{self.prefix}:inspection-plan:{plan_id}:results",
            self.entered_results_key,
            self.nudges,
            self.inspection_audit,
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
        found: Any = await self.redis.hgetall(f"{self.prefix}:inspection-plan:{plan_id}:results")
        return {k.decode(): json.loads(v) for k, v in found.items()}
