"""The features' names, in their stable order, and the features as a model sample
keeps them (rules/learning/samples.py): packed in a few bytes and one Python object,
since a state packs its samples at every commit and unpacks them at every load.

Apart from features.py, so that rules/state.py reads and writes samples without
importing what reads a state.
"""

from __future__ import annotations

import struct

#: every feature, in a stable order (the explanation's and the documentation's); a
#: sample keeps its features by their index here (`pack`): a new one is appended
FEATURES = (
    "age_years", "capital", "changes_90", "changes_365", "address_moved_365",
    "complaints_90", "complaints_365", "simple_penalties_365", "ordinary_penalties_3y",
    "tax_violations_3y", "tax_arrears_open", "tax_arrears_amount", "si_arrears_365",
    "judgments_365", "enforcements_365", "pledges_365", "failed_inspections_365",
    "abnormal_listed", "serious_listed", "dishonest_cases", "zero_report", "tax_rating_low",
    "tax_rating_a", "commended_3y", "dishonest_people", "address_crowd", "person_spread",
)  # fmt: skip
_INDEX = {name: i for i, name in enumerate(FEATURES)}
#: n -> the layout of n float64 values
_FLOATS = [struct.Struct(f"<{n}d") for n in range(len(FEATURES) + 1)]
_FLOAT = frozenset((float,))


def pack(x: dict[str, float]) -> bytes | dict[str, float]:
    """Features packed: each feature's index in `FEATURES`, a byte each in the
    mapping's order, then the values as float64, so they read back exactly. Features
    that are not all known floats stay as they are.

    >>> x = {"capital": 6.0, "age_years": 2.3715414591375232}
    >>> pack(x).hex(" ", 1)[:5], unpack(pack(x)) == x, list(unpack(pack(x))) == list(x)
    ('01 00', True, True)
    >>> pack({"a": 1.0}), unpack({"a": 1.0})
    ({'a': 1.0}, {'a': 1.0})
    """
    if not set(map(type, x.values())) <= _FLOAT:
        return x
    try:
        index = bytes(map(_INDEX.__getitem__, x))
    except KeyError:
        return x
    return index + _FLOATS[len(index)].pack(*x.values())


def unpack(packed: bytes | dict[str, float]) -> dict[str, float]:
    """Features as `pack` had them (packed or left as they were)."""
    if not isinstance(packed, bytes):
        return packed
    n = len(packed) // 9
    names = map(FEATURES.__getitem__, packed[:n])
    return dict(zip(names, _FLOATS[n].unpack_from(packed, n), strict=True))
