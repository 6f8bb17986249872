"""The population of an inspection draw (双随机) read from the console's indexes
(streams/store/indexes.py), not from a scan of the directory.

The preview counts it: firms per grade from `ix:counts` (the active graded firms of
each district and grade, `ix:unseen`), the tagged ones (a tag filter, the exempt tags)
from the members of the tag indexes. The draw reads the members of the index keys its
filters select and then their directory entries only, applying the filters to each
entry exactly as a scan did (`Filters.admits`), so the population, its snapshot and
the draw for a seed are the same as before. What the indexes do not hold falls back
to reading the population's entries (never the rest of the directory): a status other
than active (`only_active` off), an industry (the indexes hold its division, not the
status with it), a grace period (the registration day).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from api.indexed import IndexKey, division_matches, index_keys
from rules import inspections as ins
from rules.grading import GRADES
from streams.store.api_ports import ApiReads

#: directory entries read per round trip
CHUNK = 2000


def _grade(key: IndexKey) -> str:
    """The grade of a firm index key: (grade,), (division, grade) or (grade, tag)."""
    return key.parts[1] if key.family == "dig" else key.parts[0]


def _admitted(key: IndexKey, filters: ins.Filters) -> bool:
    """Whether the key's firms are graded and in the filters' districts and grades."""
    grade = _grade(key)
    if grade not in GRADES or (filters.grades and grade not in filters.grades):
        return False
    return not filters.districts or any(key.district.startswith(p) for p in filters.districts)


def _keys(store: ApiReads, counts: dict[str, int], filters: ins.Filters) -> list[IndexKey]:
    """The fewest index keys whose members include every firm the filters admit."""
    if filters.only_active and filters.tags:
        keys = [k for k in index_keys(store, counts, "tag") if k.parts[1] in filters.tags]
    elif filters.industries:
        keys = [
            k
            for k in index_keys(store, counts, "dig")
            if any(division_matches(k.parts[0], p) for p in filters.industries)
        ]
    else:  # the active graded firms, or every firm
        keys = index_keys(store, counts, "unseen" if filters.only_active else "dg")
    return [k for k in keys if _admitted(k, filters)]


async def entries(store: ApiReads, filters: ins.Filters) -> list[tuple[str, dict[str, Any]]]:
    """(USCC, directory entry) of every firm the filters admit, in USCC order."""
    keys = _keys(store, await store.index_counts(), filters)
    members = await store.members_by_score([k.key for k in keys], "-inf", "+inf")
    usccs = sorted({u for found in members for u in found})
    out: list[tuple[str, dict[str, Any]]] = []
    for start in range(0, len(usccs), CHUNK):
        part = usccs[start : start + CHUNK]
        found = await store.directory_entries(part)
        out += [(u, found[u]) for u in part if u in found and filters.admits(found[u])]
    return out


async def counted(
    store: ApiReads, filters: ins.Filters, params: ins.Params
) -> tuple[Counter[str], Counter[str]] | None:
    """(firms per grade, exempt firms per grade) from the indexes alone, or None when
    the filters or exemptions ask what they do not hold (see the module's doc)."""
    if not filters.only_active or filters.industries or params.grace_days > 0:
        return None
    counts = await store.index_counts()
    wanted = set(filters.tags) | set(params.exempt_tags)
    tagged = [
        k
        for k in index_keys(store, counts, "tag")
        if k.parts[1] in wanted and _admitted(k, filters)
    ]
    members = await store.members_by_score([k.key for k in tagged], "-inf", "+inf")
    chosen: dict[str, set[str]] = {g: set() for g in GRADES}  # by the tag filter
    exempt: dict[str, set[str]] = {g: set() for g in GRADES}
    for key, found in zip(tagged, members, strict=True):
        grade, tag = key.parts
        if tag in filters.tags:
            chosen[grade].update(found)
        if tag in params.exempt_tags and grade != "D":  # D is never exempt
            exempt[grade].update(found)
    if filters.tags:
        sizes = Counter({g: len(chosen[g]) for g in GRADES})
        exempt = {g: exempt[g] & chosen[g] for g in GRADES}
    else:
        sizes = Counter()
        for k in index_keys(store, counts, "unseen"):
            if _admitted(k, filters):
                sizes[_grade(k)] += counts[k.key]
    return sizes, Counter({g: len(exempt[g]) for g in GRADES})
