"""Shared fixtures: a private Redis and a private noida-db broker per test session.

Both run on free ports in temporary directories, never on anything already running
on the machine (a system Redis on 6379 is never touched). Tests get fresh topic names
from `make_topics` (or a whole `stream_settings`), so they do not see each other's
records.

`make test` runs the suite in parallel processes (pytest-xdist, `--dist loadgroup`):
each process is a session of its own, with its own Redis, broker and temporary
directories. The order below starts the longest scenarios first, and a module whose
tests share a module-scoped fixture (a running stack, a reference run) stays in one
process so that the fixture is set up once. Hypothesis's example database stays one
directory for all of them: it writes each example atomically, under the test's own key,
and a test runs in one process, so a failing example is replayed whichever process
takes the test next time.
"""

from __future__ import annotations

import uuid
from collections import Counter
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


#: the longest modules (process-level scenarios), longest first: in a parallel run they
#: start at once, and the many short tests fill the processes around them
SLOWEST_FIRST = (
    "tests/integration/test_restarts.py",
    "tests/integration/test_worker_crashes.py",
    "tests/integration/test_prometheus.py",
    "tests/integration/test_worker_failover.py",
    "tests/integration/test_bench.py",
    "tests/integration/test_rules_cli.py",
    "tests/integration/test_learning.py",
    "tests/integration/test_dlq_cli.py",
    "tests/integration/test_idempotency_property.py",
    "tests/integration/test_end_to_end.py",
    "tests/integration/test_grades.py",
    "tests/integration/test_city_rules.py",
    "tests/integration/test_dead_letters.py",
    "tests/integration/test_up_command.py",
)


def _uses_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:  # a doctest
        return False
    return any(defs[-1].scope == "module" for defs in info.name2fixturedefs.values() if defs)


def _set_nodeid(item: pytest.Item, nodeid: str) -> None:
    """What pytest-xdist does to group items (it reads `<id>@<group>`): pytest 9.2 keeps
    the id as `_id`, earlier versions as `_nodeid` (where xdist 3.8 still writes it)."""
    if hasattr(item, "_id"):
        from _pytest.nodeid import coerce_node_id

        item._id = coerce_node_id(nodeid)
    else:
        item._nodeid = nodeid


@pytest.hookimpl(tryfirst=True)  # before xdist reads the ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest modules first; with `--dist loadgroup`, a module whose tests share a
    module-scoped fixture in one group (one process sets the fixture up once).

    Schemathesis names its generated items apart (`test[GET /path]`) but gives them all
    the function's node id; xdist schedules by node id and would run one of them, so
    each gets its name in its id."""
    rank = {path: i for i, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
    # in xdist's worker processes `dist` reads "no"; xdist leaves `loadgroup` there
    grouping = config.getoption("dist", "no") == "loadgroup" or bool(
        getattr(config.option, "loadgroup", False)
    )
    seen = Counter(item.nodeid for item in items)
    for item in items:
        nodeid = item.nodeid
        if seen[nodeid] > 1 and item.parent is not None:
            nodeid = f"{item.parent.nodeid}::{item.name}"
        if grouping and _uses_module_fixture(item) and "@" not in nodeid:
            nodeid = f"{nodeid}@{nodeid.split('::', 1)[0]}"
        if nodeid != item.nodeid:
            _set_nodeid(item, nodeid)
