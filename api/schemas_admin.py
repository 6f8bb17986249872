"""Request and response models of accounts, keys and the access log."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.auth import RoleName

_DISTRICT = Field(
    None,
    pattern=r"^\d{2,6}$",
    description="scope: a division-code prefix (4403 a city, 440305 a district); "
    "none sees every district",
    examples=["440305"],
)


class AccountRequest(BaseModel):
    account_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{1,63}$", examples=["tax-futian"])
    name: str = Field(min_length=1, max_length=200, examples=["福田区税务局"])
    department: str = Field(min_length=1, max_length=64, examples=["tax"])
    role: RoleName = Field(examples=["department"])
    district: str | None = _DISTRICT
    rate_limit: int | None = Field(
        None, ge=1, le=1_000_000, description="requests per window; default: the role's"
    )


class AccountChange(BaseModel):
    role: RoleName | None = None
    district: str | None = _DISTRICT
    rate_limit: int | None = Field(None, ge=1, le=1_000_000)
    disabled: bool | None = None


class Account(AccountRequest):
    created_at: str
    created_by: str | None = None
    disabled: bool = False
    changed_at: str | None = None
    changed_by: str | None = None


class ApiKey(BaseModel):
    key_id: str
    account_id: str
    label: str | None = None
    created_at: str
    created_by: str | None = None
    revoked_at: str | None = None
    revoked_by: str | None = None


class NewKey(ApiKey):
    key: str = Field(description="the API key: shown this once, stored only as a hash")


class Me(BaseModel):
    account_id: str | None = Field(description="none: an anonymous member of the public")
    role: RoleName
    district: str | None = None
    department: str | None = None
    key_id: str | None = None
    personal_data: bool = Field(description="whether this caller sees personal data")


class AccessRecord(BaseModel):
    at: str
    account_id: str | None
    role: RoleName | None
    key_id: str | None
    method: str
    path: str
    route: str
    query: str | None
    status: int
    records: int | None = Field(description="records returned, where the endpoint counts them")
    client: str | None
