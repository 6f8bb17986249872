"""The webhook delivery loop, run by each API process (api/app.py's lifespan).

Every poll it lists the webhooks and claims the active ones no process holds (a lease
in Redis, renewed while held), starting one task per claimed webhook. A task reads the
records after the webhook's cursors, oldest first, and POSTs those that pass its filter
(and its owner's district scope), one at a time: the cursor moves past a record only
once the receiver answered 2xx, so delivery is ordered and at least once. A record that
keeps failing is retried with exponential backoff; after the last attempt the webhook
is paused at that record, and its owner gets a notice; `resume` delivers it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import Counter, Gauge, Histogram

from api.auth import MEMBER_ROLES
from api.filters import OutputFilter
from api.handling import snoozed_warnings
from api.signing import sign
from api.webhook_policy import DestinationPolicy, DestinationRefused, Resolver, resolver_of
from rules.jsoncodec import dumps
from streams.settings import ApiSettings
from streams.store.api_ports import ApiStore
from streams.store.live import stream_id
from streams.store.webhooks import KINDS, WebhookKind

log = logging.getLogger(__name__)

DELIVERIES = Counter(
    "creditwatch_webhook_deliveries_total",
    "Webhook deliveries by outcome: delivered; retried (an attempt failed, another "
    "follows); failed (the last attempt failed and the webhook was paused)",
    ["outcome"],
)
DELIVERY_SECONDS = Histogram(
    "creditwatch_webhook_delivery_seconds",
    "One webhook POST's round trip, failed ones included",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PAUSED = Gauge("creditwatch_webhooks_paused", "Webhooks paused after failed deliveries")


class LeaseLost(Exception):
    """Another process holds the webhook now, or it was deleted."""


@dataclass
class Attempt:
    status_code: int | None
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def describe(self) -> str:
        return f"HTTP {self.status_code}" if self.error is None else self.error


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _stop_if_cancelled() -> None:
    """Raise if this task was asked to stop. Python 3.11's asyncio.wait_for, which
    redis-py uses, can swallow a cancellation that lands as a command completes; the
    task still counts it, so every loop here looks before going round again."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def run_deliveries(app: FastAPI) -> None:
    """Deliver webhooks until cancelled."""
    deliverer = Deliverer(app.state.store, app.state.settings, resolver_of(app))
    try:
        await deliverer.run()
    finally:
        await deliverer.close_clients()


#: connection pools kept, one per destination host name (the oldest closed beyond)
_MAX_CLIENTS = 256


