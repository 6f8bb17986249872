"""Who is calling: API keys, accounts, roles, district scope and per-key rate limits.

Roles, from most to least: admin (accounts, keys, the access log, everything else),
regulator (all data, personal data included, overrides, inspections), department
(lookups with personal data masked, subscriptions, webhooks, inspection plans) and
public (the disclosure view only; also what a caller without a key gets).
An account may be scoped to a district: a division-code prefix ("4403" a city,
"440305" a district); it then sees only enterprises registered there.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from streams.store.accounts import Admission
from streams.store.api_ports import ApiOwns

RoleName = Literal["admin", "regulator", "department", "public"]
ROLES: tuple[RoleName, ...] = ("admin", "regulator", "department", "public")
#: the roles that may read data beyond the disclosure view (`Member`)
MEMBER_ROLES: tuple[RoleName, ...] = ("admin", "regulator", "department")
#: the roles that may see personal data (ID numbers, natural persons' names, phones)
PERSONAL_DATA_ROLES = frozenset({"admin", "regulator"})
KEY_PREFIX = "cwk_"
#: OpenAPI for a route that the public may call without a key: the key is optional
OPTIONAL_KEY: dict[str, Any] = {"security": [{}]}  # added to the bearer requirement

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")


@dataclass
class Caller:
    role: RoleName
    account_id: str | None = None  # None: an anonymous member of the public
    key_id: str | None = None
    district: str | None = None
    department: str | None = None
    #: how many records this request returned, for the access log (api/access_log.py)
    records: int | None = field(default=None, compare=False)

    @property
    def personal_data(self) -> bool:
        return self.role in PERSONAL_DATA_ROLES

    def sees(self, district: str | None) -> bool:
        """Whether an enterprise of `district` is in this caller's scope."""
        return self.district is None or (district or "").startswith(self.district)

    def saw(self, n: int) -> None:
        self.records = (self.records or 0) + n


def new_key() -> tuple[str, str, str]:
    """(key id, the key to hand out once, its hash to store)."""
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return key_id, key, hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _role_limits(request: Request) -> dict[str, int]:
    settings = request.app.state.settings
    return {role: int(getattr(settings, f"rate_limit_{role}")) for role in ROLES}


def _check_rate(request: Request, admission: Admission) -> None:
    """Record the rate headers; refuse (429) a request over its caller's limit."""
    window_s: int = request.app.state.settings.rate_window_s
    request.state.rate = (admission.limit, admission.remaining)
    if not admission.admitted:
        retry = max(1, math.ceil(admission.wait_us / 1e6))
        limit = admission.limit
        raise ApiError(
            429,
            f"rate limit of {limit} requests per {window_s} s exceeded; retry in {retry} s",
            details={"limit": limit, "window_s": window_s, "retry_after_s": retry},
            headers={"Retry-After": str(retry)},
        )


async def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None, anonymous: bool = True
) -> Caller:
    """The caller of this request, rate-limited: at most its limit of requests in any
    `rate_window_s` (a sliding window, so a burst at a window's edge gains nothing).
    Without a key the caller is the public where `anonymous` callers are admitted, else
    refused (401) at once."""
    store: ApiOwns = request.app.state.store
    window_s: int = request.app.state.settings.rate_window_s
    limits = _role_limits(request)
    token = credentials.credentials if credentials else request.query_params.get("access_token")
    if not token:
        if not anonymous:
            raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'")
        host = request.client.host if request.client else "unknown"
        caller = Caller(role="public")
        request.state.caller = caller
        _check_rate(request, await store.admit_request(host, limits["public"], window_s))
        return caller
    return await authenticate_hash(request, hash_key(token))


async def authenticate_hash(request: Request, key_hash: str) -> Caller:
    """The caller holding the key of this SHA-256, rate-limited like a bearer key: the
    console's session keeps the hash, never the key."""
    store: ApiOwns = request.app.state.store
    window_s: int = request.app.state.settings.rate_window_s
    limits = _role_limits(request)
    admin_key: str = request.app.state.admin_key
    if hmac.compare_digest(key_hash.encode(), hash_key(admin_key).encode()):
        caller = Caller(role="admin", account_id="admin", key_id="admin")
        request.state.caller = caller
        _check_rate(request, await store.admit_request("admin-key", limits["admin"], window_s))
        return caller
    key, account, admission = await store.authenticate(key_hash, window_s, limits)
    if key is None or account is None or key.get("revoked_at") or account.get("disabled"):
        raise ApiError(401, "invalid or revoked API key")
    caller = Caller(
        role=account["role"],
        account_id=account["account_id"],
        key_id=key["key_id"],
        district=account.get("district"),
        department=account.get("department"),
    )
    request.state.caller = caller
    _check_rate(request, admission)
    return caller


def allow(*roles: RoleName) -> Callable[..., Any]:
    """A dependency that admits callers of these roles only."""

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        caller = await authenticate(request, credentials, anonymous="public" in roles)
        if caller.role not in roles:
            raise ApiError(403, f"the {caller.role} role may not do this")
        return caller

    check.__doc__ = f"Admits {', '.join(roles)}."
    return check


Admin = Annotated[Caller, Depends(allow("admin"))]
Regulator = Annotated[Caller, Depends(allow("admin", "regulator"))]
Member = Annotated[Caller, Depends(allow(*MEMBER_ROLES))]
Anyone = Annotated[Caller, Depends(allow(*ROLES))]
