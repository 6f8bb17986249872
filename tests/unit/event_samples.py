"""Valid sample events for every contract type, built with the identifier generators."""

import json
import random
from datetime import date
from typing import Any

from streams.contract.identifiers import id_check_char, make_id_number, make_uscc

RNG = random.Random(20260301)
USCC = make_uscc(RNG)
OTHER_USCC = make_uscc(RNG, division="110105")
ID_NO = make_id_number(RNG, date(1980, 5, 17))
OTHER_ID = make_id_number(RNG, date(1962, 11, 2), division="110105")


def person(id_no: str = ID_NO, name: str = "张三") -> dict[str, str]:
    return {"name": name, "id_no": id_no}


def id_with_birth(birth: str) -> str:
    """An ID number with a correct check character around any 8-digit birth field."""
    first17 = f"440300{birth}123"
    return first17 + id_check_char(first17)


REGISTERED = {
    "name": "深圳市某某科技有限公司",
    "legal_rep": person(),
    "address": "广东省深圳市南山区科苑路1号",
    "registered_capital": "1000000",
    "industry": "I6513",
    "district": "440305",
    "established_on": "2026-02-01",
    "phone": "0755-12345678",
    "shareholders": [
        {**person(), "ratio": 0.6},
        {"name": "某某集团有限公司", "uscc": OTHER_USCC, "ratio": 0.4},
    ],
    "officers": [{**person(OTHER_ID, "李四"), "role": "监事"}],
    "tags": ["高新技术企业"],
}

PAYLOADS: dict[str, dict[str, Any]] = {
    "enterprise.registered": REGISTERED,
    "registration.changed": {"field": "legal_rep", "before": person(), "after": person(OTHER_ID)},
    "enterprise.deregistered": {"reason": "决议解散"},
    "annual_report.filed": {
        "year": 2025,
        "employees": 12,
        "revenue": 1_200_000.5,
        "profit": -30_000,
        "tax_paid": "45000.00",
        "insured_employees": 10,
    },
    "permit.granted": {
        "permit_no": "JY14403050001",
        "kind": "食品经营许可证",
        "valid_until": "2031-02-28",
    },
    "permit.revoked": {"permit_no": "JY14403050001"},
    "penalty.decided": {
        "decision_no": "深市监罚〔2026〕123号",
        "authority": "深圳市市场监督管理局",
        "violation": "虚假宣传",
        "amount": 50000,
        "procedure": "ordinary",
        "measures": ["fine"],
        "decided_on": "2026-03-01",
    },
    "penalty.revoked": {"decision_no": "深市监罚〔2026〕123号"},
    "list.abnormal_added": {"reason": "annual_report_missing"},
    "list.abnormal_removed": {"reason": "annual_report_missing"},
    "list.serious_added": {"reason": "列入经营异常名录届满3年仍未履行相关义务"},
    "list.serious_removed": {},
    "complaint.received": {"channel": "12315热线", "category": "商品质量"},
    "inspection.completed": {
        "plan_id": "2026-SS-01",
        "result": "issues_found",
        "findings": ["台账记录不全"],
    },
    "commendation.awarded": {"title": "守合同重信用企业", "level": "provincial"},
    "credit.repaired": {
        "target": "penalty",
        "ref": "深市监罚〔2026〕123号",
        "approved_on": "2026-09-02",
    },
    "court.judgment": {
        "case_no": "(2026)粤03民初1号",
        "court": "深圳市中级人民法院",
        "role": "defendant",
        "cause": "买卖合同纠纷",
        "amount": 120000.5,
        "judged_on": "2026-02-20",
    },
    "court.enforcement": {"case_no": "(2026)粤03执1号", "amount": "120000.50", "status": "filed"},
    "court.dishonest_listed": {"case_no": "(2026)粤03执1号"},
    "court.dishonest_removed": {"case_no": "(2026)粤03执1号"},
    "tax.arrears": {"amount": 3456.78, "tax_type": "增值税", "period": "2026-01"},
    "tax.arrears_cleared": {"period": "2026-01"},
    "tax.violation": {"case_no": "深税稽罚〔2026〕7号", "amount": 88000},
    "tax.credit_rated": {"year": 2025, "rating": "M"},
    "social_insurance.arrears": {"amount": 12000, "period": "2026-02"},
    "pledge.registered": {"kind": "equity_pledge", "amount": 500000},
    "person.dishonest_listed": {
        "person": person(),
        "case_no": "(2026)粤03执2号",
        "court": "深圳中院",
    },
    "person.dishonest_removed": {
        "person": person(),
        "case_no": "(2026)粤03执2号",
        "court": "深圳中院",
    },
}

SOURCES = {"court": "court", "tax": "tax", "social_insurance": "hrss", "person": "court"}


def event(event_type: str = "penalty.decided", /, **changes: Any) -> dict[str, Any]:
    """A valid event dict of `event_type`; keyword arguments replace envelope fields and
    a value of `...` removes the field."""
    body: dict[str, Any] = {
        "event_id": f"{event_type}-0001",
        "type": event_type,
        "uscc": USCC,
        "occurred_at": "2026-03-01T10:00:00+08:00",
        "source": SOURCES.get(event_type.split(".")[0], "samr"),
        "payload": json.loads(json.dumps(PAYLOADS[event_type])),
    }
    if event_type.startswith("person."):
        del body["uscc"]
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def with_payload(event_type: str, /, **changes: Any) -> dict[str, Any]:
    """A valid event whose payload fields are replaced (`...` removes one)."""
    body = event(event_type)
    body["payload"].update(changes)
    body["payload"] = {k: v for k, v in body["payload"].items() if v is not ...}
    return body


def raw(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()
