"""The store's ports: what each of its users may call, as Protocols that `Store` meets.

A caller asks for the narrowest port that serves it, so a reader sees what a piece of
code can do to Redis, and a test can hand it a small fake: the worker's pipeline takes
a `WorkerPort`, the timers a `TimerPort`, the relay an `OutboxPort`, the trainer a
`TrainerPort`; the API reads through `ApiReads` and writes what it owns through
`ApiOwns` (`ApiStore` is both). The composition roots (the worker, the API's app, the
tools) build the one `Store`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from rules.related import RelatedData
from rules.ruleset import RuleSet
from rules.state import EnterpriseState
from streams.store.accounts import Admission
from streams.store.directory_changes import START, DirectoryChanges
from streams.store.handling import ANY, Applied, Expected
from streams.store.indexes import Daily, Keys
from streams.store.live import StreamSlice
from streams.store.outbox import OutboxEntry
from streams.store.related_io import LinkUpdate
from streams.store.state_io import Commit, Loaded, RecheckQueue
from streams.store.webhooks import WebhookKind

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


class WorkerPort(TimerPort, Protocol):
    """What the worker's pipeline needs: a batch's states, journals and related parties
    loaded, its commit, the rule set and model in force, and the dead letters; and,
    since one process runs both (the worker, a replay), the timers'."""

    async def load_enterprises(
        self,
        event_ids: Mapping[str, Mapping[str, datetime]],
        early_people: Mapping[str, set[str]],
        early_addresses: Mapping[str, Mapping[str, str]],
    ) -> Loaded: ...

    async def load_journals(self, usccs: Iterable[str]) -> dict[str, list[list[Any]]]: ...

    async def load_related(
        self,
        pkeys: Iterable[str],
        addresses: Mapping[str, str],
        floors: tuple[int | None, int | None] = (1, 1),
    ) -> RelatedData: ...

    async def commit(self, commits: list[Commit], links: list[LinkUpdate]) -> list[bool]: ...

    async def as_of(self, uscc: str, at: str, inclusive: bool = True) -> dict[str, Any] | None: ...

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


