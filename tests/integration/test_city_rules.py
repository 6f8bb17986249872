"""A simulated city replayed through the real pipeline and Redis, in event time: every
enterprise with a planted pattern gets that rule's warning at some point; no decoy of
the rule and no clean enterprise ever does."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest

from agents.pipeline import Pipeline
from agents.replay import Replayer
from rules.indicators import all_rules
from streams.simulation import PATTERNS, generate_city, to_bytes
from streams.store import Store

pytestmark = pytest.mark.integration


async def test_planted_patterns_fire_and_clean_enterprises_stay_quiet(store_settings) -> None:
    city = generate_city(
        seed=11, enterprises=400, events=8000, start=date(2025, 1, 1), days=400, invalid_rate=0.01
    )
    store = Store.from_settings(store_settings)
    try:
        for address in getattr(city.truth, "allowed_addresses", ()):
            await store.allow_address(address)
        stats = await Replayer(Pipeline(store, "fanout")).run(to_bytes(i) for i in city.events())
        raised: dict[str, set[str]] = defaultdict(set)
        warned: set[str] = set()
        async for _id, record in store.scan_stream(
            store.warnings_stream, before=None, since_ms=None
        ):
            warned.add(record["uscc"])
            if record["status"] == "open":
                raised[record["rule_id"]].add(record["uscc"])
    finally:
        await store.close()

    assert stats.dead_letters == city.n_invalid > 0
    registered = {rule.rule_id for rule in all_rules()}
    assert set(PATTERNS) <= registered, "a planted pattern has no rule"
    for rule_id in PATTERNS:
        planted = city.truth.patterns[rule_id]
        assert planted, f"the city plants nothing for {rule_id}"
        assert raised[rule_id] >= planted, f"{rule_id} missed {sorted(planted - raised[rule_id])}"
        near_misses = city.truth.negatives.get(rule_id, frozenset())
        wrong = raised[rule_id] & near_misses
        assert not wrong, f"{rule_id} fired on near misses {sorted(wrong)}"
    noisy = warned & city.truth.clean
    assert not noisy, f"clean enterprises warned: {sorted(noisy)[:5]}"
