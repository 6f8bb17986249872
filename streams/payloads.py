"""Payload models, one per event type of the contract (/work/shared/EVENTS.md), and the
value types they share: identifiers, money, dates, persons.

Required or optional: every field EVENTS.md lists is required unless EVENTS.md says
"optional" or absence is normal in the domain; those exceptions are named in the model's
docstring. Required fields are what the rules compute on, so a rule never has to guess
what a missing value meant; an event without one is dead-lettered with a reason the
department can act on. Unknown extra fields are kept (`model_extra`) and ignored.

Custom validators raise `PydanticCustomError` with their own error types
(`invalid_uscc`, `invalid_id_number`, ...) so that events.py maps pydantic errors to
dead-letter reasons in one place. Messages never contain ID numbers or names.
"""

import functools
import math
import re
from datetime import date
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    model_validator,
)
from pydantic_core import PydanticCustomError

from streams.identifiers import id_problem, uscc_problem

MODEL_CONFIG = ConfigDict(extra="allow", frozen=True, hide_input_in_errors=True)
"""Shared by every contract model: extras kept, instances immutable, and pydantic's own
error strings never repeat the input (it may hold personal data)."""

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_SIGNED_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_EARLIEST_BIRTH = date(1900, 1, 1)


@functools.lru_cache(maxsize=1 << 16)
def _uscc_verdict(code: str) -> str | None:
    """`uscc_problem`, cached: the same enterprises recur all day and the checksum is
    most of an event's validation cost (~6 us uncached, ~0.1 us cached)."""
    return uscc_problem(code)


@functools.lru_cache(maxsize=1 << 16)
def _id_verdict(id_no: str) -> str | None:
    """`id_problem` plus a plausible birth date, cached like `_uscc_verdict`; the
    problem never contains the number or its birth date (personal data)."""
    problem = id_problem(id_no)
    if problem is None:
        birth = date(int(id_no[6:10]), int(id_no[10:12]), int(id_no[12:14]))
        if _EARLIEST_BIRTH <= birth <= date.today():
            return None
        return "birth date is before 1900 or in the future"
    if problem.startswith("birth date"):
        return "birth date (digits 7-14) is not a calendar date"
    if problem.startswith("check character"):
        return "check character does not match (ISO 7064 MOD 11-2)"
    return problem


def _check_uscc(value: object) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_uscc", "USCC must be a string")
    problem = _uscc_verdict(value) if len(value) == 18 else uscc_problem(value)
    if problem is not None:
        # USCCs are public business identifiers: naming the bad character is fine.
        raise PydanticCustomError(
            "invalid_uscc", "not a GB 32100 USCC: {problem}", {"problem": problem}
        )
    return value


def _check_id_number(value: object) -> str:
    """A lowercase check `x` becomes `X`, so a person has one `person_key` however a
    department typed it."""
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_id_number", "ID number must be a string")
    if len(value) == 18 and value[17] == "x":
        value = value[:17] + "X"
    problem = _id_verdict(value) if len(value) == 18 else id_problem(value)
    if problem is not None:
        raise PydanticCustomError(
            "invalid_id_number", "not a GB 11643 ID number: {problem}", {"problem": problem}
        )
    return value


def _number(value: object, signed: bool) -> float:
    """A JSON number or a plain decimal string (no exponent, no spaces) as a finite float."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PydanticCustomError("invalid_money", "expected a JSON number or a decimal string")
    if isinstance(value, str):
        pattern = _SIGNED_DECIMAL if signed else _DECIMAL
        if pattern.fullmatch(value) is None:
            raise PydanticCustomError("invalid_money", "not a decimal string like 1234.56")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise PydanticCustomError("invalid_money", "amount is not finite")
    if number < 0 and not signed:
        raise PydanticCustomError("invalid_money", "amount must be >= 0")
    return number


def _ratio(value: object) -> float:
    ratio = _number(value, signed=False)
    if ratio > 1:
        raise PydanticCustomError("invalid_ratio", "ratio must be a fraction between 0 and 1")
    return ratio


def _date(value: object) -> date:
    """Strictly YYYY-MM-DD: `date.fromisoformat` alone would also take 20260301."""
    if type(value) is date:
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("invalid_date", "not a calendar date") from None
    raise PydanticCustomError("invalid_date", "expected a date as YYYY-MM-DD")


def _findings(value: object) -> object:
    """Findings arrive as one text or a list of texts; both become a tuple."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value


