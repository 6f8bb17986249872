"""The states this worker committed last, decoded: a load whose stored bytes are the
ones written then takes the object instead of decoding them again (zstd + msgpack and
`derive`, most of a batch's load stage).

The bytes in Redis decide, so nothing can be stale: every load still reads the value,
and an entry is used only when the state stored is byte for byte the one it holds
(another worker's commit, a rebuild or an operator's write stores other bytes). An
entry is taken out when it is used, since the batch changes the object in place, and
put back only by a commit that took effect: a commit that loses its race or fails
leaves nothing behind. With the state goes the tail of the firm's journal as that commit
left it (streams/store/journal.py `Tail`): the journal changes only with the state, so
the same bytes stored say it is still the tail (and the commit script checks it again
before it merges over it). A state decodes to the object it was encoded from (the
integration tests check every entry against a decode of the stored bytes)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rules.state import EnterpriseState
from streams.store.journal import Tail


@dataclass
class CacheCounts:
    """Loads that took a remembered state (hits) and loads that decoded (misses)."""

    hits: int = 0
    misses: int = 0


class StateCache:
    """USCC -> (the packed state last committed, that state, its journal's tail if
    known), least recently used first; at most `size` firms (0: off)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[bytes, EnterpriseState, Tail | None]] = OrderedDict()
        self.counts = CacheCounts()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, uscc: object) -> bool:
        return uscc in self._entries

    def take(self, uscc: str, packed: bytes) -> tuple[EnterpriseState, Tail | None]:
        """The state stored as `packed`: the remembered object if it is the one
        written (with its journal's tail), else decoded (and the tail unknown). Either
        way the firm's entry leaves the cache."""
        entry = self._entries.pop(uscc, None)
        if entry is not None and entry[0] == packed:
            self.counts.hits += 1
            return entry[1], entry[2]
        self.counts.misses += 1
        return EnterpriseState.from_stored(packed), None

    def put(
        self, uscc: str, packed: bytes, state: EnterpriseState, tail: Tail | None = None
    ) -> None:
        """Remember `state`, which a commit that took effect stored as `packed`, and
        the tail it left its journal with."""
        if self.size <= 0:
            return
        self._entries[uscc] = (packed, state, tail)
        self._entries.move_to_end(uscc)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def drop(self, usccs: list[str] | None = None) -> None:
        """Forget these firms (all of them: None), e.g. when their partitions leave."""
        if usccs is None:
            self._entries.clear()
        for uscc in usccs or ():
            self._entries.pop(uscc, None)
