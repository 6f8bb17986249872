"""Why an input was refused, and the record it becomes on the dead-letter topic.

Reason codes (`Rejected.reason`), a fixed set:
- `invalid_json`: not UTF-8, not JSON, NaN/Infinity, lone surrogate escapes, too deep
- `not_an_object`: valid JSON that is not an object (also for batch items)
- `too_large`: an event over MAX_EVENT_BYTES or a message over MAX_MESSAGE_BYTES
- `invalid_batch`: `batch` is not a list; `empty_batch`: `batch` is `[]`
- `unknown_type`: `type` is not a contract type
- `missing_field`: a required field is absent (incl. `type`, `uscc` on enterprise events)
- `invalid_field`: a field has the wrong shape or value (dates, money, enums, lengths)
- `invalid_uscc`, `invalid_id_number`, `invalid_timestamp`: kept apart (fixed elsewhere)
- `internal_error`: a bug in this module (logged); the event is kept for replay
"""

import base64
import dataclasses
import json
from datetime import datetime
from typing import Literal, TypedDict, get_args

RejectReason = Literal[
    "invalid_json",
    "not_an_object",
    "too_large",
    "invalid_batch",
    "empty_batch",
    "unknown_type",
    "missing_field",
    "invalid_field",
    "invalid_uscc",
    "invalid_id_number",
    "invalid_timestamp",
    "internal_error",
]
REASONS: frozenset[str] = frozenset(get_args(RejectReason))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """An input that broke the contract: why, where, and the exact bytes to replay.

    `field` is the dotted path (`payload.legal_rep.id_no`) when known; `event_id` is
    set when the input had a usable one (a string of 1-128 characters). `raw` is the
    message value, or for a batch item its compact JSON re-encoding; it is left out of
    repr because it may hold personal data.
    """

    reason: RejectReason
    detail: str
    raw: bytes = dataclasses.field(repr=False)
    field: str | None = None
    event_id: str | None = None


class DeadLetterRecord(TypedDict):
    """A dead letter as `creditwatch.dead-letters` carries it (JSON); read back as
    streams/topics/dead_letters.py's DeadLetter."""

    reason: str
    detail: str
    field: str | None
    event_id: str | None
    #: the exact original bytes, base64
    original_b64: str
    #: the same, as text when they are UTF-8
    original: str | None
    dead_at: str


def dead_letter_record(rejected: Rejected, now: datetime) -> bytes:
    """The value written to `creditwatch.dead-letters`: the rejection plus the exact
    original bytes (`original_b64`) and, when they are UTF-8, their text (`original`)
    for people reading the topic. `now` must be timezone-aware."""
    if now.utcoffset() is None:
        raise ValueError("dead_at needs a timezone-aware datetime")
    try:
        original: str | None = rejected.raw.decode("utf-8")
    except UnicodeDecodeError:
        original = None
    record: DeadLetterRecord = {
        "reason": rejected.reason,
        "detail": rejected.detail,
        "field": rejected.field,
        "event_id": rejected.event_id,
        "original_b64": base64.b64encode(rejected.raw).decode("ascii"),
        "original": original,
        "dead_at": now.isoformat(),
    }
    try:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:  # a lone surrogate quoted in the detail: escape it
        return json.dumps(record, separators=(",", ":")).encode()
