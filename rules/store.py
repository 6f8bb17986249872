"""The only module that talks to Redis.

Keys (hash tags keep one enterprise's keys, or one person's, in one Cluster slot):
  cw:{USCC}:state      the enterprise's state (JSON)
  cw:{USCC}:seen       event_ids already applied to it: the idempotency guard
  cw:{USCC}:warnings   its last warnings, newest first
  cw:{p:PKEY}:*        a person (pseudonymous key): seen, listings, removed, firms
  cw:warnings, cw:grade-changes, cw:dead-letters
                       output streams: the API tails them and the relay publishes them
                       to Kafka (a transactional outbox: written in the same atomic step
                       as the state, so no output is lost when a worker dies)
  cw:grades            USCC -> grade, for counts and lists
  cw:listed-people     person keys with a dishonest listing in force

Batch reads (MGET of states) and these global keys span slots: a Redis Cluster
deployment needs them split by slot (see the scale-out notes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from rules.state import EnterpriseState
from streams.settings import StoreSettings

# One enterprise's events of a batch, all or nothing, and nothing if any of them was
# applied before (another worker got there first: the caller reloads and retries).
# KEYS: seen, state, enterprise warnings, warnings stream, grades stream, grade index
# ARGV: n_events, event_ids..., state, maxlen, uscc, grade, n_warnings, warnings...,
#       grade changes...
_COMMIT = """
local n = tonumber(ARGV[1])
for i = 2, n + 1 do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then return 0 end
end
redis.call('SADD', KEYS[1], unpack(ARGV, 2, n + 1))
local at = n + 2
redis.call('SET', KEYS[2], ARGV[at])
local maxlen = ARGV[at + 1]
redis.call('HSET', KEYS[6], ARGV[at + 2], ARGV[at + 3])
local nw = tonumber(ARGV[at + 4])
for i = at + 5, at + 4 + nw do
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', maxlen, '*', 'data', ARGV[i])
  redis.call('LPUSH', KEYS[3], ARGV[i])
end
if nw > 0 then redis.call('LTRIM', KEYS[3], 0, 199) end
for i = at + 5 + nw, #ARGV do
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', maxlen, '*', 'data', ARGV[i])
end
return 1
"""

# A person's dishonest listing or removal; returns the number of listings in force and
# the firms linked to the person, whether or not the event was new, so a redelivered
# event fans out (and updates the listed-people set) again.
# KEYS: seen, listings (case -> event_id), removed (case -> event_id), firms
# ARGV: event_id, 'list' | 'remove', case_no
_PERSON_LISTING = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  if ARGV[2] == 'list' then
    if redis.call('HEXISTS', KEYS[3], ARGV[3]) == 0 then
      redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
    end
  else
    redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
    redis.call('HDEL', KEYS[2], ARGV[3])
  end
end
return {redis.call('HLEN', KEYS[2]), redis.call('HKEYS', KEYS[4])}
"""

