"""Webhook signatures: HMAC-SHA256 of `{timestamp}.{body}` with the webhook's secret,
sent as `X-Creditwatch-Signature: sha256=<hex>` beside `X-Creditwatch-Timestamp`.

The timestamp is signed too, so a captured delivery cannot be replayed later than the
receiver's tolerance.

>>> sig = sign("s3cret", 1700000000, b'{"kind":"warning"}')
>>> verify("s3cret", "1700000000", b'{"kind":"warning"}', sig, now=1700000100)
True
>>> verify("s3cret", "1700000000", b'{"kind":"grade_change"}', sig, now=1700000100)
False
"""

from __future__ import annotations

import hashlib
import hmac
import time

PREFIX = "sha256="


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def sign(secret: str | bytes, timestamp: int | str, body: str | bytes) -> str:
    """The signature header's value for this body sent at this time (unix seconds)."""
    message = f"{timestamp}.".encode() + _bytes(body)
    return PREFIX + hmac.new(_bytes(secret), message, hashlib.sha256).hexdigest()


def verify(
    secret: str | bytes,
    timestamp: int | str,
    body: str | bytes,
    signature: str,
    tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """Whether `signature` is this body's at this timestamp, and the timestamp is within
    `tolerance_s` of now. Pass the body's exact bytes, before any JSON parsing."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance_s:
        return False
    # the timestamp as received: the sender signed its text, not a re-formatted number
    return hmac.compare_digest(sign(secret, str(timestamp), body), signature)
