"""The public disclosure pages (公示) at /console/public: no sign-in, the API's
disclosure view only (no personal data, no internal signals). /public/... is the
API's."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.auth import authenticate
from api.console.render import Page, render
from api.errors import ApiError
from api.routers import public
from streams.contract.identifiers import uscc_problem

router = APIRouter(prefix="/console/public")


@router.get("")
async def public_page(request: Request, uscc: str | None = Query(None, max_length=40)) -> Response:
    caller = await authenticate(request, None, anonymous=True)  # rate-limited as the public
    page = Page(request, None, section="public")
    found, problem = None, None
    uscc = (uscc or "").strip().upper()
    if uscc:
        problem = uscc_problem(uscc)
        if not problem:
            try:
                found = await public.public_enterprise(caller, uscc, request.app.state.store)
            except ApiError as exc:
                if exc.status != 404:
                    raise
                problem = "not_found"
    page.values = {"uscc": uscc, "firm": found, "problem": problem}
    return render(page, "public.html")
