"""`creditwatch dlq list|replay` against the test broker: dead letters written as the
worker and `ingest` write them (`dead_letter_record`), listed by reason without personal
data, and replayed byte for byte to the input topic with ingest's keys. Last, the events
the former GB 11714 check refused, replayed to a real worker (test_end_to_end.py's rig)
that now applies them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

import streams.contract.identifiers as identifiers
from streams.cli.main import main
from streams.contract.events import Event, decode
from streams.contract.identifiers import mask_id, person_key
from streams.contract.rejections import Rejected, dead_letter_record
from streams.contract.values import _uscc_verdict
from streams.settings import StreamSettings
from streams.topics.envelopes import partition_of
from streams.topics.ingest import make_producer
from tests import factories as f
from tests.integration.test_end_to_end import Running, enterprise, eventually, running
from tests.integration.test_real_codes import visible
from tests.unit.contract.test_identifiers import REAL_USCCS

pytestmark = pytest.mark.integration
__all__ = ["running"]  # test_end_to_end.py's module-scoped rig, shared by import
EARLY, LATE = datetime(2026, 3, 1, 10, 0, tzinfo=UTC), datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


def read_records(settings: StreamSettings, topic: str) -> list[Any]:
    """Every record now on `topic`, by a consumer without a group."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        got: list[Any] = []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for records in consumer.poll(timeout_ms=500).values():
                got += records
        return got
    finally:
        consumer.close()


def read_topic(settings: StreamSettings, topic: str) -> list[tuple[bytes | None, bytes]]:
    """(key, value) of every record now on `topic`."""
    return [(r.key, r.value) for r in read_records(settings, topic)]


def write_letters(settings: StreamSettings, letters: list[tuple[Rejected, datetime]]) -> None:
    """Dead letters as ingest writes them: keyed by event_id."""
    producer = make_producer(settings)
    try:
        for item, when in letters:
            key = item.event_id.encode() if item.event_id else None
            producer.send(
                settings.dead_letters_topic, key=key, value=dead_letter_record(item, when)
            )
        producer.flush()
    finally:
        producer.close()


def rejection(data: bytes) -> Rejected:
    (item,) = decode(data)
    assert isinstance(item, Rejected)
    return item


