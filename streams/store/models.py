"""The models' keys: the labels log the workers append to (in their commit script), the
snapshot the trainer publishes and the workers score with, and the operators' record
of the models' changes (suspended, restored, drift)."""

from __future__ import annotations

import json
from typing import Any

from rules.jsoncodec import dumps
from streams.store.base import StoreBase


class ModelStore(StoreBase):
    async def put_model(self, version: int, blob: bytes, meta: dict[str, Any]) -> None:
        """Publish a snapshot: the workers switch to it at their next batch."""
        await self.redis.hset(
            self.model_key, mapping={"version": str(version), "body": blob, "meta": dumps(meta)}
        )

    async def get_model(self) -> tuple[str, bytes] | None:
        """(version, snapshot) published, or None before the first."""
        reply: Any = await self.redis.hmget(self.model_key, ["version", "body"])
        version, body = reply
        if version is None or body is None:
            return None
        return version.decode(), body

    async def model_meta(self) -> dict[str, Any] | None:
        raw = await self.redis.hget(self.model_key, "meta")
        return json.loads(raw) if raw else None

    async def read_learning(self, after: str = "0", count: int = 1000) -> list[tuple[str, bytes]]:
        """Entries of the labels log after the id `after`, oldest first (replays read it
        directly; live, the relay publishes it to the labels topic)."""
        entries: Any = await self.redis.xrange(self.learning_stream, f"({after}", "+", count=count)
        return [(entry_id.decode(), fields[b"data"]) for entry_id, fields in entries]

    async def add_model_events(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        pipe = self.redis.pipeline(transaction=False)
        for event in events:
            pipe.xadd(self.model_events, {"data": dumps(event)}, maxlen=1000, approximate=True)
        await pipe.execute()

    async def recent_model_events(self, limit: int = 50) -> list[dict[str, Any]]:
        entries: Any = await self.redis.xrevrange(self.model_events, count=limit)
        return [json.loads(fields[b"data"]) for _, fields in entries]

    async def nudge_graded(self) -> int:
        """Ask for every graded enterprise to be re-evaluated as of its own clock: the
        forecaster's weight changed (suspended or restored) for all of them at once."""
        usccs: Any = await self.redis.hkeys(self.directory)
        for start in range(0, len(usccs), 10_000):
            chunk = usccs[start : start + 10_000]
            await self.redis.zadd(self.nudges, dict.fromkeys(chunk, 0))
        return len(usccs)
