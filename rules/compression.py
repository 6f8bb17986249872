"""Records as the store keeps them compressed (an enterprise's state, its journal's
chunks): behind a version byte that says how to read them, so every form written once
still reads.

- Version 2 (written now): plain msgpack compressed with zstd over a dictionary
  trained for the kind of record (rules/dictionaries/, made by
  tests/perf/train_dictionaries.py), one version byte per dictionary (`STATE`,
  `JOURNAL`). The zstd frame is left without its magic number, checksum and dictionary
  id (the version byte says all of it), and with its content size. A record reads back
  to the values packed, as msgpack gives them (tuples as lists). A dictionary retrained
  takes a byte of its own: states are written over their second dictionary (trained
  once the model samples kept their features packed), and those written over the
  first still read.
- Version 1: msgpack with instants and days as numbers (rules/packing.py), compressed
  with zlib over a preset dictionary written below. Four to ten times the CPU of
  version 2 for records a third larger: read, never written.

>>> record = {"at": "2025-07-09T01:04:03+00:00", "ids": ["e1", "e2"], "n": 2.5}
>>> unpack_compressed(pack_compressed(record, STATE)) == record
True
>>> unpack_compressed(pack_compressed_v1(record)) == record
True
>>> [is_compressed(pack_compressed(record, kind)) for kind in (STATE, JOURNAL)]
[True, True]
>>> is_compressed(b'{"uscc": "x"}'), is_compressed(b"")
(False, False)
"""

from __future__ import annotations

import threading
import zlib
from pathlib import Path
from typing import Any, NewType

import msgpack
import zstandard

from rules import packing

#: the first byte of a compressed record: its version, and with it its dictionary.
#: None of them is the first byte of a JSON text, or of msgpack's map or array.
_COMPRESSED_V1 = 0xC1  # (0xC1 is the one byte msgpack never uses)
Kind = NewType("Kind", int)
STATE = Kind(0xC5)
JOURNAL = Kind(0xC4)
#: the states' first dictionary: read, no longer written
_STATE_FIRST = Kind(0xC3)
_DICTIONARIES = Path(__file__).parent / "dictionaries"
#: level 3 makes records 3 % smaller for a third more CPU (twice its hash tables to
#: touch, in a cache that the worker's other work keeps cold)
_LEVEL = 1


class _Zstd:
    """One version-2 dictionary: its compressor and decompressor, one of each per
    thread (zstandard's contexts are not to be shared between threads; reused, they
    save allocating and loading the dictionary at every record)."""

    def __init__(self, kind: Kind, name: str):
        self.marker = bytes((kind,))
        self.params = zstandard.ZstdCompressionParameters.from_level(
            _LEVEL,
            format=zstandard.FORMAT_ZSTD1_MAGICLESS,
            write_content_size=1,
            write_checksum=0,
            write_dict_id=0,
        )
        self.data = (_DICTIONARIES / name).read_bytes()
        self.dictionary = zstandard.ZstdCompressionDict(self.data)
        self.dictionary.precompute_compress(compression_params=self.params)
        self.local = threading.local()

    def compress(self, plain: bytes) -> bytes:
        squeeze = getattr(self.local, "compressor", None)
        if squeeze is None:
            squeeze = self.local.compressor = zstandard.ZstdCompressor(
                dict_data=self.dictionary, compression_params=self.params
            )
        return self.marker + squeeze.compress(plain)

    def expand(self, raw: bytes) -> bytes:
        expand = getattr(self.local, "decompressor", None)
        if expand is None:
            expand = self.local.decompressor = zstandard.ZstdDecompressor(
                dict_data=self.dictionary, format=zstandard.FORMAT_ZSTD1_MAGICLESS
            )
        plain: bytes = expand.decompress(memoryview(raw)[1:])
        return plain


_V2 = {
    STATE: _Zstd(STATE, "state-3.zdict"),
    JOURNAL: _Zstd(JOURNAL, "journal-2.zdict"),
    _STATE_FIRST: _Zstd(_STATE_FIRST, "state-2.zdict"),
}
#: a msgpack packer per thread, reused (`msgpack.packb` sets one up at every call)
_PACKERS = threading.local()


def pack_compressed(value: Any, kind: Kind) -> bytes:
    """`value` as msgpack, compressed over the dictionary of its kind of record."""
    packer = getattr(_PACKERS, "packer", None)
    if packer is None:
        packer = _PACKERS.packer = msgpack.Packer(use_bin_type=True)
    return _V2[kind].compress(packer.pack(value))


def is_compressed(raw: bytes) -> bool:
    """Whether `raw` is a compressed record, of any version."""
    return bool(raw) and (raw[0] == _COMPRESSED_V1 or raw[0] in _V2)


def unpack_compressed(raw: bytes) -> Any:
    """A compressed record of any version, as its values."""
    if not raw:
        raise ValueError("not a compressed record")
    codec = _V2.get(Kind(raw[0]))
    if codec is not None:
        return msgpack.unpackb(codec.expand(raw), raw=False, strict_map_key=False)
    if raw[0] == _COMPRESSED_V1:
        expand = zlib.decompressobj(-15, _ZDICT_V1)
        return packing.unpack(expand.decompress(raw[1:]) + expand.flush())
    raise ValueError("not a compressed record")


def pack_compressed_v1(value: Any) -> bytes:
    """A record as version 1 wrote it (to test that such records still read, and to
    compare)."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _ZDICT_V1)
    return bytes((_COMPRESSED_V1,)) + squeeze.compress(packing.pack(value)) + squeeze.flush()


# --- version 1's preset dictionary --------------------------------------------------
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
    return b"".join(msgpack.packb(word) for word in words) + b"".join(map(packing.pack, templates))


_ZDICT_V1 = _dictionary(_WORDS_V1, _JOURNAL_V1, _STATE_V1)