class ApiReads(Protocol):
    """What the API reads: lookups, the directory, histories, the output streams, the
    models' figures, the rule set in force."""

    warnings_stream: str
    grades_stream: str
    dead_letters_stream: str

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...

    async def get_enterprise(self, uscc: str) -> EnterpriseState | None: ...

    async def enterprise_known(self, uscc: str) -> bool: ...

    async def get_enterprises(self, usccs: Sequence[str]) -> dict[str, EnterpriseState]: ...

    async def enterprise_warnings(self, uscc: str, limit: int) -> list[dict[str, Any]]: ...

    async def as_of(self, uscc: str, at: str, inclusive: bool = True) -> dict[str, Any] | None: ...

    async def timeline(self, uscc: str) -> list[dict[str, Any]]: ...

    async def directory_entries(self, usccs: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    async def districts(self, usccs: Sequence[str]) -> dict[str, str | None]: ...

    async def scan_directory(
        self, cursor: int = 0, count: int = 1000
    ) -> tuple[int, list[tuple[str, dict[str, Any]]]]: ...

    def iter_directory(self, count: int = 2000) -> AsyncIterator[tuple[str, dict[str, Any]]]: ...

    async def directory_changes(
        self, after: int = START, count: int = 1000
    ) -> DirectoryChanges: ...

    async def directory_size(self) -> int: ...

    async def person_firms(self, pkey: str) -> dict[str, list[str]]: ...

    async def address_firms(self, akey: str) -> list[str]: ...

    async def grade_counts(self) -> dict[str, int]: ...

    def scan_stream(
        self, stream: str, *, before: str | None, since_ms: int | None, chunk: int = 500
    ) -> Any: ...

    async def stream_heads(self) -> tuple[str, str]: ...

    async def read_after(
        self, after: Sequence[str], count: int
    ) -> tuple[int, list[StreamSlice]]: ...

    async def wait_for_entries(self, after: Sequence[str], block_ms: int) -> bool: ...

    async def stream_after(
        self, kind: WebhookKind, cursor: str, count: int
    ) -> list[tuple[str, dict[str, Any]]]: ...

    async def model_meta(self) -> dict[str, Any] | None: ...

    async def recent_model_events(self, limit: int = 50) -> list[dict[str, Any]]: ...

    async def get_ruleset(self) -> RuleSet | None: ...

    async def allowed_addresses(self) -> list[str]: ...

    async def overrides_in_store(self) -> dict[str, dict[str, Any]]: ...

    async def handling(self, uscc: str) -> dict[str, dict[str, Any]]: ...

    async def handlings(self, usccs: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]: ...

    async def handling_log(self, uscc: str, limit: int = 1000) -> list[dict[str, Any]]: ...

    async def disposition_counts(self) -> dict[tuple[str, str], int]: ...

    async def load_journals(self, usccs: Iterable[str]) -> dict[str, list[list[Any]]]: ...

    async def load_related(
        self,
        pkeys: Iterable[str],
        addresses: Mapping[str, str],
        floors: tuple[int | None, int | None] = (1, 1),
    ) -> RelatedData: ...

    async def get_candidate(self, candidate_id: str) -> dict[str, Any] | None: ...

    async def list_candidates(self) -> list[dict[str, Any]]: ...

    async def ruleset_versions(self, limit: int) -> list[dict[str, Any]]: ...

    async def rules_audit_records(self, limit: int) -> list[dict[str, Any]]: ...

    async def get_backtest(self, job_id: str) -> dict[str, Any] | None: ...

    async def entered_results(self, plan_id: str) -> dict[str, dict[str, Any]]: ...

    async def assigned_after(
        self, who: str, before: tuple[int, str] | None, limit: int
    ) -> list[tuple[int, str, str]]: ...

    @property
    def ix(self) -> Keys: ...

    async def index_counts(self) -> dict[str, int]: ...

    async def daily(self, districts: Sequence[str] | None = None) -> Daily: ...

    async def applied_events(self, minutes: int, now: float | None = None) -> list[int]: ...

    async def count_ranges(self, ranges: Sequence[tuple[str, str, str]]) -> list[int]: ...

    async def firms_after(
        self, keys: Sequence[str], after: str | None, limit: int
    ) -> tuple[list[str], bool]: ...

    async def members_by_score(
        self, keys: Sequence[str], low: str, high: str
    ) -> list[list[str]]: ...

    async def handling_of(
        self, warnings: Sequence[tuple[str, str]]
    ) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]: ...

    async def oldest_members(
        self, keys: Sequence[str], high: Sequence[str], offsets: Sequence[int], count: int
    ) -> list[list[tuple[str, float]]]: ...


