"""The public disclosure pages (公示) at /console/public: no sign-in, the API's
disclosure view only (no personal data, no internal signals). /public/... is the
API's."""

from __future__ import annotations

import re

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.auth import authenticate
from api.console.render import Page, render
from api.errors import ApiError
from api.routers import public
from streams.contract.identifiers import uscc_problem

router = APIRouter(prefix="/console/public")
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


@router.get("")
async def public_page(
    request: Request,
    q: str | None = Query(None, max_length=100),
    uscc: str | None = Query(None, max_length=40),
    cursor: str | None = Query(None, max_length=40),
) -> Response:
    """`q`: a USCC opens its disclosure view, other text lists the firms whose name holds
    it (the API's public search); `uscc` (the list's links) opens a disclosure view."""
    caller = await authenticate(request, None, anonymous=True)  # rate-limited as the public
    page = Page(request, None, section="public")
    store, search = request.app.state.store, request.app.state.search
    found, problem, results = None, None, None
    q = (q or "").strip()
    code = (uscc or (q if _USCC.match(q.upper()) else "")).strip().upper()
    if code:
        problem = uscc_problem(code)
        if not problem:
            try:
                found = await public.public_enterprise(caller, code, store)
            except ApiError as exc:
                if exc.status != 404:
                    raise
                problem = "not_found"
    elif len(q) >= 2:
        results = await public.public_search(caller, store, search, q, 20, cursor)
    elif q:
        problem = "too_short"
    page.values = {"q": q or code, "firm": found, "problem": problem, "results": results}
    return render(page, "public.html")
