"""The envelope, decode(), the dead-letter record and encode_event (EVENTS.md)."""

import base64
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.contract.events import (
    EVENT_MODELS,
    MAX_EVENT_BYTES,
    MAX_MESSAGE_BYTES,
    Event,
    decode,
    encode_event,
)
from streams.contract.identifiers import person_key
from streams.contract.payloads import PAYLOADS, PenaltyDecided
from streams.contract.rejections import REASONS, Rejected, dead_letter_record
from tests.unit.event_samples import ID_NO, USCC, event, raw

EXAMPLE = """{"event_id": "samr-pen-2026-000123", "type": "penalty.decided",
 "uscc": "91440300708461136T", "occurred_at": "2026-03-01T10:00:00+08:00",
 "source": "samr",
 "payload": {"decision_no": "深市监罚〔2026〕123号", "authority": "深圳市市场监督管理局",
             "violation": "虚假宣传", "amount": 50000, "procedure": "ordinary",
             "measures": ["fine"], "decided_on": "2026-03-01"}}""".encode()


def one(data: bytes) -> Event | Rejected:
    results = decode(data)
    assert len(results) == 1
    return results[0]


def accepted(obj: object) -> Event:
    result = one(raw(obj))
    assert isinstance(result, Event), result
    return result


def rejected(obj: object) -> Rejected:
    result = one(obj if isinstance(obj, bytes) else raw(obj))
    assert isinstance(result, Rejected), result
    assert result.reason in REASONS
    return result


def test_example_from_the_contract() -> None:
    ev = one(EXAMPLE)
    assert isinstance(ev, Event)
    assert (ev.event_id, ev.type, ev.uscc, ev.source) == (
        "samr-pen-2026-000123",
        "penalty.decided",
        "91440300708461136T",
        "samr",
    )
    assert ev.occurred_at == datetime(2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=8)))
    assert ev.reported_at is None
    assert isinstance(ev.payload, PenaltyDecided)
    assert ev.payload.amount == 50000.0 and isinstance(ev.payload.amount, float)
    assert ev.payload.measures == ("fine",)
    assert ev.payload.decided_on == date(2026, 3, 1)
    assert ev.key == "91440300708461136T"
    assert not ev.is_person_event


def test_every_type_has_a_model_and_a_valid_sample() -> None:
    assert set(EVENT_MODELS) == set(PAYLOADS) and len(PAYLOADS) == 28
    for event_type in PAYLOADS:
        ev = accepted(event(event_type))
        assert ev.type == event_type
        assert event_type == ev.payload.TYPE
        assert type(ev) is EVENT_MODELS[event_type]


def test_event_day_uses_the_events_own_offset() -> None:
    ev = accepted(event(occurred_at="2026-03-01T00:30:00+08:00"))
    assert ev.event_day == date(2026, 3, 1)  # 2026-02-28 in UTC
    assert ev.occurred_at.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-03-01T10:00:00Z",
        "2026-03-01t10:00:00z",
        "2026-03-01 10:00:00+08:00",
        "2026-03-01T10:00:00.123456789-05:00",
        "2026-03-01T10:00:00.5+00:00",
    ],
)
def test_rfc3339_timestamps(stamp: str) -> None:
    ev = accepted(event(occurred_at=stamp, reported_at=stamp))
    assert ev.occurred_at.utcoffset() is not None
    assert ev.reported_at == ev.occurred_at


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-03-01T10:00:00",  # naive
        "2026-03-01",  # no time, no offset
        "2026-03-01T10:00",  # no seconds
        "20260301T100000+0800",  # ISO 8601 basic, not RFC 3339
        "2026-02-30T10:00:00+08:00",
        "2026-03-01T10:00:00+25:00",
        "2026-03-01T23:59:60Z",
        "yesterday",
        "",
        1772330400,
        None,
    ],
)
@pytest.mark.parametrize("field", ["occurred_at", "reported_at"])
def test_bad_timestamps(stamp: object, field: str) -> None:
    if stamp is None and field == "reported_at":
        return  # reported_at is optional: null is allowed
    result = rejected(event(**{field: stamp}))
    assert (result.reason, result.field) == ("invalid_timestamp", field)
    assert result.event_id == "penalty.decided-0001"


