"""Deliberately invalid items, as the raw bytes a department might send: each kind of
INVALID_KINDS breaks the contract in one way the decoder must turn into a dead letter."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from streams.contract.identifiers import USCC_ALPHABET, id_check_char
from streams.simulation.data import (
    COMPLAINT_CATEGORIES,
    COMPLAINT_CHANNELS,
    ID_DIVISIONS,
    court_name,
    person_name,
)

if TYPE_CHECKING:
    from streams.simulation.stream import Emitter

INVALID_KINDS = ("uscc_check", "uscc_letter", "id_birth", "naive_time", "unknown_type",
                 "missing_uscc", "malformed_json")  # fmt: skip


def broken(emitter: Emitter, t: int) -> bytes:
    """A deliberately invalid item, as the raw bytes a department might send."""
    rng = emitter.rng
    how = rng.choice(INVALID_KINDS)
    e = emitter.pick(clean_ok=True)
    uscc = emitter.plan.usccs[e if e is not None else 0]
    payload = {
        "channel": rng.choice(COMPLAINT_CHANNELS),
        "category": rng.choice(COMPLAINT_CATEGORIES),
    }
    event = emitter.envelope(t, ("complaint.received", "samr", uscc, payload), 60, 3600)
    if how == "uscc_check":
        event["uscc"] = uscc[:17] + rng.choice(USCC_ALPHABET.replace(uscc[17], ""))
    elif how == "uscc_letter":
        pos = rng.randrange(8, 16)
        event["uscc"] = uscc[:pos] + rng.choice("IOSVZ") + uscc[pos + 1 :]
    elif how == "id_birth":
        birth = f"{rng.randrange(1960, 2000)}{rng.choice(('0230', '0431', '1301', '0000'))}"
        first17 = f"{rng.choice(ID_DIVISIONS)}{birth}{rng.randrange(1000):03d}"
        del event["uscc"]
        event["type"] = "person.dishonest_listed"
        event["source"] = "court"
        event["payload"] = {
            "person": {"name": person_name(rng), "id_no": first17 + id_check_char(first17)},
            "case_no": emitter.case_number(t, "440305", "执"),
            "court": court_name("440305"),
        }
    elif how == "naive_time":
        event["occurred_at"] = event["occurred_at"][:-6]
    elif how == "unknown_type":
        event["type"] = "enterprise.teleported"
    elif how == "missing_uscc":
        del event["uscc"]
    text = json.dumps(event, ensure_ascii=False)
    if how == "malformed_json":
        text = text[: rng.randrange(10, len(text) - 1)] if rng.random() < 0.5 else text[:-1] + ",}"
    return text.encode()