def dlq(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--log-level", "warning", "dlq", *args, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def env(stream_settings: StreamSettings, monkeypatch: pytest.MonkeyPatch) -> StreamSettings:
    """The command's environment: the test broker and this test's topics."""
    monkeypatch.setenv("CREDITWATCH_KAFKA_BOOTSTRAP", stream_settings.kafka_bootstrap)
    monkeypatch.setenv("CREDITWATCH_EVENTS_TOPIC", stream_settings.events_topic)
    monkeypatch.setenv("CREDITWATCH_DEAD_LETTERS_TOPIC", stream_settings.dead_letters_topic)
    return stream_settings


def test_list_counts_by_reason_and_shows_no_personal_data(env, capsys) -> None:
    rep = f.person("王五")
    bad_id = {**rep, "id_no": rep["id_no"][:17] + ("0" if rep["id_no"][17] != "0" else "1")}
    bad_person = f.registered(f.uscc(), legal_rep=bad_id)
    own_id = f"hrss-{rep['id_no']}"  # a producer that puts an ID number in its event ids
    letters = [
        *((rejection(f.encode(f.registered(f.uscc_with_wrong_check()))), EARLY) for _ in range(3)),
        (rejection(f.encode(bad_person)), EARLY),
        (rejection(f.encode({**bad_person, "event_id": own_id})), LATE),
        (rejection(b"\xff\xfe not utf-8"), LATE),
    ]
    write_letters(env, letters)

    code, out, _ = dlq(capsys, "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert listed["total"] == 6
    counts = {r["reason"]: (r["count"], r["first"], r["last"]) for r in listed["by_reason"]}
    assert counts == {
        "invalid_uscc": (3, EARLY.isoformat(), EARLY.isoformat()),
        "invalid_id_number": (2, EARLY.isoformat(), LATE.isoformat()),
        "invalid_json": (1, LATE.isoformat(), LATE.isoformat()),
    }
    entry = next(e for e in listed["entries"] if e["event_id"] == bad_person["event_id"])
    assert entry["field"] == "payload.legal_rep.id_no"
    assert set(entry) == {
        "id", "partition", "offset", "dead_at", "reason", "field", "detail", "event_id"
    }  # fmt: skip
    assert f"{entry['partition']}:{entry['offset']}" == entry["id"]

    code, table, _ = dlq(capsys, "list")
    assert code == 0 and table.startswith("6 dead letters")
    assert "invalid_uscc" in table and "payload.legal_rep.id_no" in table
    for shown in (out, table):
        assert rep["id_no"] not in shown and bad_id["id_no"] not in shown
        assert "王五" not in shown and "original" not in shown
    assert f"hrss-{mask_id(rep['id_no'])}" in table  # listed, its ID number masked

    code, out, _ = dlq(capsys, "list", "--json", "--reason", "invalid_uscc", "--limit", "2")
    only = json.loads(out)
    assert (only["total"], len(only["entries"])) == (3, 2)
    assert {e["reason"] for e in only["entries"]} == {"invalid_uscc"}

    code, out, _ = dlq(capsys, "list", "--json", "--since", "2026-03-03")
    assert {r["reason"]: r["count"] for r in json.loads(out)["by_reason"]} == {
        "invalid_id_number": 1,
        "invalid_json": 1,
    }


def test_replay_by_reason_sends_the_exact_bytes_keyed_as_ingest_would(env, capsys) -> None:
    # what a decoder bug leaves (decode's own `internal_error`): valid events, once fixed
    code, debtor = f.uscc(), f.person("李四")
    fixed = [f.encode(f.registered(code)), f.encode(f.person_listed(debtor))]
    still_bad = f.encode(f.registered(f.uscc_with_wrong_check()))
    letters = [
        *((Rejected(reason="internal_error", detail="decoder error", raw=r), EARLY) for r in fixed),
        (Rejected(reason="internal_error", detail="decoder error", raw=fixed[0]), LATE),  # again
        (rejection(still_bad), EARLY),
        (rejection(b"{oops"), EARLY),
    ]
    write_letters(env, letters)

    status, out, _ = dlq(capsys, "replay", "--reason", "internal_error", "--dry-run")
    assert status == 0 and "would replay 2 events" in out
    assert read_topic(env, env.events_topic) == []  # a dry run sends nothing

    status, out, _ = dlq(capsys, "replay", "--reason", "internal_error", "--envelope", "1")
    assert status == 0 and f"replayed 2 events to {env.events_topic}" in out
    sent = read_topic(env, env.events_topic)
    assert sorted(sent) == sorted(
        [(code.encode(), fixed[0]), (person_key(debtor["id_no"]).encode(), fixed[1])]
    )
    for key, value in sent:  # ingest's key: the decoded event's
        (event,) = decode(value)
        assert isinstance(event, Event) and key == event.key.encode()

    status, out, _ = dlq(capsys, "replay", "--reason", "invalid_uscc")
    assert status == 0 and "replayed 1 events" in out
    assert (None, still_bad) in read_topic(env, env.events_topic)  # no valid event: no key


def test_replay_packs_events_in_envelopes_of_their_partitions(env, capsys) -> None:
    fixed = [f.encode(f.registered(f.uscc())) for _ in range(12)]
    write_letters(
        env,
        [(Rejected(reason="internal_error", detail="decoder error", raw=r), EARLY) for r in fixed],
    )
    status, out, _ = dlq(capsys, "replay", "--reason", "internal_error", "--envelope", "5")
    assert status == 0 and "replayed 12 events" in out
    records = read_records(env, env.events_topic)
    assert len(records) < 12
    seen = []
    for record in records:
        for event in decode(record.value):
            assert isinstance(event, Event)
            assert partition_of(event.key.encode(), env.partitions) == record.partition
            seen.append(event.event_id)
    for raw in fixed:  # each original's exact bytes, in one message
        assert sum(raw in record.value for record in records) == 1
    assert sorted(seen) == sorted(json.loads(raw)["event_id"] for raw in fixed)


def test_replay_by_id_and_event_id(env, capsys) -> None:
    first, second = f.registered(f.uscc_with_wrong_check()), f.penalty(f.uscc(), "2026-03-01")
    second["payload"]["procedure"] = "unknown"
    write_letters(env, [(rejection(f.encode(first)), EARLY), (rejection(f.encode(second)), EARLY)])
    _, out, _ = dlq(capsys, "list", "--json")
    ids = {e["event_id"]: e["id"] for e in json.loads(out)["entries"]}

    status, out, _ = dlq(capsys, "replay", "--id", ids[first["event_id"]])
    assert status == 0 and "replayed 1 events" in out
    status, out, _ = dlq(capsys, "replay", "--event-id", second["event_id"])
    assert status == 0 and "replayed 1 events" in out
    values = [v for _, v in read_topic(env, env.events_topic)]
    assert sorted(values) == sorted([f.encode(first), f.encode(second)])


def test_bad_selections_are_refused_and_send_nothing(env, capsys) -> None:
    write_letters(env, [(rejection(b"[1]"), EARLY)])
    for args, message in [
        (["--id", "0:x"], "not a dead-letter id"),
        (["--id", "7:999"], "no dead letter with id 7:999"),
        (["--event-id", "nope"], "no dead letter with event_id nope"),
        (["--reason", "too_large"], "no dead letter with reason too_large"),
        (["--reason", "bogus"], "unknown reason 'bogus'"),
    ]:
        status, _, err = dlq(capsys, "replay", *args)
        assert status == 1 and message in err, (args, err)
    assert read_topic(env, env.events_topic) == []
    status, _, err = dlq(capsys, "list", "--since", "yesterday")
    assert status == 1 and "not an ISO 8601" in err


def test_an_unreachable_broker_is_one_clear_message(monkeypatch, capsys) -> None:
    from streams.stack.processes import free_port

    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("CREDITWATCH_KAFKA_BOOTSTRAP", address)
    status, out, err = dlq(capsys, "list")
    assert (status, out) == (1, "")
    expected = f"creditwatch dlq: no broker reachable at {address} (CREDITWATCH_KAFKA_BOOTSTRAP)"
    assert err.strip() == expected


def test_a_missing_topic_is_named_and_not_created(env, monkeypatch, capsys) -> None:
    missing = f"{env.dead_letters_topic}-typo"
    monkeypatch.setenv("CREDITWATCH_DEAD_LETTERS_TOPIC", missing)
    for _ in range(2):  # the first look must not have created it
        status, _, err = dlq(capsys, "list")
        assert status == 1 and f"topic {missing} does not exist" in err


# ---- codes the former GB 11714 check refused, replayed to a real worker --------------
_USCC_VALUE = {c: i for i, c in enumerate(identifiers.USCC_ALPHABET)}


def former_org_code_check_char(first8: str) -> str:
    """The check this product shipped before: letters weighed with their place in the
    USCC alphabet (J=18, M=21) instead of their GB 11714 values (J=19, M=22)."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


@contextmanager
def former_check(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """decode() as the former worker ran it (its verdicts are cached: cleared both ways)."""
    _uscc_verdict.cache_clear()
    monkeypatch.setattr(identifiers, "org_code_check_char", former_org_code_check_char)
    try:
        yield
    finally:
        monkeypatch.undo()
        _uscc_verdict.cache_clear()


def test_dead_letters_of_the_former_check_are_replayed_and_applied(
    running: Running, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    events = {code: f.registered(code) for code in REAL_USCCS}
    with former_check(monkeypatch):
        refused = {code: decode(f.encode(event))[0] for code, event in events.items()}
    letters = {code: item for code, item in refused.items() if isinstance(item, Rejected)}
    # every real code with a letter after H in positions 9-16 was refused, and only those
    assert 10 <= len(letters) < len(REAL_USCCS)
    assert all(item.reason == "invalid_uscc" and item.field == "uscc" for item in letters.values())
    assert all("organisation code check" in item.detail for item in letters.values())
    when = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    write_letters(running.settings, [(item, when) for item in letters.values()])
    codes = sorted(letters)
    assert all(enterprise(running, code) is None for code in codes)

    for name in ("KAFKA_BOOTSTRAP", "EVENTS_TOPIC", "DEAD_LETTERS_TOPIC"):
        monkeypatch.setenv(f"CREDITWATCH_{name}", running.env[f"CREDITWATCH_{name}"])
    args = ["--log-level", "warning", "dlq"]
    assert main([*args, "list", "--json", "--reason", "invalid_uscc", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == len(codes)
    assert main([*args, "replay", "--reason", "invalid_uscc", "--no-progress"]) == 0
    assert f"replayed {len(codes)} events" in capsys.readouterr().out

    shown = eventually(lambda: (got := visible(running, codes)) == set(codes) and got)
    assert shown == set(codes)
    for code in codes:
        assert enterprise(running, code)["profile"]["address"] == events[code]["payload"]["address"]