def test_missing_occurred_at() -> None:
    result = rejected(event(occurred_at=...))
    assert (result.reason, result.field) == ("missing_field", "occurred_at")


@pytest.mark.parametrize(
    ("uscc", "why"),
    [
        (USCC[:17] + ("0" if USCC[17] != "0" else "1"), "check character"),
        (USCC[:10] + "I" + USCC[11:], "not allowed: I"),
        (USCC[:10] + "O" + USCC[11:], "not allowed"),
        (USCC[:10] + "S" + USCC[11:], "not allowed"),
        (USCC[:10] + "V" + USCC[11:], "not allowed"),
        (USCC[:10] + "Z" + USCC[11:], "not allowed"),
        (USCC.lower(), "not allowed"),
        (USCC[:17], "length is 17"),
        (USCC + "0", "length is 19"),
        ("", "length is 0"),
        (91440300708461136, "string"),
        (None, "string"),
    ],
)
def test_bad_uscc(uscc: object, why: str) -> None:
    result = rejected(event(uscc=uscc))
    assert (result.reason, result.field) == ("invalid_uscc", "uscc")
    assert why in result.detail


def test_missing_uscc_on_an_enterprise_type() -> None:
    result = rejected(event(uscc=...))
    assert (result.reason, result.field) == ("missing_field", "uscc")


def test_person_events_need_no_uscc_and_are_keyed_by_the_person() -> None:
    ev = accepted(event("person.dishonest_listed"))
    assert ev.uscc is None and ev.is_person_event
    assert ev.key == person_key(ID_NO) and ID_NO not in ev.key
    fanned_out = accepted(event("person.dishonest_listed", uscc=USCC))  # re-sent per firm
    assert fanned_out.uscc == USCC and fanned_out.key == person_key(ID_NO)
    assert rejected(event("person.dishonest_removed", uscc="X")).reason == "invalid_uscc"


@pytest.mark.parametrize(
    ("changes", "reason", "field"),
    [
        ({"type": "penalty.imposed"}, "unknown_type", "type"),
        ({"type": 7}, "unknown_type", "type"),
        ({"type": ...}, "missing_field", "type"),
        ({"event_id": ""}, "invalid_field", "event_id"),
        ({"event_id": "x" * 129}, "invalid_field", "event_id"),
        ({"event_id": 12}, "invalid_field", "event_id"),
        ({"event_id": ...}, "missing_field", "event_id"),
        ({"source": ""}, "invalid_field", "source"),
        ({"source": ...}, "missing_field", "source"),
        ({"payload": ...}, "missing_field", "payload"),
        ({"payload": []}, "invalid_field", "payload"),
    ],
)
def test_envelope_rejections(changes: dict[str, object], reason: str, field: str) -> None:
    result = rejected(event(**changes))
    assert (result.reason, result.field) == (reason, field)


def test_event_id_is_reported_only_when_usable() -> None:
    assert accepted(event(event_id="x" * 128)).event_id == "x" * 128
    assert rejected(event(event_id="x" * 129)).event_id is None
    assert rejected(event(type="nope")).event_id == "penalty.decided-0001"


def test_unknown_type_detail_names_the_type_briefly() -> None:
    result = rejected(event(type="nope." + "x" * 500))
    assert "nope.x" in result.detail and len(result.detail) < 120


def test_several_errors_report_the_first_and_count_the_rest() -> None:
    result = rejected(event(uscc=..., source=...))
    assert (result.reason, result.field) == ("missing_field", "uscc")
    assert "(and 1 more)" in result.detail


