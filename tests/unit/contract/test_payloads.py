"""Per-type payloads and the shared value types: identifiers, money, dates, persons."""

import random
from datetime import date
from typing import Any

import pytest

from streams.contract.events import Event, decode
from streams.contract.identifiers import make_id_number
from streams.contract.payloads import (
    CHANGE_FIELDS,
    AnnualReportFiled,
    EnterpriseRegistered,
    InspectionCompleted,
    LegalRepChange,
    PermitGranted,
    PhoneChange,
    ShareholdersChange,
)
from streams.contract.rejections import Rejected
from tests.unit.event_samples import (
    ID_NO,
    OTHER_USCC,
    event,
    id_with_birth,
    person,
    raw,
    with_payload,
)


def verdict(body: dict[str, object]) -> Event | Rejected:
    (result,) = decode(raw(body))
    return result


def rejection(body: dict[str, object]) -> tuple[str, str | None]:
    result = verdict(body)
    assert isinstance(result, Rejected), result
    return result.reason, result.field


def test_enterprise_registered_shapes() -> None:
    ev = verdict(event("enterprise.registered"))
    assert isinstance(ev, Event) and isinstance(ev.payload, EnterpriseRegistered)
    assert ev.payload.registered_capital == 1_000_000.0
    assert ev.payload.shareholders[0].id_no == ID_NO and ev.payload.shareholders[0].uscc is None
    assert ev.payload.shareholders[1].uscc == OTHER_USCC
    assert ev.payload.officers[0].role == "监事"
    minimal = with_payload(
        "enterprise.registered", phone=..., shareholders=..., officers=..., tags=...
    )
    ev = verdict(minimal)
    assert isinstance(ev, Event) and isinstance(ev.payload, EnterpriseRegistered)
    assert (ev.payload.phone, ev.payload.shareholders, ev.payload.officers, ev.payload.tags) == (
        None,
        (),
        (),
        (),
    )


@pytest.mark.parametrize(
    ("changes", "reason", "field"),
    [
        (
            {"legal_rep": person(ID_NO[:17] + ("1" if ID_NO[17] != "1" else "2"))},
            "invalid_id_number",
            "payload.legal_rep.id_no",
        ),
        ({"legal_rep": {"name": "张三"}}, "missing_field", "payload.legal_rep.id_no"),
        (
            {"shareholders": [{"name": "x", "ratio": 0.5}]},
            "invalid_field",
            "payload.shareholders.0",
        ),
        (
            {"shareholders": [{**person(), "uscc": OTHER_USCC, "ratio": 1}]},
            "invalid_field",
            "payload.shareholders.0",
        ),
        (
            {"shareholders": [{**person(), "ratio": 30}]},
            "invalid_field",
            "payload.shareholders.0.ratio",
        ),
        (
            {"shareholders": [{"name": "x", "uscc": "123", "ratio": 1}]},
            "invalid_uscc",
            "payload.shareholders.0.uscc",
        ),
        ({"officers": [person()]}, "missing_field", "payload.officers.0.role"),
        ({"district": "4403"}, "invalid_field", "payload.district"),
        ({"industry": "hello"}, "invalid_field", "payload.industry"),
        ({"established_on": "2026/02/01"}, "invalid_field", "payload.established_on"),
        ({"name": ...}, "missing_field", "payload.name"),
        ({"name": ""}, "invalid_field", "payload.name"),
    ],
)
def test_enterprise_registered_rejections(
    changes: dict[str, object], reason: str, field: str
) -> None:
    assert rejection(with_payload("enterprise.registered", **changes)) == (reason, field)


@pytest.mark.parametrize("industry", ["I", "I65", "I6513", "6513", "C13"])
def test_industry_codes(industry: str) -> None:
    assert isinstance(verdict(with_payload("enterprise.registered", industry=industry)), Event)


