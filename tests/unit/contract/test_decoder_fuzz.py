"""Fuzzing `decode` with bad input (issue 9): whatever arrives, decode returns Events and
Rejected items, never raises and never hides a bug as `internal_error`; every rejection
carries a known reason and bytes that replay exactly, and `dead_letter_record` keeps them.

Where the contract (EVENTS.md, docs/events.md) says what a rejection is, the reason and
field are asserted too. Each property runs a fixed number of examples (`EXAMPLES`, fewer
for the megabyte-sized ones) so the number of cases is known.
"""

from __future__ import annotations

import base64
import json
import random
import string
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.contract.events import EVENT_TYPES, MAX_EVENT_BYTES, MAX_MESSAGE_BYTES, Event, decode
from streams.contract.identifiers import (
    USCC_ALPHABET,
    make_id_number,
    make_uscc,
    uscc_problem,
)
from streams.contract.rejections import REASONS, Rejected, dead_letter_record
from tests.unit.event_samples import PAYLOADS, event, id_with_birth, raw

EXAMPLES = 300
HUGE_EXAMPLES = 40  # each builds and decodes about a megabyte
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TYPES = sorted(PAYLOADS)
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def compact(obj: Any) -> bytes:
    """How decode re-encodes a batch item it rejects."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def check(data: bytes) -> list[Event | Rejected]:
    """decode's promises for any message; returns its results for further checks."""
    results = decode(data)
    assert results, "decode returned nothing"
    framed = b'"batch"' in data
    for item in results:
        assert isinstance(item, Event | Rejected)
        if isinstance(item, Event):
            continue
        assert item.reason in REASONS
        assert item.reason != "internal_error", f"decode hid an exception: {item.detail}"
        if not framed:
            assert len(results) == 1 and item.raw == data
        if item.event_id is not None:
            assert 0 < len(item.event_id) <= 128
        check_record(item)
    return results


def check_record(item: Rejected, now: datetime = NOW) -> None:
    record = json.loads(dead_letter_record(item, now))
    assert base64.b64decode(record["original_b64"], validate=True) == item.raw
    assert (record["reason"], record["field"], record["event_id"]) == (
        item.reason,
        item.field,
        item.event_id,
    )
    assert record["detail"] == item.detail
    assert datetime.fromisoformat(record["dead_at"]) == now
    try:
        text: str | None = item.raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    assert record["original"] == text


def rejected(data: bytes) -> Rejected:
    results = check(data)
    assert len(results) == 1
    (item,) = results
    assert isinstance(item, Rejected), f"accepted: {data[:200]!r}"
    return item


def accepted(data: bytes) -> Event:
    results = check(data)
    assert len(results) == 1
    (item,) = results
    assert isinstance(item, Event), f"{item.reason}: {item.detail}"
    return item


samples = st.sampled_from(TYPES).map(event)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**40), 10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


# --- raw bytes ----------------------------------------------------------------------------


@given(st.binary(max_size=4096))
@fuzz
def test_arbitrary_bytes(data: bytes) -> None:
    check(data)


@given(st.text(alphabet='{}[]":,.-+0123456789eEtrufalsn\\ batchpyloadevnid_', max_size=300))
@fuzz
def test_json_like_noise(text: str) -> None:
    check(text.encode())


BAD_UTF8 = [
    b"\xff",
    b"\xfe",
    b"\x80",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xe4\xb8",
]


