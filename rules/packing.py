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


# --- compression over a preset dictionary -------------------------------------------
# What the stored records repeat: the words (field names, event types, rule ids, the
# city's common words), packed as msgpack strings so that they match the records' own
# bytes, then a typical state, a profile and a journal entry of each common kind with
# the values that differ from firm to firm left empty (zlib finds the most from what
# ends the dictionary). Written once for version 1 of the compressed form: a record
# compressed with it needs exactly these bytes to be read, so none of this changes (a
# new dictionary is a new version, and the old one stays to read old records);
# tests/unit/rules/test_packing.py pins its digest.
_WORDS_TEXT_V1 = (
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
    "simple ordinary general fine warning passed issues_found active deregistered "
    "unregistered shareholder officer: age_years capital complaints_90 complaints_365 "
    "judgments_365 simple_penalties_365 complaints judgments failed_inspections changes "
    "tax_violations annual_report.filed commendation.awarded complaint.received "
    "court.dishonest_listed court.dishonest_removed court.enforcement court.judgment "
    "credit.repaired enterprise.deregistered enterprise.registered inspection.completed "
    "list.abnormal_added list.abnormal_removed list.serious_added list.serious_removed "
    "penalty.decided penalty.revoked permit.granted permit.revoked "
    "person.dishonest_listed person.dishonest_removed pledge.registered "
    "registration.changed social_insurance.arrears tax.arrears tax.arrears_cleared "
    "tax.credit_rated tax.violation equity_pledge plaintiff defendant filed municipal "
    "disclosure_missing unreachable "
    "shell_company complaint_frequency dishonest_enterprise dishonest_legal_rep commended "
    "tax_credit_a inspection_passed tax_arrears tax_violation social_insurance_arrears "
    "tax_credit_low abnormal_list abnormal_overdue serious_violation_list "
    "zero_annual_report model_risk model_anomaly penalty_frequency penalty_record "
    "permit_expiring permit_missing abnormal_age frequent_changes address_cluster "
    "person_many_firms annual_report_missing "
    "福田区 罗湖区 南山区 宝安区 龙岗区 盐田区 龙华区 坪山区 光明区 大鹏新区 "
    "440303 440304 440305 440306 440307 440308 440309 440310 440311 "
    "有限责任公司 股份有限公司 科技有限公司 贸易有限公司 实业有限公司 投资有限公司 "
    "发展有限公司 电子 信息技术 餐饮 管理 咨询 服务部 商行 供应链 文化传播 建筑工程 "
    "物业管理 房地产开发 社区 大厦 栋 楼 工业区 花园 广场 中心 大道 街道 号 室 路 "
    "执行董事兼总经理 执行董事 总经理 监事 董事长 董事 财务负责人 "
    "食品经营许可证 营业执照 未按规定 人民法院 深圳市市场监督管理局 "
    "有限公司 深圳市 广东省深圳市 0755-"
)
_WORDS_V1 = _WORDS_TEXT_V1.split()
_T, _D = "2025-01-01T00:00:00+00:00", "2025-01-01"
_PROFILE_FIELDS = (
    "name", "legal_rep", "address", "registered_capital", "industry", "district",
    "established_on", "phone", "shareholders", "officers", "tags",
)  # fmt: skip
_PROFILE_V1 = {
    "name": "深圳市有限公司",
    "legal_rep": {"name": "", "id_no": ""},
    "address": "广东省深圳市",
    "registered_capital": 1000000.0,
    "industry": "",
    "district": "",
    "established_on": _D,
    "phone": "0755-",
    "shareholders": [{"name": "", "id_no": "", "uscc": None, "ratio": 1.0}],
    "officers": [
        {"name": "", "id_no": "", "role": "执行董事兼总经理"},
        {"name": "", "id_no": "", "role": "监事"},
    ],
    "tags": [],
}
_JOURNAL_V1 = [
    [_T, "enterprise.registered", "", _PROFILE_V1],
    [_T, "registration.changed", "", {"field": "", "before": "", "after": ""}],
    [_T, "penalty.decided", "", {
        "decision_no": "", "authority": "深圳市市场监督管理局", "violation": "",
        "amount": 0.0, "procedure": "simple", "measures": ["fine"], "decided_on": _D}],
    [_T, "court.judgment", "", {
        "case_no": "", "court": "深圳市人民法院", "role": "defendant", "cause": "",
        "amount": 0.0, "judged_on": _D}],
    [_T, "annual_report.filed", "", {
        "year": 2024, "employees": 0, "revenue": 0.0, "profit": 0.0, "tax_paid": 0.0,
        "insured_employees": 0}],
    [_T, "permit.granted", "", {"permit_no": "", "kind": "食品经营许可证", "valid_until": _D}],
    [_T, "complaint.received", "", {"channel": "", "category": ""}],
    [_T, "inspection.completed", "", {"plan_id": "", "result": "passed", "findings": []}],
]  # fmt: skip
_STATE_V1 = {
    "uscc": "",
    "profile": _PROFILE_V1,
    "field_times": dict.fromkeys(_PROFILE_FIELDS, _T),
    "status": "active",
    "penalties": {"": {
        "procedure": "simple", "decided_on": _D, "amount": 0.0, "measures": ["warning"],
        "violation": "", "event_id": "", "revoked": False}},
    "dishonest_cases": {}, "lists": {}, "repairs": {},
    "inspections": {"latest": _T, "latest_by": "", "result": "passed", "reached": _T},
    "plan_results": {"": {"result": "passed", "at": _T, "event_id": ""}},
    "commendations": {},
    "override": None,
    "annual_reports": {"2024": {"zero": False, "event_id": ""}},
    "permits": {"": {
        "kind": "食品经营许可证", "granted": _T, "valid_until": _D, "revoked": False,
        "event_id": ""}},
    "tax_arrears": {},
    "tax_rating": {"year": 2024, "rating": "A", "event_id": ""},
    "counters": {"complaints": {"days": {_D: 1}, "last": [[_D, ""]]}},
    "field_events": dict.fromkeys(_PROFILE_FIELDS, ""),
    "registered_at": _T, "address_since": _D, "open_warnings": {}, "contributions": {},
    "score": 100, "grade": "A", "computed_grade": "A", "overridden": None,
    "events_seen": 1, "last_event_at": _T, "clock": _T, "recheck_at": _T,
    "ruleset_version": "", "model": None,
    "samples": [{"at": _T, "day": _D, "p": None, "rules": 100, "x": {
        "age_years": 0.0, "capital": 0.0, "complaints_90": 0.0, "complaints_365": 0.0,
        "judgments_365": 0.0, "simple_penalties_365": 0.0}}],
}  # fmt: skip


def _dictionary(words: list[str], *templates: Any) -> bytes:
    return b"".join(msgpack.packb(word) for word in words) + b"".join(map(pack, templates))


_ZDICT_V1 = _dictionary(_WORDS_V1, _JOURNAL_V1, _STATE_V1)


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
