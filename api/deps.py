"""Dependencies shared by the routers, as Annotated aliases; who may call what is in
api/auth.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.auth import Caller
from api.errors import ApiError
from rules.store import Store
from streams.identifiers import uscc_problem


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def valid_uscc(uscc: str) -> str:
    problem = uscc_problem(uscc)
    if problem:
        raise ApiError(422, f"invalid USCC {uscc!r}: {problem}", code="invalid_uscc")
    return uscc


async def check_scope(store: Store, caller: Caller, uscc: str) -> None:
    """Refuse an enterprise outside a district-scoped caller's district, as if unknown
    (404), so a scoped account cannot probe which enterprises exist elsewhere."""
    if caller.district is None:
        return
    entry = (await store.directory_entries([uscc])).get(uscc)
    if entry is None or not caller.sees(entry.get("district")):
        raise ApiError(404, f"no record of enterprise {uscc}")


StoreDep = Annotated[Store, Depends(get_store)]
Uscc = Annotated[str, Depends(valid_uscc)]
