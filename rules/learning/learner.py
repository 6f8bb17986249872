"""What the engine asks of the models at an enterprise's evaluation (rules/engine.py):
at an event, resolve the labels it decides, read the features and score them; after
the rules, keep the sample; at every evaluation, let expired samples go negative.

One per batch, holding the scorer the batch runs with (None before the first model
snapshot: samples and labels are still kept, so the first model has something to
learn from)."""

from __future__ import annotations

from datetime import date
from typing import Any

from rules.catalogue import Related
from rules.grading import GradingModel
from rules.learning import samples
from rules.learning.features import Features, features
from rules.learning.scorer import Scorer
from rules.state import EnterpriseState

#: the indicators fed by the models: left out of the rules-only score
MODEL_RULES = frozenset(("model_risk", "model_anomaly"))


class Learner:
    def __init__(self, scorer: Scorer | None = None):
        self.scorer = scorer
        self._x: Features = {}

    def on_event(
        self,
        state: EnterpriseState,
        etype: str,
        payload: dict[str, Any],
        event_id: str,
        at: str,
        related: Related,
    ) -> None:
        """After the event is folded in, before the rules: resolve the samples it
        decides, and put the models' view of the enterprise now in `state.model`."""
        if samples.is_adverse(etype, payload):
            samples.positive(state, at, event_id)
        self._x = features(state, related)
        state.model = self.scorer.output(self._x, event_id) if self.scorer else None

    def on_recheck(self, state: EnterpriseState) -> None:
        """No event: the forecast stands, but whether it may weigh is the trainer's
        latest word (a suspended model stops weighing at the next evaluation)."""
        if state.model is not None:
            state.model["in_force"] = bool(self.scorer and self.scorer.in_force)

    def expire(self, state: EnterpriseState) -> list[samples.Label]:
        return samples.expire(state)

    def keep_sample(self, state: EnterpriseState, at: str, grading: GradingModel) -> Features:
        """After the rules: keep the event's sample; its features, observed."""
        p = state.model["p"] if state.model else None
        samples.keep(state, at, self._x, p, rules_only_score(state, grading))
        return self._x

    def sweep(self, state: EnterpriseState, at: str) -> list[samples.Label]:
        """The day's sweep: release the labels of the samples whose horizon ended
        before `at`'s day (UTC ISO). No evaluation: the rules' clock stays.

        >>> s = EnterpriseState("91440300708461136T", clock="2026-01-01T02:00:00+00:00")
        >>> s.samples = [{"at": s.clock, "day": "2026-01-01", "p": None, "rules": 100, "x": {}}]
        >>> Learner().sweep(s, "2026-06-30T15:00:00+00:00")         # 30 June in Beijing
        []
        >>> [(l["y"], l["resolved_at"]) for l in Learner().sweep(s, "2026-06-30T16:00:00+00:00")]
        [(0, '2026-06-30T16:00:00+00:00')]
        >>> s.clock, s.samples
        ('2026-01-01T02:00:00+00:00', [])
        """
        return samples.expire(state, at)

    @staticmethod
    def next_expiry(state: EnterpriseState) -> date | None:
        return samples.next_expiry(state)


def rules_only_score(state: EnterpriseState, grading: GradingModel) -> int:
    """The score the rules alone give: the models' contributions left out.

    >>> s = EnterpriseState("91440300708461136T")
    >>> s.contributions = {"penalty_frequency": -15, "model_risk": -9}
    >>> rules_only_score(s, GradingModel())
    85
    """
    points = sum(c for rule, c in state.contributions.items() if rule not in MODEL_RULES)
    return grading.score(points)
