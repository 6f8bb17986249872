"""The Lua scripts (streams/store/lua/, one file each), run atomically inside Redis,
and the layout of the commit script's keys and arguments.

The commit script takes 21 keys and 27 arguments, some of them lists: their order is
written once, as the fields of `CommitKeys` and `CommitArgs` (the sweep script's, as
`SweepKeys` and `SweepArgs`). The store builds its call from them (`CommitArgs.argv`),
and the script reads them by name through a header generated from the same classes
(`layout_header`), so the two cannot disagree. The smaller scripts name their keys and
arguments in a comment at their top.

The arguments go as one msgpack array (the script unpacks it with `cmsgpack`): redis-py
encodes each argument of a pipeline in Python, most of the cost of sending a commit,
and msgpack packs the lot in C. Bytes are packed as msgpack's raw strings, not its
binary type, which the cmsgpack of Redis 7.0 refuses; Lua strings hold any bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from typing import Any, NamedTuple

import msgpack

from streams.store.members import CHUNK


class CommitKeys(NamedTuple):
    """The commit script's KEYS, in order (the script's K_SEEN, K_STATE, ...). `seen`
    is the guard's own key, as it was kept before it moved in with the state."""

    seen: str
    state: str
    enterprise_warnings: str
    warnings_stream: str
    grades_stream: str
    directory: str
    #: the directory's changes (USCCs) that the API's search indexes follow
    directory_changes: str
    timers: str
    journal: str
    timeline: str
    learning: str
    grade_counts: str
    related_rechecks: str
    #: the firm's index memberships (its own slot) and the console's indexes
    #: (streams/store/indexes.py)
    indexed: str
    index_counts: str
    daily: str
    applied: str
    #: the days label expiries are indexed under, the firms of the day its next label
    #: resolves on and of the day it resolved on before, and the latter as a set, as
    #: written before (streams/store/labels.py; the first key again where there is no
    #: such day)
    label_days: str
    label_day: str
    label_day_left: str
    label_day_left_set: str


class CommitArgs(NamedTuple):
    """The commit script's arguments, in order (the script's STATE_WAS, EVENT_IDS, ...);
    a sequence of tuples reaches it as a table of tables."""

    #: the SHA-1 (hex) of the state the commit was computed from, '-' for no check
    state_was: str
    #: the guard's records of the events applied (streams/store/digests.py)
    event_ids: Sequence[bytes]
    #: the guard keeps the records of this many days before its newest
    seen_days: int
    #: the day (since 1970-01-01) to date the ids of a guard kept in its own key with
    guard_day: int
    state: bytes
    maxlen: int
    uscc: str
    directory_entry: bytes
    #: the cap of the directory's changes stream (approximate: MAXLEN ~)
    changes_maxlen: int
    #: when its rules must look again (epoch seconds), '' for never
    recheck_at: str
    warnings: Sequence[bytes]
    grade_changes: Sequence[bytes]
    #: the events applied, one packed chunk (streams/store/journal.py), or none
    journal: Sequence[bytes]
    #: a merge of the journal's tail: the length it must still have ('' for no
    #: merge), how many chunks stay, the SHA-1 (hex) of the rest as it was read, and
    #: the chunk that replaces them
    journal_length: str
    journal_keep: int
    journal_tail: str
    journal_merged: bytes
    #: (score, uscc) of each related firm to recheck
    related_rechecks: Sequence[tuple[str, str]]
    #: the labels log's entry, b'' for none
    learning_record: bytes
    #: the timeline is replaced from this score on, '' for nothing to replace
    replace_from: str
    #: the day (China Standard Time) a change of grade is counted on, '' for none
    day: str
    #: (index key, score, member) of every index the firm belongs to now (no newline
    #: in them: the indexes' own hash separates key and member with one), sent as one
    #: text (`joined_lines`), which the index upkeep compares whole before it splits it
    index_entries: Sequence[tuple[str, str, str]]
    #: (field, increment) of the daily counts: the warnings opened and closed
    tallies: Sequence[tuple[str, str]]
    #: (score, snapshot) of each timeline entry to write
    timeline: Sequence[tuple[str, bytes]]
    #: the day (ISO) its next label resolves on and that day's start (epoch seconds),
    #: '' for none; the day it resolved on before, if the commit moved it, else ''
    label_day: str
    label_day_start: str
    label_day_left: str

    def argv(self) -> list[Any]:
        """The script's ARGV: the one msgpack array its header unpacks."""
        values: list[Any] = list(self)
        values[_LINES] = joined_lines(self.index_entries)
        return [msgpack.packb(values, use_bin_type=False)]


_LINES = CommitArgs._fields.index("index_entries")


class SweepKeys(NamedTuple):
    """The sweep script's KEYS (lua/sweep.lua): those of the commit's that it writes."""

    state: str
    learning: str
    label_days: str
    label_day: str
    label_day_left: str
    label_day_left_set: str


