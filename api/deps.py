"""Dependencies shared by the routers, as Annotated aliases."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from rules.store import Store
from streams.identifiers import uscc_problem

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def require_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller's role. Only the admin key exists until accounts arrive."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'")
    admin_key: str = request.app.state.admin_key
    if not hmac.compare_digest(credentials.credentials.encode(), admin_key.encode()):
        raise ApiError(401, "invalid API key")
    return "admin"


def valid_uscc(uscc: str) -> str:
    problem = uscc_problem(uscc)
    if problem:
        raise ApiError(422, f"invalid USCC {uscc!r}: {problem}", code="invalid_uscc")
    return uscc


StoreDep = Annotated[Store, Depends(get_store)]
Role = Annotated[str, Depends(require_key)]
Uscc = Annotated[str, Depends(valid_uscc)]