# KEYS: seen identities, stream; ARGV: identity, record, maxlen
_DEAD_LETTER = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'data', ARGV[2])
return 1
"""

OUTBOX_GROUP = "relay"


@dataclass
class Commit:
    """The effect of one batch's events on one enterprise, ready to write."""

    uscc: str
    event_ids: list[str]
    state: EnterpriseState
    warnings: list[dict[str, Any]] = field(default_factory=list)
    grade_changes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class LinkUpdate:
    """An enterprise's key people (person_key -> roles) before and after a batch, plus
    the people linked early in it; only the differences are written."""

    uscc: str
    people: dict[str, list[str]]
    before: dict[str, list[str]]
    early: set[str] = field(default_factory=set)


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class Store:
    def __init__(self, client: aioredis.Redis, prefix: str = "cw", stream_maxlen: int = 100_000):
        self.redis = client
        self.prefix = prefix
        self.maxlen = stream_maxlen
        self.warnings_stream = f"{prefix}:warnings"
        self.grades_stream = f"{prefix}:grade-changes"
        self.dead_letters_stream = f"{prefix}:dead-letters"
        self.grade_index = f"{prefix}:grades"
        #: person keys with a dishonest listing in force: one lookup for a whole batch
        self.listed_people = f"{prefix}:listed-people"
        self._commit = client.register_script(_COMMIT)
        self._person_listing = client.register_script(_PERSON_LISTING)
        self._dead_letter = client.register_script(_DEAD_LETTER)

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> Store:
        return cls.from_url(settings.redis_url, settings.key_prefix, settings.stream_maxlen)

    @classmethod
    def from_url(cls, url: str, prefix: str = "cw", stream_maxlen: int = 100_000) -> Store:
        return cls(aioredis.from_url(url), prefix, stream_maxlen)

    async def close(self) -> None:
        await self.redis.aclose()

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    # --- keys -------------------------------------------------------------------
    def _ent(self, uscc: str, part: str) -> str:
        return f"{self.prefix}:{{{uscc}}}:{part}"

    def _person(self, pkey: str, part: str) -> str:
        return f"{self.prefix}:{{p:{pkey}}}:{part}"

    # --- worker: load -------------------------------------------------------------
    async def load_enterprises(
        self,
        event_ids: Mapping[str, list[str]],
        early_links: Mapping[str, set[str]],
        check_seen: bool = False,
    ) -> tuple[dict[str, EnterpriseState | None], dict[str, set[str]]]:
        """States of the batch's enterprises in one round trip, and, with `check_seen`,
        which of their events were applied before (otherwise the commit's guard finds
        out, and the caller retries with `check_seen`: duplicates are rare).

        `early_links` (person_key -> USCCs) are linked first, so a listing processed
        concurrently elsewhere either sees the link or has already set the flag that
        `load_listings` reads next."""
        pipe = self.redis.pipeline(transaction=False)
        for pkey, firms in early_links.items():
            for uscc in firms:
                pipe.hsetnx(self._person(pkey, "firms"), uscc, "")
        usccs = list(event_ids)
        pipe.mget([self._ent(uscc, "state") for uscc in usccs])
        if check_seen:
            for uscc in usccs:
                pipe.smismember(self._ent(uscc, "seen"), event_ids[uscc])
        replies = (await pipe.execute())[sum(len(f) for f in early_links.values()) :]
        states = {
            uscc: EnterpriseState.from_json(raw) if raw else None
            for uscc, raw in zip(usccs, replies[0], strict=True)
        }
        seen: dict[str, set[str]] = {uscc: set() for uscc in usccs}
        for uscc, flags in zip(usccs, replies[1:], strict=False):
            seen[uscc] = {eid for eid, flag in zip(event_ids[uscc], flags, strict=True) if flag}
        return states, seen

    async def load_listings(self, pkeys: Iterable[str]) -> dict[str, list[str]]:
        """person_key -> event ids of the dishonest listings in force (listed people only)."""
        candidates = sorted(set(pkeys))
        if not candidates:
            return {}
        flags: Any = await self.redis.smismember(self.listed_people, candidates)
        keys = [k for k, flag in zip(candidates, flags, strict=True) if flag]
        if not keys:
            return {}
        pipe = self.redis.pipeline(transaction=False)
        for pkey in keys:
            pipe.hvals(self._person(pkey, "listings"))
        replies = await pipe.execute()
        return {
            pkey: sorted(v.decode() for v in vals)
            for pkey, vals in zip(keys, replies, strict=True)
            if vals
        }

    # --- worker: commit -----------------------------------------------------------
    async def commit(self, commits: list[Commit], links: list[LinkUpdate]) -> list[bool]:
        """Write a batch in one round trip: each enterprise's events atomically and at
        most once, then the person links. Returns, per commit, whether it took effect."""
        pipe = self.redis.pipeline(transaction=False)
        for c in commits:
            keys = [
                self._ent(c.uscc, "seen"),
                self._ent(c.uscc, "state"),
                self._ent(c.uscc, "warnings"),
                self.warnings_stream,
                self.grades_stream,
                self.grade_index,
            ]
            args: list[Any] = [
                len(c.event_ids),
                *c.event_ids,
                c.state.to_json(),
                self.maxlen,
                c.uscc,
                c.state.grade or "",
                len(c.warnings),
                *(_json(w) for w in c.warnings),
                *(_json(g) for g in c.grade_changes),
            ]
            await self._commit(keys=keys, args=args, client=pipe)
        for link in links:
            for pkey in (set(link.before) | link.early) - set(link.people):
                pipe.hdel(self._person(pkey, "firms"), link.uscc)
            for pkey, roles in link.people.items():
                if link.before.get(pkey) != roles or pkey in link.early:
                    pipe.hset(self._person(pkey, "firms"), link.uscc, ",".join(roles))
        replies = await pipe.execute()
        return [bool(r) for r in replies[: len(commits)]]

    async def apply_person_listing(
        self, pkey: str, event_id: str, case_no: str, listed: bool
    ) -> list[str]:
        """Record a person's listing or removal; the USCCs linked to the person."""
        keys = [self._person(pkey, part) for part in ("seen", "listings", "removed", "firms")]
        args = [event_id, "list" if listed else "remove", case_no]
        in_force, firms = await self._person_listing(keys=keys, args=args)
        # a separate key (another Cluster slot), kept idempotently from the person's own
        if in_force:
            await self.redis.sadd(self.listed_people, pkey)
        else:
            await self.redis.srem(self.listed_people, pkey)
        return sorted(f.decode() for f in firms)

    async def add_dead_letter(self, identity: str, record: bytes) -> bool:
        """Append a dead letter once per identity (topic, partition, offset, index)."""
        keys = [f"{self.prefix}:dead-letters:seen", self.dead_letters_stream]
        return bool(await self._dead_letter(keys=keys, args=[identity, record, self.maxlen]))

    # --- outbox -------------------------------------------------------------------
    def outbox_streams(self) -> list[str]:
        return [self.warnings_stream, self.grades_stream, self.dead_letters_stream]

    async def ensure_outbox_group(self) -> None:
        for stream in self.outbox_streams():
            try:
                await self.redis.xgroup_create(stream, OUTBOX_GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def read_outbox(
        self, consumer: str, count: int, block_ms: int, pending: bool = False
    ) -> list[tuple[str, bytes, bytes]]:
        """(stream, entry id, data) not yet relayed: new entries, or with `pending` this
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
            (stream.decode(), entry_id, fields[b"data"])
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
        pipe = self.redis.pipeline(transaction=False)
        for stream, entry_id in entries:
            pipe.xack(stream, OUTBOX_GROUP, entry_id)
        await pipe.execute()

    # --- API: reads -----------------------------------------------------------------
    async def get_enterprise(self, uscc: str) -> EnterpriseState | None:
        raw = await self.redis.get(self._ent(uscc, "state"))
        return EnterpriseState.from_json(raw) if raw else None

    async def enterprise_warnings(self, uscc: str, limit: int) -> list[dict[str, Any]]:
        return [
            json.loads(w)
            for w in await self.redis.lrange(self._ent(uscc, "warnings"), 0, limit - 1)
        ]

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

    async def grade_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        grades: Any = await self.redis.hvals(self.grade_index)
        for grade in grades:
            counts[grade.decode()] = counts.get(grade.decode(), 0) + 1
        return counts
