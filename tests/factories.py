"""Small builders for valid events (EVENTS.md shapes) in tests."""

from __future__ import annotations

import itertools
import json
import random
from datetime import date
from typing import Any

from streams.identifiers import make_id_number, make_uscc

_rng = random.Random(20260301)
_ids = itertools.count(1)


def uscc() -> str:
    return make_uscc(_rng)


def uscc_with_wrong_check() -> str:
    """A USCC whose 18th character is wrong (every other part valid)."""
    code = uscc()
    wrong = next(c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != code[17])
    return code[:17] + wrong


def person(name: str = "张三", born: date = date(1980, 5, 17)) -> dict[str, str]:
    return {"name": name, "id_no": make_id_number(_rng, born)}


def event(
    etype: str,
    uscc: str | None,
    payload: dict[str, Any],
    *,
    day: str = "2026-03-01",
    event_id: str | None = None,
    source: str = "samr",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": event_id or f"test-{next(_ids)}",
        "type": etype,
        "occurred_at": f"{day}T10:00:00+08:00",
        "source": source,
        "payload": payload,
    }
    if uscc is not None:
        body["uscc"] = uscc
    return body


def registered(code: str, legal_rep: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    payload = {
        "name": "深圳市示例科技有限公司",
        "legal_rep": legal_rep or person(),
        "address": f"深圳市南山区科技园路{next(_ids)}号",  # unique: no accidental cluster
        "registered_capital": 1_000_000,
        "industry": "6510",
        "district": "440305",
        "established_on": "2020-01-15",
        **extra,
    }
    return event("enterprise.registered", code, payload, day="2020-01-15")


def penalty(
    code: str, day: str, procedure: str = "ordinary", n: int | None = None
) -> dict[str, Any]:
    return event(
        "penalty.decided",
        code,
        {
            "decision_no": f"深市监罚〔{day[:4]}〕{n or next(_ids)}号",
            "authority": "深圳市市场监督管理局",
            "violation": "虚假宣传",
            "amount": 50000,
            "procedure": procedure,
            "measures": ["fine"],
            "decided_on": day,
        },
        day=day,
    )


def dishonest_listed(code: str, case_no: str = "(2026)粤03执1号") -> dict[str, Any]:
    return event("court.dishonest_listed", code, {"case_no": case_no}, source="court")


def person_listed(
    who: dict[str, str], case_no: str = "(2026)粤03执9号", etype: str = "person.dishonest_listed"
) -> dict[str, Any]:
    return event(
        etype,
        None,
        {"person": who, "case_no": case_no, "court": "深圳市中级人民法院"},
        source="court",
    )


def legal_rep_changed(
    code: str, before: dict[str, str], after: dict[str, str], day: str = "2026-04-01"
) -> dict[str, Any]:
    return event(
        "registration.changed",
        code,
        {"field": "legal_rep", "before": before, "after": after},
        day=day,
    )


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()
