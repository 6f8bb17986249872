"""The related-party rules through the real pipeline and Redis, on the shared bodies of
test_rule_scenarios.py: every firm of the cluster, or of the person, gets the warning,
those registered before the threshold was reached too (the fan-out rechecks them); a
firm that leaves the cluster closes theirs when it drops below the threshold."""

from __future__ import annotations

import pytest

from rules.indicators import all_rules
from streams.settings import StoreSettings
from streams.store import Store
from tests import factories as f
from tests.factories import address as place
from tests.factories import annual_report as report
from tests.factories import changed as change
from tests.factories import clock, ids
from tests.factories import moved as move
from tests.factories import registered_on as reg
from tests.factories import unique_person as someone
from tests.integration.test_rule_scenarios import (
    CASES,
    Build,
    Case,
    Event,
    case,
    check_fires_then_closes,
    check_near_miss,
    check_order_and_duplicates,
    ev,
    feed,
    records,
    replayer,
    rule_of,
)

pytestmark = pytest.mark.integration

RELATED: dict[str, Build] = {}
#: arrival days two months apart: never three within 30 days
SPREAD = ("2019-01-10", "2019-03-10", "2019-05-10", "2019-07-10", "2019-09-10")


def cluster(address: str, days: tuple[str, ...]) -> list[Event]:
    """One new firm at `address` established on each of `days`."""
    return [reg(f.uscc(), day, address=address) for day in days]


def each_own(registrations: list[Event]) -> dict[str, list[str]]:
    """Every firm's warning cites its own registration (what linked it)."""
    return {e["uscc"]: ids(e) for e in registrations}


@case("dishonest_legal_rep", RELATED)
def _listed_person() -> Case:
    rep_firm, officer_firm, namesake_firm, holder_firm = (f.uscc() for _ in range(4))
    debtor, other = someone("李四"), someone("周五")
    listing = f.person_listed(debtor, "(2026)粤03执9号")
    removal = f.person_listed(debtor, "(2026)粤03执9号", etype="person.dishonest_removed")
    removal["occurred_at"] = "2026-06-01T10:00:00+08:00"
    return Case(
        # both registered before the listing: the listing fans out to them
        fires=[
            reg(rep_firm, legal_rep=debtor),
            reg(officer_firm, officers=[{**debtor, "role": "监事"}]),
            listing,
        ],
        evidence={rep_firm: ids(listing), officer_firm: ids(listing)},
        # a namesake as legal representative; the listed person a shareholder only
        near_miss=[
            reg(namesake_firm, legal_rep=someone("周五")),
            reg(holder_firm, shareholders=[{**other, "ratio": 0.6}]),
            f.person_listed(other, "(2026)粤03执10号"),
        ],
        closes=[removal],
    )


@case("address_cluster", RELATED)
def _address() -> Case:
    address, allowed, other = place(), place(), place()
    five = cluster(address, SPREAD)
    five[2]["payload"]["address"] = f"广东省 {address}"  # the same place, written differently
    return Case(
        fires=five,
        evidence=each_own(five),
        # five at an allow-listed address; four at another
        near_miss=[*cluster(allowed, SPREAD), *cluster(other, SPREAD[:4])],
        closes=[move(five[0], "2019-11-10")],
        allowed=[allowed],
    )


@case("address_cluster/arrivals", RELATED)
def _arrivals() -> Case:
    three = cluster(place(), ("2026-03-01", "2026-03-10", "2026-03-19"))
    return Case(
        fires=three,
        evidence=each_own(three),
        near_miss=cluster(place(), ("2026-03-01", "2026-03-10", "2026-03-31")),  # over 31 days
        closes=[clock("2026-03-31")],  # the first arrival leaves the 30-day window
    )


@case("person_many_firms", RELATED)
def _legal_rep() -> Case:
    boss, busy = someone("陈八"), someone("林九")
    five = [reg(f.uscc(), day, legal_rep=boss) for day in SPREAD]
    return Case(
        fires=five,
        evidence=each_own(five),
        # legal representative of four and officer of a fifth; a namesake of a sixth
        near_miss=[
            *(reg(f.uscc(), day, legal_rep=busy) for day in SPREAD[:4]),
            reg(f.uscc(), officers=[{**busy, "role": "经理"}]),
            reg(f.uscc(), legal_rep=someone("林九")),
        ],
        closes=[change(five[2]["uscc"], "2019-12-01", "legal_rep", boss, someone())],
    )


