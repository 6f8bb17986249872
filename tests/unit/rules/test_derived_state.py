"""The state's derived fields: kept by folding, and rebuilt for a state stored before
them, so an enterprise's verdicts do not change when the worker is upgraded."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rules.engine import process_event
from rules.state import EnterpriseState, key_people_of

USCC = "91440300708461136T"
AT = datetime(2026, 3, 1, 2, tzinfo=UTC)


def _registered() -> EnterpriseState:
    state = EnterpriseState(USCC)
    payload = {"legal_rep": {"name": "张三", "id_no": "11010519491231002X"},
               "address": "深圳市南山区科技园路1号", "established_on": "2020-01-01"}  # fmt: skip
    process_event(state, etype="enterprise.registered", payload=payload, event_id="r1",
                  occurred_at=AT, now=AT)  # fmt: skip
    for n, day in enumerate((20, 5, 12)):  # complaints out of day order
        at = datetime(2026, 2, day, 2, tzinfo=UTC)
        process_event(state, etype="complaint.received", payload={"channel": "12315"},
                      event_id=f"c{n}", occurred_at=at, now=at)  # fmt: skip
    return state


def test_a_state_stored_before_the_derived_fields_gets_them_on_load() -> None:
    current = _registered()
    stored = json.loads(current.to_json())
    for name in ("people", "key_ages", "normalized_address", "derived"):
        del stored[name]
    stored["counters"]["complaints"]["days"] = dict(
        reversed(list(stored["counters"]["complaints"]["days"].items()))
    )
    loaded = EnterpriseState.from_json(json.dumps(stored))
    assert loaded.to_json() == current.to_json()
    assert loaded.people == key_people_of(loaded.profile)
    assert list(loaded.counters["complaints"]["days"]) == ["2026-02-05", "2026-02-12", "2026-02-20"]


def test_a_current_state_loads_as_it_was_stored() -> None:
    current = _registered()
    assert EnterpriseState.from_json(current.to_json()).to_json() == current.to_json()
    assert current.key_ages[0]["age"] == 76 and current.normalized_address
