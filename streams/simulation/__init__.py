"""A synthetic city: deterministic, realistic event streams for the demo, tests and
benchmarks, with known planted risk patterns (the `truth`).

>>> city = generate_city(seed=1, enterprises=100, events=600, start=date(2026, 1, 5), days=90)
>>> items = list(city.events())
>>> len(items), items[0]["type"]
(600, 'enterprise.registered')
>>> sorted(city.truth["penalty_frequency"]) == sorted(city.truth.patterns["penalty_frequency"])
True
>>> event_key(items[0]) == items[0]["uscc"]
True

How a city is made (simulation/patterns.py plans, simulation/stream.py emits):
- enterprises are registered first: most in an initial load during the first hours of
  day 0 (established 40 days to 10 years before), some during the period (new firms,
  established on the day they register). A new firm whose industry needs a permit
  (`data.INDUSTRIES`, 4th column) is granted it 1-25 days after registration (valid 5
  years), unless a permit pattern is planted on it;
- planted patterns are small deterministic shares of enterprises, each with decoys
  (close misses that must not fire); their events fall in the first
  `planted_within_days` days (default: anywhere in the period);
- every enterprise files the annual reports due in the period: for each year Y whose
  deadline (30 June of Y + 1) falls inside it, by that deadline, if the rule judges it
  (simulation/statutory.py; `Truth` says exactly when);
- a few NOISY firms (neither clean, planted nor decoys) get a multi-year credit
  history: ordinary penalties, revocations, credit repairs in time and premature,
  abnormal listings removed, repaired or left in force (simulation/statutory.py; about 1%
  of the budget, `Truth.noise`);
- the rest of the `events` budget is a background mix (annual reports in January-June
  for a year whose deadline is outside the period, inspections, complaints,
  registration changes, permits, tax credit ratings, simple-procedure penalties, court
  cases, pledges, commendations...). Clean enterprises only ever get neutral or
  positive records;
- `invalid_rate * events` broken items (bytes) are added on top of the `events`
  valid ones, interleaved in time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from tqdm import tqdm

from streams.contract.identifiers import person_key
from streams.simulation.invalid import INVALID_KINDS
from streams.simulation.patterns import CLEAN, PATTERNS, Plan
from streams.simulation.planning import plan_city
from streams.simulation.statutory import HISTORY_SHARE, plan_histories
from streams.simulation.stream import Emitter, timestamp

__all__ = [
    "DEMO_PRESET",
    "INVALID_KINDS",
    "PATTERNS",
    "City",
    "Truth",
    "event_key",
    "generate_city",
    "paced",
    "to_bytes",
    "write_jsonl",
]

Item = dict[str, Any] | bytes
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
T = TypeVar("T")

DEMO_PRESET: dict[str, Any] = {
    "seed": 2026,
    "enterprises": 500,
    "events": 12_000,
    "start": date(2026, 1, 5),
    "days": 180,
    "invalid_rate": 0.005,
    "planted_within_days": 10,
}
"""A small city for the live demo: every planted pattern (two firms for most) is complete
within the first ~1,300 items, i.e. within ~7 s at 200 events/s; the feed lasts ~1 minute.
The time-driven ones come due later: the permits, and annual_report_missing on 1 July
2026, 3 days before the end."""


@dataclass(frozen=True)
class Truth:
    """What the city holds. `patterns[p]`: USCCs that must trigger pattern p;
    `negatives[p]`: decoys planted close to p that must not trigger it; `clean`: USCCs
    with no planted pattern, no decoy and no negative record; `invalid`: number of
    broken items in the stream; `allowed_addresses`: approved shared addresses (the exact
    `address` strings of `enterprise.registered`) where address_cluster must not fire;
    `noise[r]`: NOISY firms (never clean, planted or decoys) whose background credit
    history triggers rule r as well: `abnormal_list` (every listing of a history), and
    `abnormal_overdue` (a listing left in force whose 36 months are up at least 3 days
    before the end). They are not planted patterns (nothing checks them), but a check of
    the raw events finds them. `truth["clean"]` and `truth[p]` also work.

    Annual reports due (every enterprise, planted or not): for each report year Y whose
    deadline, 30 June of Y + 1, falls inside the period, an enterprise established
    (`established_on`) in or before Y, registered on or before the deadline and not
    deregistered by then files `annual_report.filed` for Y at an office time between 1
    January of Y + 1 (or the day after its registration, if later; its registration day
    when that is the deadline itself) and 30 June of Y + 1, unless it is planted for
    annual_report_missing for Y; the background files no other report for Y. A planted
    report for Y (zero_annual_report, shell_company, the decoys) made by the deadline
    is that report; one made after it comes on top of an ordinary report filed in time
    (a correction). Years whose deadline is outside the period keep random background
    reports (January-June). Days are Beijing days throughout: every simulated time is
    in +08:00.

    What is planted (event time; "within N days" inclusive, on `occurred_at` dates). The
    permit rules are time-driven: their hits are due at least 3 days before the end of
    the period (a variant that cannot fit in a short period is not planted):
    - penalty_frequency: 3-4 ordinary penalties within 300 days, each published 3 years
      (never a fine of 30,000 or less alone, which counts 3 months only). Decoys: 2
      ordinary; 3-5 simple-procedure; 3 ordinary ~200 days apart (periods of 420+ days).
    - dishonest_enterprise: judgment, enforcement filed, `court.dishonest_listed`.
      Decoy: judgment and enforcement filed then concluded.
    - dishonest_legal_rep: `person.dishonest_listed` of the legal rep (since
      registration), of the supervisor (an officer), of a person listed first and
      appointed legal rep later, and of one appointed first and listed later. Decoy: a
      namesake of the legal rep (same name, other ID number) is listed.
    - address_cluster: 5-7 new firms registered at one address within 25 days; 3 new
      firms registered at one address within 20 days ("burst"). Decoys: two old firms
      sharing an address; 5-6 old firms at one approved address (`allowed_addresses`).
    - person_many_firms: one person legal rep of 5-7 firms (the last one appointed by
      `registration.changed`). Decoy: legal rep of 2 firms and director of a third.
    - abnormal_age: legal rep aged 15-16 or over 78 at the event that makes them legal
      rep (registration or change). Decoys: reps aged 20-22 and 66-70.
    - frequent_changes: 3-4 legal_rep/shareholders changes within 150 days. Decoys: 2
      changes; 3 changes ~115 days apart (periods of 260+ days).
    - abnormal_list (every planted `list.abnormal_added`, so it includes unreachable
      and the shell companies that are new firms; the credit histories add `noise`),
      unreachable (inspection `unreachable`, then reason `unreachable_address`),
      serious_violation_list, tax_violation, social_insurance_arrears: one event each.
    - tax_arrears: one `tax.arrears` of 100,000-799,000 CNY, never cleared. Decoy:
      5,000-90,000 CNY cleared (`tax.arrears_cleared`, same `period`) 10-60 days later.
    - zero_annual_report: revenue, employees, tax_paid, insured_employees (and profit)
      all 0 (also filed by the shell companies that are old firms and by one firm at
      each approved address). Decoy: zero revenue and tax but people employed.
    - permit_missing: a new firm (registered on its `established_on`, 35+ days before
      the end) in an industry needing a permit, never granted one; due on
      established_on + 30 days. Decoys: such a firm granted its permit on day 26-29
      after establishment; a new firm in an industry needing none.
    - permit_expiring: an old firm in a permit industry granted a permit (in the
      planted window) valid until 45-200 days after the grant day; due on valid_until
      - 30 days. Decoys: a permit valid until 61-400 days after the end of the period; a
      soon-expiring one (as for a hit) renewed by a `permit.granted` of the same kind,
      valid 5 years, 6+ days before valid_until - 30 days. Firms of the two permit
      patterns get no other permit and no revocation.
    - shell_company: after a planted address cluster (either kind) or person_many_firms
      group is complete (and for a burst, by day 27 after its first registration, while
      its 3 registrations are within the last 30 days), one or more of its members (at
      most all but two) file an all-zero annual report (old firms; also
      zero_annual_report) or are put on the abnormal list, reason `disclosure_missing`
      or `falsified_disclosure` (new firms; also abnormal_list): at least 2 hits.
      Decoys: the other members of every planted cluster and group; the
      zero_annual_report, abnormal_list and unreachable hits in no cluster or group; the
      firms at approved addresses.
    - annual_report_missing (time-driven: due on 1 July of Y + 1, for a report year Y
      whose 1 July is at least 3 days before the end; not planted otherwise): 2+ old
      firms (established 400+ days before the start) never file Y, and every second one,
      when the planted window reaches past 1 July, files it late, on 1 July or within
      60 days after (the rule fires on 1 July, then closes). Decoys: a firm filing Y on
      30 June at 17:30-23:59 (Beijing; still 30 June in UTC); an old firm deregistered
      between 1 January and 30 June of Y + 1 without filing; a new firm registered
      then (established after Y), filing nothing for Y.
    New firms outside permit_missing get the permit their industry needs 1-25 days
    after registration, and no revocation; clean firms have addresses of their own.
    """

    patterns: Mapping[str, frozenset[str]]
    negatives: Mapping[str, frozenset[str]]
    clean: frozenset[str]
    invalid: int
    allowed_addresses: frozenset[str] = frozenset()
    noise: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __getitem__(self, key: str) -> frozenset[str]:
        return self.clean if key == "clean" else self.patterns[key]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready manifest: sorted USCC lists per pattern, `negatives`, `clean`,
        `invalid`, `allowed_addresses`."""
        return {
            **{p: sorted(s) for p, s in self.patterns.items()},
            "negatives": {p: sorted(s) for p, s in self.negatives.items()},
            "clean": sorted(self.clean),
            "invalid": self.invalid,
            "allowed_addresses": sorted(self.allowed_addresses),
            "noise": {r: sorted(s) for r, s in self.noise.items()},
        }


