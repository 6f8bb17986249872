"""Live subscriptions to warnings and grade changes: Server-Sent Events and WebSocket,
with the filters of webhooks and a cursor to resume from (api/live.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, WebSocket
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect, WebSocketDisconnected

from api.access_log import record_access
from api.auth import MEMBER_ROLES, Member, allow, bearer
from api.errors import ApiError, invalid_request
from api.filters import Direction, Kind, OutputFilter
from api.live import EVENTS_SENT, Subscription, close_hub, hub_for, start_position
from api.live_slots import SlotLease, claim_slot
from rules.jsoncodec import dumps
from streams.store import StoreError

log = logging.getLogger(__name__)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await close_hub(app)  # before the app's lifespan closes the store


router = APIRouter(tags=["subscriptions"], lifespan=_lifespan)

LastEventId = Annotated[
    str | None,
    Query(description="resume after this event id (the `Last-Event-ID` header wins)"),
]
From = Annotated[
    Literal["start", "now"] | None,
    Query(
        alias="from",
        description="without a cursor: `now` (the default) sends new records only, "
        "`start` first replays what the streams still hold",
    ),
]


async def filter_params(
    kind: Annotated[list[Kind] | None, Query(description="record kinds")] = None,
    uscc: Annotated[list[str] | None, Query(description="enterprises")] = None,
    rule_id: Annotated[list[str] | None, Query(description="warning rules")] = None,
    severity: Annotated[list[Literal["yellow", "orange", "red"]] | None, Query()] = None,
    district: Annotated[
        list[str] | None, Query(description="division-code prefixes, e.g. 4403")
    ] = None,
    direction: Annotated[list[Direction] | None, Query(description="grade moves")] = None,
) -> dict[str, Any]:
    """The filter's query parameters, as OutputFilter fields (checked by build_filter)."""
    fields = {
        "kinds": kind,
        "usccs": uscc,
        "rule_ids": rule_id,
        "severities": severity,
        "districts": district,
        "directions": direction,
    }
    return {k: v for k, v in fields.items() if v}


def build_filter(fields: dict[str, Any]) -> OutputFilter:
    """The filter, or 422 in the standard shape naming the query parameter."""
    names = {"kinds": "kind", "usccs": "uscc", "rule_ids": "rule_id", "severities": "severity"}
    names |= {"districts": "district", "directions": "direction"}
    try:
        return OutputFilter(**fields)
    except ValidationError as exc:
        raise invalid_request(
            exc.errors(),
            lambda e: f"query.{names.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else ''}",
        ) from exc


FilterFields = Annotated[dict[str, Any], Depends(filter_params)]

_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An endless `text/event-stream`: `event: warning|grade_change` with "
        "`id: <cursor>` and the record as `data`; `event: gap` when records may be "
        "missing; `: keep-alive` comments (with an `id:` line when filtered-out records "
        "moved the cursor on).",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/subscriptions/stream",
    response_class=StreamingResponse,
    responses=_SSE_DOC,
    summary="Subscribe to warnings and grade changes (Server-Sent Events)",
)
async def stream(
    request: Request,
    caller: Member,
    fields: FilterFields,
    last_event_id: LastEventId = None,
    start: From = None,
    last_event_id_header: Annotated[
        str | None, Header(alias="Last-Event-ID", description="resume after this event id")
    ] = None,
) -> StreamingResponse:
    """Warnings and grade changes as Server-Sent Events, as they are written, oldest
    first. Reconnect with `Last-Event-ID` (EventSource does it by itself) or
    `?last_event_id=` to get exactly what was missed; browsers pass the key as
    `?access_token=`.

    Every filter narrows (repeat a parameter for several values); `rule_id` and
    `severity` narrow warnings only, `direction` grade changes only. A district-scoped
    account receives only records of enterprises in its district. The same subscription
    is offered as a WebSocket at `/subscriptions/ws` (docs/subscriptions.md)."""
    wanted = build_filter(fields)
    cursor = last_event_id_header or last_event_id
    position = await start_position(request.app.state.store, cursor, start)
    hub = hub_for(request.app)
    from_start = not cursor and start == "start"
    sub = Subscription(hub, caller, wanted, position, "sse", from_start=from_start)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    # last: a refusal above takes no slot; a console session's tabs share one
    group = getattr(request.state, "live_slot_group", None)
    lease = await claim_slot(request.app, caller, group)
    return _EventStream(
        lease,
        _sse(request, sub, hub.settings.retry_ms),
        media_type="text/event-stream",
        headers=headers,
    )


