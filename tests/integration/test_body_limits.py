"""Bounded request bodies, through a real uvicorn on a real Redis: every route that
takes a body (enumerated from the app, so a new one is covered by itself) refuses one
over its limit with 413 in the one error shape, whether declared by Content-Length or
streamed in chunks, and before reading it whole; what is echoed back is clipped."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from api.app import create_app
from api.errors import ECHO_CHARS
from streams.settings import StoreSettings
from tests.integration.conftest import ADMIN_KEY, api_settings, serve

pytestmark = pytest.mark.integration
SMALL, LARGE = 2048, 16_384
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _body_routes() -> list[tuple[str, str, int]]:
    """(method, path, limit) of every operation of the app that takes a request body."""
    document = create_app(api_settings()).openapi()
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "91440300708461136T", path), limit)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
        for limit in [LARGE if operation.get("x-body-limit") == "large" else SMALL]
    ]


BODY_ROUTES = _body_routes()


def test_the_routes_that_take_bodies_are_found() -> None:
    found = {(m, p) for m, p, _ in BODY_ROUTES}
    assert ("POST", "/enterprises/batch") in found and ("POST", "/webhooks") in found
    assert {p for _, p, limit in BODY_ROUTES if limit == LARGE} == {
        "/enterprises/batch",
        "/inspections/plans",
        "/inspections/plans/preview",  # the same body as the draw
        "/rules",
        "/rules/candidates",  # a rules file, as /rules takes
    }


@pytest.fixture(scope="module")
def base(redis_server: str) -> Iterator[str]:
    store = StoreSettings(redis_url=redis_server, key_prefix=f"body{uuid.uuid4().hex[:8]}")
    settings = api_settings(
        webhooks_enabled=False, max_body_bytes=SMALL, max_large_body_bytes=LARGE
    )
    with serve(create_app(settings, store)) as url:
        yield url


def _padded(limit: int) -> bytes:
    """Valid JSON one byte over `limit`: an object padded with spaces."""
    return b"{" + b" " * (limit - 1) + b"}"


def _assert_413(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["connection"] == "close"
    assert response.json() == {
        "error": {
            "code": "payload_too_large",
            "message": f"request body too large: at most {limit} bytes here",
            "details": {"limit_bytes": limit},
        }
    }


@pytest.mark.parametrize(("method", "path", "limit"), BODY_ROUTES)
@pytest.mark.parametrize("key", ["admin", "none"])
def test_an_oversized_body_is_refused_on_every_route(
    base: str, method: str, path: str, limit: int, key: str
) -> None:
    """Before authentication: a caller without a key gets the same 413."""
    headers = {"Content-Type": "application/json", **(AUTH if key == "admin" else {})}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        declared = client.request(method, path, content=_padded(limit + 1))
        _assert_413(declared, limit)

        def chunks() -> Iterator[bytes]:
            body = _padded(limit + 1)
            for i in range(0, len(body), 512):
                yield body[i : i + 512]

        streamed = client.request(method, path, content=chunks())
        _assert_413(streamed, limit)


def test_a_body_within_the_larger_limit_passes_where_it_is_allowed(base: str) -> None:
    body = json.dumps({"usccs": ["91440300708461136T"]}).encode()
    padded = body[:-1] + b" " * (SMALL * 2) + b"}"  # over the small limit, under the large
    with httpx.Client(base_url=base, headers=AUTH, timeout=30) as client:
        ok = client.post(
            "/enterprises/batch", content=padded, headers={"Content-Type": "application/json"}
        )
        assert ok.status_code == 200, ok.text
        refused = client.post(
            "/webhooks", content=padded, headers={"Content-Type": "application/json"}
        )
        _assert_413(refused, SMALL)


def test_a_declared_length_is_refused_before_the_body_is_sent(base: str) -> None:
    """A Content-Length of a gigabyte, and not a byte of it: answered at once."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    assert host and port
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(
            b"POST /enterprises/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            b"\r\nContent-Length: 1000000000\r\n\r\n{"
        )
        started, answer = time.monotonic(), b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert time.monotonic() - started < 5
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"payload_too_large"' in answer


def test_echoed_values_are_clipped(base: str) -> None:
    long_value = "9" * (LARGE // 2)
    with httpx.Client(base_url=base, headers=AUTH, timeout=30) as client:
        batch = client.post("/enterprises/batch", json={"usccs": [long_value]})
        assert batch.status_code == 200, batch.text
        echoed = batch.json()["invalid"][0]["uscc"]
        assert echoed.startswith("9" * ECHO_CHARS) and len(echoed) < ECHO_CHARS + 40
        path = client.get(f"/enterprises/{'X' * 4000}")
        assert path.status_code == 422
        assert len(path.text) < 400, path.text
        query = client.get("/subscriptions/stream", params={"district": "x" * 4000})
        assert query.status_code == 422
        assert len(query.text) < 600, query.text
