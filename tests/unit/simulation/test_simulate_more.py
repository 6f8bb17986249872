"""The synthetic city's newer patterns (permits, address bursts and approved addresses,
shell companies, cleared tax arrears) as documented in `Truth`, checked on the raw events;
the shared helpers and the reference check of every pattern are in test_simulate.py."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from streams.simulation import generate_city, to_bytes
from tests.unit.simulation.test_simulate import (
    BIG,
    PERMIT_KIND,
    START,
    Event,
    bigger_city,
    city,
    day,
    valid,
)


def test_new_patterns_and_their_decoys_are_planted_as_documented() -> None:
    made, items = bigger_city()
    truth, events = made.truth, valid(items)
    end = START + timedelta(days=BIG["days"])  # due times at least 3 days before
    by_firm: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_firm[e.get("uscc", "")].append(e)
    reg = {u: evs[0]["payload"] for u, evs in by_firm.items() if u}

    def established(u: str) -> date:
        return date.fromisoformat(reg[u]["established_on"])

    def grants(u: str) -> list[Event]:
        return [e for e in by_firm[u] if e["type"] == "permit.granted"]

    for u in truth["permit_missing"]:
        assert PERMIT_KIND[reg[u]["industry"]] and not grants(u)
        assert day(by_firm[u][0]) == established(u) <= end - timedelta(days=33)
    late = [u for u in truth.negatives["permit_missing"] if PERMIT_KIND[reg[u]["industry"]]]
    free = truth.negatives["permit_missing"] - set(late)
    assert late and free and not any(grants(u) for u in free)
    for u in late:
        assert [(day(g) - established(u)).days for g in grants(u)] in ([26], [27], [28], [29])
    for u in truth["permit_expiring"]:
        (g,) = grants(u)
        until = date.fromisoformat(g["payload"]["valid_until"])
        assert 45 <= (until - day(g)).days <= 200
        assert until - timedelta(days=30) <= end - timedelta(days=3)
        assert not [e for e in by_firm[u] if e["type"] == "permit.revoked"]
    renewed = [u for u in truth.negatives["permit_expiring"] if len(grants(u)) == 2]
    assert renewed and len(renewed) < len(truth.negatives["permit_expiring"])
    for u in renewed:
        first, second = grants(u)
        until = date.fromisoformat(first["payload"]["valid_until"])
        assert first["payload"]["kind"] == second["payload"]["kind"]
        assert day(second) <= until - timedelta(days=35)
    for u in truth.negatives["permit_expiring"] - set(renewed):
        (g,) = grants(u)
        assert date.fromisoformat(g["payload"]["valid_until"]) > end + timedelta(days=60)

    clusters: dict[str, set[str]] = defaultdict(set)
    for u in truth["address_cluster"]:
        clusters[reg[u]["address"]].add(u)
    assert sorted({len(firms) for firms in clusters.values()})[0] == 3  # a burst
    for u in truth["shell_company"]:
        assert u in truth["address_cluster"] | truth["person_many_firms"]
        assert u in truth["zero_annual_report"] | truth["abnormal_list"]
    shells = truth["shell_company"]
    assert shells & truth["zero_annual_report"] and shells & truth["abnormal_list"]
    for firms in clusters.values():  # a burst counts for 30 days: the record comes meanwhile
        for u in firms & shells if len(firms) == 3 else ():
            (listed,) = (e for e in by_firm[u] if e["type"] == "list.abnormal_added")
            assert day(listed) <= min(established(f) for f in firms) + timedelta(days=27)
    assert any(len(firms) == 3 and firms & shells for firms in clusters.values())
    lone = truth["zero_annual_report"] - shells - truth.negatives["address_cluster"]
    assert lone and lone <= truth.negatives["shell_company"]

    for u in truth["tax_arrears"]:
        assert all(float(e["payload"]["amount"]) >= 100_000
                   for e in by_firm[u] if e["type"] == "tax.arrears")  # fmt: skip
    for u in truth.negatives["tax_arrears"]:
        owed, cleared = (e for e in by_firm[u] if e["type"].startswith("tax.arrears"))
        assert 5_000 <= owed["payload"]["amount"] <= 90_000 and cleared["source"] == "tax"
        assert cleared["type"] == "tax.arrears_cleared"
        assert cleared["payload"]["period"] == owed["payload"]["period"]
        assert 10 <= (day(cleared) - day(owed)).days <= 60


def test_approved_addresses_hold_decoys_at_one_address() -> None:
    for made, items in (city(), bigger_city()):
        truth = made.truth
        assert truth.allowed_addresses
        at: dict[str, set[str]] = defaultdict(set)
        for e in valid(items):
            if e["type"] == "enterprise.registered":
                at[e["payload"]["address"]].add(e["uscc"])
        for address in truth.allowed_addresses:
            assert 5 <= len(at[address]) <= 6
            assert at[address] <= truth.negatives["address_cluster"]
            assert at[address] <= truth.negatives["shell_company"]
            assert at[address] & truth["zero_annual_report"]
        assert made.truth.to_json()["allowed_addresses"] == sorted(truth.allowed_addresses)


def test_new_firms_get_the_permit_their_industry_needs_within_25_days() -> None:
    for (made, items), days in ((city(), 800), (bigger_city(), BIG["days"])):
        end = START + timedelta(days=days)
        grants: dict[str, list[Event]] = defaultdict(list)
        new: dict[str, Event] = {}
        for e in valid(items):
            if e["type"] == "enterprise.registered":
                est = date.fromisoformat(e["payload"]["established_on"])
                assert day(e) == est or (day(e) - est).days >= 40  # new, or old: not watched
                if day(e) == est and PERMIT_KIND[e["payload"]["industry"]]:
                    new[e["uscc"]] = e
            elif e["type"] == "permit.granted":
                grants[e["uscc"]].append(e)
        missing, late = made.truth["permit_missing"], made.truth.negatives["permit_missing"]
        assert missing and len(new) > len(missing | late)
        for uscc, registered in new.items():
            kind = PERMIT_KIND[registered["payload"]["industry"]]
            if uscc in missing:
                assert not grants[uscc]
            elif uscc not in late and day(registered) < end - timedelta(days=1):
                assert any(
                    1 <= (day(g) - day(registered)).days <= 25 and g["payload"]["kind"] == kind
                    for g in grants[uscc]
                ), uscc


def test_bigger_city_is_reproducible() -> None:
    made, items = bigger_city()
    again = generate_city(**BIG)
    assert again.truth == made.truth
    assert [to_bytes(i) for i in again.events()] == [to_bytes(i) for i in items]
