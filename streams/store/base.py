"""The store's connection, key names and scripts, shared by its parts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError

from rules.state import EnterpriseState
from streams.settings import DEFAULT_STATE_CACHE
from streams.store import digests, members, scripts
from streams.store.errors import StoreError
from streams.store.state_cache import StateCache


def stored_state(raw: bytes) -> EnterpriseState:
    """The state of a value stored under `cw:{USCC}:state`, without its guard."""
    return EnterpriseState.from_stored(digests.unwrap(raw)[1])


class Calls:
    """Commands and script calls sent to Redis in one write, their replies read in
    order: the worker's load and commit round trips. The one place the store writes
    the protocol itself.

    redis-py's pipeline cost the worker about 15 % of its CPU on these round trips
    (docs/performance.md): it encodes each argument in Python, runs every reply through
    its callbacks, and asks `SCRIPT EXISTS` before each pipeline that calls a script (a
    round trip of its own). Here each call is packed in C (`hiredis.pack_command`), the
    replies are the parser's (no callbacks: a command whose reply redis-py would convert
    has no place here), and a script Redis lacks (restarted, or flushed) is loaded on its
    NOSCRIPT reply, its calls sent again: a call refused NOSCRIPT did nothing. Errors
    surface as the pipeline's: an error reply raises (the first, once all are read),
    a lost connection raises after the connection's own retries."""

    def __init__(self) -> None:
        self._packed: list[bytes] = []
        self._scripts: list[AsyncScript | None] = []

    def __len__(self) -> int:
        return len(self._packed)

    def command(self, *args: str | bytes | int) -> None:
        parts: tuple[Any, ...] = args  # (hiredis' stub types it as a 1-tuple)
        self._packed.append(hiredis.pack_command(parts))
        self._scripts.append(None)

    def add(self, script: AsyncScript, keys: Sequence[str], args: Sequence[Any]) -> None:
        self._packed.append(hiredis.pack_command(("EVALSHA", script.sha, len(keys), *keys, *args)))
        self._scripts.append(script)

    async def send(self, client: aioredis.Redis) -> list[Any]:
        """Every call's reply, in order."""
        if not self._packed:
            return []
        pool = client.connection_pool
        conn = await pool.get_connection()
        try:
            replies = await conn.retry.call_with_retry(
                lambda: _exchange(conn, self._packed), lambda _error: conn.disconnect()
            )
            missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if missing:
                lost = {s.sha: s for s in (self._scripts[i] for i in missing) if s is not None}
                for script in lost.values():
                    await client.script_load(script.script)
                again = await _exchange(conn, [self._packed[i] for i in missing])
                for i, reply in zip(missing, again, strict=True):
                    replies[i] = reply
        finally:
            await pool.release(conn)
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise reply
        return replies


async def _exchange(conn: AbstractConnection, packed: list[bytes]) -> list[Any]:
    """Send the packed commands, then read as many replies (an error reply as its
    exception): the connection drops itself if a read fails or is cancelled."""
    await conn.send_packed_command(packed)
    replies: list[Any] = []
    for _ in packed:
        try:
            replies.append(await conn.read_response())
        except ResponseError as exc:
            replies.append(exc)
    return replies


def queue_script(pipe: Any, script: AsyncScript, keys: Sequence[Any], args: Sequence[Any]) -> None:
    """Queue a Lua script's call on a pipeline as `await script(keys, args, client=pipe)`
    does (the pipeline makes sure of the scripts it was given before it runs them),
    without that call's checks and import, some µs a call; or on `Calls`."""
    if isinstance(pipe, Calls):
        pipe.add(script, keys, args)
        return
    pipe.scripts.add(script)
    pipe.pipeline_execute_command("EVALSHA", script.sha, len(keys), *keys, *args)


def epoch(iso: str) -> str:
    """A timeline score: the instant in epoch seconds, exact to the microsecond."""
    return repr(datetime.fromisoformat(iso).timestamp())


