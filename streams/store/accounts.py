"""Accounts, API keys (hashed at rest), rate-limit logs and the access log.

An API key is only ever stored as its SHA-256: keys are long random strings, so a fast
hash is enough and a leaked database gives no usable key.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.jsoncodec import dumpb, dumps, loads
from streams.store.base import StoreBase


@dataclass(frozen=True)
class Admission:
    """A request against its caller's rate limit: admitted or not, the requests in the
    window (this one included if admitted), and how long until one more would be."""

    admitted: bool
    limit: int
    used: int
    wait_us: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


class AccountStore(StoreBase):
    async def put_account(self, account: dict[str, Any]) -> None:
        await self.redis.hset(self.accounts, account["account_id"], dumps(account))

    async def get_account(self, account_id: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(self.accounts, account_id)
        return loads(raw) if raw else None

    async def list_accounts(self) -> list[dict[str, Any]]:
        found: Any = await self.redis.hvals(self.accounts)
        return sorted((loads(v) for v in found), key=lambda a: a["account_id"])

    async def put_key(self, key_hash: str, record: dict[str, Any]) -> None:
        await self.redis.hset(self.api_keys, key_hash, dumps(record))

    async def list_keys(self) -> list[tuple[str, dict[str, Any]]]:
        """(key hash, record) of every key, revoked ones included."""
        found: Any = await self.redis.hgetall(self.api_keys)
        return [(k.decode(), loads(v)) for k, v in found.items()]

    async def authenticate(
        self, key_hash: str, window_s: float, role_limits: Mapping[str, int]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, Admission]:
        """(key record, account, whether this request is admitted by the key's sliding
        window of `window_s`); the limit is the account's `rate_limit`, else its role's
        in `role_limits`. An unknown key, or one without an account, is not counted."""
        log = f"{self.prefix}:rate:{key_hash[:16]}"
        found = await self._authenticate(
            keys=[self.api_keys, self.accounts, log],
            args=[key_hash, int(window_s * 1e6), secrets.token_hex(8), json.dumps(role_limits)],
        )
        key, account, (admitted, used, wait_us), limit = found
        return (
            loads(key) if key else None,
            loads(account) if account else None,
            Admission(bool(admitted), int(limit), int(used), int(wait_us)),
        )

    async def admit_request(self, who: str, limit: int, window_s: float) -> Admission:
        """Count a request of a caller without an account key (by address, or the
        bootstrap admin key) in its sliding window, unless it is over `limit`."""
        log = f"{self.prefix}:rate:anon:{who}"
        args: list[int | str] = [limit, int(window_s * 1e6), secrets.token_hex(8)]
        admitted, used, wait_us = await self._admit(keys=[log], args=args)
        return Admission(bool(admitted), limit, int(used), int(wait_us))

    # --- the access log (监管留痕) ----------------------------------------------------
    async def log_access_many(self, records: list[dict[str, Any]]) -> None:
        """Append records in order, in one round trip and one MULTI/EXEC: a batch is
        applied whole or not at all."""
        pipe = self.redis.pipeline(transaction=True)
        for record in records:
            pipe.xadd(self.access_log, {"data": dumpb(record)}, maxlen=self.maxlen * 10)
        await pipe.execute()
