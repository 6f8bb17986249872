"""The related-party indexes as a batch sees them (pure): what the store read, kept
current in memory as each enterprise of the batch changes, and who must be looked at
again when a link changes.

  person_firms:  person_key -> {USCC: "role,role|instant"} of active enterprises: the
                 roles the person holds there, and the event time (UTC ISO) from
                 which the index holds them (the latest of the fields naming the
                 person); entries written before the instant was kept hold the roles
                 alone and count at any time
  address_firms: address key -> {USCC: "day|instant"}: the day the firm arrived at the
                 address (its establishment, or the move), and the event time (UTC
                 ISO) from which the index holds it; entries written before the
                 instant was kept hold the day alone and count from its start
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from rules.addresses import address_key
from rules.calendar import day_start
from rules.catalogue import Related
from rules.ruleset import RuleSet
from rules.state import EnterpriseState

#: the smallest crowd around a person, and at an address, a rule may warn about
Floors = tuple[int | None, int | None]


@dataclass
class RelatedData:
    #: person_key -> "event_id|listed at (UTC ISO)" of the dishonest listings in force
    listings: dict[str, list[str]] = field(default_factory=dict)
    person_firms: dict[str, dict[str, str]] = field(default_factory=dict)
    address_firms: dict[str, dict[str, str]] = field(default_factory=dict)
    #: address keys on the allow-list
    allowed: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Links:
    """An enterprise's entries in the indexes."""

    #: person_key -> "role,role|instant" (rules/state.py, `person_links_of`)
    people: dict[str, str]
    address: tuple[str, str] | None  # (address key, "arrival day|instant")
    normalized: str | None = None

    @classmethod
    def of(cls, state: EnterpriseState) -> Links:
        people, normalized = state.links()
        if normalized is None:
            return cls(people, None)
        entry = arrival(state.address_since, state.field_times.get("address", ""))
        return cls(people, (address_key(normalized), entry), normalized)


def arrival(day: str | None, since: str) -> str:
    """An address index entry: the arrival day and the event time it was linked at.

    >>> arrival("2026-03-01", "2026-03-02T06:00:00+00:00")
    '2026-03-01|2026-03-02T06:00:00+00:00'
    """
    return f"{day or ''}|{since}" if since else day or ""


def _arrived(entry: str) -> tuple[str, str]:
    """(arrival day, the instant from which an evaluation sees the firm there).

    >>> _arrived("2026-03-01")     # an entry from before the instant was kept
    ('2026-03-01', '2026-02-28T16:00:00+00:00')
    """
    day, _, since = entry.partition("|")
    if not since and day:
        since = day_start(date.fromisoformat(day))
    return day, since


def view(state: EnterpriseState, data: RelatedData) -> Related:
    """What the rules see for `state` as of its clock, with the enterprise's own current
    links written into the batch's copy of the indexes first (so later firms of the
    batch see them). Listings made and firms linked after the clock (by event time, not
    day: a re-evaluation at the start of a day must not see a firm that came at noon)
    are not seen yet, and `later` says when they will be: an evaluation as of an
    instant sees what a replay cut at that instant would, whenever it runs.

    >>> s = EnterpriseState("91440300708461136T", status="active", address_since="2026-03-01",
    ...                     clock="2026-03-02T00:00:00+00:00")   # 2 March in Beijing
    >>> s.profile["address"] = "深圳市南山区科技园路1号"
    >>> s.profile["legal_rep"] = {"name": "张三", "id_no": "11010519491231002X"}
    >>> s.derive()      # what folding does when it sets a field
    >>> rep = "426695a0efdb59b9eaedaf0b5ca3eddf"   # person_key of that ID number
    >>> data = RelatedData(listings={rep: ["e1|2026-03-01T00:00:00+00:00",
    ...                                    "e2|2026-03-05T00:00:00+00:00"]})
    >>> seen = view(s, data)
    >>> seen.address_firms, seen.listed_people[rep], seen.later
    ({'91440300708461136T': '2026-03-01'}, ['e1'], ('2026-03-05T00:00:00+00:00',))
    """
    links = Links.of(state)
    for pkey, entry in links.people.items():
        data.person_firms.setdefault(pkey, {})[state.uscc] = entry
    firms: dict[str, str] = {}
    allowed = False
    if links.address:
        akey, arrival = links.address
        firms = data.address_firms.setdefault(akey, {})
        firms[state.uscc] = arrival
        allowed = akey in data.allowed
    clock = state.clock
    later: list[str] = []
    arrived = {}
    for uscc, entry in firms.items():
        day, since = _arrived(entry)
        if clock and since > clock:
            later.append(since)
        else:
            arrived[uscc] = day
    # only this firm's own people: the listings and firms of the rest of the batch's
    # people are not its
    listed = _listed(data.listings, links.people, clock, later)
    # each person's firms linked by the clock (all, without one), with their roles
    people: dict[str, dict[str, str]] = {}
    for pkey in links.people:
        held = people[pkey] = {}
        for uscc, entry in data.person_firms[pkey].items():
            roles, _, since = entry.partition("|")
            if clock and since > clock:
                later.append(since)
            else:
                held[uscc] = roles
    return Related(listed, people, arrived, allowed, tuple(later))