class City:
    """A generated city. `events()` regenerates the same stream every time it is called."""

    def __init__(self, plan: Plan, events: int, invalid: int, background: int) -> None:
        self._plan = plan
        self.n_events = events
        self.n_invalid = invalid
        self.total = events + invalid
        self._background = background
        usccs = plan.usccs
        self.truth = Truth(
            patterns={p: frozenset(usccs[e] for e in plan.hits[p]) for p in PATTERNS},
            negatives={p: frozenset(usccs[e] for e in plan.decoys[p]) for p in PATTERNS},
            clean=frozenset(u for u, role in zip(usccs, plan.roles, strict=True) if role == CLEAN),
            invalid=invalid,
            allowed_addresses=frozenset(plan.allowed_addresses),
            noise={r: frozenset(usccs[e] for e in firms) for r, firms in plan.noise.items()},
        )
        self.planted_until = timestamp(plan.start, plan.window_end)
        """Every planted event occurs before this timestamp."""

    @property
    def enterprises(self) -> int:
        return len(self._plan.usccs)

    def events(self) -> Iterator[Item]:
        """Valid events as dicts and broken items as bytes, in `occurred_at` order."""
        return Emitter(self._plan, self._background, self.n_invalid).events()

    def __iter__(self) -> Iterator[Item]:
        return self.events()

    def __len__(self) -> int:
        return self.total


