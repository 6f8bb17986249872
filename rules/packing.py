"""Binary records as creditwatch stores them: msgpack, with UTC instants and days
packed as small integers.

The worker stores an enterprise's timeline in this form (streams/store/); the records
compressed before version 2 (rules/compression.py) were packed this way too. JSON stays
the form of everything that leaves the system (the API, the output streams). A packed
record reads back to exactly the values that its JSON text would give: a mapping's
integer keys come back as strings, tuples as lists, and a string that looks like an
instant or a day comes back as the same string (it is packed as a number only when it
prints back identically).

>>> import json

>>> record = {"at": "2025-07-09T01:04:03+00:00", "day": "2025-07-09", 2025: [1, 2.5],
...           "id": "6f1c2f43-8c51-4c1a-9d55-2f3e4b5a6c7d", "odd": "2025-7-9"}
>>> unpack(pack(record))  # doctest: +NORMALIZE_WHITESPACE
{'at': '2025-07-09T01:04:03+00:00', 'day': '2025-07-09', '2025': [1, 2.5],
 'id': '6f1c2f43-8c51-4c1a-9d55-2f3e4b5a6c7d', 'odd': '2025-7-9'}
>>> len(pack(record)), len(json.dumps(record, separators=(",", ":")))
(70, 129)
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import msgpack

# extension codes: an instant in whole seconds, one with microseconds, a day, a UUID
_SECONDS, _MICROS, _DAY, _UUID = 1, 2, 3, 4
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UTC = "+00:00"


def _instant(text: str) -> msgpack.ExtType | None:
    """`text` as seconds (or microseconds) since the epoch, if it reads back the same."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.utcoffset() is None or moment.utcoffset().total_seconds() != 0:  # type: ignore[union-attr]
        return None
    if moment.isoformat() != text:
        return None
    delta = moment - _EPOCH
    if moment.microsecond:
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return msgpack.ExtType(_MICROS, _number(micros))
    return msgpack.ExtType(_SECONDS, _number(delta.days * 86_400 + delta.seconds))


def _day(text: str) -> msgpack.ExtType | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    if day.isoformat() != text:
        return None
    return msgpack.ExtType(_DAY, _number(day.toordinal()))


def _number(n: int) -> bytes:
    """4 bytes where they hold it (msgpack's shortest extension), else msgpack."""
    return n.to_bytes(4, "big") if 0 <= n < 1 << 32 else msgpack.packb(n)


def _uuid(text: str) -> msgpack.ExtType | None:
    """A UUID in its canonical lower-case text (as event ids often are), as 16 bytes."""
    try:
        value = uuid.UUID(text)
    except ValueError:
        return None
    return msgpack.ExtType(_UUID, value.bytes) if str(value) == text else None


@lru_cache(maxsize=1 << 16)  # the same instants and days recur across a batch
def _text(value: str) -> Any:
    """A string as msgpack will take it: an instant, a day or a UUID as an extension."""
    n = len(value)
    if n == 10 and value[4] == "-" and value[7] == "-":
        return _day(value) or value
    if n >= 25 and value[10] == "T" and value.endswith(_UTC):
        return _instant(value) or value
    if n == 36 and value[8] == "-" and value[23] == "-":
        return _uuid(value) or value
    return value


#: the lengths of the strings `_text` may pack: a day, an instant (with microseconds),
#: a UUID
_LENGTHS = frozenset((10, 25, 32, 36))


def _compact(value: Any) -> Any:
    """The value as msgpack will take it: instants and days as extensions, mapping
    keys as JSON has them (strings), tuples as lists. (Every value of a state passes
    here: the exact type tests come first, the general ones only after.)"""
    kind = type(value)
    if kind is str:
        return _text(value) if len(value) in _LENGTHS else value
    if kind is dict:
        return {
            (_text(k) if len(k) in _LENGTHS else k) if type(k) is str else _key(k): _compact(v)
            for k, v in value.items()
        }
    if kind is list:
        return [_compact(v) for v in value]
    if kind in (int, float, bool) or value is None:
        return value
    if isinstance(value, str):
        return _compact(str(value))
    if isinstance(value, dict):
        return _compact(dict(value))
    if isinstance(value, list | tuple):
        return [_compact(v) for v in value]
    return value


def _key(key: Any) -> str:
    """A non-string mapping key as JSON writes it."""
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


@lru_cache(maxsize=1 << 16)
def _ext_hook(code: int, data: bytes) -> Any:
    if code == _UUID:
        return str(uuid.UUID(bytes=data))
    number = int.from_bytes(data, "big") if len(data) == 4 else msgpack.unpackb(data)
    if code == _SECONDS:
        return datetime.fromtimestamp(number, UTC).isoformat()
    if code == _MICROS:
        seconds, micros = divmod(number, 1_000_000)
        return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros).isoformat()
    if code == _DAY:
        return date.fromordinal(number).isoformat()
    return msgpack.ExtType(code, data)


def pack(value: Any) -> bytes:
    """msgpack, instants and days as small integers."""
    packed: bytes = msgpack.packb(_compact(value), use_bin_type=True)
    return packed


def unpack(raw: bytes) -> Any:
    return msgpack.unpackb(raw, raw=False, ext_hook=_ext_hook, strict_map_key=False)
