"""Binary records as creditwatch stores them: msgpack, with UTC instants and days
packed as small integers, and compressed with zlib over a preset dictionary.

The worker stores an enterprise's state, its timeline and its archived events in this
form (streams/store/). JSON stays the form of everything that leaves the system (the
API, the output streams). A packed record reads back to exactly the values that its
JSON text would give: a mapping's integer keys come back as strings, tuples as lists,
and a string that looks like an instant or a day comes back as the same string (it
is packed as a number only when it prints back identically).

>>> import json

>>> record = {"at": "2025-07-09T01:04:03+00:00", "day": "2025-07-09", 2025: [1, 2.5],
...           "id": "6f1c2f43-8c51-4c1a-9d55-2f3e4b5a6c7d", "odd": "2025-7-9"}
>>> unpack(pack(record))  # doctest: +NORMALIZE_WHITESPACE
{'at': '2025-07-09T01:04:03+00:00', 'day': '2025-07-09', '2025': [1, 2.5],
 'id': '6f1c2f43-8c51-4c1a-9d55-2f3e4b5a6c7d', 'odd': '2025-7-9'}
>>> len(pack(record)), len(json.dumps(record, separators=(",", ":")))
(70, 129)
>>> unpack_compressed(pack_compressed(record)) == unpack(pack(record))
True
"""

from __future__ import annotations

import uuid
import zlib
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import msgpack

# extension codes: an instant in whole seconds, one with microseconds, a day, a UUID
_SECONDS, _MICROS, _DAY, _UUID = 1, 2, 3, 4
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UTC = "+00:00"

#: the first byte of a compressed record: the version of the preset dictionary
_COMPRESSED_V1 = 0xC1  # never the first byte of msgpack or JSON (0xC1 is unused)


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


def _compact(value: Any) -> Any:
    """The value as msgpack will take it: instants and days as extensions, mapping
    keys as JSON has them (strings), tuples as lists."""
    if isinstance(value, str):
        return _text(value) if 10 <= len(value) <= 36 else value
    if isinstance(value, dict):
        return {
            _compact(k if isinstance(k, str) else _key(k)): _compact(v) for k, v in value.items()
        }
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
    return msgpack.packb(_compact(value), use_bin_type=True)


def unpack(raw: bytes) -> Any:
    return msgpack.unpackb(raw, raw=False, ext_hook=_ext_hook, strict_map_key=False)


# --- compression over a preset dictionary -------------------------------------------
#: the words the stored records repeat (field names, event types, rule ids, the
#: city's common words), packed as msgpack strings so that they match the records'
#: own bytes. Written once for version 1 of the compressed form: a record compressed
#: with it needs exactly these bytes to be read, so the list never changes (a new
#: list is a new version, and the old one stays to read old records).
_WORDS_V1 = (
    # the state's fields and the names inside its records
    "uscc profile field_times status penalties dishonest_cases lists repairs inspections "
    "plan_results commendations override annual_reports permits tax_arrears tax_rating "
    "counters field_events registered_at address_since open_warnings contributions score "
    "grade computed_grade overridden events_seen last_event_at clock recheck_at "
    "ruleset_version model samples people key_ages normalized_address derived "
    "name legal_rep id_no address registered_capital industry district established_on "
    "phone shareholders ratio officers role tags business_scope field before after "
    "procedure decided_on amount measures violation event_id revoked listed_by listed_at "
    "removed_by added added_by removed reason kind granted valid_until period since "
    "cleared year zero rating days last latest latest_by result reached unreachable "
    "unreachable_by at on title level p anomaly version in_force top unusual day rules x "
    "y cause age warning_id raised_at occurred_at severity message evidence "
    "simple general fine warning passed issues_found active deregistered unregistered "
    "legal_rep shareholder officer: 执行董事兼总经理 执行董事 总经理 监事 董事长 "
    "age_years capital complaints_90 complaints_365 judgments_365 simple_penalties_365 "
    "complaints judgments failed_inspections changes tax_violations "
    "enterprise.registered registration.changed enterprise.deregistered "
    "penalty.decided penalty.revoked inspection.completed complaint.received "
    "court.judgment court.dishonest_listed court.dishonest_removed pledge.registered "
    "permit.granted permit.revoked tax.arrears tax.rating annual_report.filed "
    "list.abnormal_added list.abnormal_removed equity_pledge "
    "tax_credit_a inspection_passed penalty_record penalty_frequency abnormal_list "
    "食品经营许可证 有限公司 深圳市 广东省深圳市 街道 号 室 路 "
    "2026.1 sim-"
).split()


def _dictionary(words: tuple[str, ...] | list[str]) -> bytes:
    return b"".join(msgpack.packb(word) for word in words)


_ZDICT_V1 = _dictionary(_WORDS_V1)


def pack_compressed(value: Any) -> bytes:
    """`pack`, compressed over the preset dictionary, behind a version byte."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _ZDICT_V1)
    return bytes((_COMPRESSED_V1,)) + squeeze.compress(pack(value)) + squeeze.flush()


def is_compressed(raw: bytes) -> bool:
    return bool(raw) and raw[0] == _COMPRESSED_V1


def unpack_compressed(raw: bytes) -> Any:
    if not is_compressed(raw):
        raise ValueError("not a compressed record")
    expand = zlib.decompressobj(-15, _ZDICT_V1)
    return unpack(expand.decompress(raw[1:]) + expand.flush())
