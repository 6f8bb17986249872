"""The packed records of the related-party indexes (streams/store/members.py): every
entry comes back as it was written, whatever its text."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from streams.store import members

instants = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
).map(lambda at: at.isoformat())
days = st.dates().map(lambda d: d.isoformat())
roles = st.lists(
    st.sampled_from(["legal_rep", "shareholder", "officer:监事", "officer:执行董事兼总经理"])
    | st.text(max_size=12).map(lambda t: f"officer:{t}"),
    max_size=4,
).map(",".join)
entries = st.one_of(
    st.text(max_size=40),
    st.tuples(roles | days | st.text(max_size=10), instants | st.text(max_size=10)).map("|".join),
)


@given(entries)
def test_every_entry_comes_back_as_it_was(entry: str) -> None:
    assert members.unpack_entry(members.pack_entry(entry)) == entry


@given(st.dictionaries(st.text(min_size=1, max_size=20), entries, max_size=8))
def test_a_record_list_reads_back_as_the_firms_and_their_entries(firms: dict[str, str]) -> None:
    value = b"".join(members.record(uscc, entry) for uscc, entry in firms.items())
    assert members.records(value) == firms


def test_a_common_entry_packs_small() -> None:
    # 18 bytes of USCC + 2 of lengths + 6 of body: a one-firm person fits a chunk
    rec = members.record("91440306MA50RQ1514", "shareholder|2024-12-31T21:01:55+00:00")
    assert len(rec) == 26


def test_a_long_entry_has_two_length_bytes() -> None:
    entry = "officer:" + "某" * 60
    rec = members.record("u1", entry)
    assert members.records(rec + members.record("u2", "x")) == {"u1": entry, "u2": "x"}
