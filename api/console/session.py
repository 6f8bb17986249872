"""The console's session: a signed, HttpOnly, SameSite=Strict cookie holding the
SHA-256 of the API key signed in with (never the key), a CSRF token and the language.
Who the session's holder is, and what it may see, is decided by api/auth.py exactly as
for a bearer key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from api.auth import Caller, authenticate_hash
from api.errors import ApiError
from streams.settings import ConsoleSettings

COOKIE = "cw_console"
#: the header htmx requests carry the CSRF token in (forms carry a field of this name)
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Session:
    key_hash: str
    csrf: str


class Sessions:
    """Signs and reads session cookies."""

    def __init__(self, settings: ConsoleSettings, admin_key: str) -> None:
        if settings.secret is not None and settings.secret.get_secret_value():
            secret = settings.secret.get_secret_value()
        else:  # derived, so that every API process of one deployment agrees
            secret = hmac.new(
                admin_key.encode(), b"creditwatch-console", hashlib.sha256
            ).hexdigest()
        self.signer = URLSafeTimedSerializer(secret, salt="cw-console-session")
        self.max_age_s = settings.session_max_age_s
        self.secure = settings.secure_cookie

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self.signer.loads(raw, max_age=self.max_age_s)
        except BadSignature:
            return None
        if not isinstance(data, list) or len(data) != 2:
            return None
        return Session(key_hash=str(data[0]), csrf=str(data[1]))

    def start(self, response: Response, key_hash: str) -> Session:
        session = Session(key_hash=key_hash, csrf=secrets.token_urlsafe(32))
        response.set_cookie(
            COOKIE,
            self.signer.dumps([session.key_hash, session.csrf]),
            max_age=self.max_age_s,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/",
        )
        return session

    def end(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def session_group(csrf: str) -> str:
    """A session's name where its live slot is kept: a digest of its CSRF token (made
    at sign-in), so the token itself is never stored.

    >>> session_group("abc")
    'c-ba7816bf8f01cfea'
    """
    return "c-" + hashlib.sha256(csrf.encode()).hexdigest()[:16]


def sessions(request: Request) -> Sessions:
    found: Sessions = request.app.state.console_sessions
    return found


async def session_caller(request: Request) -> tuple[Session, Caller] | None:
    """The signed-in caller, or None without a valid session (or with a key since
    revoked). A rate-limited caller is refused (429) as in the API."""
    session = sessions(request).read(request)
    if session is None:
        return None
    try:
        caller = await authenticate_hash(request, session.key_hash)
    except ApiError as exc:
        if exc.status == 401:
            return None
        raise
    return session, caller


def check_csrf(request: Request, session: Session, form_token: str | None) -> None:
    """Refuse (403) a state-changing request without this session's token, in the form
    or (htmx) in the header."""
    sent = request.headers.get(CSRF_HEADER) or form_token or ""
    if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise ApiError(403, "missing or wrong CSRF token", code="csrf_failed")
