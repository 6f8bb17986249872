"""One JSON error shape for every error: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from streams.store import StoreError

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


#: how much of a caller's value an error or a result may echo back
ECHO_CHARS = 64
#: how long one message of a validation error may be
MESSAGE_CHARS = 500


def clip(value: str, chars: int = ECHO_CHARS) -> str:
    """A value as far as an answer may echo it: a client must not be able to make the
    API hold and send back whatever it sent.

    >>> clip("x" * 100, 8)
    'xxxxxxxx… (100 characters)'
    """
    return value if len(value) <= chars else f"{value[:chars]}… ({len(value)} characters)"


class BodyLimitDetails(TypedDict):
    limit_bytes: int


#: what a 503 tells the client while Redis is away: the API reconnects by itself
RETRY_LATER = {"Retry-After": "5"}


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_uscc"])
    message: str = Field(examples=["invalid USCC '91440300708461136A': check character is A"])
    details: Any = Field(None, description="more, where the error has it (fields, limits)")


class ErrorBody(BaseModel):
    """The one shape of every error response."""

    error: ErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


#: what any endpoint may answer besides its own results, documented once for all
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("a request body that is not JSON"),
    401: _error("no API key where one is needed, or an invalid or revoked one"),
    403: _error("the caller's role may not do this"),
    404: _error("no such record (or not in the caller's district)"),
    413: _error("the request body is larger than this route takes (details.limit_bytes)"),
    422: _error("invalid input: a malformed USCC, parameter, body, cursor or time"),
    429: _error("rate limit exceeded, or too many live subscriptions: see Retry-After"),
    503: _error("the state store is unavailable: see Retry-After"),
}


def _methods_of(request: Request) -> set[str]:
    """Every method the OpenAPI document lists at this request's path."""
    app = request.app
    paths = getattr(app.state, "path_methods", None)
    if paths is None:
        paths = app.state.path_methods = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), set(ops))
            for path, ops in app.openapi()["paths"].items()
        ]
    # the most specific paths win: /enterprises/batch is not /enterprises/{uscc}
    matching = [(p.pattern.count("[^/]+"), m) for p, m in paths if p.match(request.url.path)]
    fewest = min((n for n, _ in matching), default=0)
    return {m.upper() for n, methods in matching if n == fewest for m in methods}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        details: Any = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.status, self.message, self.details = status, message, details
        self.code = code or _CODES.get(status, "error")
        self.headers = headers


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def invalid_request(errors: Sequence[Any], field: Callable[[Any], str] | None = None) -> ApiError:
    """A 422 from pydantic's validation errors: each field (its location joined by dots,
    unless `field` names it) with its message."""
    name = field or (lambda e: ".".join(str(p) for p in e["loc"]))
    details = [{"field": clip(name(e)), "message": clip(e["msg"], MESSAGE_CHARS)} for e in errors]
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return ApiError(422, clip(message, 4 * MESSAGE_CHARS), details)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), exc.status, headers=exc.headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "error")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route that matched the path only
            headers["Allow"] = ", ".join(sorted(_methods_of(request)))
        details = getattr(exc, "details", None)  # api/body_limit.py's BodyTooLarge has some
        return JSONResponse(
            error_body(code, str(exc.detail), details), exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        error = invalid_request(exc.errors())
        return JSONResponse(error_body(error.code, error.message, error.details), 422)

    @app.exception_handler(StoreError)
    async def _store_down(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse(
            error_body("unavailable", "the state store is unavailable; retry shortly"),
            503,
            headers=RETRY_LATER,
        )
