"""What a warning's disposition (风险研判处置) does to the rules and the grade
(信用监管约束). Pure: the store hands the enterprise's dispositions to the worker as it
hands it an override, and the engine asks here how each hit is to be taken.

A disposition judges a warning as it stood: its rule, the events it cited (its
evidence), its message, and the moment it was recorded. From that moment on (in the
rules' clock), a hit of the same rule that cites nothing the judged warning did not
already cite (and, when it cites nothing at all, says the same) is *covered* by it:

- `false_alarm`: the hit neither scores nor warns (nor vetoes, nor feeds a combined
  rule): the open warning closes and the grade recovers;
- `rectified`: the hit still scores (the records stand until their own events end
  them: a removal, a clearance, a credit repair), but raises no warning: the open one
  closes and is not raised again for the same evidence;
- `verified`, `referred`: the hit counts as it would without them.

New evidence ends the cover: the hit counts and warns again (a new warning). When
several dispositions cover a hit (a correction, or judgements of successive warnings of
one rule), the latest recorded decides. The result depends on the set of dispositions
and the clock only, never on the order they were loaded in, so a replay of the history
with the same dispositions gives the same states and the same timeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal, TypedDict, cast

Disposition = Literal["verified", "false_alarm", "referred", "rectified"]
#: dispositions that stop a covered hit from warning; the first also from scoring
QUIETING: frozenset[str] = frozenset(("false_alarm", "rectified"))


class Judgement(TypedDict):
    """A warning's latest disposition, as the worker reads it (warning_id -> this)."""

    warning_id: str
    rule_id: str
    disposition: Disposition
    #: the warning's evidence (event ids) and message when it was judged
    evidence: list[str]
    message: str
    #: when it was recorded (RFC 3339): it holds from then on
    at: str


def _instant(at: str) -> datetime:
    return datetime.fromisoformat(at)


def covers(judgement: Judgement, evidence: Sequence[str], message: str) -> bool:
    """Whether a hit citing `evidence` is the judged warning again (no new evidence).

    >>> j = Judgement(warning_id="w", rule_id="r", disposition="false_alarm",
    ...               evidence=["e1", "e2"], message="2 cases", at="2026-03-01T00:00:00+00:00")
    >>> covers(j, ["e2"], "1 case"), covers(j, ["e1", "e3"], "2 cases")
    (True, False)
    >>> covers({**j, "evidence": []}, [], "2 cases"), covers({**j, "evidence": []}, [], "3")
    (True, False)
    """
    judged = set(judgement.get("evidence") or ())
    if not evidence:
        return not judged and judgement.get("message") == message
    return set(evidence) <= judged


def ruling(
    judgements: Mapping[str, Judgement],
    rule_id: str,
    evidence: Sequence[str],
    message: str,
    clock: str | None,
) -> Disposition | None:
    """The disposition that decides a hit of `rule_id` at `clock`: the latest recorded
    by then (ties: the greater warning id) of those that cover it; None if none does.

    >>> at = "2026-03-01T00:00:00+00:00"
    >>> j = {"w1": Judgement(warning_id="w1", rule_id="r", disposition="false_alarm",
    ...                      evidence=["e1"], message="m", at=at)}
    >>> ruling(j, "r", ["e1"], "m", at), ruling(j, "r", ["e1"], "m", "2026-02-28T23:00:00+00:00")
    ('false_alarm', None)
    >>> ruling(j, "r", ["e1", "e2"], "m", at), ruling(j, "q", ["e1"], "m", at)
    (None, None)
    """
    if clock is None or not judgements:  # (most firms have none: no parsing)
        return None
    now = _instant(clock)
    found = [
        (_instant(j["at"]), wid, j["disposition"])
        for wid, j in judgements.items()
        if j.get("rule_id") == rule_id and _instant(j["at"]) <= now and covers(j, evidence, message)
    ]
    return cast(Disposition, max(found)[2]) if found else None


def pending(judgements: Mapping[str, Judgement], clock: str | None) -> list[str]:
    """The instants (UTC ISO, as the engine's clock is kept) of dispositions later than
    `clock`: the engine looks again at each, so that a replay of the history meets them
    where they were made.

    >>> j = Judgement(warning_id="w", rule_id="r", disposition="verified", evidence=[],
    ...               message="m", at="2026-03-01T08:00:00+08:00")
    >>> pending({"w": j}, "2026-03-01T00:00:00+00:00"), pending({"w": j}, None)
    ([], ['2026-03-01T00:00:00+00:00'])
    >>> pending({"w": j}, "2026-02-28T23:00:00+00:00")
    ['2026-03-01T00:00:00+00:00']
    """
    if not judgements:
        return []
    now = _instant(clock) if clock else None
    return sorted(
        _instant(j["at"]).astimezone(UTC).isoformat()
        for j in judgements.values()
        if now is None or _instant(j["at"]) > now
    )


def made_at(judgements: Mapping[str, Judgement], at: str) -> str | None:
    """The warning judged at exactly `at`, if any (the cause a recheck there is given).

    >>> j = Judgement(warning_id="w", rule_id="r", disposition="verified", evidence=[],
    ...               message="m", at="2026-03-01T08:00:00+08:00")
    >>> made_at({"w": j}, "2026-03-01T00:00:00+00:00")
    'w'
    >>> made_at({"w": j}, "2026-03-02T00:00:00+00:00") is None
    True
    """
    if not judgements:
        return None
    moment = _instant(at)
    found = sorted(wid for wid, j in judgements.items() if _instant(j["at"]) == moment)
    return found[-1] if found else None
