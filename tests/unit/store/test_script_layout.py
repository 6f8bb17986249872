"""The commit script's layout: the Lua text reads its keys and arguments by the names
the Python layout gives them, in the order the store sends them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgpack
import pytest

from streams.store import scripts
from streams.store.scripts import CommitArgs, CommitKeys

LUA = Path(scripts.__file__).parent / "lua"


def _header_and_body() -> tuple[str, str]:
    body = scripts.lua("commit")
    assert scripts.COMMIT.endswith(body)
    return scripts.COMMIT[: -len(body)], body


def test_the_body_names_what_the_layout_defines_and_no_raw_slot() -> None:
    _, body = _header_and_body()
    code = "\n".join(line for line in body.splitlines() if not line.startswith("--"))
    assert not re.search(r"\b(KEYS|ARGV)\s*\[", code), "address keys and arguments by name"
    keys = {f"K_{f.upper()}" for f in CommitKeys._fields}
    args = {f.upper() for f in CommitArgs._fields}
    names = re.sub(r"'[^']*'", "''", code)  # Redis commands are string literals
    used = set(re.findall(r"\b[A-Z][A-Z0-9_]+\b", names))
    assert used <= keys | args, used - keys - args
    assert keys | args <= used, f"unused: {(keys | args) - used}"


def test_the_header_maps_each_key_to_its_slot() -> None:
    header, _ = _header_and_body()
    m = re.search(r"^local (K_[A-Z_, ]+) = (KEYS\[.*)$", header, re.M)
    assert m is not None
    names = [n.strip() for n in m.group(1).split(",")]
    slots = [int(s) for s in re.findall(r"KEYS\[(\d+)\]", m.group(2))]
    assert names == [f"K_{f.upper()}" for f in CommitKeys._fields]
    assert slots == list(range(1, len(CommitKeys._fields) + 1))


def _read_back(header: str, argv: list[object]) -> dict[str, object]:
    """What the header gives each name, done in Python over `argv` (one msgpack array,
    unpacked as cmsgpack does: every string as bytes)."""
    assert len(argv) == 1 and isinstance(argv[0], bytes)
    values = msgpack.unpackb(argv[0], raw=True)
    assert re.search(r"^local ARGS = cmsgpack\.unpack\(ARGV\[1\]\)$", header, re.M)
    slots = re.findall(r"^local ([A-Z_]+) = ARGS\[(\d+)\]$", header, re.M)
    read = {name: values[int(i) - 1] for name, i in slots}
    assert len(read) == len(values)
    return read


def _as_read(value: object) -> object:
    """A value as the script gets it: strings as bytes, sequences as lists."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (list, tuple)):
        return [_as_read(v) for v in value]
    return value


def test_what_the_store_sends_is_what_the_script_reads() -> None:
    header, _ = _header_and_body()
    args = CommitArgs(
        state_was="-",
        event_ids=[b"digest-1", b"digest-2"],
        seen_days=120,
        guard_day=20513,
        state=bytes(range(256)),
        maxlen=100,
        uscc="91440300708461136T",
        directory_entry='{"name":"深圳"}'.encode(),
        changes_maxlen=10_000,
        recheck_at="",
        warnings=[b"w1"],
        grade_changes=[],
        journal=[b"j1", b"j2", b"j3"],
        journal_length="3",
        journal_keep=1,
        journal_tail="sha1",
        journal_merged=b"j0-3",
        related_rechecks=[("10", "u1"), ("20", "u2")],
        learning_record=b"",
        replace_from="5",
        day="2026-03-01",
        index_entries=[("k1", "0", "m1"), ("k2", "1.5", "m2")],
        tallies=[("opened|2026-03-01|r", "1")],
        timeline=[("5", b"s1"), ("6", b"s2")],
        label_day="2026-09-01",
        label_day_start="1788192000.0",
        label_day_left="",
    )
    read = _read_back(header, args.argv())
    assert list(read) == [f.upper() for f in CommitArgs._fields]
    values: tuple[Any, ...] = tuple(args)
    for field, value in zip(CommitArgs._fields, values, strict=True):
        if field == "index_entries":  # one text, as the index upkeep splits it
            value = scripts.joined_lines(value)
        assert read[field.upper()] == _as_read(value), field


def test_every_script_is_a_lua_file_of_the_package() -> None:
    names = {p.stem for p in LUA.glob("*.lua")}
    constants = {
        n.lower()
        for n in dir(scripts)
        if n.isupper() and n[0] != "_" and isinstance(getattr(scripts, n), str)
    }
    assert names == constants
    for name in names:
        text = (LUA / f"{name}.lua").read_text()
        assert text.startswith("--"), f"{name}.lua: say what it does and its KEYS and ARGV"


def test_the_memberships_text_refuses_a_newline_inside_a_value() -> None:
    assert scripts.joined_lines([]) == ""
    assert scripts.joined_lines([("a", "", "c")]).split("\n") == ["a", "", "c"]
    with pytest.raises(ValueError):
        scripts.joined_lines([("k", "0", "firm|w\n1|rule")])
