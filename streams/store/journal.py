"""The journal's form in Redis (`cw:{USCC}:journal`): a list of chunks, each one or
more events packed and compressed (rules/compression.py), in the order they were applied.

The journal is read only to rebuild a timeline after a late event, never on the hot
path. Each commit appends its events as one chunk; every `MERGE_EVERY` chunks, the
commit merges the small chunks at the tail with its own into one (a chunk of many
events compresses far better than many of one), so the list holds a few chunks of up
to about `CHUNK_BYTES`, and a merge never takes more than `MERGE_EVERY` of them.
The worker knows the tail without reading it (`Tail`): it remembers the chunks it
wrote with the state it committed (streams/store/state_cache.py), and reads the tail
with the state only for a firm it does not remember.
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
class Tail:
    """What a journal ends with: its length (in chunks) and its last small chunks
    (below `CHUNK_BYTES`, at most `MERGE_EVERY - 1`, oldest first), as a commit left
    them or as read."""

    length: int
    chunks: tuple[bytes, ...] = ()

    @staticmethod
    def of(length: int, last: list[bytes]) -> Tail:
        """The tail of a journal of `length` chunks that ends with `last`.

        >>> Tail.of(5, [b"a", b"\\xc4" + bytes(CHUNK_BYTES), b"b", b"c"]).chunks
        (b'b', b'c')
        """
        small: list[bytes] = []
        for chunk in reversed(last[-(MERGE_EVERY - 1) :]):
            if len(chunk) >= CHUNK_BYTES:
                break
            small.insert(0, chunk)
        return Tail(length, tuple(small))

    def after(self, length: int, written: bytes, merged: bool) -> Tail:
        """The tail once a commit appended `written` (or, `merged`, replaced the small
        chunks with it), and the journal holds `length` chunks.

        >>> Tail(2, (b"a",)).after(3, b"b", merged=False)
        Tail(length=3, chunks=(b'a', b'b'))
        >>> Tail(2, (b"a",)).after(5, b"b", merged=False)  # another commit came between
        Tail(length=5, chunks=(b'b',))
        >>> Tail(3, (b"a", b"b", b"c")).after(1, b"abcd", merged=True)
        Tail(length=1, chunks=(b'abcd',))
        """
        kept = self.chunks if not merged and length == self.length + 1 else ()
        return Tail.of(length, [*kept, written])


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


def merge(tail: Tail, events: list[Entry]) -> Merge | None:
    """Merge `events` with the small chunks that end the journal, when a merge is due
    and there are some, else None.

    >>> old = [pack([["2026-03-01T02:00:00+00:00", "t", f"e{i}", {}]]) for i in range(3)]
    >>> m = merge(Tail.of(3, old), [["2026-03-02T02:00:00+00:00", "t", "e3", {}]])
    >>> (m.length, m.keep), [e[2] for e in entries(m.chunk)]
    ((3, 0), ['e0', 'e1', 'e2', 'e3'])
    >>> merge(Tail.of(3, [b"\\xc1" + bytes(CHUNK_BYTES)]), [["x", "t", "e", {}]]) is None
    True
    >>> merge(Tail.of(2, old[:2]), [["x", "t", "e", {}]]) is None  # not due
    True
    """
    if not tail.chunks or not due(tail.length):
        return None
    merged = [e for chunk in tail.chunks for e in entries(chunk)] + events
    keep = tail.length - len(tail.chunks)
    return Merge(tail.length, keep, sha1(b"".join(tail.chunks)).hexdigest(), pack(merged))
