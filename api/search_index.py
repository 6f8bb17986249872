"""Substring search over firm names and addresses from a local SQLite index, not a scan of
the directory in Redis. Each API process keeps one in memory (api/search.py feeds it
from the directory and its changes); nothing here talks to Redis.

A firm is a row (USCC, district, its name casefolded, its address normalized: the text
the directory's filters compare, api/directory_views.py), and its name and address are
each indexed by FTS5's trigram tokenizer, with `detail=none` (row ids only: about half
the memory of full detail). A term of 3 characters or more is looked up as every
trigram it contains (a superset: the row's text is then checked for the term itself);
when its trigrams match few rows (at most `SELECTIVE`) those rows are read and sorted.
A shorter term, or one that matches many rows, walks the rows in USCC order instead,
checking the text, until the page is full: a common term fills it at once, and a rare
short one (2 characters, e.g. 腾讯) costs one pass over the rows, which are in SQLite,
in this process, about 100 times cheaper than the same pass over Redis.

Pages are in USCC order and the cursor is the last USCC given, so a page asked of
another API process (its own index) goes on where the last one ended."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from rules.addresses import normalize_address

#: a term whose trigrams match at most this many rows reads those rows; above, the rows
#: are walked in USCC order (where a page fills quickly, the matches being common)
SELECTIVE = 2000
#: the columns searched, each with its own FTS5 table (`detail=none` has no column
#: filters)
COLUMNS = ("name", "address")

_SCHEMA = """
CREATE TABLE firm (
    uscc TEXT PRIMARY KEY,
    id INTEGER NOT NULL UNIQUE,  -- the FTS5 tables' rowid
    district TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL
) WITHOUT ROWID;
CREATE VIRTUAL TABLE name_grams USING fts5(body, content='', detail=none,
    tokenize='trigram case_sensitive 1');
CREATE VIRTUAL TABLE address_grams USING fts5(body, content='', detail=none,
    tokenize='trigram case_sensitive 1');
CREATE TRIGGER firm_added AFTER INSERT ON firm BEGIN
    INSERT INTO name_grams(rowid, body) VALUES (new.id, new.name);
    INSERT INTO address_grams(rowid, body) VALUES (new.id, new.address);
END;
CREATE TRIGGER firm_removed AFTER DELETE ON firm BEGIN
    INSERT INTO name_grams(name_grams, rowid, body) VALUES ('delete', old.id, old.name);
    INSERT INTO address_grams(address_grams, rowid, body)
        VALUES ('delete', old.id, old.address);
END;
CREATE TRIGGER firm_renamed AFTER UPDATE OF name ON firm BEGIN
    INSERT INTO name_grams(name_grams, rowid, body) VALUES ('delete', old.id, old.name);
    INSERT INTO name_grams(rowid, body) VALUES (new.id, new.name);
END;
CREATE TRIGGER firm_moved AFTER UPDATE OF address ON firm BEGIN
    INSERT INTO address_grams(address_grams, rowid, body)
        VALUES ('delete', old.id, old.address);
    INSERT INTO address_grams(rowid, body) VALUES (new.id, new.address);
END;
"""
_UPSERT = """
INSERT INTO firm (uscc, id, district, name, address) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (uscc) DO UPDATE SET
    district = excluded.district, name = excluded.name, address = excluded.address
