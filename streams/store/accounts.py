"""Accounts, API keys (hashed at rest), rate-limit counters and the access log.

An API key is only ever stored as its SHA-256: keys are long random strings, so a fast
hash is enough and a leaked database gives no usable key.
"""

from __future__ import annotations

from typing import Any

from rules.jsoncodec import dumpb, dumps, loads
from streams.store.base import StoreBase


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
        self, key_hash: str, window_s: int, window: int
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, int]:
        """(key record, account, requests of this key in the window so far, this one
        included); (None, None, 0) for an unknown key."""
        counter = f"{self.prefix}:rate:{key_hash[:16]}:{window}"
        keys = [self.api_keys, self.accounts, counter]
        key, account, used = await self._authenticate(keys=keys, args=[key_hash, window_s])
        return (
            loads(key) if key else None,
            loads(account) if account else None,
            int(used),
        )

    async def count_request(self, who: str, window_s: int, window: int) -> int:
        """Count an anonymous caller's request (by address) in the rate window."""
        counter = f"{self.prefix}:rate:anon:{who}:{window}"
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(counter)
        pipe.expire(counter, window_s * 2, nx=True)
        used, _ = await pipe.execute()
        return int(used)

    # --- the access log (监管留痕) ----------------------------------------------------
    async def log_access_many(self, records: list[dict[str, Any]]) -> None:
        """Append records in order, in one round trip and one MULTI/EXEC: a batch is
        applied whole or not at all."""
        pipe = self.redis.pipeline(transaction=True)
        for record in records:
            pipe.xadd(self.access_log, {"data": dumpb(record)}, maxlen=self.maxlen * 10)
        await pipe.execute()
