"""`creditwatch evaluate`: does the online model see risk the rules miss?

A simulated city whose generator has a known risk process (simulation/risk.py) is
replayed through the worker's own pipeline on a private Redis, with the trainer
learning as it would live (agents/replay.py). Every resolved label is then scored
three ways on the same samples: the probability the model gave when the sample was
taken (progressive validation: before anything about it was learned), the rules-only
score then, and the generator's own hazard then (the ceiling no model can pass).
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tqdm import tqdm

from agents.pipeline import Pipeline
from agents.replay import Replayer
from agents.training import TrainerLoop
from rules.calendar import local_day
from rules.learning.quality import exact_auc
from rules.learning.trainer import TrainerSettings
from rules.ruleset import default_ruleset
from streams.simulation import to_bytes
from streams.simulation.risk import RiskCity, generate_risk_city
from streams.stack.embedded import start_redis
from streams.store import Store


@dataclass(frozen=True)
class Evaluation:
    city: RiskCity
    labels: list[dict[str, Any]]
    meta: dict[str, Any]
    events: list[dict[str, Any]]

    def scored(self, second_half: bool = False) -> list[dict[str, Any]]:
        """Labels the model scored (a snapshot existed when their sample was taken)."""
        scored = [label for label in self.labels if label["p"] is not None]
        return scored[len(scored) // 2 :] if second_half else scored

    def aucs(self, labels: list[dict[str, Any]]) -> dict[str, float | None]:
        ys = [label["y"] for label in labels]
        return {
            "model": exact_auc([label["p"] for label in labels], ys),
            "rules": exact_auc([-label["rules"] for label in labels], ys),
            "generator": exact_auc([self._hazard(label) for label in labels], ys),
        }

    def _hazard(self, label: dict[str, Any]) -> float:
        day = (local_day(label["sampled_at"]) - self.city.start).days
        return self.city.hazard(label["uscc"], day)

    def report(self) -> dict[str, Any]:
        labels = self.labels
        return {
            "enterprises": len(self.city.latent),
            "days": self.city.days,
            "events": self.city.total,
            "drift_day": self.city.drift_day,
            "labels": len(labels),
            "positives": sum(label["y"] for label in labels),
            "scored": len(self.scored()),
            "auc": self.aucs(self.scored()),
            "auc_second_half": self.aucs(self.scored(second_half=True)),
            "model": {k: self.meta[k] for k in ("version", "in_force", "labels")},
            "quality": {k: v for k, v in self.meta["quality"].items() if k != "calibration"},
            "model_events": [e["kind"] for e in self.events],
        }


def evaluate(
    seed: int = 7,
    enterprises: int = 2000,
    days: int = 730,
    drift_day: int | None = None,
    batch_size: int = 500,
    publish_labels: int = 500,
    progress: bool = True,
) -> Evaluation:
    city = generate_risk_city(
        seed=seed, enterprises=enterprises, days=days, start=date(2025, 1, 1), drift_day=drift_day
    )
    values = [to_bytes(e) for e in city.events()]
    # the model's suspensions and drifts are in the report: not also as log lines
    logging.getLogger("agents.training").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="creditwatch-evaluate-") as tmp:
        redis = start_redis(Path(tmp), persist=False)
        try:
            labels, meta, events = asyncio.run(
                _replay(redis.url or "", values, batch_size, publish_labels, seed, progress)
            )
        finally:
            redis.stop()
    return Evaluation(city, labels, meta, events)


async def _replay(
    url: str, values: list[bytes], batch_size: int, publish_labels: int, seed: int, progress: bool
) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    # the labels log is read back whole at the end: it must not be trimmed
    store = Store.from_url(url, "evaluate", stream_maxlen=len(values) * 4 + 1000)
    trainer = TrainerLoop(
        store, TrainerSettings(seed=seed), publish_labels, publish_interval_s=float("inf")
    )
    replayer = Replayer(Pipeline(store, "fanout", default_ruleset(), False), batch_size,
                        trainer=trainer)  # fmt: skip
    bar = tqdm(total=len(values), disable=not progress, desc="replay", unit="ev")
    try:
        await replayer.run(values, bar.update)
        labels = []
        after = "0"
        while entries := await store.read_learning(after, 5000):
            for entry_id, raw in entries:
                labels += json.loads(raw)["labels"]
                after = entry_id
        meta = await store.model_meta() or trainer.trainer.meta()
        events = await store.recent_model_events(1000)
    finally:
        bar.close()
        await store.close()
    return labels, meta, events[::-1]


def render(report: dict[str, Any]) -> str:
    def auc(value: float | None) -> str:
        return "   -" if value is None else f"{value:.3f}"

    whole, late = report["auc"], report["auc_second_half"]
    q, model = report["quality"], report["model"]
    drift = f", signals drift from day {report['drift_day']}" if report["drift_day"] else ""
    share = report["positives"] / report["labels"] if report["labels"] else 0.0
    rows = [
        f"simulated city: {report['enterprises']:,} enterprises, {report['days']} days, "
        f"{report['events']:,} events{drift}",
        f"labels resolved: {report['labels']:,} ({share:.1%} positive: a serious adverse "
        f"event within 180 days); scored by a model: {report['scored']:,}",
        "",
        "ROC AUC on the same samples          all scored   second half",
        *(
            f"  {title:<35}{auc(whole[key]):>10}   {auc(late[key]):>11}"
            for key, title in (
                ("model", "model (progressive, online)"),
                ("rules", "rules-only score"),
                ("generator", "generator's own hazard (ceiling)"),
            )
        ),
        "",
        f"model v{model['version']}: {'in force' if model['in_force'] else 'SUSPENDED'}, "
        f"{model['labels']:,} labels learned; recent AUC {auc(q['recent_auc'])}, "
        f"log loss {q['log_loss'] or 0:.3f}, calibration error {q['calibration_error'] or 0:.3f}, "
        f"drifts {q['drifts']}",
    ]
    if not report["scored"]:
        rows.append("no label was scored by a model: the period is too short for a snapshot "
                    "to exist 180 days before its end")  # fmt: skip
    if report["model_events"]:
        rows.append("model events: " + ", ".join(report["model_events"]))
    return "\n".join(rows)