def generate_city(
    *,
    seed: int,
    enterprises: int,
    events: int,
    start: date,
    days: int,
    invalid_rate: float = 0.0,
    planted_within_days: int | None = None,
) -> City:
    """Plan a city of `enterprises` with exactly `events` valid events over `days` days
    from `start` (plus round(`invalid_rate` * `events`) broken items). Patterns are
    planted when `enterprises` >= 80; `events` must cover the registrations, the planted
    events, the permits of new firms and the annual reports due (ValueError saying how
    many are needed otherwise). Same arguments, same output, byte for byte."""
    if enterprises < 1 or days < 1:
        raise ValueError("need at least one enterprise and one day")
    if not 0.0 <= invalid_rate <= 1.0:
        raise ValueError("invalid_rate must be between 0 and 1")
    plan = plan_city(
        seed=seed,
        enterprises=enterprises,
        start=start,
        days=days,
        planted_within_days=planted_within_days,
    )
    parts = {
        "registrations": enterprises,
        "planted events": len(plan.stubs),
        "permits of new firms": len(plan.new_permits),
        "annual reports due": len(plan.reports),
    }
    needed = sum(parts.values())
    if events < needed:
        detail = ", ".join(f"{count} {what}" for what, count in parts.items())
        raise ValueError(f"events={events} is too few: the city needs at least {needed} ({detail})")
    spare = events - needed
    history = plan_histories(plan, min(round(HISTORY_SHARE * events), spare // 4))
    return City(plan, events, round(invalid_rate * events), spare - history)


def event_key(event: Mapping[str, Any]) -> str:
    """The Kafka key of an event: its USCC, or for `person.*` events the person's key
    (a hash of the ID number, never the number itself).

    >>> event_key({"type": "person.dishonest_listed",
    ...            "payload": {"person": {"name": "张三", "id_no": "11010519491231002X"}}})
    '426695a0efdb59b9eaedaf0b5ca3eddf'
    """
    if str(event.get("type", "")).startswith("person."):
        return person_key(event["payload"]["person"]["id_no"])
    return str(event["uscc"])


def to_bytes(item: Item) -> bytes:
    """One item as it goes on the wire: JSON in UTF-8 (Chinese kept), or the broken bytes."""
    if isinstance(item, bytes):
        return item
    return _ENCODER.encode(item).encode()


def write_jsonl(city: City | Iterable[Item], path: str | Path, progress: bool = False) -> int:
    """Write one item per line (broken items as they are); returns the number written."""
    total = city.total if isinstance(city, City) else None
    items = city.events() if isinstance(city, City) else iter(city)
    written = 0
    with (
        open(path, "wb") as out,
        tqdm(total=total, disable=not progress, unit="ev", unit_scale=True, desc="events") as bar,
    ):
        chunk: list[bytes] = []
        for item in items:
            chunk.append(to_bytes(item))
            if len(chunk) == 4096:
                out.write(b"\n".join(chunk) + b"\n")
                written += len(chunk)
                bar.update(len(chunk))
                chunk = []
        if chunk:
            out.write(b"\n".join(chunk) + b"\n")
            written += len(chunk)
            bar.update(len(chunk))
    return written


def reported_now(items: Iterable[T]) -> Iterator[T]:
    """A live feed: each event reported the moment it is sent (its `occurred_at` stays
    where the city put it), as a department's live feed would be, so the end-to-end
    latency (reported -> warning) measures the monitor, not the replayed history.
    Broken items (bytes) pass as they are.

    >>> next(reported_now([{"reported_at": "2024-01-01T00:00:00+08:00"}]))["reported_at"] > "2025"
    True
    """
    for item in items:
        if isinstance(item, dict):
            item = cast(T, {**item, "reported_at": datetime.now(UTC).isoformat()})
        yield item


def paced(
    events: Iterable[T],
    rate_per_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[T]:
    """Yield `events` at `rate_per_s`: item k is due k / rate seconds after the first.
    A consumer that falls behind gets items without waiting until it is on schedule.

    >>> now = [0.0]
    >>> def sleep(seconds): now[0] += seconds
    >>> list(paced(range(3), 2.0, clock=lambda: now[0], sleep=sleep))
    [0, 1, 2]
    >>> now[0]
    1.0
    """
    if rate_per_s <= 0:
        raise ValueError("rate_per_s must be positive")
    interval = 1.0 / rate_per_s
    begin = clock()
    for k, event in enumerate(events):
        wait = begin + k * interval - clock()
        if wait > 0:
            sleep(wait)
        yield event