class SweepArgs(NamedTuple):
    """The sweep script's arguments: as the commit's of the same names."""

    state_was: str
    state: bytes
    learning_record: bytes
    maxlen: int
    uscc: str
    label_day: str
    label_day_start: str
    label_day_left: str

    def argv(self) -> list[Any]:
        """The script's ARGV: the one msgpack array its header unpacks."""
        return [msgpack.packb(list(self), use_bin_type=False)]


def joined_lines(value: Sequence[tuple[str, ...]]) -> str:
    """The strings of the tuples, flat, joined by newlines.

    >>> joined_lines([("k1", "0", "m1"), ("k2", "1.5", "m2")])
    'k1\\n0\\nm1\\nk2\\n1.5\\nm2'
    """
    flat = [x for row in value for x in row]
    text = "\n".join(flat)
    if text.count("\n") != max(len(flat) - 1, 0):
        raise ValueError(f"a newline inside a value of {flat!r}")
    return text


def layout_header(keys: type[NamedTuple], args: type[NamedTuple]) -> str:
    """Lua that names a script's keys (K_FIELD) and its arguments (FIELD), unpacked
    from the msgpack array of ARGV[1], in the order of the two classes' fields.

    >>> class K(NamedTuple):
    ...     seen: str
    >>> class A(NamedTuple):
    ...     ids: list[str]
    >>> print(layout_header(K, A))
    -- generated from K and A (streams/store/scripts.py)
    local K_SEEN = KEYS[1]
    local ARGS = cmsgpack.unpack(ARGV[1])
    local IDS = ARGS[1]
    <BLANKLINE>
    """
    names = ", ".join(f"K_{name.upper()}" for name in keys._fields)
    slots = ", ".join(f"KEYS[{i}]" for i in range(1, len(keys._fields) + 1))
    lines = [f"-- generated from {keys.__name__} and {args.__name__} (streams/store/scripts.py)"]
    lines.append(f"local {names} = {slots}")
    lines.append("local ARGS = cmsgpack.unpack(ARGV[1])")
    lines += [f"local {name.upper()} = ARGS[{i}]" for i, name in enumerate(args._fields, 1)]
    return "\n".join(lines) + "\n"


def lua(name: str, folder: str = "") -> str:
    """The text of streams/store/lua/[FOLDER/]NAME.lua (package data)."""
    where = files("streams.store").joinpath("lua")
    if folder:
        where = where.joinpath(folder)
    return where.joinpath(f"{name}.lua").read_text(encoding="utf-8")


# the index upkeep is a Lua function (lua/lib/) that the commit and a rebuild call
_INDEX = lua("index", "lib")
# the directory's changes stream: numbered entries (lua/lib/changes.lua)
_CHANGES = lua("changes", "lib")
# the day index of label expiries (lua/lib/), which the commit and a sweep keep
_LABEL_DAY = lua("label_day", "lib")
# a state's stored value: the guard and the memberships in front (lua/lib/stored.lua)
_STORED = lua("stored", "lib")
COMMIT = (
    layout_header(CommitKeys, CommitArgs) + _STORED + _INDEX + _CHANGES + _LABEL_DAY + lua("commit")
)
SWEEP = layout_header(SweepKeys, SweepArgs) + _STORED + _LABEL_DAY + lua("sweep")
REINDEX = _STORED + _INDEX + lua("reindex")
# the related-party indexes' records are edited by Lua functions (lua/lib/) with the
# chunk size of streams/store/members.py
_MEMBERS = f"local CHUNK = {CHUNK}\n" + lua("members", "lib")
PERSON_LISTING = _MEMBERS + lua("person_listing")
LINK = _MEMBERS + lua("link")
READ_MEMBERS = _MEMBERS + lua("read_members")
DEAD_LETTER = lua("dead_letter")
CLEAR_TIMERS = lua("clear_timers")
CLEAR_LABEL_DAY = lua("clear_label_day")
ALLOW_ADDRESS = _MEMBERS + lua("allow_address")
RELATED = _MEMBERS + lua("related")
OVERRIDE = lua("override")
# the sliding-window admission is a Lua function (lua/lib/) that both of these call
_SLIDING_WINDOW = lua("sliding_window", "lib")
ADMIT = _SLIDING_WINDOW + lua("admit")
AUTHENTICATE = _SLIDING_WINDOW + lua("authenticate")
LIVE_CLAIM = lua("live_claim")
LIVE_RENEW = lua("live_renew")
WEBHOOK_UPDATE = lua("webhook_update")
LEASE_RENEW = lua("lease_renew")
LEASE_RELEASE = lua("lease_release")
HANDLE = lua("handle")
DIRECTORY_CHANGES = lua("directory_changes")
NOTE_CHANGES = _CHANGES + lua("note_changes")
ENTER_RESULT = lua("enter_result")
LIST_PLANS = lua("list_plans")
SUMMARISE_PLAN = lua("summarise_plan")
