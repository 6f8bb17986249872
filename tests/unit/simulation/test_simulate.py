"""The synthetic city: determinism, contract validity, ordering, counts, and a reference
check of every planted pattern computed from the raw events (independent of rules/)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from streams.contract.identifiers import id_birth_date, id_problem, person_key, uscc_problem
from streams.simulation import (
    DEMO_PRESET,
    PATTERNS,
    City,
    event_key,
    generate_city,
    paced,
    to_bytes,
    write_jsonl,
)
from streams.simulation.data import INDUSTRIES

START = date(2026, 1, 5)
Event = dict[str, Any]
PERMIT_KIND = {row[0]: row[3] for row in INDUSTRIES}
TIME_DRIVEN = ("permit_missing", "permit_expiring", "annual_report_missing")
NEW_PATTERNS = ("permit_missing", "permit_expiring", "shell_company", "annual_report_missing")


@cache
def city(seed: int = 11, days: int = 800) -> tuple[City, tuple[Any, ...]]:
    made = generate_city(
        seed=seed, enterprises=200, events=6_000, start=START, days=days, invalid_rate=0.02
    )
    return made, tuple(made.events())


BIG = {"seed": 3, "enterprises": 800, "events": 16_000, "start": START, "days": 400}


@cache
def bigger_city() -> tuple[City, tuple[Any, ...]]:
    made = generate_city(**BIG)
    return made, tuple(made.events())


def valid(items: Iterable[Any]) -> list[Event]:
    return [item for item in items if isinstance(item, dict)]


def day(event: Event) -> date:
    return date.fromisoformat(event["occurred_at"][:10])


def within(days: list[date], count: int, window: int) -> bool:
    """`count` of the dates within `window` days of each other (inclusive)."""
    days = sorted(days)
    return any((days[i + count - 1] - days[i]).days <= window for i in range(len(days) - count + 1))


def reference(
    events: Iterable[Event], allowed: frozenset[str] = frozenset()
) -> dict[str, set[str]]:
    """Which enterprises show each pattern, computed from scratch from the events (the
    time-driven ones as of the day of the last event; `allowed`: approved addresses).
    Days are the Beijing days of `occurred_at` (every simulated time is +08:00)."""
    found: dict[str, set[str]] = defaultdict(set)
    registered_on: dict[str, date] = {}
    deregistered_on: dict[str, date] = {}
    reported: dict[tuple[str, int], date] = {}  # (uscc, year) -> first filed
    ordinary: dict[str, list[date]] = defaultdict(list)
    changes: dict[str, list[date]] = defaultdict(list)
    established: dict[str, date] = {}
    address: dict[str, str] = {}
    unpermitted: dict[str, date] = {}  # new firms needing a permit -> when it is due
    permits: dict[tuple[str, str], tuple[str, date]] = {}  # (uscc, kind) -> (no, valid_until)
    arrears: dict[str, dict[str, tuple[float, date]]] = defaultdict(dict)  # uscc -> period
    now = START

    def expiring(key: tuple[str, str], upto: date) -> None:  # the permit ends being current
        if key in permits and permits[key][1] - timedelta(days=30) <= upto:
            found["permit_expiring"].add(key[0])

    rep: dict[str, str] = {}  # uscc -> id_no of the legal representative
    key_people: dict[str, set[str]] = defaultdict(set)  # id_no -> usccs (rep or officer)
    listed: set[str] = set()

    def appoint(uscc: str, id_no: str, on: date) -> None:
        rep[uscc] = id_no
        key_people[id_no].add(uscc)
        age = (on - id_birth_date(id_no)).days / 365.25
        if age < 18 or age > 75:
            found["abnormal_age"].add(uscc)
        if id_no in listed:
            found["dishonest_legal_rep"].add(uscc)

    for ev in events:
        etype, payload, uscc, now = ev["type"], ev["payload"], ev.get("uscc", ""), day(ev)
        if etype == "enterprise.registered":
            registered_on[uscc] = now
            established[uscc] = est = date.fromisoformat(payload["established_on"])
            address[uscc] = payload["address"]
            if PERMIT_KIND[payload["industry"]] and now <= est + timedelta(days=30):
                unpermitted[uscc] = est + timedelta(days=30)
            appoint(uscc, payload["legal_rep"]["id_no"], day(ev))
            for officer in payload.get("officers", []):
                key_people[officer["id_no"]].add(uscc)
        elif etype == "registration.changed":
            if payload["field"] in ("legal_rep", "shareholders"):
                changes[uscc].append(day(ev))
            if payload["field"] == "legal_rep":
                appoint(uscc, payload["after"]["id_no"], day(ev))
            elif payload["field"] == "address":
                address[uscc] = payload["after"]
        elif etype == "person.dishonest_listed":
            listed.add(payload["person"]["id_no"])
            found["dishonest_legal_rep"] |= key_people[payload["person"]["id_no"]]
        elif etype == "penalty.decided" and payload["procedure"] == "ordinary":
            ordinary[uscc].append(date.fromisoformat(payload["decided_on"]))
        elif etype == "court.dishonest_listed":
            found["dishonest_enterprise"].add(uscc)
        elif etype == "list.abnormal_added":
            found["abnormal_list"].add(uscc)
            if payload["reason"] == "unreachable_address":
                found["unreachable"].add(uscc)
        elif etype == "list.serious_added":
            found["serious_violation_list"].add(uscc)
        elif etype == "annual_report.filed":
            figures = ("revenue", "employees", "tax_paid", "insured_employees")
            if all(payload[f] == 0 for f in figures):
                found["zero_annual_report"].add(uscc)
            reported.setdefault((uscc, payload["year"]), now)
        elif etype in ("tax.violation", "social_insurance.arrears"):
            found[etype.replace(".", "_")].add(uscc)
        elif etype == "tax.arrears":
            arrears[uscc][payload["period"]] = (float(payload["amount"]), now)
            if sum(amount for amount, _ in arrears[uscc].values()) >= 100_000:
                found["tax_arrears"].add(uscc)
        elif etype == "tax.arrears_cleared":
            if (now - arrears[uscc].pop(payload["period"])[1]).days > 90:
                found["tax_arrears"].add(uscc)
        elif etype == "permit.granted":
            if uscc in unpermitted and now <= unpermitted[uscc]:
                del unpermitted[uscc]
            key = (uscc, payload["kind"])
            expiring(key, now)
            permits[key] = (payload["permit_no"], date.fromisoformat(payload["valid_until"]))
        elif etype == "permit.revoked":
            for key, (number, _) in list(permits.items()):
                if key[0] == uscc and number == payload["permit_no"]:
                    expiring(key, now)
                    del permits[key]
        elif etype == "enterprise.deregistered":
            address.pop(uscc, None)
            deregistered_on.setdefault(uscc, now)
    found["permit_missing"] = {u for u, due in unpermitted.items() if due < now}
    first = min(registered_on.values(), default=now)
    for year in range(first.year - 1, now.year):  # judged on 1 July of the next year
        deadline = date(year + 1, 6, 30)
        if deadline >= now:
            continue
        for uscc, on in registered_on.items():
            judged = on <= deadline and established[uscc].year <= year
            active = deregistered_on.get(uscc, now) > deadline
            if judged and active and reported.get((uscc, year), now) > deadline:
                found["annual_report_missing"].add(uscc)
    for key in permits:
        expiring(key, now)
    for uscc, periods in arrears.items():
        if any((now - since).days > 90 for _, since in periods.values()):
            found["tax_arrears"].add(uscc)
    found["penalty_frequency"] = {u for u, days in ordinary.items() if within(days, 3, 365)}
    found["frequent_changes"] = {u for u, days in changes.items() if within(days, 3, 180)}
    by_address: dict[str, list[str]] = defaultdict(list)
    for uscc, where in address.items():
        by_address[where].append(uscc)
    for where, firms in by_address.items():
        if where not in allowed and (
            len(firms) >= 5 or within([established[u] for u in firms], 3, 30)
        ):
            found["address_cluster"].update(firms)
    by_rep: dict[str, list[str]] = defaultdict(list)
    for uscc, id_no in rep.items():
        by_rep[id_no].append(uscc)
    found["person_many_firms"] = {u for firms in by_rep.values() if len(firms) >= 5 for u in firms}
    shaky = found["zero_annual_report"] | found["abnormal_list"] | found["unreachable"]
    found["shell_company"] = (found["address_cluster"] | found["person_many_firms"]) & shaky
    return found


def test_same_seed_same_bytes_and_other_seed_differs() -> None:
    made, items = city()
    again = generate_city(
        seed=11, enterprises=200, events=6_000, start=START, days=800, invalid_rate=0.02
    )
    assert [to_bytes(i) for i in again.events()] == [to_bytes(i) for i in items]
    assert [to_bytes(i) for i in made.events()] == [to_bytes(i) for i in items]  # re-iterable
    assert again.truth == made.truth
    other = generate_city(
        seed=12, enterprises=200, events=6_000, start=START, days=800, invalid_rate=0.02
    )
    assert [to_bytes(i) for i in other.events()][:50] != [to_bytes(i) for i in items][:50]
    assert other.truth.clean != made.truth.clean


def test_counts_identifiers_order_and_keys() -> None:
    made, items = city()
    events = valid(items)
    assert len(events) == 6_000 and len(items) == made.total == 6_000 + 120
    assert sum(e["type"] == "enterprise.registered" for e in events) == 200
    assert len({e["event_id"] for e in events}) == len(events)
    stamps = [e["occurred_at"] for e in events]
    assert stamps == sorted(stamps)
    assert all(e["occurred_at"].endswith("+08:00") for e in events)
    assert all(e["reported_at"] > e["occurred_at"] for e in events)
    registered: set[str] = set()
    for e in events:
        if e["type"] == "enterprise.registered":
            assert uscc_problem(e["uscc"]) is None
            assert e["payload"]["district"] == e["uscc"][2:8]
            people = [e["payload"]["legal_rep"], *e["payload"]["officers"]]
            people += [h for h in e["payload"]["shareholders"] if "id_no" in h]
            assert all(id_problem(p["id_no"]) is None for p in people)
            registered.add(e["uscc"])
        elif e["type"].startswith("person."):
            assert "uscc" not in e
            assert id_problem(e["payload"]["person"]["id_no"]) is None
            assert event_key(e) == person_key(e["payload"]["person"]["id_no"])
        else:
            assert e["uscc"] in registered, "registration comes first"
            assert event_key(e) == e["uscc"]


def test_truth_matches_a_reference_check_of_the_raw_events() -> None:
    for made, items in (city(), bigger_city()):
        truth = made.truth
        found = reference(valid(items), truth.allowed_addresses)
        for pattern in PATTERNS:
            assert truth[pattern], pattern
            # background credit histories (NOISY firms) add abnormal listings
            assert found[pattern] == truth[pattern] | truth.noise.get(pattern, set()), pattern
            assert not truth.noise.get(pattern, set()) & (truth.clean | truth.negatives[pattern])
            assert not truth.negatives[pattern] & truth[pattern]
            assert not truth.clean & truth[pattern]
        for pattern in ("penalty_frequency", "dishonest_legal_rep", "address_cluster",
                        "person_many_firms", "abnormal_age", "frequent_changes", "tax_arrears",
                        *NEW_PATTERNS):  # fmt: skip
            assert truth.negatives[pattern], pattern
        assert len(truth.clean) > 50


def test_penalty_frequency_from_raw_events() -> None:
    made, items = city()
    ordinary: dict[str, list[date]] = defaultdict(list)
    for e in valid(items):
        if e["type"] == "penalty.decided" and e["payload"]["procedure"] == "ordinary":
            ordinary[e["uscc"]].append(date.fromisoformat(e["payload"]["decided_on"]))
    for uscc in made.truth["penalty_frequency"]:
        assert within(ordinary[uscc], 3, 365)
    for uscc in made.truth["clean"] | made.truth.negatives["penalty_frequency"]:
        assert not within(ordinary[uscc], 3, 365)
    spread = [u for u in made.truth.negatives["penalty_frequency"] if len(ordinary[u]) >= 3]
    assert spread, "an 800-day city has the three-penalties-over-more-than-a-year decoy"


def test_clean_enterprises_have_no_negative_records() -> None:
    made, items = city()
    clean = made.truth.clean
    people = {p for e in valid(items) if e.get("uscc") in clean for p in _people(e)}
    addresses = Counter(
        e["payload"]["address"] for e in valid(items) if e["type"] == "enterprise.registered"
    )
    assert all(
        addresses[e["payload"]["address"]] == 1
        for e in valid(items)
        if e["type"] == "enterprise.registered" and e["uscc"] in clean
    )
    for e in valid(items):
        if e.get("uscc") in clean:
            p = e["payload"]
            assert e["type"] in (
                "enterprise.registered", "registration.changed", "annual_report.filed",
                "permit.granted", "inspection.completed", "tax.credit_rated",
                "commendation.awarded",
            ), e["type"]  # fmt: skip
            assert p.get("result", "passed") == "passed" and p.get("rating", "A") in "ABM"
            assert p.get("field") not in ("legal_rep", "shareholders", "officers")
        if e["type"] == "person.dishonest_listed":
            assert e["payload"]["person"]["id_no"] not in people


def _people(e: Event) -> list[str]:
    p = e["payload"]
    if e["type"] != "enterprise.registered":
        return []
    return [p["legal_rep"]["id_no"], *(o["id_no"] for o in p["officers"])]


def test_invalid_items_are_bytes_and_rejected() -> None:
    made, items = city()
    broken = [i for i in items if isinstance(i, bytes)]
    assert len(broken) == made.truth.invalid == made.n_invalid == 120
    assert all(b"\n" not in b for b in broken)
    events = pytest.importorskip("streams.contract.events")
    for item in items:
        out = events.decode(to_bytes(item))
        assert len(out) == 1
        assert isinstance(out[0], events.Rejected) == isinstance(item, bytes), item
    reasons = {out.reason for b in broken for out in events.decode(b)}
    assert {"invalid_uscc", "invalid_id_number", "invalid_timestamp", "invalid_json"} <= reasons


def test_small_and_bad_arguments() -> None:
    tiny = generate_city(seed=1, enterprises=10, events=30, start=START, days=3)
    assert len(valid(tiny.events())) == 30 and not any(tiny.truth.patterns.values())
    with pytest.raises(ValueError, match="too few"):
        generate_city(seed=1, enterprises=100, events=120, start=START, days=30)


def test_demo_preset_plants_everything_in_the_first_ten_seconds() -> None:
    demo = generate_city(**DEMO_PRESET)
    everything = valid(demo.events())
    head = everything[:2_000]  # 10 s at 200 events/s
    assert head[-1]["occurred_at"] > demo.planted_until
    found = reference(head, demo.truth.allowed_addresses)
    for pattern in PATTERNS:
        if pattern not in TIME_DRIVEN:
            noise = demo.truth.noise.get(pattern, set())
            assert demo.truth[pattern] and found[pattern] - noise == demo.truth[pattern], pattern
    # the time-driven ones: planted in the head, due later (before the end)
    registered = {e["uscc"] for e in head if e["type"] == "enterprise.registered"}
    granted = {e["uscc"] for e in head if e["type"] == "permit.granted"}
    assert demo.truth["permit_missing"] and demo.truth["permit_missing"] <= registered
    assert demo.truth["permit_expiring"] and demo.truth["permit_expiring"] <= granted
    found = reference(everything, demo.truth.allowed_addresses)
    for pattern in TIME_DRIVEN:
        assert demo.truth[pattern] and found[pattern] == demo.truth[pattern], pattern


def test_write_jsonl_and_paced(tmp_path: Path) -> None:
    made = generate_city(seed=5, enterprises=60, events=700, start=START, days=60, invalid_rate=0.1)
    path = tmp_path / "city.jsonl"
    assert write_jsonl(made, path, progress=False) == 770
    lines = path.read_bytes().splitlines()
    assert lines == [to_bytes(i) for i in made.events()]
    assert "深圳市" in lines[0].decode()  # ensure_ascii=False
    assert json.loads(lines[0])["type"] == "enterprise.registered"

    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    assert list(paced(range(5), 10.0, clock=lambda: now[0], sleep=sleep)) == [0, 1, 2, 3, 4]
    assert now[0] == pytest.approx(100.4) and len(slept) == 4
    with pytest.raises(ValueError):
        list(paced([1], 0))
