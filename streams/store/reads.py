"""What the API reads (and the few things an administrator writes)."""

from __future__ import annotations

import json
from typing import Any

from rules.addresses import address_key, normalize_address
from rules.jsoncodec import dumps
from rules.ruleset import RuleSet
from rules.state import EnterpriseState
from rules.timeline import unpack_snapshot
from streams.store import members
from streams.store.base import StoreBase, epoch, stored_state


class ReadStore(StoreBase):
    async def get_enterprise(self, uscc: str) -> EnterpriseState | None:
        raw: Any = await self.redis.get(self._ent(uscc, "state"))
        return stored_state(raw) if raw else None

    async def enterprise_known(self, uscc: str) -> bool:
        """Whether the enterprise has a state, without reading it."""
        return bool(await self.redis.exists(self._ent(uscc, "state")))

    async def enterprise_warnings(self, uscc: str, limit: int) -> list[dict[str, Any]]:
        """The enterprise's warning records (raised and closed), newest first."""
        return [
            json.loads(w)
            for w in await self.redis.lrange(self._ent(uscc, "warnings"), 0, limit - 1)
        ]

    async def timeline(self, uscc: str) -> list[dict[str, Any]]:
        """The enterprise's grade snapshots, oldest first (rules/timeline.py)."""
        entries: Any = await self.redis.zrange(self._ent(uscc, "timeline"), 0, -1)
        return [dict(unpack_snapshot(e)) for e in entries]

    async def as_of(self, uscc: str, at: str, inclusive: bool = True) -> dict[str, Any] | None:
        """The snapshot in force at `at` (UTC ISO): the last one at or before it (before
        it, when not `inclusive`)."""
        bound = epoch(at) if inclusive else f"({epoch(at)}"
        found: Any = await self.redis.zrevrangebyscore(
            self._ent(uscc, "timeline"), bound, "-inf", start=0, num=1
        )
        return dict(unpack_snapshot(found[0])) if found else None

    async def scan_stream(
        self, stream: str, *, before: str | None, since_ms: int | None, chunk: int = 500
    ) -> Any:
        """Entries of an output stream, newest first: async iterator of (id, record)."""
        upper = f"({before}" if before else "+"
        lower = str(since_ms) if since_ms is not None else "-"
        while True:
            entries: Any = await self.redis.xrevrange(stream, upper, lower, count=chunk)
            for entry_id, fields in entries:
                yield entry_id.decode(), json.loads(fields[b"data"])
            if len(entries) < chunk:
                return
            upper = f"({entries[-1][0].decode()}"

    # --- the rule set in force ------------------------------------------------------
    async def get_ruleset(self) -> RuleSet | None:
        """The rule set published to the workers, or None (they use the defaults)."""
        body = await self.redis.hget(self.ruleset_key, "body")
        return RuleSet.from_json(body) if body else None

    async def put_ruleset(self, ruleset: RuleSet) -> None:
        """Publish a rule set: running workers pick it up at their next batch."""
        await self.redis.hset(
            self.ruleset_key, mapping={"version": ruleset.version, "body": ruleset.to_json()}
        )

    # --- the address allow-list -----------------------------------------------------
    async def allowed_addresses(self) -> list[str]:
        members: Any = await self.redis.smembers(self.allowlist)
        return sorted(a.decode() for a in members)

    async def allow_address(self, address: str) -> bool:
        """Approve an address (normalized here); the firms there are re-evaluated."""
        return await self._set_allowed(address, True)

    async def disallow_address(self, address: str) -> bool:
        """Withdraw an approval; the firms there are re-evaluated."""
        return await self._set_allowed(address, False)

    async def _set_allowed(self, address: str, allowed: bool) -> bool:
        normalized = normalize_address(address)
        akey = address_key(normalized)
        keys = [self.allowlist, (await self._layout()).address_bucket(akey), self.nudges]
        args = [normalized, "add" if allowed else "remove", members.member_id(akey)]
        return bool(await self._allow_address(keys=keys, args=args))

    # --- grade overrides ------------------------------------------------------------
    async def set_override(
        self, uscc: str, override: dict[str, Any], audit: dict[str, Any]
    ) -> None:
        """Put a regulator's grade in force; the worker re-evaluates the enterprise at
        once, as of the moment it was set."""
        await self._write_override(uscc, dumps(override), audit, override["set_at"])

    async def lift_override(self, uscc: str, audit: dict[str, Any]) -> bool:
        """Lift an override before it expires; False if there was none."""
        return await self._write_override(uscc, "", audit, audit["at"])

    async def _write_override(self, uscc: str, body: str, audit: dict[str, Any], at: str) -> bool:
        keys = [self.overrides, self.override_audit, self.nudges]
        args: list[str | int] = [uscc, body, dumps(audit), epoch(at), self.maxlen]
        return bool(await self._override(keys=keys, args=args))

    async def overrides_in_store(self) -> dict[str, dict[str, Any]]:
        """USCC -> override, as stored (expired ones stay until lifted or replaced)."""
        found: Any = await self.redis.hgetall(self.overrides)
        return {k.decode(): json.loads(v) for k, v in found.items()}

    async def get_override(self, uscc: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(self.overrides, uscc)
        return json.loads(raw) if raw else None
