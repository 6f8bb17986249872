"""The Lua scripts (streams/store/lua/, one file each), run atomically inside Redis,
and the layout of the commit script's keys and arguments.

The commit script takes 17 keys and 24 arguments, some of them lists: their order is
written once, as the fields of `CommitKeys` and `CommitArgs`. The store builds its call
from them (`CommitArgs.argv`), and the script reads them by name through a header
generated from the same classes (`layout_header`), so the two cannot disagree. The
smaller scripts name their keys and arguments in a comment at their top.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from typing import Any, Literal, NamedTuple

from streams.store.members import CHUNK

#: how the script reads an argument: "one" value; "list": a count n, then n values;
#: "pairs": a count n, then n pairs; "triples": a count n, then n triples; "lines":
#: tuples of strings without a newline, flat, as one argument joined by newlines (one
#: argument instead of many: redis-py encodes each argument of a pipeline in Python,
#: most of the cost of sending the commit); "rest": the pairs up to the end (the last
#: only)
ArgKind = Literal["one", "list", "pairs", "triples", "lines", "rest"]


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


class CommitArgs(NamedTuple):
    """The commit script's ARGV, in order (the script's EVENT_IDS, STATE, ...)."""

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
    #: in them: the indexes' own hash separates key and member with one)
    index_entries: Sequence[tuple[str, str, str]]
    #: (field, increment) of the daily counts: the warnings opened and closed
    tallies: Sequence[tuple[str, str]]
    #: (score, snapshot) of each timeline entry to write
    timeline: Sequence[tuple[str, bytes]]

    def argv(self) -> list[Any]:
        """The flat ARGV the script reads back."""
        out: list[Any] = []
        values: tuple[Any, ...] = tuple(self)
        for name, value in zip(self._fields, values, strict=True):
            kind = COMMIT_ARG_KINDS[name]
            if kind == "one":
                out.append(value)
            elif kind == "list":
                out += [len(value), *value]
            elif kind in ("pairs", "triples"):
                out += [len(value), *(x for pair in value for x in pair)]
            elif kind == "lines":
                out.append(joined_lines(value))
            else:
                out += [x for pair in value for x in pair]
        return out


def joined_lines(value: Sequence[tuple[str, ...]]) -> str:
    """A "lines" argument: the strings of the tuples, flat, joined by newlines.

    >>> joined_lines([("k1", "0", "m1"), ("k2", "1.5", "m2")])
    'k1\\n0\\nm1\\nk2\\n1.5\\nm2'
    """
    flat = [x for row in value for x in row]
    text = "\n".join(flat)
    if text.count("\n") != max(len(flat) - 1, 0):
        raise ValueError(f"a newline inside a value of {flat!r}")
    return text


COMMIT_ARG_KINDS: dict[str, ArgKind] = {
    "state_was": "one",
    "event_ids": "list",
    "seen_days": "one",
    "guard_day": "one",
    "state": "one",
    "maxlen": "one",
    "uscc": "one",
    "directory_entry": "one",
    "changes_maxlen": "one",
    "recheck_at": "one",
    "warnings": "list",
    "grade_changes": "list",
    "journal": "list",
    "journal_length": "one",
    "journal_keep": "one",
    "journal_tail": "one",
    "journal_merged": "one",
    "related_rechecks": "pairs",
    "learning_record": "one",
    "replace_from": "one",
    "day": "one",
    "index_entries": "lines",
    "tallies": "pairs",
    "timeline": "rest",
}

# the readers the header's locals call, in Lua; `at` is the last ARGV index read
_READERS = """\
local at = 0
local function one() at = at + 1; return ARGV[at] end
local function counted(width)
  local n = tonumber(one()) * width
  local values = {}
  for j = 1, n do values[j] = ARGV[at + j] end
  at = at + n
  return values
end
local function lines()
  local values, s = {}, one()
  if s == '' then return values end
  for part in string.gmatch(s .. '\\n', '([^\\n]*)\\n') do values[#values + 1] = part end
  return values
end
local function rest()
  local values = {}
  for j = at + 1, #ARGV do values[#values + 1] = ARGV[j] end
  at = #ARGV
  return values
end
"""
_READ = {
    "one": "one()",
    "list": "counted(1)",
    "pairs": "counted(2)",
    "triples": "counted(3)",
    "lines": "lines()",
    "rest": "rest()",
}


def layout_header(keys: type[NamedTuple], args: type[NamedTuple], kinds: dict[str, ArgKind]) -> str:
    """Lua that names a script's keys (K_FIELD) and reads its arguments (FIELD) in the
    order of the two classes' fields.

    >>> class K(NamedTuple):
    ...     seen: str
    >>> class A(NamedTuple):
    ...     ids: list[str]
    ...     rest: list[tuple[str, str]]
    >>> print(layout_header(K, A, {"ids": "list", "rest": "rest"}).splitlines()[1])
    local K_SEEN = KEYS[1]
    """
    names = ", ".join(f"K_{name.upper()}" for name in keys._fields)
    slots = ", ".join(f"KEYS[{i}]" for i in range(1, len(keys._fields) + 1))
    lines = [f"-- generated from {keys.__name__} and {args.__name__} (streams/store/scripts.py)"]
    lines.append(f"local {names} = {slots}")
    lines.append(_READERS.rstrip("\n"))
    lines += [f"local {name.upper()} = {_READ[kinds[name]]}" for name in args._fields]
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
COMMIT = layout_header(CommitKeys, CommitArgs, COMMIT_ARG_KINDS) + _INDEX + _CHANGES + lua("commit")
REINDEX = _INDEX + lua("reindex")
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