class Deliverer:
    def __init__(self, store: ApiStore, settings: ApiSettings, resolve: Resolver):
        self.store, self.settings, self.resolve = store, settings, resolve
        self.token = uuid.uuid4().hex  # this process's name on the leases it holds
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.lease_ms = settings.webhook_lease_ms
        self.poll_s = settings.webhook_poll_interval_s
        self.clients: dict[str, httpx.AsyncClient] = {}

    async def _client(self, host: str) -> httpx.AsyncClient:
        """The host name's own connection pool: requests go to checked addresses, so a
        pool keyed by address alone could let a TLS connection verified for one name
        carry another name's deliveries. Redirects are never followed: a 3xx is a failed
        attempt, so a receiver cannot send a delivery on to where the policy would not."""
        client = self.clients.pop(host, None)
        if client is None:
            timeout = httpx.Timeout(self.settings.webhook_timeout_s)
            client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
            if len(self.clients) >= _MAX_CLIENTS:
                with contextlib.suppress(Exception):
                    await self.clients.pop(next(iter(self.clients))).aclose()
        self.clients[host] = client  # the most recently used last
        return client

    async def close_clients(self) -> None:
        clients, self.clients = list(self.clients.values()), {}
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def run(self) -> None:
        try:
            while True:
                _stop_if_cancelled()
                try:
                    await self._claim()
                except Exception as exc:  # Redis down, say: keep trying, quietly
                    log.warning("webhook delivery: cannot list webhooks (%s); retrying", exc)
                await asyncio.sleep(self.poll_s)
        finally:
            tasks = list(self.tasks.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _claim(self) -> None:
        webhooks = await self.store.list_webhooks()
        PAUSED.set(sum(w["status"] == "paused" for w in webhooks))
        for webhook in webhooks:
            webhook_id = webhook["webhook_id"]
            if webhook["status"] != "active" or webhook_id in self.tasks:
                continue
            if await self.store.acquire_webhook_lease(webhook_id, self.token, self.lease_ms):
                task = asyncio.create_task(self._serve(webhook_id), name=f"webhook {webhook_id}")
                self.tasks[webhook_id] = task
                task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        for webhook_id, held in list(self.tasks.items()):
            if held is task:
                del self.tasks[webhook_id]

    async def _serve(self, webhook_id: str) -> None:
        """Deliver one webhook while this process holds its lease and it is active."""
        try:
            while True:
                _stop_if_cancelled()
                await self._renew(webhook_id)
                webhook = await self.store.get_webhook(webhook_id)
                if webhook is None or webhook["status"] != "active":
                    return
                may_receive, scope = await self._owner_scope(webhook)
                if not may_receive or not await self._batch(webhook, scope):
                    await self._wait(webhook_id, self.poll_s)
        except LeaseLost:
            log.info("webhook %s: lease lost (deleted, or held by another process)", webhook_id)
        except Exception as exc:  # the next poll claims it again
            log.warning("webhook %s: delivery interrupted: %s", webhook_id, exc)
        finally:
            with contextlib.suppress(Exception):
                await self.store.release_webhook_lease(webhook_id, self.token)

    async def _owner_scope(self, webhook: dict[str, Any]) -> tuple[bool, str | None]:
        """Whether the owner may receive, as its account stands now, and its district
        scope. A disabled or deleted account, or one no longer a member, receives
        nothing and skips nothing: delivery goes on from there once it may again."""
        if webhook["account_id"] == "admin":  # the bootstrap admin key
            return True, None
        account = await self.store.get_account(webhook["account_id"])
        if account is None or account.get("disabled") or account["role"] not in MEMBER_ROLES:
            return False, None
        return True, account.get("district")

    async def _renew(self, webhook_id: str) -> None:
        if not await self.store.renew_webhook_lease(webhook_id, self.token, self.lease_ms):
            raise LeaseLost(webhook_id)

    async def _wait(self, webhook_id: str, seconds: float) -> None:
        """Sleep, renewing the lease often enough that it never lapses meanwhile."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            _stop_if_cancelled()
            await asyncio.sleep(min(left, self.lease_ms / 3000))
            await self._renew(webhook_id)

    async def _batch(self, webhook: dict[str, Any], scope: str | None) -> bool:
        """Handle the next records of its streams, in stream order; False if none."""
        wanted = OutputFilter.model_validate(webhook["filters"])
        size = self.settings.webhook_batch
        entries: list[tuple[tuple[int, int], int, WebhookKind, str, dict[str, Any]]] = []
        horizon: tuple[int, int] | None = None
        for rank, kind in enumerate(k for k in KINDS if k in wanted.kinds):
            batch = await self.store.stream_after(kind, webhook["cursors"][kind], size)
            entries += [(stream_id(i), rank, kind, i, record) for i, record in batch]
            if len(batch) == size:  # the stream goes on: the others must not overtake it
                last = stream_id(batch[-1][0])
                horizon = last if horizon is None else min(horizon, last)
        entries = sorted(e for e in entries if horizon is None or e[0] <= horizon)
        if not entries:
            return False
        districts = await self._districts(scope, wanted, [e[4] for e in entries])
        snoozed = await snoozed_warnings(self.store, [e[4] for e in entries])
        skipped: dict[str, str] = {}  # cursors past filtered-out records, written lazily
        for _, _, kind, entry_id, record in entries:
            _stop_if_cancelled()
            district = districts.get(record.get("uscc", ""))
            in_scope = scope is None or (district or "").startswith(scope)
            if not (in_scope and wanted.matches(kind, record, district, snoozed)):
                skipped[f"cursor:{kind}"] = entry_id
                continue
            if not await self._deliver(webhook, kind, entry_id, record, skipped):
                return True  # paused or deleted: the next look ends the task
            skipped = {}
        if skipped:
            await self.store.update_webhook(webhook["webhook_id"], skipped)
        return True

    async def _districts(
        self, scope: str | None, wanted: OutputFilter, records: list[dict[str, Any]]
    ) -> dict[str, str | None]:
        if scope is None and not wanted.needs_district:
            return {}
        return await self.store.districts(sorted({r["uscc"] for r in records if r.get("uscc")}))

    async def _deliver(
        self,
        webhook: dict[str, Any],
        kind: WebhookKind,
        entry_id: str,
        record: dict[str, Any],
        skipped: dict[str, str],
    ) -> bool:
        """POST one record until it is accepted or the attempts run out (then pause the
        webhook); whether delivery may go on with the next record."""
        webhook_id = webhook["webhook_id"]
        body = dumps({"kind": kind, "id": entry_id, "data": record}).encode()
        delivery_id = uuid.uuid4().hex  # the same on every attempt: receivers may dedupe
        attempts = max(1, self.settings.webhook_max_attempts)
        for attempt in range(1, attempts + 1):
            _stop_if_cancelled()
            if attempt > 1:
                await self._wait(webhook_id, self._backoff(attempt - 1))
            result = await self._post(webhook, kind, delivery_id, body)
            if result.ok:
                DELIVERIES.labels("delivered").inc()
                entry = self._log(delivery_id, kind, entry_id, record, attempt, result)
                fields = {**skipped, f"cursor:{kind}": entry_id}
                return await self.store.update_webhook(
                    webhook_id, fields, entry, self.settings.webhook_log_maxlen
                )
            if attempt < attempts:
                DELIVERIES.labels("retried").inc()
        DELIVERIES.labels("failed").inc()
        entry = self._log(delivery_id, kind, entry_id, record, attempts, result, "failed")
        await self._pause(webhook, entry, skipped, result)
        return False

    def _backoff(self, failures: int) -> float:
        base, cap = self.settings.webhook_backoff_base_s, self.settings.webhook_backoff_cap_s
        return float(min(cap, base * 2 ** (failures - 1)))

    async def _post(
        self, webhook: dict[str, Any], kind: str, delivery_id: str, body: bytes
    ) -> Attempt:
        timestamp = str(int(time.time()))  # fresh per attempt: retries pass the tolerance
        headers = {
            "Content-Type": "application/json",
            "X-Creditwatch-Event": kind,
            "X-Creditwatch-Delivery": delivery_id,
            "X-Creditwatch-Timestamp": timestamp,
            "X-Creditwatch-Signature": sign(webhook["secret"], timestamp, body),
        }
        started = time.perf_counter()
        try:
            # checked again now, as the settings and the name's addresses stand, and the
            # request sent to the very address checked
            policy = DestinationPolicy.from_settings(self.settings)
            to = await policy.check(webhook["url"], self.resolve)
            headers["Host"] = to.host_header()
            http = await self._client(to.host)
            response = await http.post(
                to.request_url(), content=body, headers=headers, extensions=to.extensions()
            )
            result = Attempt(response.status_code, None, 0.0)
        except DestinationRefused as exc:
            result = Attempt(None, f"destination refused: {exc}"[:300], 0.0)
        except Exception as exc:  # no answer (refused, timeout, a bad URL): a failed attempt
            result = Attempt(None, f"{type(exc).__name__}: {exc}"[:300], 0.0)
        result.seconds = time.perf_counter() - started
        DELIVERY_SECONDS.observe(result.seconds)
        return result

    @staticmethod
    def _log(
        delivery_id: str,
        kind: WebhookKind,
        entry_id: str,
        record: dict[str, Any],
        attempts: int,
        result: Attempt,
        outcome: str = "delivered",
    ) -> dict[str, Any]:
        return {
            "delivery_id": delivery_id,
            "kind": kind,
            "record_id": entry_id,
            "ref": record.get("warning_id") if kind == "warning" else record.get("caused_by"),
            "uscc": record.get("uscc"),
            "attempts": attempts,
            "status_code": result.status_code,
            "error": result.error,
            "outcome": outcome,
            "at": _now(),
            "duration_ms": round(result.seconds * 1000, 1),
        }

    async def _pause(
        self,
        webhook: dict[str, Any],
        entry: dict[str, Any],
        skipped: dict[str, str],
        result: Attempt,
    ) -> None:
        """Stop at the failed record (its cursor stays before it) and tell the owner."""
        webhook_id, at = webhook["webhook_id"], entry["at"]
        reason = f"{entry['attempts']} attempts failed; the last: {result.describe()}"
        fields = {**skipped, "status": "paused", "paused_reason": reason, "paused_at": at}
        maxlen = self.settings.webhook_log_maxlen
        if not await self.store.update_webhook(webhook_id, fields, entry, maxlen):
            return  # deleted meanwhile: nobody to tell
        PAUSED.inc()
        log.warning(
            "webhook %s of %s paused at %s %s: %s",
            webhook_id,
            webhook["account_id"],
            entry["kind"],
            entry["record_id"],
            reason,
        )
        notice = {
            "notice": "webhook_paused",
            "webhook_id": webhook_id,
            "url": webhook["url"],
            "message": f"webhook {webhook_id} paused: {reason}; fix the receiver, then "
            f"POST /webhooks/{webhook_id}/resume to deliver from this record on",
            "record": {"kind": entry["kind"], "id": entry["record_id"]},
            "at": at,
        }
        await self.store.add_webhook_notice(webhook["account_id"], notice)
