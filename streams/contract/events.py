"""The event envelope and `decode()`: EVENTS.md as code.

One Kafka message value (or JSONL line, or HTTP body) in, its events out. Each type has
its own model (envelope + typed payload, built at import); a valid one-event message costs
one `validate_json` over their union, discriminated on `type`. Anything else parses once
with `json.loads`, unpacks `{"batch": [...]}` frames and names what is wrong. Nothing is
dropped: a rejection carries a reason code and the original bytes for the dead letters.
The reasons and the dead-letter record are in streams/contract/rejections.py.
"""

import functools
import json
import logging
import operator
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal, NoReturn, cast

from pydantic import (
    BaseModel,
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    TypeAdapter,
    ValidationError,
)
from pydantic import create_model as _create_model
from pydantic_core import ErrorDetails, PydanticCustomError

from streams.contract import payloads as p
from streams.contract import values as v
from streams.contract.identifiers import person_key
from streams.contract.rejections import Rejected, RejectReason

logger = logging.getLogger(__name__)

MAX_EVENT_BYTES = 1 << 20
"""One event's JSON may not exceed 1 MiB (in a batch: its compact re-encoding)."""
MAX_MESSAGE_BYTES = 16 << 20
"""A whole message (a batch frame) may not exceed 16 MiB; nothing bigger is parsed."""

_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _bad_timestamp(message: str) -> NoReturn:
    raise PydanticCustomError("invalid_timestamp", message)


def _timestamp(value: object) -> datetime:
    """RFC 3339 with an offset (`Z` or `+08:00`), kept in that offset; naive is refused
    because the day an event counts for depends on it. Fractions beyond microseconds
    are truncated; leap seconds (`:60`) and years outside 1900-2100 are refused."""
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            _bad_timestamp("timestamp has no UTC offset")
        return value
    if not isinstance(value, str):
        _bad_timestamp("expected an RFC 3339 timestamp string")
    match = _RFC3339.fullmatch(value)
    if match is None:
        _bad_timestamp("not an RFC 3339 timestamp (YYYY-MM-DDThh:mm:ss+hh:mm)")
    day, clock, fraction, offset = match.groups()
    if offset is None:
        _bad_timestamp("timestamp has no UTC offset (add Z or +08:00)")
    fraction = (fraction or ".").ljust(7, "0")[:7]
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{fraction}{offset}")
    except ValueError:
        _bad_timestamp("timestamp is not a real date, time or offset")
    # EVENTS.md sets no range; the rules' date arithmetic overflowed on years near 1
    # and 9999 and crashed the worker. The bounds are those of the contract's `year`.
    if not 1900 <= moment.year <= 2100:
        _bad_timestamp("timestamp year is outside 1900-2100")
    return moment


Timestamp = Annotated[
    datetime, PlainValidator(_timestamp), PlainSerializer(datetime.isoformat, when_used="json")
]
EventId = Annotated[str, Strict(), Field(min_length=1, max_length=128)]


class Event(v.ContractModel):
    """A validated event: the envelope and its typed payload (`payload.TYPE == type`).

    Build events with `decode()` (or `EVENT_ADAPTER`), not `Event(...)`: each type has
    its own subclass in EVENT_MODELS. Narrow the payload with `isinstance`/`match`
    (e.g. `case PenaltyDecided():`). `uscc` is None only for person events.
    """

    event_id: EventId
    type: str
    uscc: v.Uscc | None = None
    occurred_at: Timestamp
    source: v.Text
    reported_at: Timestamp | None = None
    payload: p.Payload

    is_person_event: ClassVar[bool] = False

    @property
    def key(self) -> str:
        """The partition and store key: the USCC, or the person's pseudonymous hash for
        `person.*` events (so raw ID numbers never become keys)."""
        if self.is_person_event:
            return person_key(cast(p.PersonCase, self.payload).person.id_no)
        return cast(str, self.uscc)

    @property
    def event_day(self) -> date:
        """The calendar day of `occurred_at` in its own offset: the statutory clocks'
        day, which a conversion to UTC could move."""
        return self.occurred_at.date()


class _EnterpriseEvent(Event):
    uscc: v.Uscc


class _PersonEvent(Event):
    """Person events need no `uscc`; one is accepted and validated (the pipeline's
    per-firm fan-out sets it), but the key stays the person's."""

    is_person_event: ClassVar[bool] = True
    payload: p.PersonCase


