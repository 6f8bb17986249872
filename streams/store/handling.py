"""The warning workbench (风险研判处置): who a warning is assigned to, what was done
about it, rules snoozed for one firm, and the audit of every such action. The API
writes them; nothing here decides, the API's handlers build the records.

Keys:
  {prefix}:{USCC}:handling        field -> JSON: `a:WARNING_ID` its assignment,
                                  `d:WARNING_ID` its latest disposition, `s:RULE_ID` the
                                  rule's latest snooze for this firm (kept once lifted or
                                  over, so earlier warnings still read as snoozed)
  {prefix}:{USCC}:handling-log    every action on the firm, newest first (1,000 kept):
                                  its history
  {prefix}:{USCC}:handling-idem:FIELD:K
                                  an action's answer under its Idempotency-Key (expires)
  {prefix}:warning-audit          every action: who, what, when, why (a stream)
  {prefix}:disposition-counts     `RULE_ID|DISPOSITION` -> warnings whose latest
                                  disposition it is (the false-alarm rate per rule)
  {prefix}:dispositions           USCC -> {WARNING_ID: its latest disposition as the
                                  rules read it (rules/dispositions.py)}: loaded by the
                                  worker with the state, as overrides are
  {prefix}:nudges                 a disposition re-evaluates its firm as of its time
  {prefix}:ix:assigned:a:ACCOUNT, {prefix}:ix:assigned:u:UNIT
                                  the warnings (`USCC|WARNING_ID`) whose latest
                                  assignment is to that account or unit, by the time
                                  assigned: warnings by assignee

One action is one Lua step (lua/handle.lua), so two at once cannot lose one: an action
decided from the field's value (a snooze keeps the start of one in force; a lift needs
one in force) passes that value, and is refused and decided again if it changed. Its
enterprise keys share a hash tag; the audit stream, the counts, the judgements and the
nudges are global, as the override audit is (docs/redis-cluster.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final, Literal

from rules.jsoncodec import dumps
from streams.store.base import StoreBase, epoch

#: how long an Idempotency-Key's answer is kept
IDEMPOTENCY_TTL_S = 24 * 3600
Applied = Literal["applied", "repeated", "changed"]


class _Any:
    """`expected` left out: the action does not depend on the field's value."""


ANY: Final = _Any()
Expected = dict[str, Any] | None | _Any


class HandlingStore(StoreBase):
    @property
    def _disposition_counts(self) -> str:
        return f"{self.prefix}:disposition-counts"

    async def handle_warning(
        self,
        uscc: str,
        field: str,
        value: dict[str, Any],
        audit: dict[str, Any],
        answer: dict[str, Any],
        idempotency_key: str | None = None,
        count_rule: str = "",
        judgement: dict[str, Any] | None = None,
        expected: Expected = ANY,
    ) -> tuple[Applied, dict[str, Any] | None]:
        """Write one action: `field` of the firm's handling record, its log and audit
        entries (and, for a disposition, `count_rule`'s counts and the `judgement` the
        rules read, with a nudge to re-evaluate the firm as of its time), in one step.

        Returns (applied, answer): "applied" and the answer given; "repeated" and the
        first call's answer for an Idempotency-Key seen before; "changed" and the
        field's value now (None: absent) when `expected` (the value the action was
        decided from, None for absent) no longer holds: nothing was written."""
        keys = [
            self._ent(uscc, "handling"),
            self._ent(uscc, "handling-log"),
            self.handling_audit,
            self._disposition_counts,
            # per field: one key reused for another action or warning is another action
            self._ent(uscc, f"handling-idem:{field}:{idempotency_key or ''}"),
            self.dispositions,
            self.nudges,
        ]
        ttl = IDEMPOTENCY_TTL_S if idempotency_key else 0
        if expected is ANY:
            expect = ""
        elif expected is None:
            expect = "-"
        else:
            expect = "=" + dumps(expected)
        args: list[str | int] = [
            field,
            dumps(value),
            dumps(audit),
            dumps(answer),
            self.maxlen,
            ttl,
            count_rule,
            dumps(judgement) if judgement else "",
            uscc,
            epoch(judgement["at"]) if judgement else "0",
            expect,
            f"{self.prefix}:ix:assigned:",
            f"{uscc}|{field.partition(':')[2]}",
        ]
        status, body = await self._handle(keys=keys, args=args)
        if status == 2:
            return "changed", json.loads(body) if body else None
        return ("applied" if status == 1 else "repeated"), json.loads(body)

    async def handling(self, uscc: str) -> dict[str, dict[str, Any]]:
        """The firm's handling record: field -> value (see the keys above)."""
        found: Any = await self.redis.hgetall(self._ent(uscc, "handling"))
        return {k.decode(): json.loads(v) for k, v in found.items()}

    async def handlings(self, usccs: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """Several firms' handling records in one round trip (firms with none left out)."""
        if not usccs:
            return {}
        pipe = self.redis.pipeline(transaction=False)
        for uscc in usccs:
            pipe.hgetall(self._ent(uscc, "handling"))
        found = await pipe.execute()
        return {
            uscc: {k.decode(): json.loads(v) for k, v in record.items()}
            for uscc, record in zip(usccs, found, strict=True)
            if record
        }

    async def handling_log(self, uscc: str, limit: int = 1000) -> list[dict[str, Any]]:
        """The actions on the firm, newest first."""
        found: Any = await self.redis.lrange(self._ent(uscc, "handling-log"), 0, limit - 1)
        return [json.loads(entry) for entry in found]

    async def assigned_warnings(
        self, account_id: str | None = None, unit: str | None = None, limit: int = 200
    ) -> list[tuple[str, str]]:
        """(USCC, warning id) of the warnings whose latest assignment is to this account
        (or unit), the newest assignment first."""
        who = f"a:{account_id}" if account_id is not None else f"u:{unit}"
        found: Any = await self.redis.zrevrange(f"{self.prefix}:ix:assigned:{who}", 0, limit - 1)
        pairs = (m.decode().partition("|") for m in found)
        return [(uscc, wid) for uscc, _, wid in pairs]

    async def assigned_after(
        self,
        who: str,
        before: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[int, str, str]]:
        """A page of the assignee index `who` (`a:ACCOUNT` or `u:UNIT`): (time assigned,
        USCC, warning id), the newest assignment first, after `before` (the score and
        member of the last one read; None: from the newest)."""
        key = f"{self.prefix}:ix:assigned:{who}"
        top: int | str = "+inf" if before is None else before[0]
        skip = 0
        while True:  # ties with the cursor's score that sort at or before it are read again
            found: Any = await self.redis.zrevrangebyscore(
                key, top, "-inf", start=skip, num=limit + skip, withscores=True
            )
            rows = []
            for raw, score in found:
                member = raw.decode()
                if before is not None and int(score) == before[0] and member >= before[1]:
                    continue
                uscc, _, wid = member.partition("|")
                rows.append((int(score), uscc, wid))
            if rows or len(found) < limit + skip:
                return rows[:limit]
            skip += len(found)

    async def disposition_counts(self) -> dict[tuple[str, str], int]:
        """(rule_id, disposition) -> warnings whose latest disposition it is."""
        found: Any = await self.redis.hgetall(self._disposition_counts)
        counts: dict[tuple[str, str], int] = {}
        for key, n in found.items():
            rule_id, _, disposition = key.decode().partition("|")
            counts[(rule_id, disposition)] = int(n)
        return counts
