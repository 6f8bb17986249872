"""Internal messages on the fan-out topic, beside the person events re-sent to each
firm: a request to re-evaluate an enterprise (a timer came due, or a related party
changed: then `rebuild`, since its grade's history from that time may have changed),
or a day's sweep of its model labels (their horizons ended: release them, with no
evaluation). Never accepted on the public input topic."""

from __future__ import annotations

import json
from datetime import UTC, datetime

_MARK = b'{"recheck":'
_SWEEP = b'{"sweep":'


def encode_recheck(uscc: str, at: datetime, rebuild: bool = False) -> bytes:
    """The message asking to re-evaluate `uscc` as of `at`.

    >>> encode_recheck("91440300708461136T", datetime(2026, 3, 1, tzinfo=UTC))
    b'{"recheck":"91440300708461136T","at":"2026-03-01T00:00:00+00:00"}'
    """
    body: dict[str, object] = {"recheck": uscc, "at": at.astimezone(UTC).isoformat()}
    if rebuild:
        body["rebuild"] = True
    return json.dumps(body, separators=(",", ":")).encode()


def parse_recheck(raw: bytes) -> tuple[str, datetime, bool] | None:
    """(USCC, as-of time, rebuild) of a recheck message, or None for anything else.

    >>> parse_recheck(encode_recheck("91440300708461136T", datetime(2026, 3, 1, tzinfo=UTC)))
    ('91440300708461136T', datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc), False)
    >>> parse_recheck(b'{"event_id": "x"}') is None
    True
    """
    if not raw.startswith(_MARK):
        return None
    try:
        body = json.loads(raw)
        return str(body["recheck"]), datetime.fromisoformat(body["at"]), bool(body.get("rebuild"))
    except (ValueError, KeyError, TypeError):
        return None


def encode_sweep(usccs: list[str], at: datetime) -> bytes:
    """The message asking to release the model labels of `usccs` (all of one partition)
    whose horizon ended before `at` (the start of the day swept): no evaluation.

    >>> encode_sweep(["91440300708461136T"], datetime(2026, 3, 1, tzinfo=UTC))
    b'{"sweep":["91440300708461136T"],"at":"2026-03-01T00:00:00+00:00"}'
    """
    body = {"sweep": usccs, "at": at.astimezone(UTC).isoformat()}
    return json.dumps(body, separators=(",", ":")).encode()


def parse_sweep(raw: bytes) -> tuple[list[str], datetime] | None:
    """(USCCs, as-of time) of a sweep message, or None for anything else.

    >>> parse_sweep(encode_sweep(["91440300708461136T"], datetime(2026, 3, 1, tzinfo=UTC)))
    (['91440300708461136T'], datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc))
    >>> parse_sweep(encode_recheck("91440300708461136T", datetime(2026, 3, 1, tzinfo=UTC)))
    """
    if not raw.startswith(_SWEEP):
        return None
    try:
        body = json.loads(raw)
        return [str(u) for u in body["sweep"]], datetime.fromisoformat(body["at"])
    except (ValueError, KeyError, TypeError):
        return None