@case("person_many_firms/officer", RELATED)
def _officer() -> Case:
    officer, other = ({**someone(name), "role": "董事"} for name in ("黄十", "何十一"))
    ten = [reg(f.uscc(), officers=[officer]) for _ in range(10)]
    return Case(
        fires=ten,
        evidence=each_own(ten),
        near_miss=[reg(f.uscc(), officers=[other]) for _ in range(9)],
        closes=[ev("enterprise.deregistered", ten[0]["uscc"], "2026-05-01", reason="决议解散")],
    )


@case("shell_company", RELATED)
def _shell() -> Case:
    five, lone = cluster(place(), SPREAD), f.uscc()
    early = report(five[0]["uscc"], 2018, "2019-02-01")  # before the cluster formed
    late = report(five[1]["uscc"], 2019, "2019-10-01")
    return Case(
        fires=[five[0], early, *five[1:], late],
        evidence={five[0]["uscc"]: ids(five[0], early), five[1]["uscc"]: ids(five[1], late)},
        # a cluster without a sign of inactivity; an all-zero report outside any cluster
        near_miss=[*cluster(place(), SPREAD), reg(lone), report(lone, 2019, "2020-04-01")],
        closes=[move(five[4], "2019-11-10")],
    )


#: judged on the models' view, which events alone do not decide: their scenarios are in
#: tests/unit/rules/test_learning.py and tests/integration/test_learning.py
MODEL_DRIVEN = {"model_risk", "model_anomaly"}


def test_every_registered_rule_has_a_scenario() -> None:
    covered = {rule_of(name) for name in [*CASES, *RELATED]}
    assert covered | MODEL_DRIVEN == {rule.rule_id for rule in all_rules()}


@pytest.mark.parametrize("name", sorted(RELATED))
async def test_every_related_firm_is_warned_then_closed(store: Store, name: str) -> None:
    await check_fires_then_closes(store, name, RELATED[name])


@pytest.mark.parametrize("name", sorted(RELATED))
async def test_related_near_miss_never_fires(store: Store, name: str) -> None:
    await check_near_miss(store, name, RELATED[name])


@pytest.mark.parametrize("closing", [False, True], ids=["open", "closed"])
@pytest.mark.parametrize("name", sorted(RELATED))
async def test_related_reversed_and_redelivered_give_the_same_verdicts(
    store_settings: StoreSettings, name: str, closing: bool
) -> None:
    await check_order_and_duplicates(store_settings, name, RELATED[name], closing)


async def test_the_other_firms_of_a_shell_cluster_get_no_shell_warning(store: Store) -> None:
    scenario = RELATED["shell_company"]()
    await feed(replayer(store), scenario.fires)
    for code in {e["uscc"] for e in scenario.fires} - set(scenario.evidence):
        state = await store.get_enterprise(code)
        assert state is not None and set(state.open_warnings) == {"address_cluster"}


async def test_allow_listing_a_cluster_address_closes_its_warnings(store: Store) -> None:
    address = place()
    five = cluster(address, SPREAD)
    replay = replayer(store)
    await feed(replay, five)
    await store.allow_address(address)
    await replay.fire_timers()  # the allow-list asks every firm there to be rechecked
    for code in each_own(five):
        statuses = [r["status"] for r in await records(store, code, "address_cluster")]
        assert statuses == ["closed", "open"], code


async def test_a_listed_legal_rep_replaced_closes_and_appointed_elsewhere_raises(
    store: Store,
) -> None:
    left, joined, debtor, clean = f.uscc(), f.uscc(), someone("吴六"), someone("郑七")
    listing = f.person_listed(debtor, "(2026)粤03执11号")
    replay = replayer(store)
    await feed(replay, [reg(left, legal_rep=debtor), reg(joined, legal_rep=clean), listing])
    await feed(
        replay,
        [
            change(left, "2026-04-01", "legal_rep", debtor, clean),
            change(joined, "2026-04-02", "legal_rep", clean, debtor),
        ],
    )
    statuses = [r["status"] for r in await records(store, left, "dishonest_legal_rep")]
    assert statuses == ["closed", "open"]
    state = await store.get_enterprise(joined)
    assert state is not None
    assert state.open_warnings["dishonest_legal_rep"]["evidence"] == ids(listing)
