"""Candidate rule sets, their backtests, and the history of the rule sets published.
The API writes them; the comparison itself is rules/backtest.py.

Keys:
  {prefix}:ruleset-candidates     candidate_id -> {candidate_id, version, body (the rule
                                  set's JSON), uploaded_by, uploaded_at}
  {prefix}:ruleset-backtests      job_id -> a backtest: candidate, status, progress and,
                                  once done, its figures (JSON)
  {prefix}:backtests-running      job_id -> its lease's expiry (Redis's clock, ms): the
                                  backtests running city-wide, each renewed by the API
                                  process running it (the live slots' scripts,
                                  lua/live_claim.lua, with no groups)
  {prefix}:backtests-open         the job ids whose record says running (a job's record
                                  leaves it when written otherwise): the records to check
                                  for a lapsed lease without reading every backtest's
  {prefix}:ruleset-history        every rule set published: version, by, at, candidate
                                  (a stream, oldest first)
  {prefix}:rules-audit            every upload, backtest, publication and deletion: who,
                                  what, when
"""

from __future__ import annotations

import json
from typing import Any

from redis.exceptions import WatchError

from rules.jsoncodec import dumps
from rules.ruleset import RuleSet
from streams.store.base import StoreBase


class RulesetStore(StoreBase):
    @property
    def ruleset_candidates(self) -> str:
        return f"{self.prefix}:ruleset-candidates"

    @property
    def ruleset_backtests(self) -> str:
        return f"{self.prefix}:ruleset-backtests"

    @property
    def ruleset_history(self) -> str:
        return f"{self.prefix}:ruleset-history"

    @property
    def rules_audit(self) -> str:
        return f"{self.prefix}:rules-audit"

    async def put_candidate(self, candidate: dict[str, Any], audit: dict[str, Any]) -> None:
        """Store a candidate (not in force) and its audit record together."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.ruleset_candidates, candidate["candidate_id"], dumps(candidate))
        pipe.xadd(self.rules_audit, {"data": dumps(audit)}, maxlen=self.maxlen)
        await pipe.execute()

    async def delete_candidate(self, candidate_id: str, audit: dict[str, Any]) -> None:
        """Remove a candidate (its backtests' records stay) with its audit record."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(self.ruleset_candidates, candidate_id)
        pipe.xadd(self.rules_audit, {"data": dumps(audit)}, maxlen=self.maxlen)
        await pipe.execute()

    async def get_candidate(self, candidate_id: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(self.ruleset_candidates, candidate_id)
        return json.loads(raw) if raw else None

    async def list_candidates(self) -> list[dict[str, Any]]:
        """Every candidate, newest first."""
        found: Any = await self.redis.hvals(self.ruleset_candidates)
        return sorted((json.loads(v) for v in found), key=lambda c: c["uploaded_at"])[::-1]

    async def publish_ruleset(
        self, ruleset: RuleSet, entry: dict[str, Any], audit: dict[str, Any]
    ) -> None:
        """Put a rule set in force (running workers pick it up at their next batch),
        with its history entry and audit record, in one transaction."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.ruleset_key, mapping={"version": ruleset.version, "body": ruleset.to_json()})
        pipe.xadd(self.ruleset_history, {"data": dumps(entry)}, maxlen=self.maxlen)
        pipe.xadd(self.rules_audit, {"data": dumps(audit)}, maxlen=self.maxlen)
        await pipe.execute()

    async def mark_published(self, candidate_id: str, at: str) -> None:
        """Note on a candidate when it was put in force."""
        candidate = await self.get_candidate(candidate_id)
        if candidate is not None:
            candidate["published_at"] = at
            await self.redis.hset(self.ruleset_candidates, candidate_id, dumps(candidate))

    async def ruleset_versions(self, limit: int) -> list[dict[str, Any]]:
        """The rule sets published, newest first."""
        entries: Any = await self.redis.xrevrange(self.ruleset_history, count=limit)
        return [json.loads(fields[b"data"]) for _id, fields in entries]

    async def rules_audit_records(self, limit: int) -> list[dict[str, Any]]:
        entries: Any = await self.redis.xrevrange(self.rules_audit, count=limit)
        return [json.loads(fields[b"data"]) for _id, fields in entries]

    async def put_backtest(self, job: dict[str, Any], audit: dict[str, Any] | None = None) -> None:
        """Write a backtest's record (its progress, then its figures); with `audit`, the
        audit record of starting it too."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.ruleset_backtests, job["job_id"], dumps(job))
        self._note_open(pipe, job)
        if audit is not None:
            pipe.xadd(self.rules_audit, {"data": dumps(audit)}, maxlen=self.maxlen)
        await pipe.execute()

    async def get_backtest(self, job_id: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(self.ruleset_backtests, job_id)
        return json.loads(raw) if raw else None

    @property
    def _backtests_open(self) -> str:
        return f"{self.prefix}:backtests-open"

    def _note_open(self, pipe: Any, job: dict[str, Any]) -> None:
        """Keep the set of jobs recorded running in step with the job's record."""
        if job.get("status") == "running":
            pipe.sadd(self._backtests_open, job["job_id"])
        else:
            pipe.srem(self._backtests_open, job["job_id"])

    async def running_backtests(self) -> list[dict[str, Any]]:
        """The records that say running (whether their leases still hold or not)."""
        members: Any = await self.redis.smembers(self._backtests_open)
        ids = sorted(m.decode() for m in members)
        if not ids:
            return []
        raws = await self.redis.hmget(self.ruleset_backtests, ids)
        jobs = [json.loads(raw) if raw else None for raw in raws]
        return [job for job in jobs if job is not None and job.get("status") == "running"]

    # --- the backtests running city-wide: one expiring lease each -----------------------
    @property
    def _backtests_running(self) -> str:
        return f"{self.prefix}:backtests-running"

    async def claim_backtest_slot(self, job_id: str, lease_ms: int, cap: int) -> tuple[bool, int]:
        """Take a slot for the job unless `cap` jobs hold live leases: (taken, held now)."""
        args: list[int | str] = [job_id, lease_ms, cap, "", 1]
        taken, held = await self._live_claim(keys=[self._backtests_running], args=args)
        return bool(taken), int(held)

    async def renew_backtest_slot(self, job_id: str, lease_ms: int) -> None:
        await self._live_renew(keys=[self._backtests_running], args=[job_id, lease_ms])

    async def release_backtest_slot(self, job_id: str) -> None:
        await self.redis.zrem(self._backtests_running, job_id)

    async def backtest_leased(self, job_id: str) -> bool:
        """Whether the job's lease is live (by Redis's clock): its process still runs it."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.zscore(self._backtests_running, job_id)
        pipe.time()
        expiry, (seconds, micros) = await pipe.execute()
        return expiry is not None and float(expiry) > seconds * 1000 + micros // 1000

    async def update_backtest(self, job: dict[str, Any], only_if: str = "running") -> bool:
        """Write the job's record only while the stored one's status is `only_if` (a
        job cancelled or given up meanwhile is not written over); whether it was."""
        while True:
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(self.ruleset_backtests)
                    raw = await pipe.hget(self.ruleset_backtests, job["job_id"])
                    if raw is None or json.loads(raw).get("status") != only_if:
                        return False
                    pipe.multi()
                    pipe.hset(self.ruleset_backtests, job["job_id"], dumps(job))
                    self._note_open(pipe, job)
                    await pipe.execute()
                    return True
                except WatchError:
                    continue  # another job's record changed meanwhile
