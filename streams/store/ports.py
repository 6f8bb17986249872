"""The store's ports: what each of its users may call, as Protocols that `Store` meets.

A caller asks for the narrowest port that serves it, so a reader sees what a piece of
code can do to Redis, and a test can hand it a small fake: the worker's pipeline takes
a `WorkerPort`, the timers a `TimerPort`, the relay an `OutboxPort`, the trainer a
`TrainerPort`; the API's ports (`ApiReads`, `ApiOwns`, `ApiStore`) are in
streams/store/api_ports.py. The composition roots (the worker, the API's app, the
tools) build the one `Store`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from rules.ruleset import RuleSet
from streams.store.api_ports import ApiStore, HistoryReads
from streams.store.outbox import OutboxEntry
from streams.store.related_io import LinkUpdate
from streams.store.worker_records import Commit, Loaded, RecheckQueue

if TYPE_CHECKING:
    from streams.store import Store


class TimerPort(Protocol):
    """What the timers need: the enterprises due, and clearing them once handed on."""

    async def due_timers(
        self, now: float, limit: int, queue: RecheckQueue = "timer"
    ) -> list[tuple[str, float]]: ...

    async def clear_timers(
        self, handed_out: list[tuple[str, float]], queue: RecheckQueue = "timer"
    ) -> int: ...

    async def due_label_days(self, now: float, limit: int = 100) -> list[tuple[str, float]]: ...

    async def label_day_firms(self, day: str) -> list[str]: ...

    async def clear_label_day(self, day: str, handed_out: list[str]) -> bool: ...


class WorkerPort(TimerPort, HistoryReads, Protocol):
    """What the worker's pipeline needs: a batch's states, journals and related parties
    loaded, its commit, the rule set and model in force, and the dead letters; and,
    since one process runs both (the worker, a replay), the timers'."""

    async def load_enterprises(
        self,
        event_ids: Mapping[str, Mapping[str, datetime]],
        early_people: Mapping[str, set[str]],
        early_addresses: Mapping[str, Mapping[str, str]],
    ) -> Loaded: ...

    async def commit(self, commits: list[Commit], links: list[LinkUpdate]) -> list[bool]: ...

    async def apply_person_listing(
        self, pkey: str, event_id: str, case_no: str, listed: bool, at: str = ""
    ) -> list[str]: ...

    async def add_dead_letter(self, identity: str, record: bytes) -> bool: ...

    async def get_model(self) -> tuple[str, bytes] | None: ...

    async def get_ruleset(self) -> RuleSet | None: ...


class OutboxPort(Protocol):
    """What the relay needs: the outbox streams through their consumer group."""

    async def ensure_outbox_group(self) -> None: ...

    async def read_outbox(
        self, consumer: str, count: int, block_ms: int, pending: bool = False
    ) -> list[OutboxEntry]: ...

    async def claim_stale_outbox(self, consumer: str, idle_ms: int, count: int) -> int: ...

    async def ack_outbox(self, entries: Iterable[tuple[str, bytes]]) -> None: ...


class TrainerPort(Protocol):
    """What the trainer needs: the labels log in, model snapshots and model events out."""

    async def read_learning(
        self, after: str = "0", count: int = 1000
    ) -> list[tuple[str, bytes]]: ...

    async def get_model(self) -> tuple[str, bytes] | None: ...

    async def put_model(self, version: int, blob: bytes, meta: dict[str, Any]) -> None: ...

    async def add_model_events(self, events: list[dict[str, Any]]) -> None: ...

    async def nudge_graded(self) -> int: ...


def _meets(store: Store) -> None:
    """Type-checked only: `Store` meets every port (mypy fails here when it stops)."""
    ports: tuple[WorkerPort, TimerPort, OutboxPort, TrainerPort, ApiStore]
    ports = (store, store, store, store, store)
    del ports
