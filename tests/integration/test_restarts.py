"""A worker process rides out a restart of Redis and of the broker, and a Redis that
is not up yet when it starts: it stays up, waits, resumes, and ends where a worker that
saw no outage ends (the reference run: the same city, in the same two halves, on the
session's Redis and broker).

Redis and the broker are the tests' own, on a fixed port with a data dir, so they can
be stopped (cleanly: Redis fsyncs its AOF, noida-db writes its snapshot) and started
again where the worker expects them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from streams.simulation import generate_city
from streams.stack.embedded import start_broker, start_redis
from streams.stack.processes import ManagedProcess, free_port
from streams.store import Store
from tests.integration.worker_runs import (
    Reference,
    Run,
    committed_events,
    ready,
    samples,
    settled,
    wait_done,
)

pytestmark = pytest.mark.integration

CITY = generate_city(
    seed=11, enterprises=120, events=1600, start=date(2025, 1, 1), days=365, invalid_rate=0.01
)
ITEMS = list(CITY.events())
FIRST, SECOND = ITEMS[: len(ITEMS) // 2], ITEMS[len(ITEMS) // 2 :]


def _reference_run(kafka_broker: str, redis_server: str, logs: Path) -> dict[str, Any]:
    run = Run("reference", kafka_broker, redis_server, logs)
    try:
        ready(run.launch_worker())
        for half in (FIRST, SECOND):
            run.produce(half)
            wait_done(run)
        return settled(redis_server, run.prefix)
    finally:
        run.stop()


@pytest.fixture(scope="module")
def reference(
    kafka_broker: str, redis_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Reference]:
    """The final state of a worker that saw no outage, fed the two halves in turn: run
    beside the first test, which compares with it at its end."""
    logs = tmp_path_factory.mktemp("reference")
    reference = Reference(lambda: _reference_run(kafka_broker, redis_server, logs))
    try:
        yield reference
    finally:
        reference.close()


async def _journals(redis_url: str, prefix: str) -> dict[str, set[str]]:
    """Per enterprise, the ids of the events applied to it."""
    store = Store.from_url(redis_url, prefix)
    try:
        usccs = [u async for u, _ in store.iter_directory()]
        journals = await store.load_journals(usccs)
    finally:
        await store.close()
    return {u: {entry[2] for entry in journal} for u, journal in journals.items()}


def journals(redis_url: str, prefix: str) -> dict[str, set[str]]:
    return asyncio.run(_journals(redis_url, prefix))


def waiting(port: int, what: str = "batch") -> float:
    """1 while the worker's `what` waits for Redis or the broker, else 0."""
    found = [
        v for labels, v in samples(port, "creditwatch_dependency_waiting") if labels["what"] == what
    ]
    return max(found, default=0.0)


def retries(port: int, what: str = "batch") -> float:
    found = samples(port, "creditwatch_dependency_retries_total")
    return sum(v for labels, v in found if labels["what"] == what)


def until_waiting(proc: ManagedProcess, port: int, timeout: float = 30) -> None:
    """Until the worker's batch took the outage and waits for it."""
    deadline = time.monotonic() + timeout
    while not waiting(port):
        assert proc.is_running(), proc.log_tail(40)
        assert time.monotonic() < deadline, proc.log_tail(40)
        time.sleep(0.2)