@given(samples, st.sampled_from(BAD_UTF8), st.floats(0, 1))
@fuzz
def test_invalid_utf8_inside_an_event(body: dict[str, Any], bad: bytes, where: float) -> None:
    good = raw(body)
    at = int(where * len(good))
    data = good[:at] + bad + good[at:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert rejected(data).reason == "invalid_json"
    else:  # an insertion that happened to complete a character: any verdict will do
        check(data)


# --- malformed JSON -----------------------------------------------------------------------


@given(samples, st.floats(0, 1, exclude_max=True))
@fuzz
def test_truncated_events_are_invalid_json(body: dict[str, Any], where: float) -> None:
    good = raw(body)
    cut = good[: int(where * len(good))]
    result = rejected(cut)
    assert result.reason == "invalid_json" and result.event_id is None


@given(samples, st.lists(st.tuples(st.floats(0, 1), st.sampled_from('{}[]",:\\\x00 ')), max_size=4))
@fuzz
def test_events_with_stray_characters(body: dict[str, Any], edits: list[tuple[float, str]]) -> None:
    text = raw(body).decode()
    for where, char in edits:
        at = int(where * len(text))
        text = text[:at] + char + text[at + 1 :]
    check(text.encode())


@given(json_scalars | st.lists(json_values, max_size=4))
@fuzz
def test_json_that_is_not_an_object(value: Any) -> None:
    data = json.dumps(value, ensure_ascii=False).encode()
    assert rejected(data).reason == "not_an_object"


@given(st.integers(1, 20_000), st.sampled_from([("[", "]"), ('{"a":', "}"), ('{"batch":[', "]}")]))
@settings(max_examples=EXAMPLES, deadline=None)
def test_deep_nesting(depth: int, brackets: tuple[str, str]) -> None:
    opening, closing = brackets
    data = (opening * depth + "1" + closing * depth).encode()
    results = check(data)
    if opening == "[":
        assert rejected(data).reason in ("not_an_object", "invalid_json")
    for item in results:
        assert isinstance(item, Rejected)


@given(samples, st.integers(1, 3000))
@fuzz
def test_deep_nesting_in_an_extra_field(body: dict[str, Any], depth: int) -> None:
    data = raw(body)[:-1] + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"
    item = check(data)[0]
    assert isinstance(item, Event) or item.reason == "invalid_json"


# --- a field of the wrong type ------------------------------------------------------------


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every field and list item under `value`, as a path of keys and indexes."""
    found: list[tuple[str | int, ...]] = []
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        path = (*prefix, key)
        found.append(path)
        if isinstance(child, dict | list):
            found += paths(child, path)
    return found


def wrong_for(original: Any) -> st.SearchStrategy[Any]:
    """JSON values of a kind that no field holding `original` accepts. Strings are
    never replaced by numbers (money may be a decimal string) nor lists by strings
    (`findings` takes one text); nulls are left to the optional fields' own tests."""
    objects = st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)
    lists = st.lists(st.integers(), max_size=2)
    if isinstance(original, dict):
        return st.booleans() | st.integers() | st.text(max_size=8) | lists
    if isinstance(original, list):
        return st.booleans() | st.integers() | objects
    if isinstance(original, str):
        return st.booleans() | lists | objects
    return st.booleans() | lists | objects | st.text(string.ascii_letters, min_size=1)


def expected_reason(path: tuple[str | int, ...]) -> str:
    last = str(path[-1])
    reasons = {
        "uscc": "invalid_uscc",
        "id_no": "invalid_id_number",
        "occurred_at": "invalid_timestamp",
        "reported_at": "invalid_timestamp",
    }
    if path == ("type",):
        return "unknown_type"
    return reasons.get(last, "invalid_field")


