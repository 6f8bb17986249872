"""The related-party view as of an instant: a firm linked to an address at noon is not
there for an evaluation at the start of that day, whenever that evaluation runs (a
redelivered recheck rebuilds a timeline from before the link with the index as it is
now)."""

from __future__ import annotations

from datetime import datetime

from rules.addresses import address_key, normalize_address
from rules.engine import recheck
from rules.folding import apply_event
from rules.rebuild import replay
from rules.related import Links, RelatedData, view
from rules.state import EnterpriseState

ADDRESS = "广东省深圳市龙岗区龙城街道龙翔大道2号创业中心6层"
AKEY = address_key(normalize_address(ADDRESS))
X, J, Y = "91440307890186870H", "91440307287576348J", "91440307MA0W4EEH4G"
REGISTERED = "2025-01-23T03:52:08+00:00"
#: J's registration: the related recheck of X a fan-out rewind delivers again
J_LINKED = "2025-01-23T06:08:22+00:00"
#: Y's registration, 14:29 on 3 February in Beijing: the third firm of the address
Y_LINKED = "2025-02-03T06:29:55+00:00"
JOURNAL = [[REGISTERED, "enterprise.registered", "e-x", {"name": "X", "address": ADDRESS}]]


def index() -> RelatedData:
    return RelatedData(
        address_firms={
            AKEY: {
                X: f"2025-01-23|{REGISTERED}",
                J: f"2025-01-23|{J_LINKED}",
                Y: f"2025-02-03|{Y_LINKED}",
            }
        }
    )


def registered() -> EnterpriseState:
    state = EnterpriseState(X)
    apply_event(state, "enterprise.registered", JOURNAL[0][3], "e-x", REGISTERED)
    return state


def test_a_firm_linked_at_noon_is_not_seen_at_the_start_of_its_day() -> None:
    state = registered()
    state.clock = "2025-02-02T16:00:00+00:00"  # 3 February, 00:00 in Beijing
    seen = view(state, index())
    assert sorted(seen.address_firms) == [J, X]
    assert seen.later == (Y_LINKED,)


def test_an_entry_with_its_day_alone_counts_from_the_start_of_that_day() -> None:
    state = registered()
    state.clock = "2025-02-02T16:00:00+00:00"
    data = index()
    data.address_firms[AKEY][Y] = "2025-02-03"  # written before the instant was kept
    assert sorted(view(state, data).address_firms) == [J, X, Y]


def test_a_rebuild_from_before_a_link_sees_it_from_its_instant() -> None:
    """The clean run evaluates X at Y's registration (Y's related recheck of X); a
    rebuild from J's recheck, run after Y linked, must put the cluster there too and
    not at the start of Y's day."""
    data = index()
    clean = registered()
    clean_snaps = recheck(
        clean,
        at=datetime.fromisoformat(Y_LINKED),
        now=datetime.fromisoformat(Y_LINKED),
        related=lambda s: view(s, data),
    ).snapshots
    _, snaps = replay(
        X,
        JOURNAL,
        since=J_LINKED,
        until="2025-02-13T03:00:00+00:00",
        related=lambda s: view(s, data),
    )
    clustered = [s["at"] for s in snaps if "address_cluster" in s["indicators"]]
    assert clustered[:1] == [Y_LINKED]
    assert [s["at"] for s in clean_snaps if "address_cluster" in s["indicators"]] == [Y_LINKED]


REP = {"name": "张三", "id_no": "11010519491231002X"}


def test_a_person_s_firm_linked_later_is_not_counted_before_its_instant() -> None:
    """The person index keeps the instant each firm was linked: an evaluation as of an
    earlier clock does not count it (a rebuild from before it), and looks again then."""
    state = EnterpriseState(X)
    apply_event(state, "enterprise.registered", {"name": "X", "legal_rep": REP}, "e-x", REGISTERED)
    links = Links.of(state)
    ((pkey, entry),) = links.people.items()
    assert entry == f"legal_rep|{REGISTERED}"
    data = RelatedData(
        person_firms={
            pkey: {J: f"legal_rep|{J_LINKED}", Y: f"legal_rep|{Y_LINKED}", "OLD": "legal_rep"}
        }
    )
    state.clock = "2025-02-02T16:00:00+00:00"
    seen = view(state, data)
    assert seen.person_firms[pkey] == {J: "legal_rep", "OLD": "legal_rep", X: "legal_rep"}
    assert seen.later == (Y_LINKED,)
    state.clock = Y_LINKED
    assert sorted(view(state, data).person_firms[pkey]) == sorted([J, Y, "OLD", X])


def test_a_change_of_role_links_the_person_from_the_change() -> None:
    state = EnterpriseState(X)
    apply_event(
        state, "enterprise.registered", {"name": "X", "shareholders": [REP]}, "e-x", REGISTERED
    )
    apply_event(
        state,
        "registration.changed",
        {"field": "legal_rep", "before": None, "after": REP},
        "e-c",
        Y_LINKED,
    )
    assert list(Links.of(state).people.values()) == [f"legal_rep,shareholder|{Y_LINKED}"]
