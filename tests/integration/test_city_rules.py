"""A simulated city through the real pipeline and Redis: every enterprise with a planted
pattern for a rule in force gets that rule's warning; no clean enterprise gets any."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from agents.pipeline import Message, Pipeline
from rules.catalogue import all_rules
from rules.store import Store
from streams.simulation import generate_city, to_bytes

pytestmark = pytest.mark.integration


async def test_planted_patterns_fire_and_clean_enterprises_stay_quiet(store_settings) -> None:
    city = generate_city(
        seed=11, enterprises=300, events=6000, start=date(2025, 1, 1), days=400, invalid_rate=0.01
    )
    store = Store.from_settings(store_settings)
    pipeline = Pipeline(store, "fanout")
    offsets = itertools.count()
    items = iter(city.events())
    dead = 0
    usccs: set[str] = set()
    try:
        while batch := list(itertools.islice(items, 250)):
            result = await pipeline.handle(
                [Message("events", 0, next(offsets), to_bytes(i)) for i in batch]
            )
            dead += result.dead_letters
            usccs.update(i["uscc"] for i in batch if isinstance(i, dict) and "uscc" in i)
            while result.fanout:
                result = await pipeline.handle(
                    [Message("fanout", 0, next(offsets), v) for _, v in result.fanout]
                )
        states = {u: await store.get_enterprise(u) for u in usccs}
    finally:
        await store.close()

    assert dead == city.n_invalid > 0
    for rule in all_rules():
        planted = city.truth.patterns[rule.rule_id]
        assert planted, f"the city plants nothing for {rule.rule_id}"
        fired = {u for u, s in states.items() if s and rule.rule_id in s.open_warnings}
        assert fired >= planted, f"{rule.rule_id} missed {sorted(planted - fired)}"
        near_misses = city.truth.negatives.get(rule.rule_id, frozenset())
        assert not fired & near_misses, f"{rule.rule_id} fired on a near miss"
    noisy = {u for u in city.truth.clean if states[u] and states[u].open_warnings}
    assert not noisy, f"clean enterprises warned: {sorted(noisy)[:5]}"
    assert all(states[u].grade == "A" for u in city.truth.clean if states[u])
