"""The online models (rules/learning/): delayed labels through the engine, determinism,
snapshots, the quality floor and the drift fallback, and the model indicators."""

from __future__ import annotations

import pickle
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from rules.engine import process_event, recheck
from rules.learning.learner import Learner
from rules.learning.quality import Quality, exact_auc
from rules.learning.scorer import Scorer
from rules.learning.trainer import Trainer, TrainerSettings
from rules.ruleset import RuleSet, RulesFileError
from rules.state import EnterpriseState

USCC = "91440300708461136T"
T0 = datetime(2026, 1, 5, 2, tzinfo=UTC)  # 10:00 in Beijing


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def registered(state: EnterpriseState, learner: Learner) -> list[dict[str, Any]]:
    payload = {"name": "X", "address": "A", "registered_capital": 1e6,
               "established_on": "2020-01-01"}  # fmt: skip
    return process_event(
        state, etype="enterprise.registered", payload=payload, event_id="r", occurred_at=T0,
        now=T0, learner=learner,
    ).labels  # fmt: skip


def adverse(state: EnterpriseState, learner: Learner, day: float, eid: str) -> list[Any]:
    return process_event(
        state, etype="tax.violation", payload={"case_no": eid, "amount": 1e5}, event_id=eid,
        occurred_at=at(day), now=at(day), learner=learner,
    ).labels  # fmt: skip


def look(state: EnterpriseState, learner: Learner, day: float) -> list[Any]:
    return recheck(state, at=at(day), now=at(day), learner=learner).labels


# --- delayed labels ------------------------------------------------------------------
def test_a_positive_resolves_inside_the_horizon_but_is_learned_only_after_it() -> None:
    state, learner = EnterpriseState(USCC), Learner()
    assert registered(state, learner) == []
    assert adverse(state, learner, 100, "v1") == []  # resolved, not yet released
    assert state.samples[0]["y"] == 1 and state.samples[0]["cause"] == "v1"
    # it goes the day after the first sample's horizon (180 days): that day's sweep of
    # labels releases it (the store's day index), not a timer of the enterprise's
    assert Learner.next_expiry(state) == date(2026, 7, 5)
    assert state.recheck_at != "2026-07-04T16:00:00+00:00"
    assert look(state, learner, 179.5) == []
    labels = look(state, learner, 180.6)
    assert [(label["y"], label["cause"]) for label in labels] == [(1, "v1")]
    assert labels[0]["resolved_at"] == at(100).isoformat()
    assert labels[0]["x"]["capital"] == pytest.approx(6.0, abs=1e-3)


def test_the_days_sweep_releases_labels_without_evaluating() -> None:
    state, learner = EnterpriseState(USCC), Learner()
    registered(state, learner)
    adverse(state, learner, 10, "v1")
    clock, snapshot = state.clock, dict(state.contributions)
    assert learner.sweep(state, at(180.5).isoformat()) == []  # day 180 is still inside
    labels = learner.sweep(state, at(181).isoformat())
    # the registration's sample went positive; the violation's own sample is still open
    assert [(label["y"], label["cause"]) for label in labels] == [(1, "v1")]
    assert [
        (label["y"], label["resolved_at"]) for label in learner.sweep(state, at(191).isoformat())
    ] == [
        (0, "2026-07-14T16:00:00+00:00")  # its horizon's end, whenever it is swept
    ]
    assert state.samples == [] and state.clock == clock and state.contributions == snapshot


def test_a_negative_comes_when_the_horizon_passes_and_not_a_day_before() -> None:
    state, learner = EnterpriseState(USCC), Learner()
    registered(state, learner)
    assert look(state, learner, 180.5) == []  # day 180 is still inside
    assert [label["y"] for label in look(state, learner, 181)] == [0]
    assert state.samples == []


def test_an_adverse_event_after_the_horizon_leaves_the_label_negative() -> None:
    state, learner = EnterpriseState(USCC), Learner()
    registered(state, learner)
    labels = adverse(state, learner, 182, "late")  # catch-up releases the old sample first
    assert [(label["y"], label["cause"]) for label in labels] == [(0, "horizon")]
    assert state.samples[0]["at"] == at(182).isoformat()  # the event's own sample


def test_one_sample_per_day_but_a_resolved_one_is_kept() -> None:
    state, learner = EnterpriseState(USCC), Learner()
    registered(state, learner)
    adverse(state, learner, 0.1, "same-day")  # later the same day: resolves, then samples
    assert [s.get("y") for s in state.samples] == [1, None]
    process_event(state, etype="complaint.received", payload={"channel": "12315",
                  "category": "x"}, event_id="c", occurred_at=at(0.2), now=at(0.2),
                  learner=learner)  # fmt: skip
    assert len(state.samples) == 2 and state.samples[-1]["at"] == at(0.2).isoformat()


def test_without_a_learner_the_engine_keeps_no_samples() -> None:
    state = EnterpriseState(USCC)
    process_event(state, etype="tax.violation", payload={"case_no": "v", "amount": 1},
                  event_id="v", occurred_at=T0, now=T0)  # fmt: skip
    assert state.samples == [] and state.model is None


