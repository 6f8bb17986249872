"""A cap on each account's live subscriptions (SSE and WebSocket together): a new one
over `CREDITWATCH_LIVE_MAX_PER_ACCOUNT` is refused with 429.

A console session's tabs (api/console) are one slot between them, however many are open
(up to `CREDITWATCH_LIVE_MAX_TABS_PER_SESSION`): a regulator's tabs never lock out the
account's other users or its systems; a second sign-in is another session, another slot.

Each subscription holds an expiring lease in Redis, not a place in a bare counter: it
is renewed while the subscription lasts and released when it ends (the client left,
or the API is shutting down); if the process dies, the lease lapses by itself, so a
crash never leaves an account locked out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

import anyio
from fastapi import FastAPI

from api.auth import Caller
from api.errors import ApiError
from streams.settings import LiveSettings
from streams.store.api_ports import ApiOwns

log = logging.getLogger(__name__)


def live_settings(app: FastAPI) -> LiveSettings:
    """The app's live settings: a test's, else read from the environment once."""
    settings: LiveSettings | None = getattr(app.state, "live_settings", None)
    if settings is None:
        settings = app.state.live_settings = LiveSettings()
    return settings


class SlotLease:
    """One subscription's slot among its account's (shared by its `group`'s)."""

    def __init__(self, store: ApiOwns, account_id: str, lease_ms: int, group: str = "") -> None:
        self.store, self.account_id, self.lease_ms = store, account_id, lease_ms
        token = secrets.token_hex(8)
        self.group = group
        self.subscription_id = f"{group}/{token}" if group else token

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Renew the lease while inside; release it on the way out, however that is."""
        renewing = asyncio.create_task(self._renew(), name="live-slot-renewal")
        try:
            yield
        finally:
            renewing.cancel()
            with anyio.CancelScope(shield=True):
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
                await self.release()

    async def release(self) -> None:
        try:
            await self.store.release_live_slot(self.account_id, self.subscription_id)
        except Exception as exc:  # Redis away: the lease lapses by itself
            log.warning("live slot of %s not released (%s); it expires", self.account_id, exc)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            try:
                await self.store.renew_live_slot(
                    self.account_id, self.subscription_id, self.lease_ms
                )
            except Exception as exc:  # keep serving; the next renewal may succeed
                log.warning("live slot of %s not renewed: %s", self.account_id, exc)


async def claim_slot(app: FastAPI, caller: Caller, group: str | None = None) -> SlotLease:
    """A slot for a new subscription of the caller's account, or 429. The streams of
    one `group` (a console session's tabs) share one slot, up to a number of tabs."""
    settings = live_settings(app)
    account_id = caller.account_id or "admin"
    lease = SlotLease(app.state.store, account_id, settings.lease_ms, group or "")
    cap = settings.max_per_account
    taken, held = await lease.store.claim_live_slot(
        account_id,
        lease.subscription_id,
        settings.lease_ms,
        cap,
        lease.group,
        settings.max_tabs_per_session,
    )
    if not taken:
        retry = max(1, settings.lease_ms // 1000)
        tabs = f" (a console session, {settings.max_tabs_per_session} tabs)" if group else ""
        raise ApiError(
            429,
            f"an account may hold at most {cap} live subscriptions at once{tabs}; close one "
            "(a connection that vanished frees its slot within "
            f"{retry} s)",
            code="too_many_subscriptions",
            details={"limit": cap, "held": held},
            headers={"Retry-After": str(retry)},
        )
    return lease