def replaced(body: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


@given(st.data())
@settings(max_examples=600, deadline=None)
def test_every_field_with_a_wrong_type(data: st.DataObject) -> None:
    body = event(data.draw(st.sampled_from(TYPES), label="type"))
    body["reported_at"] = "2026-03-02T09:00:00+08:00"
    path = data.draw(st.sampled_from(paths(body)), label="path")
    original: Any = body
    for key in path:
        original = original[key]
    value = data.draw(wrong_for(original), label="value")
    result = rejected(raw(replaced(body, path, value)))
    dotted = ".".join(str(part) for part in path)
    assert (result.reason, result.field) == (expected_reason(path), dotted), result.detail
    assert result.event_id == (None if path == ("event_id",) else body["event_id"])


@given(samples, st.sampled_from(["event_id", "type", "occurred_at", "source", "payload"]))
@fuzz
def test_a_missing_envelope_field(body: dict[str, Any], name: str) -> None:
    del body[name]
    result = rejected(raw(body))
    assert (result.reason, result.field) == ("missing_field", name)


# --- sizes --------------------------------------------------------------------------------


def padded(body: dict[str, Any], size: int, as_array: bool) -> bytes:
    """`body` with an extra payload field that makes its JSON exactly `size` bytes: a
    long string, or a long array of short strings (closed off with one to fit)."""
    base = len(raw({**body, "payload": {**body["payload"], "filler": ""}}))
    room = size - base
    if as_array:
        count = max(0, (room - 8) // 12)  # `"xxxxxxxx", ` per item
        filler: Any = [["x" * 8] * count, ""]
        rest = size - len(raw({**body, "payload": {**body["payload"], "filler": filler}}))
        filler[1] = "x" * rest
    else:
        filler = "x" * room
    data = raw({**body, "payload": {**body["payload"], "filler": filler}})
    assert len(data) == size
    return data


@given(samples, st.integers(-40, 40), st.booleans())
@settings(max_examples=HUGE_EXAMPLES, deadline=None)
def test_events_at_the_size_limit(body: dict[str, Any], delta: int, as_array: bool) -> None:
    data = padded(body, MAX_EVENT_BYTES + delta, as_array)
    if delta <= 0:
        assert accepted(data).event_id == body["event_id"]
    else:
        result = rejected(data)
        assert (result.reason, result.event_id) == ("too_large", body["event_id"])


@given(st.sampled_from(["violation", "authority"]), st.integers(1, 250_000))
@settings(max_examples=HUGE_EXAMPLES, deadline=None)
def test_huge_texts_under_the_limit_are_kept(name: str, length: int) -> None:
    body = event("penalty.decided")
    body["payload"][name] = "虚" * length  # 3 bytes each in UTF-8: at most 750 kB
    assert accepted(raw(body)).payload.model_dump()[name] == "虚" * length


def test_a_message_over_the_message_limit_is_not_parsed() -> None:
    data = b'{"batch":[' + b" " * MAX_MESSAGE_BYTES + b"]}"
    result = rejected(data)
    assert result.reason == "too_large" and str(MAX_MESSAGE_BYTES) in result.detail


def test_an_oversized_item_in_a_large_batch() -> None:
    good = event(event_id="small")
    big = event(event_id="big", padding="x" * MAX_EVENT_BYTES)
    results = check(raw({"batch": [good, big, good]}))
    assert [type(r) is Rejected for r in results] == [False, True, False]
    assert isinstance(results[1], Rejected) and results[1].reason == "too_large"
    assert json.loads(results[1].raw) == big


# --- identifiers --------------------------------------------------------------------------

NOT_USCC = st.characters(codec="utf-8", exclude_characters=USCC_ALPHABET)  # no surrogates


@st.composite
def bad_usccs(draw: st.DrawFn) -> str:
    code = make_uscc(random.Random(draw(st.integers(0, 2**32))))
    at = draw(st.integers(0, 17))
    kind = draw(st.sampled_from(["substitute", "foreign", "length", "lower"]))
    if kind == "substitute":  # one wrong character: both check characters catch it
        other = draw(st.sampled_from(USCC_ALPHABET).filter(lambda c: c != code[at]))
        bad = code[:at] + other + code[at + 1 :]
    elif kind == "foreign":
        bad = code[:at] + draw(NOT_USCC) + code[at + 1 :]
    elif kind == "length":
        bad = draw(st.sampled_from([code[:at], code + code[: at + 1]]))
    else:
        bad = code.lower()
        if bad == code:
            bad = code[:17] + "I"
    assert uscc_problem(bad) is not None
    return bad


@given(bad_usccs(), st.sampled_from(["uscc", "shareholder"]))
@fuzz
def test_invalid_usccs(code: str, where: str) -> None:
    if where == "uscc":
        body, field = event("penalty.decided", uscc=code), "uscc"
    else:
        body = event("enterprise.registered")
        body["payload"]["shareholders"][1]["uscc"] = code
        field = "payload.shareholders.1.uscc"
    result = rejected(raw(body))
    assert (result.reason, result.field) == ("invalid_uscc", field)


@st.composite
def bad_id_numbers(draw: st.DrawFn) -> str:
    birth = draw(st.dates(date(1900, 1, 1), date.today()))
    id_no = make_id_number(random.Random(draw(st.integers(0, 2**32))), birth)
    kind = draw(st.sampled_from(["digit", "check", "no_date", "future", "old", "length", "letter"]))
    if kind == "digit":  # MOD 11-2 catches any one wrong digit
        at = draw(st.integers(0, 16))
        other = draw(st.sampled_from("0123456789").filter(lambda c: c != id_no[at]))
        bad = id_no[:at] + other + id_no[at + 1 :]
    elif kind == "check":
        other = draw(st.sampled_from("0123456789X").filter(lambda c: c != id_no[17]))
        bad = id_no[:17] + other
    elif kind == "no_date":  # a correct check character around an impossible date
        month = draw(st.integers(0, 99).filter(lambda m: not 1 <= m <= 12))
        bad = id_with_birth(f"{birth:%Y}{month:02d}{birth:%d}")
    elif kind == "future":
        bad = id_with_birth(f"{date.today() + timedelta(days=draw(st.integers(1, 9000))):%Y%m%d}")
    elif kind == "old":
        bad = id_with_birth(f"{draw(st.dates(date(1000, 1, 1), date(1899, 12, 31))):%Y%m%d}")
    elif kind == "length":
        bad = draw(st.sampled_from([id_no[:17], id_no + "0", id_no[:-2]]))
    else:
        at = draw(st.integers(0, 16))
        bad = id_no[:at] + draw(st.sampled_from("AZ x-/一")) + id_no[at + 1 :]
    return bad


PERSON_FIELDS = {
    "enterprise.registered": ["legal_rep", "shareholders.0", "officers.0"],
    "person.dishonest_listed": ["person"],
    "registration.changed": ["after"],
}


@given(bad_id_numbers(), st.sampled_from([(t, f) for t, fs in PERSON_FIELDS.items() for f in fs]))
@fuzz
def test_invalid_id_numbers_are_rejected_without_repeating_them(
    id_no: str, where: tuple[str, str]
) -> None:
    event_type, person_path = where
    body = event(event_type)
    holder: Any = body["payload"]
    for key in person_path.split("."):
        holder = holder[int(key)] if key.isdigit() else holder[key]
    holder["id_no"] = id_no
    result = rejected(raw(body))
    assert (result.reason, result.field) == ("invalid_id_number", f"payload.{person_path}.id_no")
    assert id_no not in result.detail and id_no[6:14] not in result.detail


# --- event types --------------------------------------------------------------------------


@st.composite
def unknown_types(draw: st.DrawFn) -> str:
    near = draw(st.sampled_from(TYPES))
    return draw(
        st.text(max_size=40)
        | st.just(near.upper())
        | st.just(near + " ")
        | st.just(near.replace(".", "_"))
        | st.just(near[:-1])
    )


@given(samples, unknown_types().filter(lambda t: t not in EVENT_TYPES))
@fuzz
def test_unknown_types(body: dict[str, Any], event_type: str) -> None:
    body["type"] = event_type
    result = rejected(raw(body))
    assert (result.reason, result.field, result.event_id) == (
        "unknown_type",
        "type",
        body["event_id"],
    )
    assert result.detail == f"type: unknown event type {event_type[:64]!r}"


# --- timestamps ---------------------------------------------------------------------------


def stamp(year: int, month: int, day: int, hms: tuple[int, int, int], offset: str) -> str:
    h, m, s = hms
    return f"{year:04d}-{month:02d}-{day:02d}T{h:02d}:{m:02d}:{s:02d}{offset}"


offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda minutes: f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
) | st.sampled_from(["Z", "z"])
clock = st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
envelope_times = st.sampled_from(["occurred_at", "reported_at"])


@given(samples, envelope_times, st.dates(date(1900, 1, 1), date(2100, 12, 31)), clock, offsets)
@fuzz
def test_timestamps_in_range_with_any_offset(
    body: dict[str, Any], name: str, day: date, hms: tuple[int, int, int], offset: str
) -> None:
    body[name] = stamp(day.year, day.month, day.day, hms, offset)
    parsed = getattr(accepted(raw(body)), name)
    assert parsed.utcoffset() is not None and parsed.date() == day
    assert (parsed.hour, parsed.minute, parsed.second) == hms


@given(
    samples,
    envelope_times,
    st.dates(date(2101, 1, 1), date(9999, 12, 31)) | st.dates(date(1, 1, 1), date(1899, 12, 31)),
    clock,
    offsets,
)
@fuzz
def test_timestamps_far_in_the_future_or_past(
    body: dict[str, Any], name: str, day: date, hms: tuple[int, int, int], offset: str
) -> None:
    """docs/events.md: years 1900-2100 (the contract's `year` range); the worker's date
    arithmetic overflowed on the years near 1 and 9999 that decode used to accept."""
    body[name] = stamp(day.year, day.month, day.day, hms, offset)
    result = rejected(raw(body))
    assert (result.reason, result.field) == ("invalid_timestamp", name)


@given(samples, envelope_times, st.datetimes(datetime(1900, 1, 1), datetime(2100, 12, 31)))
@fuzz
def test_naive_timestamps(body: dict[str, Any], name: str, moment: datetime) -> None:
    body[name] = moment.isoformat()
    result = rejected(raw(body))
    assert (result.reason, result.field) == ("invalid_timestamp", name)


@st.composite
def impossible_stamps(draw: st.DrawFn) -> str:
    year = draw(st.integers(1900, 2100))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    hms = draw(clock)
    offset = draw(offsets)
    part = draw(st.sampled_from(["month", "day", "hour", "minute", "second", "offset", "feb"]))
    if part == "month":
        month = draw(st.integers(0, 99).filter(lambda m: not 1 <= m <= 12))
    elif part == "day":
        day = draw(st.integers(0, 99).filter(lambda d: not 1 <= d <= 31))
    elif part == "feb":  # 30 February, 31 April
        month, day = draw(st.sampled_from([(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31)]))
    elif part == "hour":
        hms = (draw(st.integers(24, 99)), hms[1], hms[2])
    elif part == "minute":
        hms = (hms[0], draw(st.integers(60, 99)), hms[2])
    elif part == "second":  # 60 included: leap seconds are refused
        hms = (hms[0], hms[1], draw(st.integers(60, 99)))
    else:
        offset = f"+{draw(st.integers(24, 99)):02d}:{draw(st.integers(0, 99)):02d}"
    return stamp(year, month, day, hms, offset)


@given(samples, envelope_times, impossible_stamps() | st.text(max_size=30) | json_scalars)
@fuzz
def test_impossible_or_malformed_timestamps(body: dict[str, Any], name: str, value: Any) -> None:
    body[name] = value
    results = check(raw(body))
    if value is None and name == "reported_at":
        assert isinstance(results[0], Event)  # optional: null is absent
    elif isinstance(results[0], Rejected):
        assert (results[0].reason, results[0].field) == ("invalid_timestamp", name)
    else:  # random text that happens to be a timestamp
        assert isinstance(value, str) and 1900 <= getattr(results[0], name).year <= 2100


# --- batch frames -------------------------------------------------------------------------


@st.composite
def batch_items(draw: st.DrawFn) -> Any:
    body = draw(samples)
    kind = draw(st.sampled_from(["good", "good", "value", "unknown", "uscc", "stamp", "wrong"]))
    if kind == "value":
        return draw(json_values)
    if kind == "unknown":
        body["type"] = draw(st.text(max_size=12))
    elif kind == "uscc":
        body["uscc"] = draw(bad_usccs())
    elif kind == "stamp":
        body["occurred_at"] = draw(impossible_stamps())
    elif kind == "wrong":
        path = draw(st.sampled_from(paths(body)))
        original: Any = body
        for key in path:
            original = original[key]
        body = replaced(body, path, draw(wrong_for(original)))
    return body


@given(st.lists(batch_items(), min_size=1, max_size=8))
@fuzz
def test_batches_judge_each_item_as_if_it_came_alone(items: list[Any]) -> None:
    results = check(raw({"batch": items}))
    assert len(results) == len(items)
    for index, (item, result) in enumerate(zip(items, results, strict=True)):
        (alone,) = decode(compact(item))
        assert type(result) is type(alone)
        if isinstance(result, Rejected):
            assert isinstance(alone, Rejected)
            assert (result.reason, result.field, result.event_id) == (
                alone.reason,
                alone.field,
                alone.event_id,
            )
            assert result.detail == f"batch item {index}: {alone.detail}"
            assert result.raw == compact(item) and json.loads(result.raw) == item
        else:
            assert result == alone


# --- what still passes, and the dead-letter record ----------------------------------------


@given(samples, st.dictionaries(st.text(max_size=10), json_scalars, max_size=3))
@fuzz
def test_valid_events_with_extra_fields_still_decode(body: dict[str, Any], extra: dict) -> None:
    body["payload"] = {**body["payload"], **{f"x_{k}": v for k, v in extra.items()}}
    assert accepted(raw(body)).event_id == body["event_id"]


def test_every_sample_decodes_alone_and_in_one_batch() -> None:
    bodies = [event(t) for t in TYPES]
    assert all(isinstance(accepted(raw(b)), Event) for b in bodies)
    assert [e.type for e in check(raw({"batch": bodies}))] == TYPES  # type: ignore[union-attr]


any_text = st.text(st.characters(exclude_categories=()), max_size=40)  # lone surrogates too
rejections = st.builds(
    Rejected,
    reason=st.sampled_from(sorted(REASONS)),
    detail=any_text,
    raw=st.binary(max_size=600) | samples.map(raw),
    field=st.none() | any_text,
    event_id=st.none() | any_text,
)
aware_times = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30)),
    st.integers(-(24 * 60 - 1), 24 * 60 - 1),
)