def _listed(
    listings: dict[str, list[str]], people: Iterable[str], clock: str | None, later: list[str]
) -> dict[str, list[str]]:
    """person_key -> event ids of the listings of `people` made by `clock` (all,
    without one); the times of later ones go to `later`."""
    seen: dict[str, list[str]] = {}
    for pkey in people:
        ids = []
        for entry in listings.get(pkey, ()):
            event_id, _, at = entry.partition("|")
            if clock and at and at > clock:
                later.append(at)
            else:
                ids.append(event_id)
        if ids:
            seen[pkey] = ids
    return seen


def peers_to_recheck(
    uscc: str,
    before: Links,
    after: Links,
    data: RelatedData,
    crowd_floors: Floors,
    early: tuple[set[str], set[str]] = (set(), set()),
) -> set[str]:
    """Other enterprises whose related-party verdicts may change because this one's
    links changed: the firms at the address it left or joined, and the firms of the
    people it gained or lost, where there are enough of them to reach a threshold.
    `early` (people, address keys) were linked early in the batch and count as links
    held before: others may have seen them, so dropping them is a change too.

    >>> from rules.ruleset import default_ruleset
    >>> data = RelatedData(address_firms={"k": {"A": "", "B": "", "C": ""}})
    >>> sorted(peers_to_recheck("C", Links({}, None), Links({}, ("k", "")), data,
    ...                         floors(default_ruleset())))
    ['A', 'B']
    """
    person_floor, address_floor = crowd_floors
    early_people, early_addresses = early
    peers: set[str] = set()
    held = {link[0] for link in (before.address,) if link} | early_addresses
    now = after.address[0] if after.address else None
    if address_floor is not None and (before.address != after.address or held - {now}):
        for akey in held | ({now} if now else set()):
            peers |= _crowd(data.address_firms.get(akey, {}), address_floor)
    if person_floor is not None:
        changed = {
            pkey
            for pkey in set(before.people) | set(after.people) | early_people
            if before.people.get(pkey) != after.people.get(pkey) or pkey not in after.people
        }
        for pkey in changed:
            peers |= _crowd(data.person_firms.get(pkey, {}), person_floor)
    peers.discard(uscc)
    return peers


def _crowd(firms: dict[str, str], floor: int) -> set[str]:
    # the map may or may not still hold the firm that left: one below the floor counts
    return set(firms) if len(firms) >= floor - 1 else set()


def floors(ruleset: RuleSet) -> Floors:
    """The smallest crowd around a person, and at an address, that a rule in force
    could warn about (None: no rule looks).

    >>> from rules.ruleset import default_ruleset
    >>> floors(default_ruleset())
    (5, 3)
    """
    by_id = {a.rule.rule_id: a.params for a in ruleset.active()}
    return (
        _least(by_id.get("person_many_firms"), ("legal_rep_threshold", "officer_threshold")),
        _least(by_id.get("address_cluster"), ("active_threshold", "new_threshold")),
    )


def _least(params: object, names: Iterable[str]) -> int | None:
    if not isinstance(params, dict):
        return None
    return max(1, min(int(params[name]) for name in names))
