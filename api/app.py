"""The query layer: `create_app()` builds the FastAPI application. It reads the
stream side's results from Redis only; what it writes there is its own (accounts, the
access log, overrides, webhooks, inspection plans, the warning workbench)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import backtests
from api.access_log import install_access_log
from api.access_log_writer import AccessLogWriter
from api.body_limit import BodyLimitMiddleware
from api.console import install_console
from api.errors import COMMON_ERRORS, install_error_handlers
from api.routers import (
    admin,
    blind_spots,
    enterprises,
    health,
    history,
    inspections,
    lookups,
    model,
    outputs,
    overrides,
    public,
    public_plans,
    related,
    rule_candidates,
    rules,
    subscriptions,
    warnings_handling,
    warnings_review,
    webhooks,
)
from api.search import SearchFeed
from api.webhook_delivery import run_deliveries
from streams.settings import ApiSettings, StoreSettings
from streams.store import Store

DESCRIPTION = """Real-time credit-risk monitor: enterprise grades, warnings and their
evidence, live subscriptions, webhooks and risk-weighted random inspections.

Send an API key as `Authorization: Bearer <key>` (streams also take `?access_token=`).
Without a key you are the public and see the disclosure view (`/public/...`) only.
Roles: admin, regulator, department, public; an account may be scoped to a district.
Every error has one shape: `{"error": {"code", "message", "details"}}`.
Request bodies are bounded (413), requests per key rate-limited over a sliding window and
live subscriptions per account capped (429)."""


def create_app(api: ApiSettings | None = None, store: StoreSettings | None = None) -> FastAPI:
    api = api or ApiSettings()
    store_settings = store or StoreSettings()
    if api.admin_key is None or not api.admin_key.get_secret_value():
        raise ValueError("CREDITWATCH_ADMIN_KEY must be set (creditwatch up generates one)")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = Store.from_settings(store_settings)
        app.state.access_log = AccessLogWriter(app.state.store)
        app.state.access_log.start()
        app.state.search = SearchFeed(app.state.store)
        warming = asyncio.create_task(app.state.search.warm())
        deliveries = asyncio.create_task(run_deliveries(app)) if api.webhooks_enabled else None
        try:
            yield
        finally:
            await backtests.stop_all(app)
            warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warming
            if deliveries is not None:
                deliveries.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await deliveries
            await app.state.access_log.close()
            await app.state.store.close()
            app.state.search.close()

    app = FastAPI(title="creditwatch", version="0.2.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.admin_key = api.admin_key.get_secret_value()
    app.state.settings = api
    install_error_handlers(app)
    # inside the access log (a middleware added later wraps it): refusals are logged too
    app.add_middleware(
        BodyLimitMiddleware,
        document=app.openapi,
        small=api.max_body_bytes,
        large=api.max_large_body_bytes,
    )
    install_access_log(app)
    for module in (
        health,
        lookups,  # before enterprises: /enterprises/search is not /enterprises/{uscc}
        enterprises,
        related,
        history,
        overrides,
        warnings_review,  # before outputs' neighbours: fixed /warnings/... paths
        outputs,
        warnings_handling,
        subscriptions,
        webhooks,
        inspections,
        blind_spots,
        public_plans,
        public,
        rules,
        rule_candidates,
        model,
        admin,
    ):
        app.include_router(module.router, responses=COMMON_ERRORS)
    install_console(app)  # after the API's error handlers: it wraps them for its pages
    return app