class _EventStream(StreamingResponse):
    """A StreamingResponse that holds its subscription's slot while it streams, and
    always closes its body: when the client goes, Starlette cancels the stream but
    leaves the generator suspended, and its subscriber would be let go only whenever
    the garbage collector finalizes it."""

    def __init__(self, lease: SlotLease, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lease = lease

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with self.lease.held():
                await super().__call__(scope, receive, send)
        finally:
            body = self.body_iterator
            if isinstance(body, AsyncGenerator):
                with anyio.CancelScope(shield=True):
                    await body.aclose()


async def _sse(request: Request, sub: Subscription, retry_ms: int) -> AsyncGenerator[str, None]:
    yield f"retry: {retry_ms}\n\n"
    sent_cursor = sub.cursor
    async with aclosing(sub.items()) as items:
        async for item in items:
            # (behind an HTTP middleware it is Starlette's own watch that ends the stream)
            if await request.is_disconnected():
                return
            if item.kind == "keep-alive":
                # an id-only block moves the client's Last-Event-ID without an event
                moved = f"id: {item.cursor}\n" if item.cursor != sent_cursor else ""
                yield f": keep-alive\n{moved}\n"
            else:
                yield f"id: {item.cursor}\nevent: {item.kind}\ndata: {dumps(item.data)}\n\n"
                EVENTS_SENT.labels("sse", item.kind).inc()
            sent_cursor = item.cursor


_WS_ROUTE = "/subscriptions/ws"
#: the same checks as the `Member` dependency, called by hand
_admit_member = allow(*MEMBER_ROLES)


@router.websocket(_WS_ROUTE)
async def websocket(
    ws: WebSocket, fields: FilterFields, last_event_id: LastEventId = None, start: From = None
) -> None:
    """The same records as JSON messages `{"id", "kind", "data"}`; kind is warning,
    grade_change, gap or keep-alive. Pass the key as `?access_token=` (or a bearer
    header) and resume with `?last_event_id=`. Refusals close with 1008 (policy
    violation), or 1013 (try again later) when rate-limited or Redis is down."""
    # WebSockets bypass HTTP dependencies and middleware: authentication and the access
    # log run on an HTTP view of the handshake (a GET) that shares the connection's state
    handshake = Request({**ws.scope, "type": "http", "method": "GET"})
    try:
        caller = await _admit_member(handshake, await bearer(handshake))
        wanted = build_filter(fields)
        # before accepting: a client that sees the connection open is already subscribed
        position = await start_position(ws.app.state.store, last_event_id, start)
        lease = await claim_slot(ws.app, caller)
    except (ApiError, StoreError) as exc:
        status = exc.status if isinstance(exc, ApiError) else 503
        reason = exc.message if isinstance(exc, ApiError) else "the state store is unavailable"
        await ws.accept()  # then close: the code and reason reach the client
        record_access(handshake, _WS_ROUTE, status)
        await ws.close(code=1013 if status in (429, 503) else 1008, reason=reason[:120])
        return
    async with lease.held():
        await ws.accept()
        record_access(handshake, _WS_ROUTE, 101)
        hub = hub_for(ws.app)
        from_start = not last_event_id and start == "start"
        sub = Subscription(hub, caller, wanted, position, "ws", from_start=from_start)
        pump = asyncio.create_task(_pump(ws, sub))
        listen = asyncio.create_task(_until_disconnect(ws))
        try:
            await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, listen):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, *_GONE):
                    await task
    if not listen.cancelled() and listen.exception() is None:
        return  # the client left
    with contextlib.suppress(*_GONE):
        await ws.close(code=1001)  # the API is shutting down: reconnect elsewhere


#: what sending to or reading from a WebSocket the client has left raises
_GONE = (WebSocketDisconnect, WebSocketDisconnected, OSError)


async def _pump(ws: WebSocket, sub: Subscription) -> None:
    async with aclosing(sub.items()) as items:
        async for item in items:
            await ws.send_text(dumps({"id": item.cursor, "kind": item.kind, "data": item.data}))
            if item.kind != "keep-alive":
                EVENTS_SENT.labels("ws", item.kind).inc()


async def _until_disconnect(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends until it goes."""
    while (await ws.receive())["type"] != "websocket.disconnect":
        pass
