"""The journal's form in Redis (`cw:{USCC}:journal`): a list of chunks, each one or
more events packed and compressed (rules/compression.py), in the order they were applied.

The journal is read only to rebuild a timeline after a late event, never on the hot
path. Each commit appends its events as one chunk; every `MERGE_EVERY` chunks, the
commit merges the small chunks at the tail with its own into one (a chunk of many
events compresses far better than many of one), so the list holds a few chunks of up
to about `CHUNK_BYTES`, and a merge never reads more than `MERGE_EVERY` of them.
Entries written before the chunks (one event as JSON each) still read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from hashlib import sha1
from typing import Any, cast

from rules import compression

#: a commit merges the tail when the journal holds a multiple of this, less one, chunks
MERGE_EVERY = 4
#: a chunk this large (compressed) is left as it is
CHUNK_BYTES = 4096

Entry = list[Any]


def entries(chunk: bytes) -> list[Entry]:
    """The events of one element of a journal: a packed chunk, or one event as JSON
    (as the journal kept them before).

    >>> entries(pack([["2026-03-01T02:00:00+00:00", "t", "e1", {}]]))[0][2]
    'e1'
    >>> entries(b'["2026-03-01T02:00:00+00:00", "t", "e0", {}]')[0][2]
    'e0'
    """
    if compression.is_compressed(chunk):
        return cast(list[Entry], compression.unpack_compressed(chunk))
    return [json.loads(chunk)]


def pack(events: list[Entry]) -> bytes:
    return compression.pack_compressed(events, compression.JOURNAL)


def due(chunks: int) -> bool:
    """Whether a commit onto a journal of `chunks` chunks merges its tail.

    >>> [n for n in range(10) if due(n)]
    [3, 7]
    """
    return chunks % MERGE_EVERY == MERGE_EVERY - 1


@dataclass(frozen=True)
class Merge:
    """A commit's chunk merged with the journal's small tail: the journal must still
    hold `length` chunks, the last of them those merged (their SHA-1, hex, is `tail`),
    else the commit appends its own chunk instead; its first `keep` stay, and `chunk`
    replaces the rest."""

    length: int
    keep: int
    tail: str
    chunk: bytes


def merge(length: int, tail: list[bytes], events: list[Entry]) -> Merge | None:
    """Merge `events` with the small chunks that end `tail` (the journal's last chunks
    of `length`), or None when there are none to merge.

    >>> old = [pack([["2026-03-01T02:00:00+00:00", "t", f"e{i}", {}]]) for i in range(3)]
    >>> m = merge(3, old, [["2026-03-02T02:00:00+00:00", "t", "e3", {}]])
    >>> (m.length, m.keep), [e[2] for e in entries(m.chunk)]
    ((3, 0), ['e0', 'e1', 'e2', 'e3'])
    >>> merge(1, [b"\\xc1" + bytes(CHUNK_BYTES)], [["x", "t", "e", {}]]) is None
    True
    """
    small = 0
    for chunk in reversed(tail):
        if len(chunk) >= CHUNK_BYTES:
            break
        small += 1
    if small == 0:
        return None
    replaced = tail[len(tail) - small :]
    merged = [e for chunk in replaced for e in entries(chunk)] + events
    return Merge(length, length - small, sha1(b"".join(replaced)).hexdigest(), pack(merged))