Uscc = Annotated[str, PlainValidator(_check_uscc)]
IdNumber = Annotated[str, PlainValidator(_check_id_number)]
Money = Annotated[float, PlainValidator(lambda value: _number(value, signed=False))]
SignedMoney = Annotated[float, PlainValidator(lambda value: _number(value, signed=True))]
Ratio = Annotated[float, PlainValidator(_ratio)]
Day = Annotated[date, PlainValidator(_date), PlainSerializer(date.isoformat, when_used="json")]
Text = Annotated[str, Strict(), Field(min_length=1)]
Count = Annotated[int, Strict(), Field(ge=0)]
Year = Annotated[int, Strict(), Field(ge=1900, le=2100)]
IndustryCode = Annotated[str, Strict(), Field(pattern=r"^(?:[A-T]|[A-T]?[0-9]{2,4})$")]
"""GB/T 4754: a section letter A-T, and/or a 2-4 digit division/group/class code."""
DistrictCode = Annotated[str, Strict(), Field(pattern=r"^[0-9]{6}$")]

Procedure = Literal["ordinary", "simple"]
Measure = Literal["warning", "fine", "confiscation", "suspension", "licence_revoked", "criticism"]
AbnormalReason = Literal[
    "annual_report_missing", "disclosure_missing", "falsified_disclosure", "unreachable_address"
]
InspectionResult = Literal["passed", "issues_found", "unreachable"]
RepairTarget = Literal["penalty", "abnormal", "serious", "dishonest"]
CourtRole = Literal["defendant", "plaintiff", "third_party"]
EnforcementStatus = Literal["filed", "concluded", "terminated"]
TaxRating = Literal["A", "B", "M", "C", "D"]
PledgeKind = Literal["equity_pledge", "chattel_mortgage"]
_REGISTRY: dict[str, type["Payload"]] = {}


class ContractModel(BaseModel):
    """Base of every payload and value model: see MODEL_CONFIG."""

    model_config = MODEL_CONFIG


class Person(ContractModel):
    """A natural person; `id_no` is GB 11643-valid with a birth date in 1900..today."""

    name: Text
    id_no: IdNumber


class Officer(Person):
    """A person with a `role` (e.g. 董事, 监事, 经理)."""

    role: Text


class Shareholder(ContractModel):
    """A shareholder is a person (`id_no`) or an enterprise (`uscc`), exactly one of them.
    `ratio` is the holding as a fraction 0..1 (EVENTS.md does not say; 0.3 means 30 %)."""

    name: Text
    id_no: IdNumber | None = None
    uscc: Uscc | None = None
    ratio: Ratio

    @model_validator(mode="after")
    def _one_identity(self) -> "Shareholder":
        if (self.id_no is None) == (self.uscc is None):
            raise PydanticCustomError("invalid_shareholder", "give exactly one of id_no or uscc")
        return self


class Payload(ContractModel):
    """Base of the per-type payloads; `TYPE` is the event type each one belongs to.
    Public subclasses that set `TYPE` register themselves in PAYLOADS."""

    TYPE: ClassVar[str] = ""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "TYPE" in cls.__dict__ and not cls.__name__.startswith("_"):
            _REGISTRY[cls.TYPE] = cls


