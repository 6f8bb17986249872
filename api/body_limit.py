"""Bounded request bodies: every route takes at most `max_body_bytes`, the routes that
take lists or documents (marked `LARGE_BODY`) `max_large_body_bytes`. A body declared
larger (Content-Length) is refused before the app sees the request; a chunked one is
counted as it streams in and refused as soon as it passes the limit, so no oversized
body is ever held whole. Refusals are 413 in the one error shape (api/errors.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import BodyLimitDetails, error_body

#: the rest of a refused body is never read: the connection cannot carry another request
CLOSE = {"Connection": "close"}
#: `openapi_extra` of a route that may take the larger body (batch lookups, rule sets)
LARGE_BODY: dict[str, str] = {"x-body-limit": "large"}


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive` once a streamed body passes its limit; FastAPI lets
    HTTPExceptions from body reading through to the app's error handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit), headers=dict(CLOSE))
        self.details = BodyLimitDetails(limit_bytes=limit)


def too_large_message(limit: int) -> str:
    return f"request body too large: at most {limit} bytes here"


def too_large_response(limit: int) -> JSONResponse:
    body = error_body("payload_too_large", too_large_message(limit), {"limit_bytes": limit})
    return JSONResponse(body, 413, headers=dict(CLOSE))


class BodyLimitMiddleware:
    """A plain ASGI middleware, inside the access log's so refusals are counted. Which
    routes take the larger body is read from the OpenAPI document (their `x-body-limit`),
    the app's own account of its routes."""

    def __init__(
        self, app: ASGIApp, document: Callable[[], dict[str, Any]], small: int, large: int
    ) -> None:
        self.app, self.document, self.small, self.large = app, document, small, large
        self._large: list[tuple[str, re.Pattern[str]]] | None = None

    def limit_for(self, scope: Scope) -> int:
        if self._large is None:
            self._large = [
                (method.upper(), re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"))
                for path, operations in self.document()["paths"].items()
                for method, operation in operations.items()
                if operation.get("x-body-limit") == LARGE_BODY["x-body-limit"]
            ]
        method, path = scope["method"], scope["path"]
        large = any(m == method and pattern.match(path) for m, pattern in self._large)
        return self.large if large else self.small

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body: nothing to bound
            return
        limit = self.limit_for(scope)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_large_response(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await too_large_response(limit)(scope, receive, send)
