"""A real worker process (`creditwatch worker`) consumes good and bad events from the test
broker, sent unchecked as a department might: every bad one reaches the dead-letter
topic (worker -> Redis outbox -> relay -> Kafka) with its reason and its exact bytes,
the good events after them are applied, and the worker stays up.

The far-future and far-past timestamps are the ones that crashed the worker's rules
before decode refused them (tests/unit/contract/test_decoder_fuzz.py has the regression)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streams.simulation import to_bytes
from streams.store import Store
from streams.topics.ingest import make_producer
from tests import factories as f
from tests.integration.test_dlq_cli import read_topic
from tests.integration.worker_runs import Run, ready, samples

pytestmark = pytest.mark.integration


def eventually(probe: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := probe()) and time.monotonic() < deadline:
        time.sleep(0.3)
    return value


def compact(obj: Any) -> bytes:
    """How a batch item is kept in its dead letter (decode's re-encoding)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def grade(run: Run, code: str) -> str | None:
    async def read() -> str | None:
        store = Store.from_url(run.redis_url, run.prefix)
        try:
            state = await store.get_enterprise(code)
            return state.grade if state else None
        finally:
            await store.close()

    return asyncio.run(read())


def broken_events(code: str) -> list[tuple[dict[str, Any] | bytes, str]]:
    """(what is sent, the reason it must be dead-lettered with). The dicts keep the
    firm's USCC, so they share its partition and come before its later good events."""
    unknown = f.event("penalty.imposed", code, {"amount": 1})
    wrong_type = f.penalty(code, "2026-03-02")
    wrong_type["payload"]["amount"] = ["lots"]
    no_day = f.penalty(code, "2026-03-03")
    del no_day["payload"]["decided_on"]
    rep = f.person("钱七")
    bad_id = f.registered(
        code, legal_rep={**rep, "id_no": rep["id_no"][:6] + "2099" + rep["id_no"][10:]}
    )
    naive = f.penalty(code, "2026-03-04") | {"occurred_at": "2026-03-04T10:00:00"}
    future = f.penalty(code, "2026-03-05") | {"occurred_at": "9999-12-31T23:59:59-23:59"}
    past = f.penalty(code, "2026-03-06") | {"occurred_at": "0001-01-01T00:00:00+14:00"}
    late = f.penalty(code, "2026-03-07") | {"reported_at": "2500-01-01T00:00:00+08:00"}
    return [
        (unknown, "unknown_type"),
        (wrong_type, "invalid_field"),
        (no_day, "missing_field"),
        (bad_id, "invalid_id_number"),
        (naive, "invalid_timestamp"),
        (future, "invalid_timestamp"),
        (past, "invalid_timestamp"),
        (late, "invalid_timestamp"),
        (f.registered(f.uscc_with_wrong_check()), "invalid_uscc"),
        (b"\xff\xfe not utf-8", "invalid_json"),
        (b'{"event_id": "cut-1", "type": ', "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        (b"null", "not_an_object"),
        (b'{"batch": []}', "empty_batch"),
    ]


def test_bad_events_become_dead_letters_and_the_good_ones_after_them_apply(
    kafka_broker: str, redis_server: str, tmp_path: Path
) -> None:
    run = Run("dead-letters", kafka_broker, redis_server, tmp_path)
    try:
        worker = run.launch_worker()
        ready(worker)
        code, other = f.uscc(), f.uscc()
        broken = broken_events(code)
        run.produce([f.registered(code), *(item for item, _ in broken)])
        # a batch frame, keyed as its events are: its good item applies, its bad ones die
        bad_items = [f.event("no.such_type", other, {}), 42]
        frame = {"batch": [f.registered(other), *bad_items, f.dishonest_listed(other)]}
        producer = make_producer(run.settings)
        try:
            producer.send(run.settings.events_topic, key=other.encode(), value=f.encode(frame))
            producer.flush()
        finally:
            producer.close()
        run.produce([f.dishonest_listed(code)])  # after every bad event of its partition

        expected = {to_bytes(i): r for i, r in broken}
        expected[compact(bad_items[0])] = "unknown_type"
        expected[compact(bad_items[1])] = "not_an_object"

        def letters() -> list[dict[str, Any]]:
            found = [
                json.loads(v) for _, v in read_topic(run.settings, run.settings.dead_letters_topic)
            ]
            return found if len(found) >= len(expected) else []

        records = eventually(letters)
        got = {base64.b64decode(r["original_b64"]): r for r in records}
        assert len(records) == len(expected), "each bad event is dead-lettered once"
        assert {raw: r["reason"] for raw, r in got.items()} == expected
        for item, _ in broken:
            if isinstance(item, dict):
                assert got[to_bytes(item)]["event_id"] == item["event_id"]
                assert got[to_bytes(item)]["original"] == to_bytes(item).decode()
        assert got[b"\xff\xfe not utf-8"]["original"] is None
        assert got[to_bytes(broken[3][0])]["field"] == "payload.legal_rep.id_no"
        assert got[compact(bad_items[0])]["detail"].startswith("batch item 1: ")

        # the good events after the bad ones were applied: both firms listed, grade D
        assert eventually(lambda: grade(run, code) == "D" and grade(run, other) == "D")
        proc, port = worker
        assert proc.is_running(), proc.log_tail()
        counted: dict[str, float] = {}
        for labels, value in samples(port, "creditwatch_dead_letters_total"):
            counted[labels["reason"]] = value
        by_reason: dict[str, float] = {}
        for reason in expected.values():
            by_reason[reason] = by_reason.get(reason, 0) + 1
        assert counted == by_reason
        assert "Traceback" not in (tmp_path / f"{run.prefix}-worker-1.log").read_text()
    finally:
        run.stop()