def _event_model(event_type: str, payload: object) -> type[Event]:
    base = _PersonEvent if event_type in p.PERSON_TYPES else _EnterpriseEvent
    name = "".join(part.title() for part in re.split(r"[._]", event_type)) + "Event"
    literal = cast(Any, Literal)[event_type]
    return _create_model(
        name,
        __base__=base,
        __module__=__name__,
        type=(literal, ...),
        payload=(cast(Any, payload), ...),
    )


EVENT_MODELS: dict[str, type[Event]] = {t: _event_model(t, m) for t, m in p.PAYLOADS.items()}
"""Event type -> its model (an Event subclass)."""
EVENT_TYPES: frozenset[str] = frozenset(EVENT_MODELS)
_UNION = functools.reduce(operator.or_, EVENT_MODELS.values())
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(
    cast(Any, Annotated[_UNION, Field(discriminator="type")])
)
"""Validates one event (a dict, or JSON bytes) into its Event subclass, in one pass."""


#: how far after it was received an event may say it happened: clocks and time zones
#: disagree a little; more is a typo or a forged date, which would move the event clock
MAX_AHEAD = timedelta(days=1)


def decode(raw: bytes, received_at: datetime | None = None) -> list[Event | Rejected]:
    """One message value in, its events and rejections out, in order; never raises.
    With `received_at` (when the broker or `ingest` got it), an event whose
    `occurred_at` is more than `MAX_AHEAD` later is rejected as `invalid_timestamp`.

    >>> [r.reason for r in decode(b'{"batch": [{"type": "nope"}, 42]}')]
    ['unknown_type', 'not_an_object']
    """
    try:
        items = _decode(raw)
        if received_at is None:
            return items
        return [_not_ahead(i, raw, len(items) == 1, received_at) for i in items]
    except Exception:  # a decoder bug must not stop the stream: keep the bytes
        logger.exception("decode failed unexpectedly")
        kept = bytes(raw) if isinstance(raw, bytes | bytearray | memoryview) else b""
        return [Rejected(reason="internal_error", detail="decoder error, see log", raw=kept)]


def _not_ahead(
    item: Event | Rejected, raw: bytes, alone: bool, received_at: datetime
) -> Event | Rejected:
    if isinstance(item, Rejected) or item.occurred_at - received_at <= MAX_AHEAD:
        return item
    days = (item.occurred_at - received_at) / timedelta(days=1)
    return Rejected(
        reason="invalid_timestamp",
        detail=f"occurred_at is {days:.1f} days after the event was received",
        raw=bytes(raw) if alone else encode_event(item),  # a batch item: its own JSON
        field="occurred_at",
        event_id=item.event_id,
    )


def _decode(raw: bytes) -> list[Event | Rejected]:
    if raw is None:  # a Kafka tombstone
        return [Rejected(reason="invalid_json", detail="empty message", raw=b"")]
    if not isinstance(raw, bytes):
        raw = bytes(raw)
    size = len(raw)
    if size > MAX_MESSAGE_BYTES:
        return [_too_large(raw, size, MAX_MESSAGE_BYTES)]
    # Fast path: a plain event that validates. Anything the stdlib parser would judge
    # differently (frames, NaN/Infinity) and every failure go through the slow path.
    plain = b'"batch"' not in raw and b"NaN" not in raw and b"Infinity" not in raw
    if plain and size <= MAX_EVENT_BYTES:
        try:
            return [EVENT_ADAPTER.validate_json(raw)]
        except ValueError:
            pass
    obj, problem = _parse(raw)
    if problem is not None:
        return [Rejected(reason="invalid_json", detail=problem, raw=raw)]
    if isinstance(obj, dict) and "batch" in obj and "type" not in obj:
        return _decode_batch(obj["batch"], raw)
    if size > MAX_EVENT_BYTES:
        return [_too_large(raw, size, MAX_EVENT_BYTES, _event_id(obj))]
    return [_validate(obj, raw, "")]


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not allowed in JSON")