def test_extra_fields_are_kept_and_ignored() -> None:
    body = event(trace={"hop": [1, 2]}, schema="v1")
    body["payload"]["internal_ref"] = "A-1"
    ev = accepted(body)
    assert ev.model_extra == {"trace": {"hop": [1, 2]}, "schema": "v1"}
    assert ev.payload.model_extra == {"internal_ref": "A-1"}
    assert json.loads(encode_event(ev))["payload"]["internal_ref"] == "A-1"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe{}", "invalid_json"),
        (b'{"event_id": "\xe6\xb7"}', "invalid_json"),
        (b"", "invalid_json"),
        (b"{", "invalid_json"),
        (b"\xef\xbb\xbf{}", "invalid_json"),  # UTF-8 BOM
        (b'{"x": NaN}', "invalid_json"),
        (b'{"x": -Infinity}', "invalid_json"),
        (b'{"x": "\\ud800"}', "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        (b"[]", "not_an_object"),
        (b'"text"', "not_an_object"),
        (b"42", "not_an_object"),
        (b"null", "not_an_object"),
        (b"true", "not_an_object"),
        (b"{}", "missing_field"),
    ],
)
def test_undecodable_messages(data: bytes, reason: str) -> None:
    result = rejected(data)
    assert result.reason == reason
    assert result.raw == data


def test_tombstones_and_other_byte_types() -> None:
    (tombstone,) = decode(None)  # type: ignore[arg-type]
    assert isinstance(tombstone, Rejected) and tombstone.reason == "invalid_json"
    ev = one(bytearray(raw(event())))  # type: ignore[arg-type]
    assert isinstance(ev, Event)


def test_deeply_nested_extra_field() -> None:
    body = raw(event())[:-1] + b', "deep": ' + b"[" * 500 + b"]" * 500 + b"}"
    assert isinstance(one(body), Event)


def test_size_limits() -> None:
    big = event(padding="x" * MAX_EVENT_BYTES)
    result = rejected(big)
    assert result.reason == "too_large" and result.event_id == "penalty.decided-0001"
    huge = b" " * (MAX_MESSAGE_BYTES + 1)
    assert rejected(huge).reason == "too_large"


def test_batch_with_one_bad_item_among_good_ones() -> None:
    bad = event(event_id="bad-1", uscc="91440300708461136A")
    items = [event(event_id="ok-1"), bad, event("tax.arrears", event_id="ok-2"), 5]
    results = decode(raw({"batch": items}))
    assert [type(r).__name__ for r in results][:2] == ["PenaltyDecidedEvent", "Rejected"]
    assert [r.event_id for r in results[:3]] == ["ok-1", "bad-1", "ok-2"]
    failed = results[1]
    assert isinstance(failed, Rejected)
    assert (failed.reason, failed.field) == ("invalid_uscc", "uscc")
    assert failed.detail.startswith("batch item 1: ")
    assert json.loads(failed.raw) == bad  # its own re-encoding
    assert b"\\u" not in failed.raw  # UTF-8, not ASCII escapes
    last = results[3]
    assert isinstance(last, Rejected) and last.reason == "not_an_object" and last.raw == b"5"


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ({"batch": []}, "empty_batch"),
        ({"batch": {}}, "invalid_batch"),
        ({"batch": None}, "invalid_batch"),
    ],
)
def test_bad_batch_frames(frame: object, reason: str) -> None:
    result = rejected(frame)
    assert (result.reason, result.field) == (reason, "batch")


def test_an_event_with_a_batch_field_is_an_event() -> None:
    assert isinstance(one(raw(event(batch=[1]))), Event)


def test_big_batches_check_each_event_size() -> None:
    small = event(event_id="small")
    big = event(event_id="big", padding="x" * MAX_EVENT_BYTES)
    results = decode(raw({"batch": [small, big]}))
    assert isinstance(results[0], Event)
    assert isinstance(results[1], Rejected) and results[1].reason == "too_large"
    assert results[1].event_id == "big"


def test_dead_letter_record_keeps_the_exact_bytes() -> None:
    now = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    for data in (b"\xff\x00not utf-8", raw(event(uscc="bad")), b'{"a":  1 }\n'):
        result = rejected(data)
        record = json.loads(dead_letter_record(result, now))
        assert set(record) == {
            "reason",
            "detail",
            "field",
            "event_id",
            "original_b64",
            "original",
            "dead_at",
        }
        assert base64.b64decode(record["original_b64"]) == data
        assert record["reason"] == result.reason and record["field"] == result.field
        assert record["original"] == (None if data.startswith(b"\xff") else data.decode())
        assert datetime.fromisoformat(record["dead_at"]) == now
    with pytest.raises(ValueError):
        dead_letter_record(result, datetime(2026, 3, 1))