class EnterpriseRegistered(Payload):
    """Optional (EVENTS.md): `phone`, `shareholders`, `officers`, `tags` (empty when absent)."""

    TYPE: ClassVar[str] = "enterprise.registered"
    name: Text
    legal_rep: Person
    address: Text
    registered_capital: Money
    industry: IndustryCode
    district: DistrictCode
    established_on: Day
    phone: Text | None = None
    shareholders: tuple[Shareholder, ...] = ()
    officers: tuple[Officer, ...] = ()
    tags: tuple[Text, ...] = ()


class _Change(Payload):
    """`registration.changed`: `before` may be absent or null (the field was empty);
    `after` is required, and may be null only for fields that can be cleared (`phone`,
    `business_scope`). Lists replace the whole list: `after: []` removes everyone."""

    TYPE: ClassVar[str] = "registration.changed"


class NameChange(_Change):
    field: Literal["name"]
    before: Text | None = None
    after: Text


class LegalRepChange(_Change):
    field: Literal["legal_rep"]
    before: Person | None = None
    after: Person


class AddressChange(_Change):
    field: Literal["address"]
    before: Text | None = None
    after: Text


class CapitalChange(_Change):
    field: Literal["registered_capital"]
    before: Money | None = None
    after: Money


class ShareholdersChange(_Change):
    field: Literal["shareholders"]
    before: tuple[Shareholder, ...] | None = None
    after: tuple[Shareholder, ...]


class OfficersChange(_Change):
    field: Literal["officers"]
    before: tuple[Officer, ...] | None = None
    after: tuple[Officer, ...]


class PhoneChange(_Change):
    field: Literal["phone"]
    before: Text | None = None
    after: Text | None


class BusinessScopeChange(_Change):
    """`business_scope` is not in `enterprise.registered`: it is free text here."""

    field: Literal["business_scope"]
    before: Text | None = None
    after: Text | None


RegistrationChanged = Annotated[
    NameChange
    | LegalRepChange
    | AddressChange
    | CapitalChange
    | ShareholdersChange
    | OfficersChange
    | PhoneChange
    | BusinessScopeChange,
    Field(discriminator="field"),
]
"""The `registration.changed` payload: one model per `field`, so `before`/`after` are
validated in that field's shape."""
CHANGE_FIELDS: tuple[str, ...] = tuple(
    get_args(model.model_fields["field"].annotation)[0]
    for model in get_args(get_args(RegistrationChanged)[0])
)
"""The fields `registration.changed` may name, in EVENTS.md's order."""


class EnterpriseDeregistered(Payload):
    """`reason` is optional: registrars often record none and no rule reads it."""

    TYPE: ClassVar[str] = "enterprise.deregistered"
    reason: Text | None = None


class AnnualReportFiled(Payload):
    """All figures required: the all-zero-report rule must not read "missing" as zero.
    `profit` may be negative (a loss); the other amounts are >= 0."""

    TYPE: ClassVar[str] = "annual_report.filed"
    year: Year
    employees: Count
    revenue: Money
    profit: SignedMoney
    tax_paid: Money
    insured_employees: Count


class PermitGranted(Payload):
    """`valid_until` is optional: None means the permit does not expire (长期有效)."""

    TYPE: ClassVar[str] = "permit.granted"
    permit_no: Text
    kind: Text
    valid_until: Day | None = None


class PermitRevoked(Payload):
    TYPE: ClassVar[str] = "permit.revoked"
    permit_no: Text


class PenaltyDecided(Payload):
    """All required (publicity clocks need `procedure`, `measures`, `amount`, `decided_on`);
    `amount` is 0 when there is no fine; `measures` has at least one entry."""

    TYPE: ClassVar[str] = "penalty.decided"
    decision_no: Text
    authority: Text
    violation: Text
    amount: Money
    procedure: Procedure
    measures: Annotated[tuple[Measure, ...], Field(min_length=1)]
    decided_on: Day


class PenaltyRevoked(Payload):
    TYPE: ClassVar[str] = "penalty.revoked"
    decision_no: Text


