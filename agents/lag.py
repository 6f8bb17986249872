"""Consumer lag per partition this worker owns: the partition's end offset less the
next offset whose outputs are not yet committed.

Measured from what the pipeline has committed, not from Faust's offset commits (which
trail by the commit interval), so the figure is the work really outstanding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from streams.figures import Figure

LAG_HELP = "Messages in the partition not yet processed by the worker that owns it"


class Consumer(Protocol):
    """What of Faust's consumer the measure needs (app.consumer)."""

    def assignment(self) -> Any: ...

    async def highwaters(self, *partitions: Any) -> Mapping[Any, int]: ...

    async def position(self, tp: Any) -> int | None: ...


async def consumer_lag(consumer: Consumer, processed: dict[tuple[str, int], int]) -> list[Figure]:
    """One figure per assigned partition. Forgets the partitions no longer assigned
    (from `processed`, the pipeline's last committed offset per partition), so a
    partition that comes back is measured from its position, not an old offset."""
    assigned = consumer.assignment()
    for tp in set(processed) - {(tp.topic, tp.partition) for tp in assigned}:
        del processed[tp]
    if not assigned:
        return []
    ends = await consumer.highwaters(*assigned)
    figures: list[Figure] = []
    for tp in sorted(assigned):
        end = ends.get(tp)
        if end is None:
            continue
        done = processed.get((tp.topic, tp.partition))
        # nothing processed here yet: the fetch position (where the committed offset put it)
        next_offset = done + 1 if done is not None else await consumer.position(tp)
        if next_offset is None:
            continue
        labels = {"topic": tp.topic, "partition": str(tp.partition)}
        lag = float(max(0, end - next_offset))
        figures.append(("creditwatch_consumer_lag", LAG_HELP, labels, lag))
    return figures
