"""The public disclosure view (公示): anyone, with or without a key, sees an
enterprise's grade colour and the categories of its public records; no personal data
(the legal representative's name masked to the surname, no ID numbers, no phones) and
none of the internal risk signals (address clusters, models, key people's links)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.auth import OPTIONAL_KEY, Anyone, Caller
from api.deps import ReadsDep, SearchDep, Uscc
from api.directory_views import EntryFilter
from api.errors import ApiError
from api.grades import risk_label
from api.privacy import mask_name
from api.schemas import Page, RiskLabel
from api.search import search_page

router = APIRouter(prefix="/public", tags=["public"])

#: rule in force -> the public category it discloses (records the law makes public)
PUBLIC_CATEGORIES: dict[str, tuple[str, str]] = {
    "penalty_record": ("administrative_penalty", "行政处罚信息"),
    "abnormal_list": ("abnormal_operation", "列入经营异常名录"),
    "abnormal_overdue": ("abnormal_operation", "列入经营异常名录"),
    "serious_violation_list": ("serious_violation", "列入严重违法失信名单"),
    "dishonest_enterprise": ("dishonest_debtor", "失信被执行人"),
    "tax_violation": ("major_tax_violation", "重大税收违法失信"),
    "tax_credit_a": ("tax_credit_a", "纳税信用A级"),
    "commended": ("commendation", "表彰奖励"),
}


class PublicCategory(BaseModel):
    code: str = Field(examples=["abnormal_operation"])
    name: str = Field(examples=["列入经营异常名录"])


class PublicEnterprise(BaseModel):
    uscc: str = Field(examples=["91440300708461136T"])
    name: str | None = Field(examples=["深圳市某某科技有限公司"])
    status: str = Field(examples=["active"])
    legal_rep: str | None = Field(description="masked: the surname only", examples=["张*"])
    district: str | None = None
    established_on: str | None = None
    grade: str | None = Field(examples=["C"])
    risk: RiskLabel | None = Field(description="the grade's label and colour")
    categories: list[PublicCategory] = Field(description="public records in force")


class PublicSummary(BaseModel):
    """An enterprise in a public search's results: what its disclosure view shows at
    the top, no more."""

    uscc: str = Field(examples=["914403001922038216"])
    name: str | None = Field(examples=["华为技术有限公司"])
    status: str = Field(examples=["active"])
    district: str | None = None
    grade: str | None = Field(examples=["A"])
    risk: RiskLabel | None = Field(description="the grade's label and colour")


def public_categories(rules_in_force: list[str]) -> list[PublicCategory]:
    """
    >>> in_force = ["address_cluster", "abnormal_list", "abnormal_overdue"]
    >>> [c.code for c in public_categories(in_force)]
    ['abnormal_operation']
    """
    found = dict(PUBLIC_CATEGORIES[r] for r in rules_in_force if r in PUBLIC_CATEGORIES)
    return [PublicCategory(code=c, name=n) for c, n in sorted(found.items())]


@router.get(
    "/enterprises/{uscc}",
    response_model=PublicEnterprise,
    openapi_extra=OPTIONAL_KEY,
    responses={404: {"description": "no record of this enterprise"}},
)
async def public_enterprise(caller: Anyone, uscc: Uscc, store: ReadsDep) -> Any:
    """An enterprise as the public may see it."""
    state = await store.get_enterprise(uscc)
    if state is None or state.status == "unregistered":
        raise ApiError(404, f"no record of enterprise {uscc}")
    caller.saw(1)
    profile = state.profile
    rep = profile.get("legal_rep")
    return PublicEnterprise(
        uscc=uscc,
        name=profile.get("name"),
        status=state.status,
        legal_rep=mask_name(rep.get("name")) if isinstance(rep, dict) else None,
        district=profile.get("district"),
        established_on=profile.get("established_on"),
        grade=state.grade,
        risk=risk_label(state.grade) if state.grade else None,
        categories=public_categories(sorted(state.contributions)),
    )


@router.get(
    "/enterprises",
    response_model=Page[PublicSummary],
    openapi_extra=OPTIONAL_KEY,
    responses={422: {"description": "a name shorter than 2 characters, or a bad cursor"}},
)
async def public_search(
    caller: Anyone,
    store: ReadsDep,
    feed: SearchDep,
    name: str = Query(min_length=2, max_length=100, examples=["华为"]),
    limit: int = Query(20, ge=1, le=50),
    cursor: str | None = Query(None, max_length=40, description="`next_cursor` of a page"),
) -> Any:
    """Enterprises whose name holds `name` (a substring, case-insensitive), as the public
    may see them, in USCC order, a page at a time: the whole city whoever asks, never
    the unregistered, no address and no personal data."""
    everyone = Caller("public")  # the whole city, whatever the caller's district scope
    found = await search_page(feed, store, everyone, EntryFilter(name=name), cursor, limit)
    items = [
        PublicSummary(**{k: item[k] for k in PublicSummary.model_fields})
        for item in found["items"]
        if item["status"] != "unregistered"
    ]
    caller.saw(len(items))
    return Page[PublicSummary](items=items, next_cursor=found["next_cursor"])
