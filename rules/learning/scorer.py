"""What a scoring worker holds: a read-only copy of the models from one snapshot, and
whether the trainer found the forecaster fit to weigh on grades (`in_force`). It
never learns; the trainer does (rules/learning/trainer.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rules.learning.features import ACTIVITY, Features
from rules.learning.models import Models, rank
from rules.learning.trainer import Trainer

#: contributions named in an explanation
TOP = 3
#: activity views remembered per snapshot (most enterprises share a few: quiet ones
#: are all zeros), before the memory starts afresh
ACTIVITY_MEMO = 50_000

#: the anomaly rank and the unusual activity, for one activity vector
ActivityView = tuple[float, list[list[object]]]


@dataclass(frozen=True)
class Scorer:
    models: Models
    version: int
    in_force: bool
    #: recent raw anomaly scores, sorted: a new score's rank among them
    reference: list[float]
    #: activity vector -> its view: the snapshot never changes, and the anomaly score
    #: (15 trees walked) and the deviations read the activity features alone
    _seen: dict[tuple[float, ...], ActivityView] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def from_trainer(cls, trainer: Trainer) -> Scorer:
        return cls(
            trainer.models,
            trainer.version,
            trainer.in_force,
            sorted(trainer.models.recent_scores),
        )

    @classmethod
    def from_snapshot(cls, blob: bytes) -> Scorer:
        return cls.from_trainer(Trainer.restore(blob))

    def output(self, x: Features, event_id: str) -> dict[str, Any]:
        """The models' view of one enterprise at one event (kept in its state).

        `top`: the features that raised the forecast most, with their contribution to
        the log-odds; `unusual`: the activity furthest above the population's mean, in
        standard deviations."""
        p, contributions = self.models.forecast(x)
        top = sorted(((c, n) for n, c in contributions.items() if c > 0), reverse=True)[:TOP]
        anomaly, unusual = self._activity(x)
        return {
            "p": round(p, 4),
            "anomaly": anomaly,
            "version": self.version,
            "in_force": self.in_force,
            "event_id": event_id,
            "top": [[name, round(c, 3), round(x.get(name, 0.0), 3)] for c, name in top],
            "unusual": [list(u) for u in unusual],  # copies: states keep them
        }

    def _activity(self, x: Features) -> ActivityView:
        """The anomaly rank and the unusual activity of `x`, computed once per
        activity vector and snapshot (the same numbers as computing them again)."""
        key = tuple(x.get(name, 0.0) for name in ACTIVITY)
        found = self._seen.get(key)
        if found is None:
            if len(self._seen) >= ACTIVITY_MEMO:
                self._seen.clear()
            anomaly = round(rank(self.reference, self.models.anomaly_score(x)), 4)
            deviations = self.models.deviations(x)
            unusual = sorted(((d, n) for n, d in deviations.items() if d > 0), reverse=True)
            found = self._seen[key] = (anomaly, [[n, round(d, 2)] for d, n in unusual[:TOP]])
        return found
