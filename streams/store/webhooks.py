"""Webhooks: their definitions, delivery state, delivery logs, leases and the notices
for their owners.

Keys (one webhook's keys share a hash tag, so the scripts below touch one slot):
  cw:webhooks              the ids of every webhook (a set)
  cw:{wh:ID}:def           the webhook as registered (JSON, its secret included)
  cw:{wh:ID}:state         status, paused_reason, paused_at and a cursor per stream
                           (`cursor:warning`, `cursor:grade_change`): the last entry handled
  cw:{wh:ID}:deliveries    its delivery log (a capped stream)
  cw:{wh:ID}:lease         which API process delivers it now (a token that expires)
  cw:webhook-notices:ACCOUNT
                           notices for the owner account, e.g. a webhook paused
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from rules.jsoncodec import dumps
from streams.store.live import LiveStore

WebhookKind = Literal["warning", "grade_change"]
KINDS: tuple[WebhookKind, ...] = ("warning", "grade_change")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class WebhookStore(LiveStore):
    @property
    def webhooks_index(self) -> str:
        return f"{self.prefix}:webhooks"

    def _wh(self, webhook_id: str, part: str) -> str:
        return f"{self.prefix}:{{wh:{webhook_id}}}:{part}"

    def webhook_stream(self, kind: WebhookKind) -> str:
        return self.warnings_stream if kind == "warning" else self.grades_stream

    def _notices(self, account_id: str) -> str:
        return f"{self.prefix}:webhook-notices:{account_id}"

    # --- definitions ----------------------------------------------------------------
    async def create_webhook(self, webhook: dict[str, Any]) -> None:
        """Store a new webhook, its cursors at the current end of the streams: it gets
        what is appended from now on, not the history."""
        webhook_id = webhook["webhook_id"]
        heads = dict(zip(KINDS, await self.stream_heads(), strict=True))
        state: dict[Any, Any] = {"status": "active"}
        state |= {f"cursor:{kind}": heads[kind] for kind in KINDS}
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self._wh(webhook_id, "def"), dumps(webhook))
        pipe.hset(self._wh(webhook_id, "state"), mapping=state)
        pipe.sadd(self.webhooks_index, webhook_id)  # last: the index never names a half
        await pipe.execute()

    async def get_webhook(self, webhook_id: str) -> dict[str, Any] | None:
        """The webhook with its state (status, paused_reason, paused_at, cursors)."""
        found = await self.get_webhooks([webhook_id])
        return found[0] if found else None

    async def get_webhooks(self, webhook_ids: Sequence[str]) -> list[dict[str, Any]]:
        """These webhooks with their state, in order; missing ones are left out."""
        pipe = self.redis.pipeline(transaction=False)
        for webhook_id in webhook_ids:
            pipe.get(self._wh(webhook_id, "def"))
            pipe.hgetall(self._wh(webhook_id, "state"))
        replies = await pipe.execute()
        found = []
        for raw, state in zip(replies[::2], replies[1::2], strict=True):
            if raw:
                found.append(self._with_state(json.loads(raw), state))
        return found

    async def list_webhooks(self, account_id: str | None = None) -> list[dict[str, Any]]:
        """Every webhook (of one account, if given), oldest first."""
        ids: Any = await self.redis.smembers(self.webhooks_index)
        found = await self.get_webhooks(sorted(_text(i) for i in ids))
        if account_id is not None:
            found = [w for w in found if w["account_id"] == account_id]
        return sorted(found, key=lambda w: (w["created_at"], w["webhook_id"]))

    async def delete_webhook(self, webhook_id: str) -> bool:
        removed = await self.redis.srem(self.webhooks_index, webhook_id)
        parts = ("def", "state", "deliveries", "lease")
        deleted = await self.redis.delete(*(self._wh(webhook_id, p) for p in parts))
        return bool(removed or deleted)

    @staticmethod
    def _with_state(webhook: dict[str, Any], raw: dict[Any, Any]) -> dict[str, Any]:
        state = {_text(k): _text(v) for k, v in raw.items()}
        webhook["status"] = state.get("status", "active")
        webhook["paused_reason"] = state.get("paused_reason") or None
        webhook["paused_at"] = state.get("paused_at") or None
        webhook["cursors"] = {k: state.get(f"cursor:{k}", "0-0") for k in KINDS}
        return webhook

    # --- delivery state -------------------------------------------------------------
    async def update_webhook(
        self,
        webhook_id: str,
        fields: dict[str, str] | None = None,
        log: dict[str, Any] | None = None,
        log_maxlen: int = 1000,
    ) -> bool:
        """Set state fields (status, cursor:KIND...) and append a delivery-log entry, in
        one step; False (and nothing written) if the webhook no longer exists."""
        parts = ("def", "state", "deliveries")
        args: list[str | int] = [dumps(log) if log else "", log_maxlen]
        for field, value in (fields or {}).items():
            args += [field, value]
        keys = [self._wh(webhook_id, p) for p in parts]
        return bool(await self._wh_update(keys=keys, args=args))

    async def resume_webhook(self, webhook_id: str) -> bool:
        """Deliver again, from the record that failed."""
        fields = {"status": "active", "paused_reason": "", "paused_at": ""}
        return await self.update_webhook(webhook_id, fields)

    async def stream_after(
        self, kind: WebhookKind, cursor: str, count: int
    ) -> list[tuple[str, dict[str, Any]]]:
        """Up to `count` entries of the kind's stream after `cursor`, oldest first."""
        entries: Any = await self.redis.xrange(
            self.webhook_stream(kind), f"({cursor}", "+", count=count
        )
        return [(i.decode(), json.loads(fields[b"data"])) for i, fields in entries]

    async def webhook_deliveries(self, webhook_id: str, limit: int) -> list[dict[str, Any]]:
        """Its delivery log, newest first."""
        entries: Any = await self.redis.xrevrange(
            self._wh(webhook_id, "deliveries"), "+", "-", count=limit
        )
        return [json.loads(fields[b"data"]) for _, fields in entries]

    # --- leases: one API process delivers a webhook at a time -------------------------
    async def acquire_webhook_lease(self, webhook_id: str, token: str, ttl_ms: int) -> bool:
        return bool(await self.redis.set(self._wh(webhook_id, "lease"), token, nx=True, px=ttl_ms))

    async def renew_webhook_lease(self, webhook_id: str, token: str, ttl_ms: int) -> bool:
        """False when the lease is no longer this token's (it expired, or was taken)."""
        keys = [self._wh(webhook_id, "lease")]
        return bool(await self._wh_renew(keys=keys, args=[token, ttl_ms]))

    async def release_webhook_lease(self, webhook_id: str, token: str) -> None:
        await self._wh_release(keys=[self._wh(webhook_id, "lease")], args=[token])

    # --- notices for the owners -----------------------------------------------------
    async def add_webhook_notice(
        self, account_id: str, notice: dict[str, Any], maxlen: int = 1000
    ) -> None:
        await self.redis.xadd(
            self._notices(account_id), {"data": dumps(notice)}, maxlen=maxlen, approximate=True
        )

    async def webhook_notices(self, account_id: str, limit: int) -> list[dict[str, Any]]:
        """The account's notices, newest first."""
        entries: Any = await self.redis.xrevrange(self._notices(account_id), "+", "-", count=limit)
        return [json.loads(fields[b"data"]) for _, fields in entries]
