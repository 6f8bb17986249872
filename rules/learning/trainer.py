"""The one place where the models learn (pure: the caller feeds it and stores what it
returns).

It takes the learning records the workers commit (rules/learning/samples.py labels,
and the samples' features for the anomaly detector) in the order of the labels log,
scores each label with the probability its sample was given (progressive validation),
learns it, and decides whether the forecaster is fit to weigh on the grades:

  suspended while fewer than `warmup` labels were scored; after that, judged over the
  last `window` labels (once at least `min_recent` of them, since the last drift, hold
  both outcomes): suspended when their AUC falls below `floor`, restored when it is
  back at `floor + margin` or more (the margin keeps it from flapping at the floor).
  A drift of the loss (ADWIN) empties the window: the verdict then waits for labels
  taken after the change.

A snapshot (`snapshot()`, pickled) is what the workers score with and what a restarted
trainer resumes from; `offset` says which record of the log it has learned up to.
"""

from __future__ import annotations

import pickle
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import river

from rules.learning.models import Models
from rules.learning.quality import Quality

SNAPSHOT_FORMAT = 1
_RECENT_IDS = 5000


@dataclass(frozen=True)
class TrainerSettings:
    warmup: int = 500
    floor: float = 0.6
    margin: float = 0.02
    window: int = 1000
    min_recent: int = 200
    seed: int = 42


@dataclass
class Trainer:
    settings: TrainerSettings = field(default_factory=TrainerSettings)
    models: Models = field(init=False)
    quality: Quality = field(init=False)
    version: int = 0
    #: the last record of the labels log learned (Kafka offset, or Redis stream id)
    offset: Any = None
    labels: int = 0
    positives: int = 0
    observed: int = 0
    duplicates: int = 0
    in_force: bool = False
    #: operator-facing changes: suspended, restored, drift
    events: list[dict[str, Any]] = field(default_factory=list)
    _recent_ids: deque[str] = field(default_factory=lambda: deque(maxlen=_RECENT_IDS))

    def __post_init__(self) -> None:
        self.models = Models(seed=self.settings.seed)
        self.quality = Quality(window=self.settings.window)

    def learn(self, record: dict[str, Any], offset: Any = None) -> list[dict[str, Any]]:
        """Learn one record ({labels, observed}); the operator events it caused.

        >>> t = Trainer(TrainerSettings(warmup=2, min_recent=2, margin=0))
        >>> lab = lambda i, y, p: {"label_id": str(i), "y": y, "p": p, "x": {"a": float(y)},
        ...                        "resolved_at": "2026-01-01T00:00:00+00:00"}
        >>> t.learn({"labels": [lab(1, 1, 0.9), lab(2, 0, 0.2)]})[0]["kind"], t.in_force
        ('restored', True)
        >>> t.learn({"labels": [lab(1, 1, 0.9)]}), t.labels, t.duplicates   # seen: skipped
        ([], 2, 1)
        """
        events: list[dict[str, Any]] = []
        for label in record.get("labels", ()):
            if self._seen_before(label["label_id"]):
                self.duplicates += 1
                continue
            y = int(label["y"])
            if label.get("p") is not None:
                if self.quality.update(y, float(label["p"])):
                    events.append(self._event("drift", label, "the log loss rose"))
                events += self._judge(label)
            self.models.learn(label["x"], bool(y))
            self.labels += 1
            self.positives += y
        for x in record.get("observed", ()):
            self.models.observe(x)
            self.observed += 1
        if offset is not None:
            self.offset = offset
        self.events = (self.events + events)[-50:]
        return events

    def _seen_before(self, label_id: str) -> bool:
        """Whether the id is among the last `_RECENT_IDS` learned; remembers it if not.
        A set beside the deque: scanning the deque was a sixth of a busy worker's time.
        Built on first use, so snapshots pickled before it existed still load."""
        index: set[str] | None = self.__dict__.get("_recent_index")
        if index is None:
            index = self.__dict__["_recent_index"] = set(self._recent_ids)
        if label_id in index:
            return True
        if len(self._recent_ids) == self._recent_ids.maxlen:
            index.discard(self._recent_ids[0])
        self._recent_ids.append(label_id)
        index.add(label_id)
        return False

    def _judge(self, label: dict[str, Any]) -> list[dict[str, Any]]:
        s, q = self.settings, self.quality
        recent = q.recent_auc
        if q.scored < s.warmup or len(q.recent) < s.min_recent or recent is None:
            return []  # not enough evidence either way: the verdict stands
        if self.in_force and recent < s.floor:
            self.in_force = False
            return [self._event("suspended", label, f"recent AUC {recent:.3f} < {s.floor}")]
        if not self.in_force and recent >= s.floor + s.margin:
            self.in_force = True
            bar = s.floor + s.margin
            return [self._event("restored", label, f"recent AUC {recent:.3f} >= {bar:.2f}")]
        return []

    def _event(self, kind: str, label: dict[str, Any], reason: str) -> dict[str, Any]:
        return {
            "kind": kind,
            "at": label.get("resolved_at"),
            "reason": reason,
            "labels": self.labels,
            "recent_auc": self.quality.recent_auc,
        }

    def meta(self) -> dict[str, Any]:
        """What operators and the API see of the models."""
        return {
            "version": self.version,
            "in_force": self.in_force,
            "labels": self.labels,
            "positives": self.positives,
            "observed": self.observed,
            "duplicates": self.duplicates,
            "settings": vars(self.settings),
            "quality": self.quality.summary(),
            "events": self.events,
            "river": river.__version__,
        }

    def snapshot(self) -> bytes:
        """The next version, pickled: the trainer whole (to resume) and the models (to
        score). Pickle is read back only from the store, which the workers trust."""
        self.version += 1
        return pickle.dumps({"format": SNAPSHOT_FORMAT, "trainer": self}, protocol=5)

    @classmethod
    def restore(cls, blob: bytes) -> Trainer:
        body = pickle.loads(blob)
        if not isinstance(body, dict) or body.get("format") != SNAPSHOT_FORMAT:
            raise ValueError("not a model snapshot of this format")
        trainer = body["trainer"]
        if not isinstance(trainer, cls):
            raise ValueError("not a model snapshot")
        return trainer


