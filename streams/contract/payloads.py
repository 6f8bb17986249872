"""Payload models, one per event type of the contract (/work/shared/EVENTS.md). The
value types they share (identifiers, money, dates, persons) are in streams/contract/values.py.

Required or optional: every field EVENTS.md lists is required unless EVENTS.md says
"optional" or absence is normal in the domain; those exceptions are named in the model's
docstring. Required fields are what the rules compute on, so a rule never has to guess
what a missing value meant; an event without one is dead-lettered with a reason the
department can act on. Unknown extra fields are kept (`model_extra`) and ignored.
"""

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    BeforeValidator,
    Field,
)

from streams.contract.values import (
    AbnormalReason,
    ContractModel,
    Count,
    CourtRole,
    Day,
    DistrictCode,
    EnforcementStatus,
    IndustryCode,
    InspectionResult,
    Measure,
    Money,
    Officer,
    Person,
    PledgeKind,
    Procedure,
    RepairTarget,
    Shareholder,
    SignedMoney,
    TaxRating,
    Text,
    Year,
    findings_tuple,
)

_REGISTRY: dict[str, type["Payload"]] = {}


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
    findings: Annotated[tuple[Text, ...], BeforeValidator(findings_tuple)] = ()


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
