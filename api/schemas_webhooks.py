"""Request and response models of webhooks, their delivery log and owner notices."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from api.filters import Kind, OutputFilter


class WebhookRequest(BaseModel):
    url: str = Field(max_length=2048, examples=["https://tax.example.gov.cn/creditwatch/hook"])
    filters: OutputFilter = Field(default_factory=lambda: OutputFilter.model_validate({}))
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=256,
        description="the HMAC key for signatures; generated (and shown once) when absent",
    )
    description: str | None = Field(None, max_length=500)

    @field_validator("url")
    @classmethod
    def _http_only(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError("the URL must be http:// or https://")
        if not parts.hostname:
            raise ValueError("the URL has no host")
        return url


class Webhook(BaseModel):
    webhook_id: str
    account_id: str
    url: str
    filters: OutputFilter
    description: str | None = None
    district: str | None = Field(
        None,
        description="the owner's district scope when it was created; delivery follows "
        "the account's scope as it is now",
    )
    status: Literal["active", "paused"]
    paused_reason: str | None = None
    paused_at: str | None = None
    cursors: dict[str, str] = Field(
        description="per kind, the stream id of the last record handled (delivered or "
        "filtered out); a paused webhook's next delivery is the record after it"
    )
    created_at: str
    created_by: str | None = None


class NewWebhook(Webhook):
    secret: str = Field(description="the signing secret: shown this once")


class Delivery(BaseModel):
    delivery_id: str
    kind: Kind
    record_id: str = Field(description="the record's stream id (the body's `id`)")
    ref: str | None = Field(None, description="warning_id, or the grade change's caused_by")
    uscc: str | None = None
    attempts: int
    status_code: int | None = Field(None, description="the last attempt's HTTP status")
    error: str | None = Field(None, description="the last attempt's error, if it had no answer")
    outcome: Literal["delivered", "failed"]
    at: str
    duration_ms: float = Field(description="the last attempt's round trip")


class Notice(BaseModel):
    notice: Literal["webhook_paused"]
    webhook_id: str
    url: str
    message: str
    record: dict[str, str] = Field(description="the record that failed: kind and id")
    at: str