@pytest.mark.parametrize(
    ("id_no", "problem"),
    [
        (id_with_birth("19990230"), "not a calendar date"),
        (id_with_birth("20230229"), "not a calendar date"),
        (id_with_birth("19991301"), "not a calendar date"),
        (id_with_birth("18991231"), "before 1900 or in the future"),
        (make_id_number(random.Random(1), date(2099, 1, 1)), "before 1900 or in the future"),
        (ID_NO[:17] + ("1" if ID_NO[17] != "1" else "2"), "check character"),
        (ID_NO[:17], "length is 17"),
        ("44030019800517A23X", "17 digits"),
        (440300198005171234, "string"),
    ],
)
def test_bad_id_numbers_never_echo_the_number(id_no: object, problem: str) -> None:
    result = verdict(
        with_payload("person.dishonest_listed", person={"name": "张三", "id_no": id_no})
    )
    assert isinstance(result, Rejected)
    assert (result.reason, result.field) == ("invalid_id_number", "payload.person.id_no")
    assert problem in result.detail
    text = str(id_no)
    assert text not in result.detail and text[6:14] not in result.detail


def test_lowercase_x_check_character_is_normalised() -> None:
    with_x = "11010519491231002X"
    ev = verdict(with_payload("person.dishonest_listed", person=person(with_x.lower())))
    assert isinstance(ev, Event)
    assert ev.payload.person.id_no == with_x  # type: ignore[attr-defined]
    assert ev.key == verdict(with_payload("person.dishonest_listed", person=person(with_x))).key  # type: ignore[union-attr]


def test_person_events_need_the_person() -> None:
    assert rejection(with_payload("person.dishonest_removed", person=...)) == (
        "missing_field",
        "payload.person",
    )
    assert rejection(with_payload("person.dishonest_removed", case_no=...)) == (
        "missing_field",
        "payload.case_no",
    )


@pytest.mark.parametrize("amount", [0, 12, 12.5, "12", "12.50", "0.00", 10**30])
def test_money_accepts_numbers_and_decimal_strings(amount: object) -> None:
    ev = verdict(with_payload("tax.violation", amount=amount))
    assert isinstance(ev, Event)
    assert ev.payload.amount == float(amount)  # type: ignore[attr-defined, arg-type]


@pytest.mark.parametrize("amount", [-1, "-1", "1e5", " 12", "12,000", "", "NaN", True, None, [1]])
def test_money_rejects_the_rest(amount: object) -> None:
    assert rejection(with_payload("tax.violation", amount=amount)) == (
        "invalid_field",
        "payload.amount",
    )


def test_money_overflowing_a_float_is_rejected() -> None:
    body = raw(with_payload("tax.violation", amount=1)).replace(b'"amount": 1', b'"amount": 1e400')
    (result,) = decode(body)
    assert isinstance(result, Rejected)
    assert (result.reason, result.field) == ("invalid_field", "payload.amount")


def test_profit_may_be_a_loss_but_counts_are_whole_and_non_negative() -> None:
    ev = verdict(event("annual_report.filed"))
    assert isinstance(ev, Event) and isinstance(ev.payload, AnnualReportFiled)
    assert ev.payload.profit == -30000.0
    for changes in ({"employees": -1}, {"employees": 1.5}, {"employees": "3"}, {"year": 1800}):
        assert rejection(with_payload("annual_report.filed", **changes))[0] == "invalid_field"
    assert rejection(with_payload("annual_report.filed", revenue=...)) == (
        "missing_field",
        "payload.revenue",
    )


@pytest.mark.parametrize(
    "day", ["2026-3-1", "20260301", "2026-02-30", "2026-03-01T00:00:00", 20260301, ""]
)
def test_dates_are_strict(day: object) -> None:
    assert rejection(with_payload("penalty.decided", decided_on=day)) == (
        "invalid_field",
        "payload.decided_on",
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"procedure": "summary"}, "payload.procedure"),
        ({"measures": []}, "payload.measures"),
        ({"measures": ["fine", "jail"]}, "payload.measures.1"),
        ({"measures": "fine"}, "payload.measures"),
    ],
)
def test_penalty_enums(changes: dict[str, object], field: str) -> None:
    assert rejection(with_payload("penalty.decided", **changes)) == ("invalid_field", field)


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("list.abnormal_added", "reason", "bankrupt"),
        ("list.abnormal_removed", "reason", "fixed"),
        ("inspection.completed", "result", "ok"),
        ("credit.repaired", "target", "tax"),
        ("court.judgment", "role", "witness"),
        ("court.enforcement", "status", "open"),
        ("tax.credit_rated", "rating", "AA"),
        ("pledge.registered", "kind", "mortgage"),
    ],
)
def test_enums_are_exactly_the_contracts(event_type: str, field: str, value: str) -> None:
    assert rejection(with_payload(event_type, **{field: value})) == (
        "invalid_field",
        f"payload.{field}",
    )


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("penalty.decided", "procedure"),
        ("penalty.decided", "decided_on"),
        ("penalty.decided", "measures"),
        ("penalty.decided", "amount"),
        ("credit.repaired", "ref"),
        ("court.judgment", "judged_on"),
        ("tax.arrears", "period"),
        ("permit.granted", "permit_no"),
        ("inspection.completed", "result"),
    ],
)
def test_required_payload_fields(event_type: str, field: str) -> None:
    assert rejection(with_payload(event_type, **{field: ...})) == (
        "missing_field",
        f"payload.{field}",
    )


