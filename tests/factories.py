"""Small builders for valid events (EVENTS.md shapes) in tests."""

from __future__ import annotations

import itertools
import json
import random
from datetime import date, timedelta
from typing import Any

from streams.contract.identifiers import make_id_number, make_uscc

_rng = random.Random(20260301)
_ids = itertools.count(1)


def uscc() -> str:
    return make_uscc(_rng)


def uscc_with_wrong_check() -> str:
    """A USCC whose 18th character is wrong (every other part valid)."""
    code = uscc()
    wrong = next(c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != code[17])
    return code[:17] + wrong


def person(name: str = "张三", born: date | None = None) -> dict[str, str]:
    """A natural person; without `born`, one no other call gave (see unique_person): the
    tests of one module share a stack, and a person drawn at random from the 1,000 ID
    numbers of one birthday would now and then be another test's dishonest debtor."""
    return {"name": name, "id_no": make_id_number(_rng, born or _unique_birthday())}


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
    # seen first in an initial load at the start of 2026: no annual-report deadline has
    # passed while the monitor knew it before 1 July 2026 (annual_report_missing)
    return event("enterprise.registered", code, payload, day="2026-01-02")


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


# --- scenario builders (tests/integration/test_rule_scenarios.py) -------------------------
_born, _places = itertools.count(1), itertools.count(1)


def unique_person(name: str = "王某", born: date | None = None) -> dict[str, str]:
    """A person born on a day no other unique_person was (so never the same ID number)."""
    return person(name, born)


def _unique_birthday() -> date:
    return date(1970, 1, 1) + timedelta(days=next(_born))


def address() -> str:
    return f"深圳市福田区华强北路{next(_places)}号赛格广场{next(_places)}室"


def registered_on(
    code: str, day: str = "2020-01-15", legal_rep: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    """`enterprise.registered` on `day` (established that day unless `extra` says), with
    a legal representative of its own unless given."""
    body = registered(code, legal_rep or unique_person(), **{"established_on": day, **extra})
    body["occurred_at"] = f"{day}T10:00:00+08:00"
    return body


def changed(code: str, day: str, field: str, before: Any, after: Any) -> dict[str, Any]:
    payload = {"field": field, "before": before, "after": after}
    return event("registration.changed", code, payload, day=day)


def moved(registration: dict[str, Any], day: str) -> dict[str, Any]:
    """The firm of `registration` moves from its registered address to a new one."""
    before = registration["payload"]["address"]
    return changed(registration["uscc"], day, "address", before, address())


def complaints(code: str, *days: str) -> list[dict[str, Any]]:
    payload = {"channel": "12315", "category": "产品质量"}
    return [event("complaint.received", code, dict(payload), day=day) for day in days]


def annual_report(code: str, year: int, day: str, **figures: float) -> dict[str, Any]:
    """`annual_report.filed` for `year`, all zero but for `figures`."""
    zero = {"employees": 0, "revenue": 0, "profit": 0, "tax_paid": 0, "insured_employees": 0}
    return event("annual_report.filed", code, {"year": year, **zero, **figures}, day=day)


def permit(code: str, day: str, permit_no: str, valid_until: str | None) -> dict[str, Any]:
    payload = {"permit_no": permit_no, "kind": "食品经营许可证", "valid_until": valid_until}
    return event("permit.granted", code, payload, day=day)


def clock(day: str) -> dict[str, Any]:
    """An unrelated event (a new firm's complaint): in a replay the watermark reaches
    `day`, so the timers due by then fire."""
    return complaints(uscc(), day)[0]


def ids(*events: dict[str, Any]) -> list[str]:
    return [e["event_id"] for e in events]
