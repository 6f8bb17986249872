"""What live subscriptions read (api/live.py): the heads of the two output streams, a
blocking wait for news on them, and one subscriber's next entries after its position;
and the leases that count an account's live subscriptions (api/live_slots.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streams.store.base import StoreBase


def stream_id(entry_id: str) -> tuple[int, int]:
    """A Redis stream id as a comparable pair.

    >>> stream_id("1700000000000-3") < stream_id("1700000000001-0")
    True
    """
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass(frozen=True)
class StreamSlice:
    """Entries of one stream after a position, oldest first, as (id, record)."""

    entries: list[tuple[str, dict[str, Any]]]
    #: the oldest entry still held, when entries right after the position may have been
    #: trimmed away before anyone read them; else None
    lost_before: str | None


class LiveStore(StoreBase):
    @property
    def live_streams(self) -> tuple[str, str]:
        """The streams live subscribers follow, in the order of their positions."""
        return self.warnings_stream, self.grades_stream

    async def stream_heads(self) -> tuple[str, str]:
        """The id of each stream's last entry ("0-0" for an empty stream)."""
        pipe = self.redis.pipeline(transaction=False)
        for stream in self.live_streams:
            pipe.xrevrange(stream, "+", "-", count=1)
        found = await pipe.execute()
        warnings, grades = (last[0][0].decode() if last else "0-0" for last in found)
        return warnings, grades

    async def wait_for_entries(self, after: Sequence[str], block_ms: int) -> bool:
        """Block until a stream has an entry after its position in `after`, at most
        `block_ms`; whether one has. One connection blocks, whoever waits."""
        found: Any = await self.redis.xread(
            dict(zip(self.live_streams, after, strict=True)), count=1, block=block_ms
        )
        return bool(found)

    async def read_after(self, after: Sequence[str], count: int) -> tuple[int, list[StreamSlice]]:
        """The server's time (epoch ms) and up to `count` entries of each stream after
        its position in `after` (exclusive), with what tells whether some were trimmed:
        all in one MULTI, so the answer is one consistent view."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.time()
        for stream, position in zip(self.live_streams, after, strict=True):
            pipe.xrange(stream, f"({position}", "+", count=count)
            pipe.xrange(stream, "-", "+", count=1)
            pipe.xlen(stream)
        (seconds, micros), *found = await pipe.execute()
        slices = []
        for i, position in enumerate(after):
            entries, oldest, length = found[3 * i : 3 * i + 3]
            first = oldest[0][0].decode() if oldest else None
            slices.append(
                StreamSlice(
                    [(eid.decode(), json.loads(fields[b"data"])) for eid, fields in entries],
                    first if first and self._may_have_lost(position, first, length) else None,
                )
            )
        return seconds * 1000 + micros // 1000, slices

    def _may_have_lost(self, position: str, first: str, length: int) -> bool:
        # An approximate MAXLEN trim never leaves fewer than maxlen entries, so a shorter
        # stream was never trimmed; a longer one may have lost whatever lay between the
        # position's successor and its oldest entry.
        ms, seq = stream_id(position)
        return length >= self.maxlen and (ms, seq + 1) < stream_id(first)

    # --- an account's live subscriptions: one expiring lease each -----------------------
    def _live_slots(self, account_id: str) -> str:
        return f"{self.prefix}:live:{account_id}"

    async def claim_live_slot(
        self,
        account_id: str,
        subscription_id: str,
        lease_ms: int,
        cap: int,
        group: str = "",
        group_cap: int = 1,
    ) -> tuple[bool, int]:
        """Take a slot for a subscription unless the account holds `cap` live slots:
        (taken, slots held now). The subscriptions of one `group` (ids `GROUP/...`)
        share one slot, at most `group_cap` of them."""
        args: list[int | str] = [subscription_id, lease_ms, cap, group, group_cap]
        taken, held = await self._live_claim(keys=[self._live_slots(account_id)], args=args)
        return bool(taken), int(held)

    async def renew_live_slot(self, account_id: str, subscription_id: str, lease_ms: int) -> None:
        args: list[int | str] = [subscription_id, lease_ms]
        await self._live_renew(keys=[self._live_slots(account_id)], args=args)

    async def release_live_slot(self, account_id: str, subscription_id: str) -> None:
        await self.redis.zrem(self._live_slots(account_id), subscription_id)
