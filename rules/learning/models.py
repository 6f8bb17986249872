"""The two online models (River), learned in one place (rules/learning/trainer.py) and
read everywhere else (rules/learning/scorer.py).

- The forecaster: standardised features into a logistic regression, learned from the
  delayed labels. Linear on purpose: each feature's contribution to the log-odds
  (weight x standardised value) is the explanation a warning carries.
- The anomaly detector: Half-Space Trees over the recent-activity features, min-max
  scaled into the unit cube they expect, learned from every sample as it is taken
  (no label needed). Its raw score is reported as a rank among the scores of recent
  samples, so a threshold reads "more unusual than 99% of recent activity".
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field

from river import anomaly, linear_model, optim, preprocessing

from rules.learning.features import ACTIVITY, Features
from rules.learning.vectors import FEATURES

#: recent anomaly scores kept to rank a new one against
RANK_WINDOW = 2000
#: standardised values are kept within +-CLIP: early on, a feature seen non-zero once has
#: a tiny variance, and one sample far out would otherwise swing the forecast to 0 or 1
CLIP = 4.0
MAX_SD = 10.0


def _forecaster(learning_rate: float, l2: float) -> linear_model.LogisticRegression:
    return linear_model.LogisticRegression(optimizer=optim.SGD(learning_rate), l2=l2)


@dataclass
class Models:
    seed: int = 42
    learning_rate: float = 0.01
    l2: float = 1e-4
    scaler: preprocessing.StandardScaler = field(default_factory=preprocessing.StandardScaler)
    forecaster: linear_model.LogisticRegression = field(init=False)
    bounds: preprocessing.MinMaxScaler = field(default_factory=preprocessing.MinMaxScaler)
    #: the activity's running mean and variance, to say what is unusual about a sample
    activity: preprocessing.StandardScaler = field(default_factory=preprocessing.StandardScaler)
    detector: anomaly.HalfSpaceTrees = field(init=False)
    #: raw anomaly scores of recent samples, as taken (ranked when a scorer is made)
    recent_scores: deque[float] = field(default_factory=lambda: deque(maxlen=RANK_WINDOW))

    def __post_init__(self) -> None:
        self.forecaster = _forecaster(self.learning_rate, self.l2)
        self.detector = anomaly.HalfSpaceTrees(
            n_trees=15, height=8, window_size=250, seed=self.seed
        )

    # --- learning (the trainer only) ---------------------------------------------------
    def learn(self, x: Features, y: bool) -> None:
        dense = _dense(x, FEATURES)
        self.scaler.learn_one(dense)
        self.forecaster.learn_one(self._standard(dense), y)

    def observe(self, x: Features) -> None:
        activity = _dense(x, ACTIVITY)
        self.bounds.learn_one(activity)
        self.activity.learn_one(activity)
        scaled = self._unit(activity)
        self.recent_scores.append(self.detector.score_one(scaled))
        self.detector.learn_one(scaled)

    # --- reading ------------------------------------------------------------------------
    def forecast(self, x: Features) -> tuple[float, dict[str, float]]:
        """P(serious adverse event within the horizon) and each feature's contribution
        to its log-odds."""
        z = self._standard(_dense(x, FEATURES))
        weights = self.forecaster.weights
        contributions = {name: weights.get(name, 0.0) * value for name, value in z.items()}
        logit = self.forecaster.intercept + sum(contributions.values())
        return _sigmoid(logit), contributions

    def anomaly_score(self, x: Features) -> float:
        return float(self.detector.score_one(self._unit(_dense(x, ACTIVITY))))

    def deviations(self, x: Features) -> dict[str, float]:
        """How far each activity feature is from the mean of the samples observed, in
        standard deviations (the anomaly's explanation), at most `MAX_SD` (what was
        never seen to vary is that far out as soon as it moves)."""
        means, variances = self.activity.means, self.activity.vars
        out = {}
        for name in ACTIVITY:
            spread = math.sqrt(variances.get(name, 0.0))
            value = x.get(name, 0.0) - means.get(name, 0.0)
            if value:
                out[name] = (
                    min(MAX_SD, value / spread) if spread > 0 else math.copysign(MAX_SD, value)
                )
        return out

    def _standard(self, dense: Features) -> Features:
        z = self.scaler.transform_one(dense)
        return {name: min(CLIP, max(-CLIP, value)) for name, value in z.items()}

    def _unit(self, activity: Features) -> Features:
        if not self.bounds.min:
            return activity
        scaled = self.bounds.transform_one(activity)
        return {k: min(1.0, max(0.0, v)) if v == v else 0.0 for k, v in scaled.items()}


def rank(sorted_scores: list[float], score: float) -> float:
    """The share of `sorted_scores` strictly below `score` (0 with no reference).

    >>> rank([0.1, 0.2, 0.3, 0.4], 0.35), rank([], 0.9)
    (0.75, 0.0)
    """
    if not sorted_scores:
        return 0.0
    return bisect.bisect_left(sorted_scores, score) / len(sorted_scores)


def _dense(x: Features, names: tuple[str, ...]) -> Features:
    return {name: x.get(name, 0.0) for name in names}


def _sigmoid(logit: float) -> float:
    logit = max(-30.0, min(30.0, logit))
    return 1.0 / (1.0 + math.exp(-logit))