def test_rejected_repr_leaves_out_the_raw_bytes() -> None:
    result = rejected(event("person.dishonest_listed", occurred_at="never"))
    assert ID_NO not in repr(result)


def test_encode_event_round_trips() -> None:
    for event_type in PAYLOADS:
        ev = accepted(event(event_type))
        data = encode_event(ev)
        assert decode(data) == [ev]
        assert "深" not in data.decode() or b"\\u" not in data
    body = {"when": date(2026, 3, 1), "at": datetime(2026, 3, 1, tzinfo=UTC), "text": "深圳"}
    assert json.loads(encode_event(body)) == {
        "when": "2026-03-01",
        "at": "2026-03-01T00:00:00+00:00",
        "text": "深圳",
    }
    with pytest.raises(ValueError):
        encode_event({"x": float("nan")})


def test_single_and_batched_events_are_judged_alike() -> None:
    for event_type in PAYLOADS:
        body = event(event_type)
        assert decode(raw({"batch": [body]})) == decode(raw(body))


# Hypothesis: decode never raises, always answers, judges an event the same alone or framed.

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = ["event_id", "type", "uscc", "occurred_at", "source", "reported_at", "payload"]


def check(results: list[Event | Rejected]) -> None:
    assert results
    for result in results:
        assert isinstance(result, Event | Rejected)
        if isinstance(result, Rejected):
            assert result.reason in REASONS and isinstance(result.raw, bytes)
        else:
            assert decode(encode_event(result)) == [result]


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_decode_never_raises_on_bytes(data: bytes) -> None:
    check(decode(data))


@given(json_values)
@settings(max_examples=300, deadline=None)
def test_decode_never_raises_on_json(value: object) -> None:
    check(decode(json.dumps(value).encode()))
    check(decode(json.dumps({"batch": [value, value]}).encode()))


@given(
    st.sampled_from(sorted(PAYLOADS)),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3),
    st.dictionaries(st.text(max_size=12), json_values, max_size=3),
)
@settings(max_examples=400, deadline=None)
def test_mutated_events(
    event_type: str, envelope: dict[str, object], payload: dict[str, object]
) -> None:
    body = event(event_type, **envelope)
    if isinstance(body.get("payload"), dict) and payload:
        body["payload"] = {**body["payload"], **payload}
    alone = decode(raw(body))
    check(alone)
    framed = decode(raw({"batch": [body]}))
    assert len(alone) == len(framed) == 1
    if isinstance(alone[0], Event):
        assert framed == alone
    else:
        assert isinstance(framed[0], Rejected)
        assert (framed[0].reason, framed[0].field) == (alone[0].reason, alone[0].field)


# --- events dated after they were received ---------------------------------------------
RECEIVED = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, the samples' time


@pytest.mark.parametrize(
    ("occurred_at", "accepted"),
    [
        ("2026-03-01T10:00:00+08:00", True),
        ("2026-03-02T09:59:59+08:00", True),  # within the day allowed for clocks
        ("2026-03-02T10:00:01+08:00", False),
        ("2031-03-01T10:00:00+08:00", False),
    ],
)
def test_an_event_dated_more_than_a_day_after_its_receipt_is_rejected(
    occurred_at: str, accepted: bool
) -> None:
    message = raw(event(occurred_at=occurred_at))
    (item,) = decode(message, RECEIVED)
    assert isinstance(item, Event) is accepted
    if not accepted:
        assert isinstance(item, Rejected)
        assert (item.reason, item.field, item.raw) == ("invalid_timestamp", "occurred_at", message)
        assert item.event_id == "penalty.decided-0001"
    (unchecked,) = decode(message)  # a replay of the past: no receipt time to judge by
    assert isinstance(unchecked, Event)


def test_a_batch_item_dated_ahead_is_rejected_alone_with_its_own_json() -> None:
    ahead = event(event_id="ahead", occurred_at="2027-01-01T00:00:00+08:00")
    items = decode(raw({"batch": [event(), ahead]}), RECEIVED)
    assert isinstance(items[0], Event)
    assert isinstance(items[1], Rejected) and items[1].reason == "invalid_timestamp"
    assert json.loads(items[1].raw)["event_id"] == "ahead"
