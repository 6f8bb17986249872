"""An enterprise's related parties (关联方), for regulators: the other firms registered
at its address (一址多照) and the other firms of its legal representative (一人多企),
read from the same indexes the related-party rules read. Natural persons are named by
role only; the public pages never show any of this."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import Regulator
from api.deps import ReadsDep, Uscc, check_scope
from api.directory_views import summary
from api.errors import ApiError
from api.schemas import RelatedParties
from rules.addresses import address_key
from streams.contract.identifiers import person_key

router = APIRouter(prefix="/enterprises", tags=["enterprises"])


@router.get(
    "/{uscc}/related",
    response_model=RelatedParties,
    responses={404: {"description": "no record of this enterprise"}},
)
async def related_parties(caller: Regulator, uscc: Uscc, store: ReadsDep) -> Any:
    """The other active firms at the enterprise's normalized address, and the other
    firms where its legal representative holds a key role (with the roles), in the
    caller's district; firms outside it are only counted (`elsewhere`)."""
    await check_scope(store, caller, uscc)
    state = await store.get_enterprise(uscc)
    if state is None:
        raise ApiError(404, f"no record of enterprise {uscc}")
    at_address = (
        await store.address_firms(address_key(state.normalized_address))
        if state.normalized_address
        else []
    )
    rep = state.profile.get("legal_rep")
    rep_firms = (
        await store.person_firms(person_key(rep["id_no"]))
        if isinstance(rep, dict) and rep.get("id_no")
        else {}
    )
    others = sorted(({*at_address, *rep_firms}) - {uscc})
    entries = await store.directory_entries(others)
    seen = {u for u, e in entries.items() if caller.sees(e.get("district"))}
    address = [summary(u, entries[u]) for u in sorted(at_address) if u in seen]
    legal_rep = [
        summary(u, {**entries[u], "roles": rep_firms[u]}) for u in sorted(rep_firms) if u in seen
    ]
    caller.saw(len(address) + len(legal_rep))
    return {
        "uscc": uscc,
        "address": state.normalized_address,
        "at_address": address,
        "legal_rep_firms": legal_rep,
        "elsewhere": len([u for u in others if u in entries and u not in seen]),
    }
