"""The access log (监管留痕): every data request, who made it, what it asked, when, and
how many records it returned, recorded as its response starts and written to Redis
off the response path (api/access_log_writer.py); queryable by admins
(GET /admin/access-log). The same middleware counts and times every request and adds
the rate-limit headers."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.access_log_writer import ACCESS_LOG_ERRORS, AccessLogWriter
from api.redaction import redact_query, redact_text

__all__ = ["ACCESS_LOG_ERRORS", "AccessLogMiddleware", "install_access_log", "record_access"]

REQUESTS = Counter("creditwatch_api_requests_total", "API requests", ["method", "route", "status"])
LATENCY = Histogram(
    "creditwatch_api_request_seconds",
    "API request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
#: requests that are not data access: probes, metrics and the API's own documents
UNLOGGED = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json"})
#: the console's scripts and styles: not data either
UNLOGGED_PREFIX = "/console/static/"


def install_access_log(app: FastAPI) -> None:
    app.add_middleware(AccessLogMiddleware)


class AccessLogMiddleware:
    """A plain ASGI middleware: Starlette's `@app.middleware("http")` ran every request
    through a task group and a memory stream, and the access-log write before the
    response went out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope.setdefault("state", {})  # request.state: where auth leaves caller and rate
        responded = False

        async def send_with_headers(message: Message) -> None:
            nonlocal responded
            if message["type"] == "http.response.start" and not responded:
                responded = True
                _add_rate_headers(scope, message)
                _response_started(scope, message["status"], started)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not responded:  # Starlette's outermost handler answers 500
                _response_started(scope, 500, started)
            raise


def _add_rate_headers(scope: Scope, message: Message) -> None:
    rate = scope["state"].get("rate")
    if rate is not None:
        headers = MutableHeaders(scope=message)
        headers["X-RateLimit-Limit"] = str(rate[0])
        headers["X-RateLimit-Remaining"] = str(rate[1])


# a metric's child per label values, looked up once (labels() checks its arguments)
_requests = functools.lru_cache(maxsize=4096)(REQUESTS.labels)
_latency = functools.lru_cache(maxsize=4096)(LATENCY.labels)


def _response_started(scope: Scope, status: int, started: float) -> None:
    """Count and time the request; record it unless it is a probe or a document."""
    route = getattr(scope.get("route"), "path", "unmatched")
    method = scope["method"]
    _requests(method, route, status).inc()
    _latency(method, route).observe(time.perf_counter() - started)
    path = url_path(scope)
    if path not in UNLOGGED and not path.startswith(UNLOGGED_PREFIX):
        record_access(Request(scope), route, status)


def record_access(request: Request, route: str, status: int) -> None:
    """Queue one access-log record for this request, as its caller stands now."""
    writer: AccessLogWriter = request.app.state.access_log
    writer.add(access_record(request, route, status))


def access_record(request: Request, route: str, status: int) -> dict[str, Any]:
    """The record of one request: its path and query without keys, secrets or ID
    numbers (api/redaction.py)."""
    caller = getattr(request.state, "caller", None)
    query = request.scope.get("query_string", b"").decode("latin-1")
    secrets = (request.app.state.admin_key,)
    return {
        "at": datetime.now(UTC).isoformat(),
        "account_id": caller.account_id if caller else None,
        "role": caller.role if caller else None,
        "key_id": caller.key_id if caller else None,
        "method": request.method,
        "path": redact_text(url_path(request.scope), secrets),
        "route": route,
        "query": redact_query(query, secrets) if query else None,
        "status": status,
        "records": caller.records if caller else None,
        "client": request.client.host if request.client else None,
    }


def url_path(scope: Scope) -> str:
    """`request.url.path` without building the URL: the path with the characters
    that would end it escaped.

    >>> url_path({"path": "/enterprises/a?b#c"})
    '/enterprises/a%3Fb%23c'
    """
    path: str = scope["path"]
    return path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