WHERE district != excluded.district OR name != excluded.name OR address != excluded.address
"""


def name_text(name: str | None) -> str:
    """A name as search compares it: casefolded."""
    return (name or "").casefold()


def address_text(address: str | None) -> str:
    """An address as search compares it: normalized (rules/addresses.py)."""
    return normalize_address(address or "")


def trigrams(term: str) -> str:
    """An FTS5 query for the rows whose text has every trigram of `term` (3 characters
    or more), each a quoted string.

    >>> trigrams("前海深港")
    '"前海深" AND "海深港"'
    """
    grams = dict.fromkeys(term[i : i + 3] for i in range(len(term) - 2))
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


@dataclass(frozen=True)
class Search:
    """What a page asks for. `name` and `address` are the texts as compared
    (`name_text`, `address_text`); both given, a firm must match both, or either with
    `either`. `scope` is a district prefix (a district-scoped account's); `after` the
    last USCC of the previous page."""

    name: str | None = None
    address: str | None = None
    either: bool = False
    scope: str | None = None
    after: str | None = None
    limit: int = 50

    def terms(self) -> list[tuple[str, str]]:
        """(column, text) of each term given."""
        given = (("name", self.name), ("address", self.address))
        return [(column, text) for column, text in given if text is not None]


class SearchIndex:
    """The index of one API process. Not safe for concurrent use: api/search.py builds
    a new one in a worker thread and uses it from the event loop once built."""

    def __init__(self, path: str = ":memory:") -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._next_id = 1
        self._guard = threading.Lock()  # one thread at a time, whichever it is

    def close(self) -> None:
        with self._guard:  # after a put another thread is running, if any
            self._db.close()

    def put(self, firms: Iterable[tuple[str, dict[str, Any] | None]]) -> int:
        """Add or replace each firm from its directory entry, or remove it (None). A
        new name or address replaces the old one's trigrams. Returns the firms given."""
        rows: list[tuple[str, int, str, str, str]] = []
        gone: list[tuple[str]] = []
        for uscc, entry in firms:
            if entry is None:
                gone.append((uscc,))
                continue
            rows.append(
                (
                    uscc,
                    self._next_id + len(rows),
                    entry.get("district") or "",
                    name_text(entry.get("name")),
                    address_text(entry.get("address")),
                )
            )
        with self._guard:
            self._next_id += len(rows)
            self._db.execute("BEGIN")
            try:
                self._db.executemany(_UPSERT, rows)
                self._db.executemany("DELETE FROM firm WHERE uscc = ?", gone)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return len(rows) + len(gone)

    def __len__(self) -> int:
        with self._guard:
            return int(self._db.execute("SELECT count(*) FROM firm").fetchone()[0])

    def memory_bytes(self) -> int:
        """The database's size: its pages, all in memory."""
        with self._guard:
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            size = self._db.execute("PRAGMA page_size").fetchone()[0]
        return int(pages) * int(size)

    def find(self, search: Search) -> list[str]:
        """The USCCs of a page: matching, in scope, after `search.after`, in USCC
        order, at most `search.limit`."""
        terms = search.terms()
        if not terms:
            raise ValueError("a search needs a name or an address")
        joiner = " OR " if search.either else " AND "
        where = ["(" + joiner.join(f"instr({column}, ?) > 0" for column, _ in terms) + ")"]
        args: list[Any] = [text for _, text in terms]
        if search.scope:
            where.append("substr(district, 1, ?) = ?")
            args += [len(search.scope), search.scope]
        if search.after is not None:
            where.append("uscc > ?")
            args.append(search.after)
        with self._guard:
            ids = self._candidates(terms, search.either)
            sql = "SELECT uscc FROM firm WHERE " + " AND ".join(where)
            if ids is not None:
                sql += " AND id IN (SELECT value FROM json_each(?))"
                args.append(orjson.dumps(ids).decode())
            sql += " ORDER BY uscc LIMIT ?"
            args.append(search.limit)
            return [row[0] for row in self._db.execute(sql, args)]

    def _candidates(self, terms: list[tuple[str, str]], either: bool) -> list[int] | None:
        """The row ids that may match when the trigrams select few rows; None when the
        rows are better walked in USCC order (a short term, or a common one)."""
        found: list[set[int]] = []
        for column, text in terms:
            if len(text) < 3:
                if either:
                    return None  # a short term may match any row
                continue
            ids = self._db.execute(
                f"SELECT rowid FROM {column}_grams WHERE {column}_grams MATCH ? LIMIT ?",
                (trigrams(text), SELECTIVE + 1),
            ).fetchall()
            if len(ids) <= SELECTIVE:
                found.append({i for (i,) in ids})
                if not either:
                    return sorted(found[-1])  # every firm given must match this term
            elif either:
                return None
        if not found:
            return None
        return sorted(set().union(*found))
