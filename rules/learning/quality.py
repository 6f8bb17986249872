"""Progressive validation of the forecaster: each label is scored with the probability
the model gave when its sample was taken (before anything about it was learned), so
the figures are what the regulators' grades actually saw.

- ROC AUC, since the start and over the last `window` labels, exact up to the width of
  a probability bin (1/`BINS`): counts of positives and negatives per bin.
- Log loss (River's metric) since the start and over the window.
- Calibration: predicted against observed rate in ten bands, and their weighted gap
  (expected calibration error).
- ADWIN (River) on each label's log loss: when it finds the loss has risen, the window
  is cleared, so the model's quality must be shown again on labels after the change.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from river import drift, metrics

BINS = 1000
BANDS = 10
_EPS = 1e-15


def auc(pos: list[int], neg: list[int]) -> float | None:
    """ROC AUC from per-bin counts (a positive and a negative in one bin count half);
    None without both classes.

    >>> auc([0, 0, 1, 1], [1, 1, 0, 0]), auc([1, 0], [1, 0]), auc([1], [0])
    (1.0, 0.5, None)
    """
    n_pos, n_neg = sum(pos), sum(neg)
    if not n_pos or not n_neg:
        return None
    below = pairs = 0.0
    for p, n in zip(pos, neg, strict=True):
        pairs += p * (below + 0.5 * n)
        below += n
    return pairs / (n_pos * n_neg)


def log_loss(y: int, p: float) -> float:
    p = min(1 - _EPS, max(_EPS, p))
    return -math.log(p) if y else -math.log(1 - p)


@dataclass
class Quality:
    window: int = 1000
    pos: list[int] = field(default_factory=lambda: [0] * BINS)
    neg: list[int] = field(default_factory=lambda: [0] * BINS)
    recent_pos: list[int] = field(default_factory=lambda: [0] * BINS)
    recent_neg: list[int] = field(default_factory=lambda: [0] * BINS)
    recent: deque[tuple[int, int, float]] = field(default_factory=deque)
    loss: metrics.LogLoss = field(default_factory=metrics.LogLoss)
    #: per band: [sum of p, positives, labels]
    bands: list[list[float]] = field(default_factory=lambda: [[0.0, 0, 0] for _ in range(BANDS)])
    detector: drift.ADWIN = field(default_factory=lambda: drift.ADWIN(delta=0.002))
    scored: int = 0
    drifts: int = 0

    def update(self, y: int, p: float) -> bool:
        """Count one label scored `p`; True when the loss drifted upwards."""
        b = min(BINS - 1, int(p * BINS))
        (self.pos if y else self.neg)[b] += 1
        (self.recent_pos if y else self.recent_neg)[b] += 1
        loss = log_loss(y, p)
        self.recent.append((y, b, loss))
        if len(self.recent) > self.window:
            old_y, old_b, _ = self.recent.popleft()
            (self.recent_pos if old_y else self.recent_neg)[old_b] -= 1
        self.loss.update(bool(y), {True: p, False: 1 - p})
        band = self.bands[min(BANDS - 1, int(p * BANDS))]
        band[0] += p
        band[1] += y
        band[2] += 1
        self.scored += 1
        before = self.detector.estimation
        self.detector.update(loss)
        if self.detector.drift_detected and self.detector.estimation > before:
            self.drifts += 1
            self.recent.clear()
            self.recent_pos, self.recent_neg = [0] * BINS, [0] * BINS
            return True
        return False

    @property
    def recent_auc(self) -> float | None:
        return auc(self.recent_pos, self.recent_neg)

    def calibration(self) -> list[dict[str, Any]]:
        return [
            {
                "band": f"{i / BANDS:.1f}-{(i + 1) / BANDS:.1f}",
                "predicted": total / n,
                "observed": hits / n,
                "labels": int(n),
            }
            for i, (total, hits, n) in enumerate(self.bands)
            if n
        ]

    def calibration_error(self) -> float | None:
        """Expected calibration error: the label-weighted gap between predicted and
        observed rates across the bands."""
        if not self.scored:
            return None
        gap = sum(abs(total - hits) for total, hits, _ in self.bands)
        return gap / self.scored

    def summary(self) -> dict[str, Any]:
        recent = len(self.recent)
        return {
            "scored": self.scored,
            "auc": auc(self.pos, self.neg),
            "log_loss": self.loss.get() if self.scored else None,
            "recent_labels": recent,
            "recent_auc": self.recent_auc,
            "recent_log_loss": sum(e[2] for e in self.recent) / recent if recent else None,
            "calibration_error": self.calibration_error(),
            "calibration": self.calibration(),
            "drifts": self.drifts,
        }


def exact_auc(scores: list[float], labels: list[int]) -> float | None:
    """ROC AUC by ranks (ties share their rank): the chance a positive scores above a
    negative. For offline evaluation, where every score is at hand.

    >>> exact_auc([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0]), exact_auc([1, 1, 1], [1, 0, 1])
    (0.75, 0.5)
    """
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    if not n_pos or not n_neg:
        return None
    order = sorted(range(len(scores)), key=scores.__getitem__)
    rank_sum, i = 0.0, 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        shared = (i + j) / 2 + 1  # ranks i+1..j+1, averaged
        rank_sum += shared * sum(labels[order[k]] for k in range(i, j + 1))
        i = j + 1
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
