"""A related firm's recheck is written with the commit that asks for it: a worker that
dies after committing and before handing the recheck on loses nothing (real Redis)."""

from __future__ import annotations

import pytest

from agents.pipeline import Message
from streams.store import Store
from tests import factories as f
from tests.factories import address as place
from tests.integration.test_related_scenarios import cluster
from tests.integration.test_rule_scenarios import feed, records, replayer

pytestmark = pytest.mark.integration


async def test_the_rechecks_a_commit_asked_for_survive_a_crash_after_it(store: Store) -> None:
    first, second, third = cluster(place(), ("2026-03-01", "2026-03-10", "2026-03-19"))
    await feed(replayer(store), [first, second])
    # the third arrival makes a cluster; this worker commits it, then dies: its fan-out
    # (the in-memory result) is never sent
    dying = replayer(store).pipeline
    await dying.handle([Message("events", 0, 0, f.encode(third))])
    queued = await store.due_timers(0.0, 100, "related")
    assert sorted(u for u, _ in queued) == sorted([first["uscc"], second["uscc"]])
    assert await records(store, first["uscc"], "address_cluster") == []
    # the next worker hands them out, and the earlier firms get their warnings
    restarted = replayer(store)
    await restarted.fire_timers()
    for firm in (first, second, third):
        assert [r["status"] for r in await records(store, firm["uscc"], "address_cluster")] == [
            "open"
        ]
    assert await store.due_timers(0.0, 100, "related") == []
