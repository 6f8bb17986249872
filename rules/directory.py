"""An enterprise's directory entry: the few fields that lookups, lists, search and the
inspection draw filter on, kept beside the state so they need not parse it.

The worker writes the entry with every commit (streams/store/state_io.py), so it is always
as fresh as the state.
"""

from __future__ import annotations

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
