"""The access log (监管留痕): every data request, who made it, what it asked, when, and
how many records it returned, written to Redis after the response and queryable by
admins (GET /admin/access-log)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram
from redis.exceptions import RedisError

from rules.store import Store

log = logging.getLogger(__name__)

REQUESTS = Counter("creditwatch_api_requests_total", "API requests", ["method", "route", "status"])
LATENCY = Histogram(
    "creditwatch_api_request_seconds",
    "API request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
#: requests that are not data access: probes, metrics and the API's own documents
UNLOGGED = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json"})


def install_access_log(app: FastAPI) -> None:
    @app.middleware("http")
    async def log_access(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUESTS.labels(request.method, route, response.status_code).inc()
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        rate = getattr(request.state, "rate", None)
        if rate is not None:
            response.headers["X-RateLimit-Limit"] = str(rate[0])
            response.headers["X-RateLimit-Remaining"] = str(rate[1])
        if request.url.path not in UNLOGGED:
            await record_access(request, route, response.status_code)
        return response


async def record_access(request: Request, route: str, status: int) -> None:
    """Write one access-log record for this request, as its caller stands now."""
    caller = getattr(request.state, "caller", None)
    record = {
        "at": datetime.now(UTC).isoformat(),
        "account_id": caller.account_id if caller else None,
        "role": caller.role if caller else None,
        "key_id": caller.key_id if caller else None,
        "method": request.method,
        "path": request.url.path,
        "route": route,
        "query": _redacted(request.url.query) or None,
        "status": status,
        "records": caller.records if caller else None,
        "client": request.client.host if request.client else None,
    }
    store: Store = request.app.state.store
    try:
        await store.log_access(record)
    except RedisError:
        # the response is already made; the failure is counted and logged, not hidden
        who = record["account_id"]
        log.error("access log write failed: %s %s by %s", request.method, route, who)
        ACCESS_LOG_ERRORS.inc()


def _redacted(query: str) -> str:
    """The query string without a key passed as `access_token` (live streams).

    >>> _redacted("uscc=X&access_token=cwk_1_secret&severity=red")
    'uscc=X&access_token=REDACTED&severity=red'
    """
    return re.sub(r"(^|&)access_token=[^&]*", r"\1access_token=REDACTED", query)


ACCESS_LOG_ERRORS = Counter(
    "creditwatch_access_log_errors_total", "Access-log records that could not be written"
)
