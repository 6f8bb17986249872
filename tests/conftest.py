"""Shared fixtures: a private Redis and a private noida-db broker per test session.

Both run on free ports in temporary directories, never on anything already running
on the machine (a system Redis on 6379 is never touched). Tests get fresh topic names
from `make_topics` (or a whole `stream_settings`), so they do not see each other's
records.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from streams.settings import StoreSettings, StreamSettings
from streams.stack.embedded import ensure_stream_topics, ensure_topics, start_broker, start_redis
from streams.store import Store

MakeTopics = Callable[..., list[str]]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis of our own (AOF on) for the session; yields redis://127.0.0.1:PORT/0."""
    proc = start_redis(tmp_path_factory.mktemp("redis"), 0)
    assert proc.url is not None
    try:
        yield proc.url
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A noida-db broker of our own for the session; yields its bootstrap string."""
    proc = start_broker(tmp_path_factory.mktemp("kafka"), 0)
    assert proc.url is not None
    try:
        yield proc.url
    finally:
        proc.stop()


def unique_prefix(request: pytest.FixtureRequest) -> str:
    """A short, topic-safe prefix unique to this test: t-<name>-<random>."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40].strip("-")
    return f"t-{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_topics(kafka_broker: str, request: pytest.FixtureRequest) -> MakeTopics:
    """make_topics("events", "warnings", partitions=4) -> fresh, created topic names.

    Each name gets a prefix unique to the test (and to the call), so tests never share
    topics; the partitions default to 4, like the real ones.
    """

    def make(*names: str, partitions: int = 4) -> list[str]:
        prefix = unique_prefix(request)
        full = [f"{prefix}.{name}" for name in names]
        ensure_topics(kafka_broker, full, partitions)
        return full

    return make


@pytest.fixture
def stream_settings(
    kafka_broker: str, request: pytest.FixtureRequest, tmp_path: Path
) -> StreamSettings:
    """StreamSettings on the test broker: every `*_topic` gets a prefix unique to the
    test (and is created), plus its own consumer group, Faust data dir and a free
    metrics port."""
    prefix = unique_prefix(request)
    fields = StreamSettings.model_fields
    overrides: dict[str, object] = {
        name: f"{prefix}.{str(info.default).rsplit('.', 1)[-1]}"
        for name, info in fields.items()
        if name.endswith("_topic")
    }
    overrides["kafka_bootstrap"] = kafka_broker
    overrides["consumer_group"] = f"{prefix}.worker"
    if "datadir" in fields:
        overrides["datadir"] = str(tmp_path / "worker")
    if "worker_metrics_port" in fields:
        overrides["worker_metrics_port"] = 0
    settings = StreamSettings(**overrides)  # type: ignore[arg-type]
    ensure_stream_topics(kafka_broker, settings)
    return settings


@pytest.fixture
def store_settings(redis_server: str, request: pytest.FixtureRequest) -> StoreSettings:
    """StoreSettings on the test Redis with a key prefix unique to the test."""
    return StoreSettings(redis_url=redis_server, key_prefix=unique_prefix(request))


@pytest.fixture
async def store(store_settings: StoreSettings) -> AsyncIterator[Store]:
    """A Store on the test Redis, under the test's own key prefix."""
    s = Store.from_settings(store_settings)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A fresh state directory for an embedded stack."""
    path = tmp_path / "var"
    path.mkdir()
    return path
