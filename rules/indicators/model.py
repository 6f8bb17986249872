"""The online models' indicators (rules/learning/): they read the models' view that the
engine put in the state at the enterprise's latest event, and weigh only while the
trainer finds the forecaster fit (`in_force`); otherwise the grade is the rules' alone.

- model_risk: always scores while in force, its deduction scaled by the probability
  (the deduction is the model's weight: the points a certain forecast would cost);
  warns when the probability reaches `threshold`, with the features that raised it.
- model_anomaly: activity more unusual than `percentile` of recent samples.
"""

from __future__ import annotations

from rules.catalogue import Hit, Params, Rule, RuleInput, register


def model_risk(data: RuleInput, p: Params) -> Hit | None:
    """The forecast probability of a serious adverse event within 180 days.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.model = {"p": 0.72, "in_force": True, "event_id": "e1", "version": 3,
    ...            "top": [["complaints_90", 0.9, 1.609]], "anomaly": 0.5}
    >>> hit = model_risk(RuleInput(s), {"threshold": 0.5})
    >>> hit.strength, hit.warns
    (0.72, True)
    >>> hit.message.split("; ")[1]
    'raised most by complaints_90 (+0.90)'
    >>> model_risk(RuleInput(s), {"threshold": 0.8}).warns
    False
    """
    model = data.state.model
    if not model or not model.get("in_force") or model.get("p") is None:
        return None
    probability = float(model["p"])
    top = model.get("top") or []
    raised = ", ".join(f"{name} ({c:+.2f})" for name, c, *_ in top)
    message = (
        f"forecast {probability:.2f} of a serious adverse event within 180 days "
        f"(model v{model.get('version')})" + (f"; raised most by {raised}" if raised else "")
    )
    details = {
        "probability": probability,
        "model_version": model.get("version"),
        "explanation": [
            {"feature": name, "contribution": c, "value": value} for name, c, value in top
        ],
    }
    warns = probability >= p["threshold"]
    return Hit(message, (model["event_id"],), probability, warns, details)


def model_anomaly(data: RuleInput, p: Params) -> Hit | None:
    """Activity more unusual than the `percentile` share of recent samples.

    >>> from rules.state import EnterpriseState
    >>> s = EnterpriseState("91440300708461136T")
    >>> s.model = {"p": 0.1, "in_force": True, "event_id": "e1", "version": 3,
    ...            "anomaly": 0.995, "unusual": [["changes_90", 4.1]]}
    >>> model_anomaly(RuleInput(s), {"percentile": 0.99}).message
    'activity more unusual than 99.5% of recent samples; changes_90 4.1 sd above the mean'
    >>> model_anomaly(RuleInput(s), {"percentile": 0.999}) is None
    True
    """
    model = data.state.model
    if not model or not model.get("in_force") or model.get("anomaly", 0) < p["percentile"]:
        return None
    unusual = model.get("unusual") or []
    above = ", ".join(f"{name} {sd:.1f} sd above the mean" for name, sd in unusual)
    message = f"activity more unusual than {model['anomaly']:.1%} of recent samples" + (
        f"; {above}" if above else ""
    )
    details = {
        "rank": model["anomaly"],
        "model_version": model.get("version"),
        "unusual": [{"feature": name, "sd_above_mean": sd} for name, sd in unusual],
    }
    return Hit(message, (model["event_id"],), details=details)


_BASIS = "SAMR 2022 Opinions on credit-risk classification: big-data and model-based monitoring"
for rule in (
    Rule("model_risk", 1, "Model forecast of a serious adverse event", "model", "forecast",
         "orange", 15, _BASIS, model_risk, defaults={"threshold": 0.5}),
    Rule("model_anomaly", 1, "Unusual activity", "model", "anomaly", "yellow", 5, _BASIS,
         model_anomaly, defaults={"percentile": 0.99}),
):  # fmt: skip
    register(rule)