def _parse(raw: bytes) -> tuple[Any, str | None]:
    """The message as Python values, or why it is not UTF-8 JSON."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 (byte {exc.start})"
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
        if ("\\ud" in text or "\\uD" in text) and _encode(obj) is None:
            return None, "a string holds a lone surrogate escape (not encodable as UTF-8)"
    except RecursionError:
        return None, "JSON nested too deeply"
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, over-long integers
        return None, f"invalid JSON: {exc}"
    return obj, None


def _encode(obj: Any) -> bytes | None:
    """Compact UTF-8 JSON, or None when `obj` cannot be encoded (lone surrogates)."""
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except (UnicodeEncodeError, ValueError, RecursionError):
        return None


def _decode_batch(items: object, raw: bytes) -> list[Event | Rejected]:
    if not isinstance(items, list):
        return [
            Rejected(reason="invalid_batch", detail="batch must be a list", raw=raw, field="batch")
        ]
    if not items:
        return [
            Rejected(reason="empty_batch", detail="batch holds no events", raw=raw, field="batch")
        ]
    # Only a frame bigger than one event's limit can hold an oversized event.
    check_size = len(raw) > MAX_EVENT_BYTES
    out: list[Event | Rejected] = []
    for index, item in enumerate(items):
        prefix = f"batch item {index}: "
        item_raw = _encode(item) if check_size else None
        if item_raw is not None and len(item_raw) > MAX_EVENT_BYTES:
            out.append(_too_large(item_raw, len(item_raw), MAX_EVENT_BYTES, _event_id(item)))
        else:
            out.append(_validate(item, item_raw, prefix))
    return out


def _validate(obj: Any, raw: bytes | None, prefix: str) -> Event | Rejected:
    """Validate one parsed event; `raw` None means "re-encode `obj` if rejected"."""
    if not isinstance(obj, dict):
        kind = _json_kind(obj)
        detail = f"{prefix}expected a JSON object, got {kind}"
        return Rejected(reason="not_an_object", detail=detail, raw=raw or _encode(obj) or b"")
    try:
        return EVENT_ADAPTER.validate_python(obj)
    except ValidationError as exc:
        reason, field, detail = _explain(exc.errors(include_url=False, include_input=False))
        return Rejected(
            reason=reason,
            detail=prefix + detail,
            raw=raw or _encode(obj) or b"",
            field=field,
            event_id=_event_id(obj),
        )


def _explain(errors: list[ErrorDetails]) -> tuple[RejectReason, str | None, str]:
    """The one place pydantic errors become (reason, field path, detail); the first
    error (envelope fields come first) names the reason, the detail counts the rest."""
    error = errors[0]
    kind = error["type"]
    parts = [str(part) for part in error["loc"]]
    if parts and parts[0] in EVENT_TYPES:  # drop the union tags pydantic puts in `loc`
        event_type = parts.pop(0)
        if event_type == "registration.changed" and parts[:1] == ["payload"] and len(parts) > 1:
            parts.pop(1)
    field = ".".join(parts) or None
    message = error["msg"]
    reason: RejectReason
    if kind in ("invalid_uscc", "invalid_id_number", "invalid_timestamp"):
        reason = cast(RejectReason, kind)
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        reason = "unknown_type" if kind == "union_tag_invalid" else "missing_field"
        tag = str(error.get("ctx", {}).get("tag", ""))[:64]
        if field is None:
            field = "type"
            message = (
                f"unknown event type {tag!r}" if reason == "unknown_type" else "Field required"
            )
        else:  # the `field` tag inside a registration.changed payload
            reason = "invalid_field" if kind == "union_tag_invalid" else "missing_field"
            field += ".field"
            choices = ", ".join(p.CHANGE_FIELDS)
            message = f"must be one of {choices}" if reason == "invalid_field" else "Field required"
    elif kind == "missing":
        reason = "missing_field"
    elif kind in ("dict_type", "model_type", "model_attributes_type") and field is None:
        reason = "not_an_object"
    else:
        reason = "invalid_field"
    detail = f"{field}: {message}" if field else message
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return reason, field, detail


def _event_id(obj: object) -> str | None:
    if isinstance(obj, dict):
        event_id = obj.get("event_id")
        if isinstance(event_id, str) and 0 < len(event_id) <= 128:
            return event_id
    return None


def _too_large(raw: bytes, size: int, limit: int, event_id: str | None = None) -> Rejected:
    detail = f"{size} bytes, limit {limit}"
    return Rejected(reason="too_large", detail=detail, raw=raw, event_id=event_id)


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    names = {list: "an array", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), "null")


def _json_default(value: object) -> object:
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def encode_event(obj: dict[str, Any] | Event) -> bytes:
    """Compact UTF-8 JSON for producers, from an Event or a plain dict (dates and
    datetimes in a dict become ISO strings). Raises ValueError for NaN/Infinity."""
    data = obj.model_dump(mode="json") if isinstance(obj, Event) else obj
    text = json.dumps(
        data, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default
    )
    return text.encode()