@given(rejections, aware_times)
@fuzz
def test_dead_letter_record_never_raises_and_keeps_the_bytes(item: Rejected, now: datetime) -> None:
    check_record(item, now)


def test_dead_letter_record_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        dead_letter_record(
            Rejected(reason="invalid_json", detail="x", raw=b"x"), datetime(2026, 1, 1)
        )


# --- regressions found by fuzzing -----------------------------------------------------------


@pytest.mark.parametrize(
    "when",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59", "0001-01-02T00:00:00Z"],
)
def test_regression_timestamps_that_crashed_the_worker_are_rejected(when: str) -> None:
    """decode accepted these; the worker then raised OverflowError on them (rules/engine's
    UTC conversion, rules/calendar's Beijing day, rules/counters' window) at every
    redelivery. Now they are dead letters."""
    result = rejected(raw(event("penalty.decided", occurred_at=when)))
    assert (result.reason, result.field) == ("invalid_timestamp", "occurred_at")
    assert result.detail == "occurred_at: timestamp year is outside 1900-2100"


def test_regression_an_empty_type_is_reported_as_unknown_not_missing() -> None:
    result = rejected(raw(event("penalty.decided", type="")))
    assert result.detail == "type: unknown event type ''"  # was "type: Field required"
    changed = event("registration.changed")
    changed["payload"]["field"] = ""
    result = rejected(raw(changed))
    assert (result.reason, result.field) == ("invalid_field", "payload.field")
    assert "must be one of" in result.detail
