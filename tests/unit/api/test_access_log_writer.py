"""The access log's writer (api/access_log_writer.py) on a store that records what it is
asked to write and can be made to fail like Redis."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from api.access_log_writer import ACCESS_LOG_ERRORS, AccessLogWriter
from streams.store import Store, StoreUnavailable


class FakeStore:
    def __init__(self, latency_s: float = 0.001) -> None:
        self.latency_s = latency_s
        self.failing = False
        self.written: list[dict[str, Any]] = []
        self.round_trips = 0

    async def log_access_many(self, records: list[dict[str, Any]]) -> None:
        self.round_trips += 1
        await asyncio.sleep(self.latency_s)
        if self.failing:
            raise StoreUnavailable("ConnectionError: Redis is down")
        self.written.extend(records)


def _writer(store: FakeStore, **options: Any) -> AccessLogWriter:
    return AccessLogWriter(cast(Store, store), **options)


def _records(start: int, n: int) -> list[dict[str, Any]]:
    return [{"n": i} for i in range(start, start + n)]


async def _until(condition: Any, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_a_burst_is_written_whole_in_order_and_in_few_round_trips() -> None:
    store = FakeStore()
    writer = _writer(store)
    writer.start()
    for record in _records(0, 2000):
        writer.add(record)
        if record["n"] % 100 == 0:
            await asyncio.sleep(0)  # requests interleave with the writer
    await _until(lambda: len(store.written) == 2000)
    assert store.written == _records(0, 2000)
    assert store.round_trips < 100
    await writer.close()


async def test_records_close_together_share_one_round_trip() -> None:
    store = FakeStore()
    writer = _writer(store, linger_s=0.05)
    writer.start()
    for record in _records(0, 5):
        writer.add(record)
        await asyncio.sleep(0.002)  # requests a little apart, within the linger
    await _until(lambda: len(store.written) == 5)
    assert store.round_trips == 1
    await writer.close()


async def test_close_writes_what_is_still_queued() -> None:
    store = FakeStore(latency_s=0.01)
    writer = _writer(store)
    writer.start()
    for record in _records(0, 50):
        writer.add(record)
    await writer.close()  # at once: the writer has had no time of its own
    assert store.written == _records(0, 50)
    assert writer.pending == 0


async def test_records_wait_while_redis_is_down_and_none_is_lost_or_doubled() -> None:
    store = FakeStore()
    store.failing = True
    writer = _writer(store, retry_s=0.02)
    writer.start()
    for record in _records(0, 30):
        writer.add(record)
    # tried, failed, tried again, and failed again: all still queued
    await _until(lambda: store.round_trips >= 3 and writer.pending == 30)
    assert store.written == []
    for record in _records(30, 30):
        writer.add(record)
    store.failing = False
    await _until(lambda: len(store.written) == 60)
    assert store.written == _records(0, 60)
    await writer.close()


async def test_a_flush_makes_every_record_so_far_readable() -> None:
    store = FakeStore(latency_s=0.01)
    writer = _writer(store)
    writer.start()
    for record in _records(0, 10):
        writer.add(record)
    assert await writer.flush()
    assert store.written == _records(0, 10)
    await writer.close()


async def test_past_its_bound_the_oldest_are_dropped_and_counted() -> None:
    store = FakeStore()
    store.failing = True
    writer = _writer(store, max_pending=10, retry_s=60)
    before = ACCESS_LOG_ERRORS._value.get()
    for record in _records(0, 15):
        writer.add(record)
    assert writer.pending == 10
    assert ACCESS_LOG_ERRORS._value.get() - before == 5
    store.failing = False
    assert await writer.flush()
    assert store.written == _records(5, 10)


async def test_at_shutdown_with_redis_down_the_loss_is_counted_and_close_returns() -> None:
    store = FakeStore()
    store.failing = True
    writer = _writer(store, retry_s=60)
    writer.start()
    for record in _records(0, 7):
        writer.add(record)
    before = ACCESS_LOG_ERRORS._value.get()
    await asyncio.wait_for(writer.close(), 5)  # not held up by the 60 s retry pause
    assert ACCESS_LOG_ERRORS._value.get() - before == 7
    assert writer.pending == 0
