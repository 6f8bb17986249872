"""The naive baseline of `creditwatch bench`: the worker's own pipeline on a Redis
client that sends every command as its own round trip (no pipelining, no batching).

`NaiveRedis` is a real `redis.asyncio.Redis` (so the store's `register_script` and
every command method work unchanged) that counts its round trips; its `pipeline()`
returns a `NaivePipeline` that queues commands like redis-py's and, on `execute()`,
sends them one by one, each awaited before the next. The store's Lua scripts called
with `client=pipe` queue an EVALSHA there; a NOSCRIPT reply is answered the way
redis-py does it, with SCRIPT LOAD and a retry (round trips too, counted).

The replay goes through `agents.replay.Replayer` with batches of one message, so timers
and related-party rechecks are handed out as in the fast path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline as RedisPipeline
from redis.exceptions import NoScriptError, ResponseError

from agents.pipeline import Pipeline
from agents.replay import Replayer
from streams.store import Store


class NaiveRedis(aioredis.Redis):
    """A client whose every command is one request and one reply: `round_trips`
    counts them (SCRIPT LOADs included)."""

    round_trips: int = 0

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.round_trips += 1
        return await super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> NaivePipeline:
        return NaivePipeline(self, transaction, shard_hint)


class NaivePipeline(RedisPipeline):
    """Queues commands like a pipeline; `execute()` awaits them one at a time."""

    def __init__(self, client: NaiveRedis, transaction: bool, shard_hint: str | None) -> None:
        super().__init__(client.connection_pool, client.response_callbacks, transaction, shard_hint)
        self.owner = client

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        if self.is_transaction or self.explicit_transaction:
            # one by one would not be atomic; the worker's path uses no MULTI
            raise NotImplementedError("a naive pipeline cannot run a MULTI/EXEC transaction")
        stack, self.command_stack = self.command_stack, []
        scripts = {script.sha: script for script in self.scripts}
        self.scripts = set()
        replies: list[Any] = []
        for args, options in stack:
            try:
                replies.append(await self._one(args, dict(options), scripts))
            except ResponseError as exc:  # like a pipeline: the rest still runs
                replies.append(exc)
        if raise_on_error:
            self.raise_first_error(stack, replies)
        return replies

    async def _one(self, args: Sequence[Any], options: dict[str, Any], scripts: dict) -> Any:
        try:
            return await self.owner.execute_command(*args, **options)
        except NoScriptError:
            script = scripts.get(str(args[1])) if args[0] == "EVALSHA" else None
            if script is None:
                raise
            # what redis-py does: load the script, then run it again
            script.sha = await self.owner.script_load(script.script)
            return await self.owner.execute_command(args[0], script.sha, *args[2:], **options)


def naive_store(url: str, prefix: str, stream_maxlen: int = 100_000) -> tuple[Store, NaiveRedis]:
    """A Store on a NaiveRedis client (and the client, for its round-trip count)."""
    client = cast(NaiveRedis, NaiveRedis.from_url(url))
    return Store(client, prefix, stream_maxlen), client


@dataclass
class NaiveResult:
    events: int
    seconds: float
    round_trips: int

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def round_trips_per_event(self) -> float:
        return self.round_trips / self.events if self.events else 0.0


async def replay_naive(
    url: str,
    prefix: str,
    fanout_topic: str,
    values: list[bytes],
    progress: Callable[[int], object] | None = None,
) -> NaiveResult:
    """Replay `values` one message per batch through the pipeline on a NaiveRedis."""
    store, client = naive_store(url, prefix)
    try:
        replayer = Replayer(Pipeline(store, fanout_topic), batch_size=1)
        await client.ping()  # connect before the clock starts
        client.round_trips = 0
        started = time.perf_counter()
        await replayer.run(values, progress)
        took = time.perf_counter() - started
        return NaiveResult(len(values), took, client.round_trips)
    finally:
        await store.close()
