"""An enterprise's directory entry: the few fields that lookups, lists, search and the
inspection draw filter on, kept beside the state so they need not parse it.

The worker writes the entry with every commit (streams/store/state_io.py), so it is always
as fresh as the state. The directory holds it compact (`stored_entry`): one-letter keys,
no empty field; `entry_of` reads that form back, and the full form written before.
"""

from __future__ import annotations

from typing import Any

from rules import entered_results
from rules.records import DirectoryEntry
from rules.state import EnterpriseState


def directory_entry(state: EnterpriseState) -> DirectoryEntry:
    """
    >>> s = EnterpriseState("91110000MA00000000", status="active", grade="C", score=64)
    >>> s.profile = {"name": "某某科技有限公司", "district": "110105", "tags": ["high_tech"],
    ...              "address": "北京市朝阳区1号", "industry": "I65"}
    >>> s.open_warnings = {"address_cluster": {}}
    >>> s.penalties = {"P1": {"decided_on": "2026-01-05", "procedure": "ordinary"}}
    >>> e = directory_entry(s)
    >>> e["grade"], e["district"], e["rules"], e["last_penalized"], e["last_inspected"]
    ('C', '110105', ['address_cluster'], '2026-01-05', None)
    >>> list(e)[:4]  # what search indexes, first: the commit script compares it so
    ['name', 'address', 'district', 'industry']
    """
    profile = state.profile
    penalised = [
        p["decided_on"]
        for p in state.penalties.values()
        if not p.get("revoked") and p.get("decided_on")
    ]
    return {
        "name": profile.get("name"),
        "address": profile.get("address"),
        "district": profile.get("district"),
        "industry": profile.get("industry"),
        "tags": list(profile.get("tags") or []),
        "status": state.status,
        "grade": state.grade,
        "score": state.score,
        "rules": sorted(state.open_warnings),
        "registered_on": profile.get("established_on"),
        "last_inspected": (entered_results.inspections(state).get("latest") or "")[:10] or None,
        "last_penalized": max(penalised) if penalised else None,
    }


#: the compact form's key of each field, in the order written: name, address and
#: district first, then the status (always there): the commit script compares what
#: comes before `"s":` to know whether search must re-index the firm
#: (streams/store/lua/commit.lua), and reads `"g"` and `"d"` too
_SHORT = {
    "name": "n",
    "address": "a",
    "district": "d",
    "status": "s",
    "industry": "i",
    "tags": "t",
    "grade": "g",
    "score": "c",
    "rules": "r",
    "registered_on": "o",
    "last_inspected": "v",
    "last_penalized": "p",
}
#: the fields in the order of the full form (`directory_entry`), as entries are read
_FIELDS = tuple(DirectoryEntry.__annotations__)
_LISTS = ("tags", "rules")


def stored_entry(entry: DirectoryEntry) -> dict[str, Any]:
    """The entry as the directory holds it: two thirds of the bytes of the full form.

    >>> stored_entry({"name": "某某", "address": None, "district": "440305",
    ...     "industry": None, "tags": [], "status": "active", "grade": "B", "score": 0,
    ...     "rules": [], "registered_on": "2020-01-02", "last_inspected": None,
    ...     "last_penalized": None})
    {'n': '某某', 'd': '440305', 's': 'active', 'g': 'B', 'c': 0, 'o': '2020-01-02'}
    """
    return {
        short: value
        for name, short in _SHORT.items()
        # (the status always: it marks the form)
        if (value := entry[name]) not in (None, []) or name == "status"  # type: ignore[literal-required]
    }


def entry_of(stored: dict[str, Any]) -> dict[str, Any]:
    """An entry from the directory: the compact form (it always has a status) or the
    full one written before, as it is.

    >>> e = directory_entry(EnterpriseState("91110000MA00000000", status="active"))
    >>> back = entry_of(stored_entry(e))
    >>> back == e, list(back) == list(e), entry_of(dict(e)) == e
    (True, True, True)
    """
    if "s" not in stored:
        return stored
    entry = {name: stored.get(_SHORT[name]) for name in _FIELDS}
    for name in _LISTS:
        entry[name] = entry[name] or []
    return entry
