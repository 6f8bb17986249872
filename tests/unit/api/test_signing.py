"""Webhook signatures (api/signing.py): a known vector, and what verification refuses."""

from __future__ import annotations

import hashlib
import hmac

from api.signing import sign, verify

SECRET = "whsec_test_0123456789"
BODY = b'{"kind":"warning","id":"1-0","data":{}}'
SENT = 1_700_000_000
#: HMAC-SHA256(SECRET, "1700000000." + BODY), computed once with the standard library
KNOWN = "sha256=0e3dbdc152a71d7aa3d18ef0538a8058f2472517a88c885e56a4574020dc6fec"


def test_a_known_vector() -> None:
    assert sign(SECRET, SENT, BODY) == KNOWN
    assert sign(SECRET, str(SENT), BODY.decode()) == KNOWN  # text in, same signature
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert f"sha256={expected}" == KNOWN


def test_a_fresh_untampered_delivery_verifies() -> None:
    assert verify(SECRET, str(SENT), BODY, KNOWN, now=SENT + 299)
    assert verify(SECRET, str(SENT), BODY, KNOWN, now=SENT - 10)  # a clock slightly behind


def test_a_tampered_body_timestamp_secret_or_signature_fails() -> None:
    assert not verify(SECRET, str(SENT), BODY.replace(b"warning", b"grade_change"), KNOWN, now=SENT)
    assert not verify(SECRET, str(SENT + 1), BODY, KNOWN, now=SENT)
    assert not verify("another-secret-000000", str(SENT), BODY, KNOWN, now=SENT)
    assert not verify(SECRET, str(SENT), BODY, KNOWN[:-1] + "0", now=SENT)
    assert not verify(SECRET, str(SENT), BODY, KNOWN.removeprefix("sha256="), now=SENT)


def test_a_stale_or_malformed_timestamp_fails() -> None:
    assert not verify(SECRET, str(SENT), BODY, KNOWN, now=SENT + 301)
    assert not verify(SECRET, str(SENT), BODY, KNOWN, tolerance_s=60, now=SENT + 61)
    assert not verify(SECRET, "not-a-time", BODY, KNOWN, now=SENT)
