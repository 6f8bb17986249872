"""The outbox: output streams written with the state, relayed to Kafka at least once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from redis.exceptions import ResponseError

from streams.store.base import StoreBase

OUTBOX_GROUP = "relay"


class OutboxEntry(NamedTuple):
    """An output to relay, as read from its stream."""

    stream: str
    entry_id: bytes
    data: bytes
    #: its Kafka key (the enterprise), written beside the record by the commit so the
    #: relay need not parse it; None for entries written without one (older entries,
    #: and the rarer outputs of the other scripts)
    key: bytes | None


class OutboxStore(StoreBase):
    def outbox_streams(self) -> list[str]:
        return [
            self.warnings_stream,
            self.grades_stream,
            self.dead_letters_stream,
            self.learning_stream,
        ]

    async def ensure_outbox_group(self) -> None:
        for stream in self.outbox_streams():
            try:
                await self.redis.xgroup_create(stream, OUTBOX_GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def read_outbox(
        self, consumer: str, count: int, block_ms: int, pending: bool = False
    ) -> list[OutboxEntry]:
        """The entries not yet relayed: new entries, or with `pending` this
        consumer's entries delivered but not acknowledged (after a restart)."""
        start = "0" if pending else ">"
        reply: Any = await self.redis.xreadgroup(
            OUTBOX_GROUP,
            consumer,
            {s: start for s in self.outbox_streams()},
            count=count,
            block=None if pending else block_ms,
        )
        return [
            OutboxEntry(stream.decode(), entry_id, fields[b"data"], fields.get(b"key"))
            for stream, entries in reply or []
            for entry_id, fields in entries
            if fields
        ]

    async def claim_stale_outbox(self, consumer: str, idle_ms: int, count: int) -> int:
        """Take over entries another (dead) relay received but never acknowledged."""
        claimed = 0
        for stream in self.outbox_streams():
            reply = await self.redis.xautoclaim(
                stream, OUTBOX_GROUP, consumer, idle_ms, "0-0", count=count, justid=True
            )
            claimed += len(reply)  # justid: the claimed ids only
        return claimed

    async def ack_outbox(self, entries: Iterable[tuple[str, bytes]]) -> None:
        """Mark entries relayed. The labels log's entries are then deleted: live, only
        the labels topic is read, and kept they were most of Redis's memory (a record
        per enterprise commit). The other streams stay, trimmed to `maxlen`: the API's
        live subscriptions and webhooks read them."""
        by_stream: dict[str, list[bytes]] = {}
        for stream, entry_id in entries:
            by_stream.setdefault(stream, []).append(entry_id)
        if not by_stream:
            return
        # one command per stream, not per entry: each command costs the relay more
        # CPU in redis-py than the entry's own bytes do
        pipe = self.redis.pipeline(transaction=False)
        for stream, ids in by_stream.items():
            pipe.xack(stream, OUTBOX_GROUP, *ids)
            if stream == self.learning_stream:
                pipe.xdel(stream, *ids)
        await pipe.execute()
