"""The packed and compressed forms of stored records (rules/packing.py,
rules/compression.py): they read back to what was packed (the packed form to what JSON
would give), for any JSON-like value; the dictionaries never change, and a record
written by an earlier version still reads."""

from __future__ import annotations

import base64
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from rules import compression, packing
from rules.state import EnterpriseState
from rules.timeline import RULE_CODES, pack_snapshot, unpack_snapshot
from streams.store import journal

# strings that look like what the packing turns into numbers, and near misses
_instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.isoformat())
_near = st.sampled_from(
    ["2025-07-09", "2025-7-09", "2025-07-09T01:04:03+00:00", "2025-07-09T01:04:03Z",
     "2025-07-09T01:04:03+08:00", "2025-07-09 01:04:03+00:00", "2025-02-30",
     "6f1c2f43-8c51-4c1a-9d55-2f3e4b5a6c7d", "6F1C2F43-8C51-4C1A-9D55-2F3E4B5A6C7D",
     "1969-12-31T23:59:59+00:00", "0001-01-01"]
)  # fmt: skip
_text = st.one_of(st.text(max_size=12), _instants, _near)
_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False), _text,
)  # fmt: skip
_json = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_text, st.integers(0, 3000)), inner, max_size=4),
    ),
    max_leaves=20,
)


def as_json(value: object) -> object:
    return json.loads(json.dumps(value))


@given(_json)
def test_a_packed_value_reads_back_as_its_json_would(value: object) -> None:
    assert packing.unpack(packing.pack(value)) == as_json(value)
    assert compression.unpack_compressed(compression.pack_compressed_v1(value)) == as_json(value)


@given(_json)
def test_a_compressed_value_reads_back_as_it_was(value: object) -> None:
    for kind in (compression.STATE, compression.JOURNAL):
        packed = compression.pack_compressed(value, kind)
        assert compression.is_compressed(packed) and packed[0] == kind
        assert compression.unpack_compressed(packed) == value


def test_the_dictionaries_never_change() -> None:
    # records compressed with one cannot be read with any other: a new one is a new version
    digest = hashlib.sha256(compression._ZDICT_V1).hexdigest()
    assert digest == "726aee152bd328c22d6e2a201ca2d0848392c057b1399f344fb8a5a218361ab1"
    digests = {k: hashlib.sha256(c.data).hexdigest()[:16] for k, c in compression._V2.items()}
    assert digests[compression._STATE_FIRST] == "67c0b40e23e6413c"
    assert digests[compression.STATE] == "281597ed3835dd48"
    assert digests[compression.JOURNAL] == "0befe956a8e8408b"


def test_a_state_stored_by_version_1_still_reads() -> None:
    # written by `to_bytes` before version 2 (a simulated firm's state after its
    # events), with the state as JSON then
    fixture = json.loads((Path(__file__).parent / "data" / "state_v1.json").read_text())
    stored = base64.b64decode(fixture["stored_base64"])
    assert stored[0] == 0xC1
    state = EnterpriseState.from_stored(stored)
    assert state == EnterpriseState.from_json(json.dumps(fixture["state"]))
    assert state.penalties and state.counters and state.key_ages  # a state with records
    again = state.to_bytes()
    assert again[0] == compression.STATE and len(again) < len(stored)
    assert EnterpriseState.from_stored(again) == state


def test_a_state_stored_over_the_first_state_dictionary_still_reads() -> None:
    # written by `to_bytes` before the samples kept their features packed (a simulated
    # firm's state with samples, two resolved positive), with the state as JSON then
    fixture = json.loads((Path(__file__).parent / "data" / "state_v2.json").read_text())
    stored = base64.b64decode(fixture["stored_base64"])
    assert stored[0] == compression._STATE_FIRST
    state = EnterpriseState.from_stored(stored)
    assert state == EnterpriseState.from_json(json.dumps(fixture["state"]))
    assert state.samples and all(isinstance(s["x"], bytes) for s in state.samples)  # packed now
    assert any("y" in s for s in state.samples)
    again = state.to_bytes()
    assert again[0] == compression.STATE
    assert EnterpriseState.from_stored(again) == state


def test_a_state_stored_packed_or_as_json_reads_back_the_same() -> None:
    state = EnterpriseState(
        "91440300708461136T",
        profile={"name": "深圳市示例科技有限公司", "address": "深圳市南山区科技园路1号",
                 "legal_rep": {"name": "张三", "id_no": "11010519491231002X"}},
        field_times={"legal_rep": "2026-03-01T02:00:00+00:00",
                     "address": "2026-03-01T02:00:00.250000+00:00"},
        field_events={"legal_rep": "e1"}, status="active", score=85, grade="B",
        counters={"complaints": {"days": {"2026-03-01": 2}, "last": [["2026-03-01", "e2"]]}},
    )  # fmt: skip
    state.derive()
    packed = state.to_bytes()
    assert compression.is_compressed(packed) and len(packed) < len(state.to_json()) / 2
    assert EnterpriseState.from_stored(packed) == state
    assert EnterpriseState.from_stored(state.to_json()) == state


def test_a_snapshot_packs_its_rules_by_code_and_any_other_by_name() -> None:
    start = datetime(2026, 3, 1, 2, tzinfo=UTC)
    for n, rule in enumerate([*RULE_CODES, "a_rule_added_later"]):
        snap = {
            "at": (start + timedelta(seconds=n, microseconds=n)).isoformat(),
            "grade": "B", "score": 80 - n, "indicators": {rule: -n, "penalty_record": -10},
            "override": None if n % 2 else "A", "cause": f"e{n}", "ruleset_version": "2026.1",
        }  # fmt: skip
        assert unpack_snapshot(pack_snapshot(snap)) == snap  # type: ignore[arg-type]
        assert unpack_snapshot(json.dumps(snap).encode()) == snap
        assert rule.encode() not in pack_snapshot(snap) or rule not in RULE_CODES  # type: ignore[arg-type]


def test_a_journal_chunk_of_either_version_reads() -> None:
    entries = [["2026-03-01T02:00:00+00:00", "complaint.received", "e1", {"channel": "12315"}]]
    for chunk in (compression.pack_compressed_v1(entries), journal.pack(entries)):
        assert journal.entries(chunk) == entries
    assert journal.pack(entries)[0] == compression.JOURNAL


def test_threads_compress_and_expand_at_once() -> None:
    # each thread has its own zstd contexts (the API decodes states in its thread pool)
    def round_trips(n: int) -> bool:
        records = [{"n": n, "i": i, "text": "深圳市" * (i % 7)} for i in range(300)]
        packed = [compression.pack_compressed(r, compression.STATE) for r in records]
        return [compression.unpack_compressed(p) for p in packed] == records

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(round_trips, range(8)))