class ApiOwns(Protocol):
    """What the API owns and writes: accounts, keys, rate counts and the access log;
    webhooks and their leases; inspection plans; overrides; the warning workbench's
    actions; the rule set and the allow-list an operator puts in force."""

    access_log: str
    override_audit: str
    handling_audit: str

    async def authenticate(
        self, key_hash: str, window_s: float, role_limits: Mapping[str, int]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, Admission]: ...

    async def admit_request(self, who: str, limit: int, window_s: float) -> Admission: ...

    async def claim_live_slot(
        self,
        account_id: str,
        subscription_id: str,
        lease_ms: int,
        cap: int,
        group: str = "",
        group_cap: int = 1,
    ) -> tuple[bool, int]: ...

    async def renew_live_slot(
        self, account_id: str, subscription_id: str, lease_ms: int
    ) -> None: ...

    async def release_live_slot(self, account_id: str, subscription_id: str) -> None: ...

    async def log_access_many(self, records: list[dict[str, Any]]) -> None: ...

    async def put_account(self, account: dict[str, Any]) -> None: ...

    async def get_account(self, account_id: str) -> dict[str, Any] | None: ...

    async def list_accounts(self) -> list[dict[str, Any]]: ...

    async def put_key(self, key_hash: str, record: dict[str, Any]) -> None: ...

    async def list_keys(self) -> list[tuple[str, dict[str, Any]]]: ...

    async def create_webhook(self, webhook: dict[str, Any]) -> None: ...

    async def get_webhook(self, webhook_id: str) -> dict[str, Any] | None: ...

    async def list_webhooks(self, account_id: str | None = None) -> list[dict[str, Any]]: ...

    async def delete_webhook(self, webhook_id: str) -> bool: ...

    async def update_webhook(
        self,
        webhook_id: str,
        fields: dict[str, str] | None = None,
        log: dict[str, Any] | None = None,
        log_maxlen: int = 1000,
    ) -> bool: ...

    async def resume_webhook(self, webhook_id: str) -> bool: ...

    async def webhook_deliveries(self, webhook_id: str, limit: int) -> list[dict[str, Any]]: ...

    async def acquire_webhook_lease(self, webhook_id: str, token: str, ttl_ms: int) -> bool: ...

    async def renew_webhook_lease(self, webhook_id: str, token: str, ttl_ms: int) -> bool: ...

    async def release_webhook_lease(self, webhook_id: str, token: str) -> None: ...

    async def add_webhook_notice(
        self, account_id: str, notice: dict[str, Any], maxlen: int = 1000
    ) -> None: ...

    async def webhook_notices(self, account_id: str, limit: int) -> list[dict[str, Any]]: ...

    async def save_plan(
        self, plan: dict[str, Any], population: list[dict[str, Any]], audit: dict[str, Any]
    ) -> None: ...

    async def get_plan(self, plan_id: str) -> dict[str, Any] | None: ...

    async def plan_population(self, plan_id: str) -> list[dict[str, Any]] | None: ...

    async def list_plans(
        self, scope: str | None, limit: int, before: str | None = None
    ) -> list[dict[str, Any]] | None: ...

    async def inspection_audit_records(self, limit: int) -> list[dict[str, Any]]: ...

    async def set_override(
        self, uscc: str, override: dict[str, Any], audit: dict[str, Any]
    ) -> None: ...

    async def lift_override(self, uscc: str, audit: dict[str, Any]) -> bool: ...

    async def put_ruleset(self, ruleset: RuleSet) -> None: ...

    async def put_candidate(self, candidate: dict[str, Any], audit: dict[str, Any]) -> None: ...

    async def delete_candidate(self, candidate_id: str, audit: dict[str, Any]) -> None: ...

    async def publish_ruleset(
        self, ruleset: RuleSet, entry: dict[str, Any], audit: dict[str, Any]
    ) -> None: ...

    async def mark_published(self, candidate_id: str, at: str) -> None: ...

    async def put_backtest(
        self, job: dict[str, Any], audit: dict[str, Any] | None = None
    ) -> None: ...

    async def update_backtest(self, job: dict[str, Any], only_if: str = "running") -> bool: ...

    async def claim_backtest_slot(
        self, job_id: str, lease_ms: int, cap: int
    ) -> tuple[bool, int]: ...

    async def renew_backtest_slot(self, job_id: str, lease_ms: int) -> None: ...

    async def release_backtest_slot(self, job_id: str) -> None: ...

    async def backtest_leased(self, job_id: str) -> bool: ...

    async def running_backtests(self) -> list[dict[str, Any]]: ...

    async def enter_result(
        self, plan_id: str, uscc: str, record: dict[str, Any], audit: dict[str, Any]
    ) -> bool: ...

    async def allow_address(self, address: str) -> bool: ...

    async def disallow_address(self, address: str) -> bool: ...

    async def handle_warning(
        self,
        uscc: str,
        field: str,
        value: dict[str, Any],
        audit: dict[str, Any],
        answer: dict[str, Any],
        idempotency_key: str | None = None,
        count_rule: str = "",
        judgement: dict[str, Any] | None = None,
        expected: Expected = ANY,
    ) -> tuple[Applied, dict[str, Any] | None]: ...


class TrainerPort(Protocol):
    """What the trainer needs: the labels log in, model snapshots and model events out."""

    async def read_learning(
        self, after: str = "0", count: int = 1000
    ) -> list[tuple[str, bytes]]: ...

    async def get_model(self) -> tuple[str, bytes] | None: ...

    async def put_model(self, version: int, blob: bytes, meta: dict[str, Any]) -> None: ...

    async def add_model_events(self, events: list[dict[str, Any]]) -> None: ...

    async def nudge_graded(self) -> int: ...


class ApiStore(ApiReads, ApiOwns, Protocol):
    """The API as a whole: what it reads and what it owns."""


def _meets(store: Store) -> None:
    """Type-checked only: `Store` meets every port (mypy fails here when it stops)."""
    ports: tuple[WorkerPort, TimerPort, OutboxPort, TrainerPort, ApiStore]
    ports = (store, store, store, store, store)
    del ports