Figure = tuple[str, str, dict[str, str], float]


def figures(meta: dict[str, Any]) -> list[Figure]:
    """The snapshot's quality as Prometheus gauges: (name, help, labels, value), for
    the worker that trains and the API that reads the snapshot alike.

    >>> [(name[18:], value) for name, _, _, value in figures(Trainer().meta())][:3]
    [('in_force', 0.0), ('version', 0.0), ('labels', 0.0)]
    """
    quality = meta["quality"]
    out: list[Figure] = []

    def add(name: str, text: str, value: Any, **labels: str) -> None:
        if value is not None:
            out.append((f"creditwatch_model_{name}", text, labels, float(value)))

    add("in_force", "1 while the forecaster weighs on grades", meta["in_force"])
    add("version", "The model snapshot's version", meta["version"])
    add("labels", "Labels learned", meta["labels"])
    add("drifts", "Rises of the loss that ADWIN found", quality["drifts"])
    add("auc", "Progressive ROC AUC", quality["auc"], window="all")
    add("auc", "Progressive ROC AUC", quality["recent_auc"], window="recent")
    add("log_loss", "Progressive log loss", quality["log_loss"], window="all")
    add("log_loss", "Progressive log loss", quality["recent_log_loss"], window="recent")
    add("calibration_error", "Expected calibration error", quality["calibration_error"])
    for band in quality["calibration"]:
        for rate in ("predicted", "observed"):
            add("calibration", "Rates by band", band[rate], band=band["band"], rate=rate)
    return out
