"""The model samples as a state keeps them (rules/learning/samples.py, vectors.py): the
features packed read back as the very floats, in their order; the days compared as
text give what the day arithmetic gives."""

from __future__ import annotations

import math
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rules.learning import samples, vectors
from rules.learning.vectors import FEATURES
from rules.state import EnterpriseState

_value = st.floats(allow_nan=False) | st.sampled_from([0.0, -0.0, math.inf, 5e-324, 1.0])
_features = st.lists(st.tuples(st.sampled_from(FEATURES), _value), unique_by=lambda kv: kv[0]).map(
    dict
)


def test_the_stored_features_are_only_ever_appended() -> None:
    # a stored sample names its features by their index: these never move
    assert FEATURES[:27] == (
        "age_years", "capital", "changes_90", "changes_365", "address_moved_365",
        "complaints_90", "complaints_365", "simple_penalties_365", "ordinary_penalties_3y",
        "tax_violations_3y", "tax_arrears_open", "tax_arrears_amount", "si_arrears_365",
        "judgments_365", "enforcements_365", "pledges_365", "failed_inspections_365",
        "abnormal_listed", "serious_listed", "dishonest_cases", "zero_report",
        "tax_rating_low", "tax_rating_a", "commended_3y", "dishonest_people",
        "address_crowd", "person_spread",
    )  # fmt: skip


@given(_features)
def test_packed_features_read_back_exactly_in_their_order(x: dict[str, float]) -> None:
    packed = vectors.pack(x)
    assert isinstance(packed, bytes) and len(packed) == 9 * len(x)
    back = vectors.unpack(packed)
    assert list(back) == list(x)
    assert [v.hex() for v in back.values()] == [v.hex() for v in x.values()]  # -0.0 too


def test_features_it_cannot_pack_stay_as_they_are() -> None:
    for x in ({"a_feature_added_later": 1.0}, {"capital": 1}, {"capital": True}):
        assert vectors.pack(x) is x and vectors.unpack(x) is x


_days = st.dates(date(2020, 1, 1), date(2030, 12, 31))


@given(st.lists(_days, min_size=1, max_size=8), _days)
def test_the_horizons_compared_as_text_are_the_days_arithmetic(
    days: list[date], today: date
) -> None:
    horizon = timedelta(days=samples.HORIZON_DAYS)
    state = EnterpriseState("91440300708461136T")
    state.samples = [
        {"at": f"{d.isoformat()}T{i:02d}:00:00+00:00", "day": d.isoformat(), "p": None,
         "rules": 100, "x": vectors.pack({"capital": 6.0})}
        for i, d in enumerate(sorted(days))
    ]  # fmt: skip
    assert samples.next_expiry(state) == min(days) + horizon + timedelta(days=1)
    # an adverse event on `today` (10:00 in Beijing) resolves those whose horizon holds it
    adverse_at = f"{today.isoformat()}T02:00:00+00:00"
    samples.positive(state, adverse_at, "e9")
    held = [s["at"] < adverse_at and today <= date.fromisoformat(s["day"]) + horizon
            for s in state.samples]  # fmt: skip
    assert [s.get("y") == 1 for s in state.samples] == held
    # the horizons ended before `today` (in Beijing) release, in order, features unpacked
    as_of = f"{today.isoformat()}T02:00:00+00:00"
    ended = [s["at"] for s in state.samples if date.fromisoformat(s["day"]) + horizon < today]
    labels = samples.expire(state, as_of)
    assert [label["sampled_at"] for label in labels] == ended
    assert all(label["x"] == {"capital": 6.0} for label in labels)
    assert len(state.samples) == len(days) - len(ended)
