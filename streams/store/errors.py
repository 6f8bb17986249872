"""What a store call raises when Redis fails it: the store's own errors, so that the
worker and the API need not know Redis (the original error is the `__cause__`)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError


class StoreError(Exception):
    """Redis failed a store call (an error reply, or the connection)."""


class StoreUnavailable(StoreError):
    """Redis is away: refused or reset, timed out, or -LOADING while a restarted Redis
    replays its AOF (BusyLoadingError, a ConnectionError). Worth retrying."""


def translated(exc: RedisError) -> StoreError:
    """The store's error for a Redis one.

    >>> translated(RedisTimeoutError("slow"))
    StoreUnavailable('TimeoutError: slow')
    >>> type(translated(RedisError("WRONGTYPE"))).__name__
    'StoreError'
    """
    # the Redis error's name stays in the message: logs say what happened
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return StoreUnavailable(message)
    return StoreError(message)


def _guard_coroutine(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except RedisError as exc:
            raise translated(exc) from exc

    return call


def _guard_generator(fn: Callable[..., AsyncIterator[Any]]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def iterate(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        try:
            # aclosing: a caller that stops early closes the inner generator at once
            async with aclosing(fn(*args, **kwargs)) as items:  # type: ignore[type-var]
                async for item in items:
                    yield item
        except RedisError as exc:
            raise translated(exc) from exc

    return iterate


C = TypeVar("C", bound=type)


def guard_errors(cls: C) -> C:
    """Make every public async method of `cls` (its bases' included) raise the store's
    errors instead of Redis'."""
    for name in dir(cls):
        if name.startswith("_"):
            continue
        fn = inspect.getattr_static(cls, name)
        if inspect.iscoroutinefunction(fn):
            setattr(cls, name, _guard_coroutine(fn))
        elif inspect.isasyncgenfunction(fn):
            setattr(cls, name, _guard_generator(fn))
    return cls
