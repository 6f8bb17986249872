"""Value types of the event contract: identifiers, money, dates, enums and persons.

Custom validators raise `PydanticCustomError` with their own error types
(`invalid_uscc`, `invalid_id_number`, ...) so that events.py maps pydantic errors to
dead-letter reasons in one place. Messages never contain ID numbers or names.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    model_validator,
)
from pydantic_core import PydanticCustomError

from streams.contract.identifiers import id_problem, uscc_problem

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


def findings_tuple(value: object) -> object:
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
    def _one_identity(self) -> Shareholder:
        if (self.id_no is None) == (self.uscc is None):
            raise PydanticCustomError("invalid_shareholder", "give exactly one of id_no or uscc")
        return self
