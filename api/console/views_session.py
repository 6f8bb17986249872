"""Signing in and out, the language switch, and the guard every page goes through."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Caller, RoleName, authenticate_hash, hash_key
from api.console.render import Page, render
from api.console.session import CSRF_FIELD, Session, check_csrf, session_caller, sessions
from api.errors import ApiError

router = APIRouter(prefix="/console")


class SignInNeeded(ApiError):
    """No valid session: pages redirect to the sign-in form."""

    def __init__(self) -> None:
        super().__init__(401, "sign in first")


async def guard(
    request: Request, section: str, *roles: RoleName, form_token: str | None = None
) -> tuple[Page, Caller]:
    """The signed-in caller and its page, refused (403) outside `roles`; a POST must
    carry the session's CSRF token."""
    found = await session_caller(request)
    if found is None:
        raise SignInNeeded()
    session, caller = found
    if request.method == "POST":
        check_csrf(request, session, form_token)
    if roles and caller.role not in roles:
        raise ApiError(403, f"the {caller.role} role may not open this page")
    return Page(request, caller, session.csrf, section), caller


@router.get("/login")
async def login_form(request: Request, failed: bool = False) -> Response:
    return render(Page(request, values={"failed": failed}), "login.html")


@router.post("/login")
async def login(request: Request, key: Annotated[str, Form(max_length=200)]) -> Response:
    """Check the key as the API would, then keep only its hash in the signed cookie. A
    sign-in form has no session to carry a CSRF token; SameSite=Strict and the key
    itself stand in for one."""
    try:
        caller = await authenticate_hash(request, hash_key(key.strip()))
    except ApiError as exc:
        if exc.status != 401:
            raise
        return render(Page(request, values={"failed": True}), "login.html", status=401)
    response = RedirectResponse("/console/", status_code=303)
    sessions(request).start(response, hash_key(key.strip()))
    request.state.caller = caller
    return response


@router.post("/logout")
async def logout(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> Response:
    found = await session_caller(request)
    if found is not None:
        session: Session = found[0]
        check_csrf(request, session, csrf_token)
    response = RedirectResponse("/console/login", status_code=303)
    sessions(request).end(response)
    return response


__all__ = ["CSRF_FIELD", "SignInNeeded", "guard", "router"]