class StoreBase:
    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str = "cw",
        stream_maxlen: int = 100_000,
        related_buckets: int = members.DEFAULT_BUCKETS,
        state_cache: int = DEFAULT_STATE_CACHE,
    ):
        self.redis = client
        self.prefix = prefix
        self.maxlen = stream_maxlen
        self.warnings_stream = f"{prefix}:warnings"
        self.grades_stream = f"{prefix}:grade-changes"
        self.dead_letters_stream = f"{prefix}:dead-letters"
        #: USCC -> directory entry (rules/directory.py)
        self.directory = f"{prefix}:directory"
        #: the USCCs whose name, address or district the commits changed, capped: what
        #: the API's search indexes follow (api/search.py)
        self.directory_changes_stream = f"{prefix}:directory-changes"
        #: grade -> how many directory entries have it (kept by the commit script)
        self.grade_counts_key = f"{prefix}:grade-counts"
        self.timers = f"{prefix}:timers"
        self.nudges = f"{prefix}:nudges"
        self.related_rechecks = f"{prefix}:related-rechecks"
        #: day -> its start (epoch s): the days label expiries are indexed under
        self.label_days = f"{prefix}:label-days"
        self.overrides = f"{prefix}:overrides"
        self.override_audit = f"{prefix}:override-audit"
        #: USCC -> {warning_id: its latest disposition}, as the rules read them
        self.dispositions = f"{prefix}:dispositions"
        #: USCC -> {plan_id: the result entered for its visit}, as the rules read them
        self.entered_results_key = f"{prefix}:entered-results"
        self.allowlist = f"{prefix}:address-allowlist"
        self.ruleset_key = f"{prefix}:ruleset"
        self.learning_stream = f"{prefix}:learning"
        self.model_key = f"{prefix}:model"
        self.model_events = f"{prefix}:model-events"
        self.accounts = f"{prefix}:accounts"
        self.api_keys = f"{prefix}:api-keys"
        self.access_log = f"{prefix}:access-log"
        self.handling_audit = f"{prefix}:warning-audit"
        #: how many buckets the related-party indexes have (streams/store/members.py)
        self.related_buckets = f"{prefix}:related-buckets"
        self._default_buckets = related_buckets
        self._members_layout: members.Layout | None = None
        #: the states this store committed last, decoded (streams/store/state_cache.py)
        self.state_cache = StateCache(state_cache)
        self._commit = client.register_script(scripts.COMMIT)
        self._sweep = client.register_script(scripts.SWEEP)
        self._person_listing = client.register_script(scripts.PERSON_LISTING)
        self._dead_letter = client.register_script(scripts.DEAD_LETTER)
        self._clear_timers = client.register_script(scripts.CLEAR_TIMERS)
        self._clear_label_day = client.register_script(scripts.CLEAR_LABEL_DAY)
        self._allow_address = client.register_script(scripts.ALLOW_ADDRESS)
        self._related = client.register_script(scripts.RELATED)
        self._link = client.register_script(scripts.LINK)
        self._read_members = client.register_script(scripts.READ_MEMBERS)
        self._override = client.register_script(scripts.OVERRIDE)
        self._authenticate = client.register_script(scripts.AUTHENTICATE)
        self._admit = client.register_script(scripts.ADMIT)
        self._live_claim = client.register_script(scripts.LIVE_CLAIM)
        self._live_renew = client.register_script(scripts.LIVE_RENEW)
        self._wh_update = client.register_script(scripts.WEBHOOK_UPDATE)
        self._wh_renew = client.register_script(scripts.LEASE_RENEW)
        self._wh_release = client.register_script(scripts.LEASE_RELEASE)
        self._handle = client.register_script(scripts.HANDLE)
        self._enter_result = client.register_script(scripts.ENTER_RESULT)
        self._list_plans = client.register_script(scripts.LIST_PLANS)
        self._summarise_plan = client.register_script(scripts.SUMMARISE_PLAN)
        self._reindex = client.register_script(scripts.REINDEX)
        self._directory_changes = client.register_script(scripts.DIRECTORY_CHANGES)
        self._note_changes = client.register_script(scripts.NOTE_CHANGES)

    async def close(self) -> None:
        await self.redis.aclose()

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    # hash tags keep one enterprise's keys, one person's or one address's in one slot
    def _ent(self, uscc: str, part: str) -> str:
        return f"{self.prefix}:{{{uscc}}}:{part}"

    async def _layout(self) -> members.Layout:
        """The related-party indexes' bucket keys (streams/store/members.py), for the
        count of buckets the store was created with (read once)."""
        if self._members_layout is None:
            count = await self.redis.get(self.related_buckets)
            if count is None:
                # a store with firms but no count was written before the buckets: its
                # indexes would go unseen (and its firms' links are rewritten only
                # when they change), so nothing reads or writes them until migrated
                if await self.redis.hlen(self.directory):
                    raise StoreError(
                        "the person and address indexes are kept one key each, as before "
                        "the buckets: stop the workers and run `creditwatch indexes migrate`"
                    )
                await self.redis.set(self.related_buckets, self._default_buckets, nx=True)
                count = await self.redis.get(self.related_buckets)
            self._members_layout = members.Layout(self.prefix, int(count or self._default_buckets))
        return self._members_layout
