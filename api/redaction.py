"""What the access log keeps of a request's path and query: no API key, secret or
resident ID number, wherever the client put it.

A secret the client chose cannot be told from an id in general: besides the admin key
(known) and API keys (`cwk_...`), a long random-looking token (32 or more URL-safe
characters, upper and lower case mixed, as generated webhook secrets are) is redacted
wherever it stands; a client-chosen secret elsewhere than a secret-named parameter is
not recognised.

An ID number becomes its pseudonymous person key (`p:` + `person_key`, as the store
keys people), so the log still tells who searched for whom without holding the number.
An 18-character code that is both a valid ID number and a valid USCC is kept: it is
most likely an enterprise's code where one belongs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, unquote_plus

from api.auth import KEY_PREFIX
from streams.contract.identifiers import id_problem, person_key, replace_id_numbers, uscc_problem

REDACTED = "REDACTED"
#: the shortest literal secret (the admin key) looked for
MIN_SECRET = 8
#: query parameters whose value is a secret whatever it looks like (access_token, ...)
_SECRET_NAME = re.compile(r"token|key|secret|passw|auth", re.IGNORECASE)
#: query parameters that hold an ID number by definition, valid or not
_ID_NAMES = frozenset({"person_id"})
_API_KEY = re.compile(re.escape(KEY_PREFIX) + r"[A-Za-z0-9_\-]*")
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_\-])(?=[\w\-]*[a-z])(?=[\w\-]*[A-Z])[A-Za-z0-9_\-]{32,}", re.ASCII
)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` (a path, a parameter's value) without API keys, the given secrets and
    ID numbers.

    >>> redact_text("/enterprises/11010519491231002X/cwk_ab12_s3cr3t")
    '/enterprises/p:426695a0efdb59b9eaedaf0b5ca3eddf/REDACTED'
    >>> redact_text("/webhooks/wh_0123abcd/Xk3_vQ9-aZr4TbW8yLm2NcP6sHd1FgJ5eK7uR0tY")
    '/webhooks/wh_0123abcd/REDACTED'
    """
    for secret in secrets:
        # a secret as short as a word would blank out paths that merely contain it
        if len(secret) >= MIN_SECRET and secret in text:
            text = text.replace(secret, REDACTED)
    if KEY_PREFIX in text:
        text = _API_KEY.sub(REDACTED, text)
    text = _TOKEN.sub(REDACTED, text)
    return replace_id_numbers(text, _pseudonym)


def redact_query(query: str, secrets: Iterable[str] = ()) -> str:
    """A raw query string with the value of every secret-named or ID parameter, and any
    key, secret or ID number in other values, redacted; other pairs kept as sent.

    >>> redact_query("uscc=X&access_token=cwk_1_secret&person_id=123&name=%E5%BC%A0")
    'uscc=X&access_token=REDACTED&person_id=REDACTED&name=%E5%BC%A0'
    """
    secrets = tuple(secrets)
    pairs = []
    for pair in query.split("&"):
        raw_name, equals, raw_value = pair.partition("=")
        name, value = unquote_plus(raw_name), unquote_plus(raw_value)
        if _SECRET_NAME.search(name):
            kept = REDACTED
        elif name in _ID_NAMES:
            kept = redact_text(value)
            kept = kept if kept != value else REDACTED
        else:
            kept = redact_text(value, secrets)
        kept_name = _as_sent(raw_name, name, redact_text(name, secrets))
        pairs.append(kept_name + equals + _as_sent(raw_value, value, kept))
    return "&".join(pairs)


def _as_sent(raw: str, decoded: str, kept: str) -> str:
    """The text as the client sent it, unless redaction changed it."""
    return raw if kept == decoded else quote(kept, safe=":")


def _pseudonym(found: str) -> str:
    code = found.upper()
    if id_problem(code) is not None or uscc_problem(code) is None:
        return found
    return "p:" + person_key(code)
