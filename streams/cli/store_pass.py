"""A pass over the store with a progress bar: the maintenance commands' common shape.

The store is imported when the command runs (start-up cost: the parser is built at
every start of the command)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from streams.settings import StoreSettings

if TYPE_CHECKING:
    from streams.store import Store


def run_pass(
    steps: Callable[[Store], AsyncIterator[int]], desc: str, unit: str, progress: bool
) -> int:
    """Run `steps` (each yields how many items it did) on the configured store,
    counting them on a bar; the total done."""
    import asyncio

    from tqdm import tqdm

    from streams.store import Store

    async def run() -> int:
        store = Store.from_settings(StoreSettings())
        bar = tqdm(disable=not progress, desc=desc, unit=unit)
        done = 0
        try:
            async for n in steps(store):
                done += n
                bar.update(n)
        finally:
            bar.close()
            await store.close()
        return done

    return asyncio.run(run())