def stays_up(proc: ManagedProcess, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.is_running(), proc.log_tail(40)
        time.sleep(0.5)


def assert_never_crashed(proc: ManagedProcess) -> None:
    assert proc.is_running(), proc.log_tail(40)
    log = proc.log_path.read_text(errors="replace")
    assert "Agent crashed" not in log, proc.log_tail(60)
    assert "Crashed reason" not in log, proc.log_tail(60)


def same_outcome(result: dict[str, Any], expected: dict[str, Any]) -> None:
    assert result["states"].keys() == expected["states"].keys()
    differing = {
        u: [
            (k, v, result["states"][u].get(k))
            for k, v in s.items()
            if result["states"][u].get(k) != v
        ]
        for u, s in expected["states"].items()
        if result["states"][u] != s
    }
    assert not differing, (len(differing), list(differing.items())[:3])
    assert result["grade_counts"] == expected["grade_counts"]


@pytest.fixture
def redis_dir(tmp_path: Path) -> Iterator[tuple[Path, int, list[ManagedProcess]]]:
    """A data dir and a fixed port for the test's own Redis; whatever was started on
    them (listed by the test) is stopped at the end."""
    started: list[ManagedProcess] = []
    yield tmp_path / "redis", free_port(), started
    for proc in started:
        proc.stop()


def test_the_worker_waits_out_a_redis_restart_and_loses_nothing(
    kafka_broker: str,
    reference: Reference,
    redis_dir: tuple[Path, int, list[ManagedProcess]],
    tmp_path: Path,
) -> None:
    data, port, started = redis_dir
    redis = start_redis(data, port)
    started.append(redis)
    url = redis.url
    assert url is not None
    run = Run("redis-restart", kafka_broker, url, tmp_path)
    try:
        worker, metrics_port = run.launch_worker()
        ready((worker, metrics_port))
        run.produce(FIRST)
        wait_done(run)  # applied and acknowledged (the group's offsets committed)
        acknowledged = journals(url, run.prefix)
        assert acknowledged

        redis.stop()  # SIGTERM: Redis writes and fsyncs its AOF, then exits
        run.produce(SECOND)
        until_waiting(worker, metrics_port)
        stays_up(worker, 4)

        redis = start_redis(data, port)  # the same port and data dir: the AOF replayed
        started.append(redis)
        after_restart = journals(url, run.prefix)
        wait_done(run)
        result = settled(url, run.prefix)
        final = journals(url, run.prefix)
        assert waiting(metrics_port) == 0
        assert retries(metrics_port) > 0
        assert_never_crashed(worker)
    finally:
        run.stop()
    # nothing applied and acknowledged before the restart is missing after it
    lost = {u: ids - after_restart.get(u, set()) for u, ids in acknowledged.items()}
    assert not any(lost.values()), {u: ids for u, ids in lost.items() if ids}
    assert all(ids <= final[u] for u, ids in acknowledged.items())
    same_outcome(result, reference())


def test_the_worker_resumes_after_a_broker_restart(
    redis_server: str, reference: Reference, tmp_path: Path
) -> None:
    data, port = tmp_path / "kafka", free_port()
    broker = start_broker(data, port)
    assert broker.url is not None
    run = Run("broker-restart", broker.url, redis_server, tmp_path)
    try:
        worker, metrics_port = run.launch_worker()
        ready((worker, metrics_port))
        run.produce(FIRST)
        wait_done(run)
        broker.stop()  # SIGTERM: noida-db writes its records and offsets, then exits
        stays_up(worker, 4)
        broker = start_broker(data, port)  # the same port and data dir
        run.produce(SECOND)
        wait_done(run)
        result = settled(redis_server, run.prefix)
        assert_never_crashed(worker)
    finally:
        run.stop()
        broker.stop()
    same_outcome(result, reference())


def test_a_worker_started_before_redis_waits_and_one_stopped_in_an_outage_acknowledges_nothing(
    kafka_broker: str,
    reference: Reference,
    redis_dir: tuple[Path, int, list[ManagedProcess]],
    tmp_path: Path,
) -> None:
    data, port, started = redis_dir
    redis = start_redis(data, port)
    url = redis.url
    assert url is not None
    run = Run("redis-late", kafka_broker, url, tmp_path)  # writes the rule set to Redis
    redis.stop()
    try:
        # Redis is not up: the worker starts, takes a batch, and waits
        first, first_port = run.launch_worker()
        ready((first, first_port))
        run.produce(FIRST)
        until_waiting(first, first_port)
        stays_up(first, 3)
        started.append(start_redis(data, port))
        wait_done(run)
        assert_never_crashed(first)

        # stopped while its batch waits for Redis: it leaves at once, and none of the
        # events it could not apply is acknowledged
        started[-1].stop()
        run.produce(SECOND)
        until_waiting(first, first_port)
        stopping = time.monotonic()
        assert first.stop(30) == 0, first.log_tail(40)
        assert time.monotonic() - stopping < 15, first.log_tail(40)
        assert committed_events(run) == len(FIRST)

        # the next worker applies them
        started.append(start_redis(data, port))
        ready(run.launch_worker())
        wait_done(run)
        result = settled(url, run.prefix)
    finally:
        run.stop()
    same_outcome(result, reference())
