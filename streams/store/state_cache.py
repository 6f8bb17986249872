"""The states this worker committed last, decoded: a load whose stored bytes are the
ones written then takes the object instead of decoding them again (zstd + msgpack and
`derive`, most of a batch's load stage).

The bytes in Redis decide, so nothing can be stale: every load still reads the value,
and an entry is used only when the state stored is byte for byte the one it holds
(another worker's commit, a rebuild or an operator's write stores other bytes). An
entry is taken out when it is used, since the batch changes the object in place, and
put back only by a commit that took effect: a commit that loses its race or fails
leaves nothing behind. A state decodes to the object it was encoded from (the
integration tests check every entry against a decode of the stored bytes)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rules.state import EnterpriseState


@dataclass
class CacheCounts:
    """Loads that took a remembered state (hits) and loads that decoded (misses)."""

    hits: int = 0
    misses: int = 0


class StateCache:
    """USCC -> (the packed state last committed, that state), least recently used
    first; at most `size` firms (0: off)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[bytes, EnterpriseState]] = OrderedDict()
        self.counts = CacheCounts()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, uscc: object) -> bool:
        return uscc in self._entries

    def take(self, uscc: str, packed: bytes) -> EnterpriseState:
        """The state stored as `packed`: the remembered object if it is the one
        written, else decoded. Either way the firm's entry leaves the cache."""
        entry = self._entries.pop(uscc, None)
        if entry is not None and entry[0] == packed:
            self.counts.hits += 1
            return entry[1]
        self.counts.misses += 1
        return EnterpriseState.from_stored(packed)

    def put(self, uscc: str, packed: bytes, state: EnterpriseState) -> None:
        """Remember `state`, which a commit that took effect stored as `packed`."""
        if self.size <= 0:
            return
        self._entries[uscc] = (packed, state)
        self._entries.move_to_end(uscc)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def drop(self, usccs: list[str] | None = None) -> None:
        """Forget these firms (all of them: None), e.g. when their partitions leave."""
        if usccs is None:
            self._entries.clear()
        for uscc in usccs or ():
            self._entries.pop(uscc, None)