# --- the trainer ---------------------------------------------------------------------
def stream(seed: int, n: int, signal: bool = True) -> list[dict[str, Any]]:
    """Labels whose `risk` feature predicts y and whose recorded p follows it (or not)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        risk = rng.random()
        y = int(rng.random() < (0.1 + 0.7 * risk if signal else 0.3))
        p = min(0.99, max(0.01, risk if signal else rng.random()))
        x = {"complaints_90": 3 * risk, "changes_90": rng.random(), "capital": 5 + rng.random()}
        when = (T0 + timedelta(minutes=i)).isoformat()
        out.append({"label_id": f"{seed}-{i}", "y": y, "p": p, "x": x, "resolved_at": when})
    return out


def train(trainer: Trainer, labels: list[dict[str, Any]], chunk: int = 50) -> list[Any]:
    events: list[Any] = []
    for i in range(0, len(labels), chunk):
        part = labels[i : i + chunk]
        events += trainer.learn({"labels": part, "observed": [lab["x"] for lab in part]})
    return events


PROBES = [{"complaints_90": 2.5, "capital": 5.5}, {"changes_90": 0.1}, {}]


def views(scorer: Scorer) -> list[dict[str, Any]]:
    return [scorer.output(x, "e") for x in PROBES]


def test_training_is_deterministic_under_its_seed() -> None:
    a, b = Trainer(TrainerSettings(seed=3)), Trainer(TrainerSettings(seed=3))
    train(a, stream(1, 600))
    train(b, stream(1, 600))
    assert views(Scorer.from_trainer(a)) == views(Scorer.from_trainer(b))
    assert a.meta() == b.meta()
    c = Trainer(TrainerSettings(seed=3))
    train(c, stream(2, 600))
    assert views(Scorer.from_trainer(c)) != views(Scorer.from_trainer(a))


def test_the_forecaster_learns_the_signal_and_explains_it() -> None:
    trainer = Trainer()
    train(trainer, stream(1, 2000))
    view = Scorer.from_trainer(trainer).output({"complaints_90": 3.0, "capital": 5.5}, "e")
    calm = Scorer.from_trainer(trainer).output({"capital": 5.5}, "e")
    assert view["p"] > calm["p"] + 0.2
    assert view["top"][0][0] == "complaints_90" and view["top"][0][1] > 0
    assert trainer.in_force and trainer.quality.summary()["auc"] > 0.7


def test_a_snapshot_round_trip_scores_and_resumes_the_same() -> None:
    trainer = Trainer()
    train(trainer, stream(1, 700))
    blob = trainer.snapshot()
    restored = Trainer.restore(blob)
    assert views(Scorer.from_snapshot(blob)) == views(Scorer.from_trainer(trainer))
    assert restored.meta() == trainer.meta() and restored.version == 1
    # both go on learning the same way
    more = stream(5, 300)
    train(trainer, more)
    train(restored, more)
    assert views(Scorer.from_trainer(restored)) == views(Scorer.from_trainer(trainer))


def test_a_snapshot_of_something_else_is_refused() -> None:
    import pickle

    with pytest.raises(ValueError):
        Trainer.restore(pickle.dumps({"format": 99}))
    with pytest.raises(ValueError):
        Trainer.restore(pickle.dumps({"format": 1, "trainer": "no"}))


def test_nothing_weighs_before_the_warmup() -> None:
    trainer = Trainer(TrainerSettings(warmup=500))
    assert train(trainer, stream(1, 450)) == [] and not trainer.in_force


def test_the_drift_fallback_suspends_then_restores() -> None:
    trainer = Trainer(TrainerSettings(warmup=200, window=400, min_recent=100))
    events = train(trainer, stream(1, 800))
    assert [e["kind"] for e in events] == ["restored"] and trainer.in_force
    # the signals stop predicting: the loss rises, then the recent AUC falls
    events = train(trainer, stream(2, 1200, signal=False))
    kinds = [e["kind"] for e in events]
    assert "drift" in kinds and "suspended" in kinds and not trainer.in_force
    suspended = next(e for e in events if e["kind"] == "suspended")
    assert suspended["recent_auc"] < 0.6 and "< 0.6" in suspended["reason"]
    events = train(trainer, stream(3, 1200))
    assert [e["kind"] for e in events][-1] == "restored" and trainer.in_force


def test_a_label_seen_twice_is_learned_once() -> None:
    trainer = Trainer()
    labels = stream(1, 100)
    train(trainer, labels)
    train(trainer, labels[:10])
    assert trainer.labels == 100 and trainer.duplicates == 10


def test_progressive_auc_matches_the_exact_one() -> None:
    labels = stream(4, 3000)
    quality = Quality(window=10_000)
    for label in labels:
        quality.update(label["y"], label["p"])
    exact = exact_auc([lab["p"] for lab in labels], [lab["y"] for lab in labels])
    assert quality.summary()["auc"] == pytest.approx(exact, abs=2e-3)
    assert quality.calibration_error() is not None


# --- into the grade ------------------------------------------------------------------
def modelled(p: float, in_force: bool = True) -> EnterpriseState:
    state = EnterpriseState(USCC, status="active", clock=T0.isoformat(), grade="A", score=100)
    state.model = {"p": p, "anomaly": 0.2, "version": 4, "in_force": in_force, "event_id": "e1",
                   "top": [["complaints_90", 0.8, 1.6]], "unusual": []}  # fmt: skip
    return state


def test_the_forecast_weighs_by_its_probability_and_warns_past_the_threshold() -> None:
    state = modelled(0.8)
    out = recheck(state, at=T0, now=T0)
    assert state.contributions == {"model_risk": -12} and state.score == 88
    (warning,) = out.warnings
    assert warning["rule_id"] == "model_risk" and warning["severity"] == "orange"
    assert warning["details"]["explanation"][0]["feature"] == "complaints_90"
    # below the threshold it still weighs, and the warning closes
    state.model["p"] = 0.3
    out = recheck(state, at=T0, now=T0)
    assert state.contributions == {"model_risk": -4} and out.closed == ["model_risk"]


def test_a_suspended_model_weighs_nothing() -> None:
    state = modelled(0.9, in_force=False)
    out = recheck(state, at=T0, now=T0)
    assert state.contributions == {} and state.score == 100 and out.warnings == []


def test_a_recheck_takes_the_trainers_latest_word() -> None:
    state = modelled(0.9)
    trainer = Trainer()  # never fit: not in force
    recheck(state, at=T0, now=T0, learner=Learner(Scorer.from_trainer(trainer)))
    assert state.model is not None and state.model["in_force"] is False
    assert "model_risk" not in state.contributions


def test_the_models_weight_is_bounded() -> None:
    with pytest.raises(RulesFileError, match="at most 30"):
        RuleSet("x", {"model_risk": {"deduction": 31}})
    with pytest.raises(RulesFileError, match="share"):
        RuleSet("x", {"model_risk": {"threshold": 1.5}})
    assert RuleSet("x", {"model_risk": {"deduction": 0}}).active()


def test_unusual_activity_ranks_high_and_warns() -> None:
    trainer = Trainer()
    rng = random.Random(9)
    calm = [{"changes_90": rng.random() * 0.7, "complaints_90": rng.random() * 0.7}
            for _ in range(1500)]  # fmt: skip
    trainer.learn({"labels": [], "observed": calm})
    scorer = Scorer.from_trainer(trainer)
    wild = scorer.output({"changes_90": 2.5, "complaints_90": 2.8, "judgments_365": 2.0}, "e")
    usual = scorer.output(calm[0], "e")
    assert wild["anomaly"] > 0.95 > usual["anomaly"]
    assert {name for name, _ in wild["unusual"]} >= {"judgments_365"}
    state = modelled(0.1)
    state.model = {**wild, "in_force": True, "p": 0.1}
    (warning,) = recheck(state, at=T0, now=T0).warnings
    assert warning["rule_id"] == "model_anomaly" and warning["severity"] == "yellow"
    assert state.contributions["model_anomaly"] == -5


def test_the_trainer_skips_an_id_while_it_is_among_the_recent_ones_only() -> None:
    from rules.learning.trainer import _RECENT_IDS, Trainer, TrainerSettings

    def label(i: int) -> dict[str, Any]:
        return {"label_id": str(i), "y": 0, "p": None, "x": {"a": 1.0}}

    trainer = Trainer(TrainerSettings())
    for i in range(_RECENT_IDS + 10):
        trainer.learn({"labels": [label(i)]})
    trainer.learn({"labels": [label(_RECENT_IDS + 9), label(5)]})
    assert (trainer.duplicates, trainer.labels) == (1, _RECENT_IDS + 11)  # 5 had left
    # a snapshot from before the index existed: the index is rebuilt from the window
    restored = pickle.loads(pickle.dumps(trainer))
    del restored.__dict__["_recent_index"]
    restored.learn({"labels": [label(_RECENT_IDS + 8), label(7)]})
    assert restored.duplicates == 2 and restored.labels == trainer.labels + 1


def test_a_scorer_remembers_an_activity_view_exactly_as_it_would_compute_it() -> None:
    trainer = Trainer()
    rng = random.Random(4)
    observed = [{"changes_90": rng.random(), "complaints_90": rng.random()} for _ in range(600)]
    trainer.learn({"labels": stream(2, 300), "observed": observed})
    probes = [{**x, "capital": 5 + i % 3} for i, x in enumerate(observed[:50])] * 2
    memo = Scorer.from_trainer(trainer)
    first = [memo.output(x, "e") for x in probes]
    # each output from a scorer that never saw another vector: the same numbers
    assert first == [Scorer.from_trainer(trainer).output(x, "e") for x in probes]
    assert len(memo._seen) == 50  # the second half was remembered, not computed
    first[0]["unusual"].append(["x", 1.0])  # a state that changes its copy changes no other
    assert memo.output(probes[0], "e") == Scorer.from_trainer(trainer).output(probes[0], "e")
