"""The query layer: `create_app()` builds the FastAPI application. It reads Redis only."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram

from api.errors import install_error_handlers
from api.routers import enterprises, health, history, model, outputs, overrides, rules
from rules.store import Store
from streams.settings import ApiSettings, StoreSettings

REQUESTS = Counter("creditwatch_api_requests_total", "API requests", ["method", "route", "status"])
LATENCY = Histogram(
    "creditwatch_api_request_seconds",
    "API request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)


def create_app(api: ApiSettings | None = None, store: StoreSettings | None = None) -> FastAPI:
    api = api or ApiSettings()
    store_settings = store or StoreSettings()
    if api.admin_key is None or not api.admin_key.get_secret_value():
        raise ValueError("CREDITWATCH_ADMIN_KEY must be set (creditwatch up generates one)")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = Store.from_settings(store_settings)
        try:
            yield
        finally:
            await app.state.store.close()

    app = FastAPI(
        title="creditwatch",
        version="0.1.0",
        description="Real-time credit-risk monitor: enterprise grades, warnings and their "
        "evidence. Every endpoint but /healthz and /metrics needs `Authorization: Bearer <key>`.",
        lifespan=lifespan,
    )
    app.state.admin_key = api.admin_key.get_secret_value()
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(enterprises.router)
    app.include_router(history.router)
    app.include_router(overrides.router)
    app.include_router(outputs.router)
    app.include_router(rules.router)
    app.include_router(model.router)

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUESTS.labels(request.method, route, response.status_code).inc()
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    return app