def test_optional_payload_fields() -> None:
    permit = verdict(with_payload("permit.granted", valid_until=...))
    assert isinstance(permit, Event) and isinstance(permit.payload, PermitGranted)
    assert permit.payload.valid_until is None
    for findings, expected in (
        (..., ()),
        (None, ()),
        ("台账不全", ("台账不全",)),
        (["a", "b"], ("a", "b")),
    ):
        ev = verdict(with_payload("inspection.completed", findings=findings))
        assert isinstance(ev, Event) and isinstance(ev.payload, InspectionCompleted)
        assert ev.payload.findings == expected
    assert isinstance(verdict(with_payload("enterprise.deregistered", reason=...)), Event)


@pytest.mark.parametrize(
    ("field", "before", "after"),
    [
        ("name", "旧名称", "新名称"),
        ("legal_rep", None, person()),
        ("address", "旧地址", "新地址"),
        ("registered_capital", "100", 200),
        (
            "shareholders",
            [{**person(), "ratio": 1}],
            [{"name": "x", "uscc": OTHER_USCC, "ratio": 1}],
        ),
        ("officers", [], [{**person(), "role": "经理"}]),
        ("phone", "0755-1", None),
        ("business_scope", None, "软件开发"),
    ],
)
def test_registration_changes(field: str, before: object, after: object) -> None:
    ev = verdict(with_payload("registration.changed", field=field, before=before, after=after))
    assert isinstance(ev, Event), ev
    assert ev.payload.field == field  # type: ignore[attr-defined]
    absent = verdict(with_payload("registration.changed", field=field, before=..., after=after))
    assert isinstance(absent, Event) and absent.payload.before is None  # type: ignore[attr-defined]


def test_registration_change_shapes_are_checked() -> None:
    ev = verdict(event("registration.changed"))
    assert isinstance(ev, Event) and isinstance(ev.payload, LegalRepChange)
    cases: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({"after": person("11010519490230002X")}, ("invalid_id_number", "payload.after.id_no")),
        ({"after": "张三"}, ("invalid_field", "payload.after")),
        ({"after": ...}, ("missing_field", "payload.after")),
        ({"field": "capital"}, ("invalid_field", "payload.field")),
        ({"field": ...}, ("missing_field", "payload.field")),
        ({"field": "name", "before": None, "after": None}, ("invalid_field", "payload.after")),
        (
            {"field": "shareholders", "before": None, "after": [{"name": "x", "ratio": 1}]},
            ("invalid_field", "payload.after.0"),
        ),
    ]
    for changes, expected in cases:
        assert rejection(with_payload("registration.changed", **changes)) == expected
    phone = verdict(with_payload("registration.changed", field="phone", before="1", after=None))
    assert isinstance(phone, Event) and isinstance(phone.payload, PhoneChange)
    holders = verdict(
        with_payload("registration.changed", field="shareholders", before=None, after=[])
    )
    assert isinstance(holders, Event) and isinstance(holders.payload, ShareholdersChange)
    assert CHANGE_FIELDS == (
        "name",
        "legal_rep",
        "address",
        "registered_capital",
        "shareholders",
        "officers",
        "phone",
        "business_scope",
    )


def test_serious_removed_has_an_empty_payload() -> None:
    assert isinstance(verdict(event("list.serious_removed")), Event)
    assert rejection(event("list.serious_removed", payload=None)) == ("invalid_field", "payload")