class AbnormalAdded(Payload):
    TYPE: ClassVar[str] = "list.abnormal_added"
    reason: AbnormalReason


class AbnormalRemoved(Payload):
    """`reason` is the listing cause being lifted (same enum as when added), so a firm
    listed for two causes stays listed until both are removed."""

    TYPE: ClassVar[str] = "list.abnormal_removed"
    reason: AbnormalReason


class SeriousAdded(Payload):
    """`reason` is free text: EVENTS.md gives no enum for the serious list."""

    TYPE: ClassVar[str] = "list.serious_added"
    reason: Text


class SeriousRemoved(Payload):
    """No fields: the payload is `{}`."""

    TYPE: ClassVar[str] = "list.serious_removed"


class ComplaintReceived(Payload):
    TYPE: ClassVar[str] = "complaint.received"
    channel: Text
    category: Text


class InspectionCompleted(Payload):
    """`findings` is optional (a passed inspection has none); text or list of texts."""

    TYPE: ClassVar[str] = "inspection.completed"
    plan_id: Text
    result: InspectionResult
    findings: Annotated[tuple[Text, ...], BeforeValidator(_findings)] = ()


class CommendationAwarded(Payload):
    TYPE: ClassVar[str] = "commendation.awarded"
    title: Text
    level: Text


class CreditRepaired(Payload):
    TYPE: ClassVar[str] = "credit.repaired"
    target: RepairTarget
    ref: Text
    approved_on: Day


class CourtJudgment(Payload):
    """`amount` is 0 for a judgment without money at stake."""

    TYPE: ClassVar[str] = "court.judgment"
    case_no: Text
    court: Text
    role: CourtRole
    cause: Text
    amount: Money
    judged_on: Day


class CourtEnforcement(Payload):
    TYPE: ClassVar[str] = "court.enforcement"
    case_no: Text
    amount: Money
    status: EnforcementStatus


class CourtDishonestListed(Payload):
    TYPE: ClassVar[str] = "court.dishonest_listed"
    case_no: Text


class CourtDishonestRemoved(Payload):
    TYPE: ClassVar[str] = "court.dishonest_removed"
    case_no: Text


class TaxArrears(Payload):
    """`period` is free text (EVENTS.md gives no format): `tax.arrears_cleared` must
    repeat it exactly to clear these arrears."""

    TYPE: ClassVar[str] = "tax.arrears"
    amount: Money
    tax_type: Text
    period: Text


class TaxArrearsCleared(Payload):
    TYPE: ClassVar[str] = "tax.arrears_cleared"
    period: Text


class TaxViolation(Payload):
    TYPE: ClassVar[str] = "tax.violation"
    case_no: Text
    amount: Money


class TaxCreditRated(Payload):
    TYPE: ClassVar[str] = "tax.credit_rated"
    year: Year
    rating: TaxRating


class SocialInsuranceArrears(Payload):
    TYPE: ClassVar[str] = "social_insurance.arrears"
    amount: Money
    period: Text


class PledgeRegistered(Payload):
    TYPE: ClassVar[str] = "pledge.registered"
    kind: PledgeKind
    amount: Money


class PersonCase(Payload):
    """`person.*` payloads: all required; `person.id_no` is the event's key."""

    person: Person
    case_no: Text
    court: Text


class PersonDishonestListed(PersonCase):
    TYPE: ClassVar[str] = "person.dishonest_listed"


class PersonDishonestRemoved(PersonCase):
    TYPE: ClassVar[str] = "person.dishonest_removed"


PAYLOADS: dict[str, object] = {**_REGISTRY, "registration.changed": RegistrationChanged}
"""Event type -> payload type (a model, or the `registration.changed` union), in
EVENTS.md's terms; events.py builds one event model per entry."""

PERSON_TYPES = frozenset(t for t in PAYLOADS if t.startswith("person."))
