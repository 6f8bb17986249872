"""The machine-learning half of the risk model, learned online from the same stream.

features.py  what the models see of an enterprise (pure)
vectors.py   the features' names, and their packed form in a state's samples
samples.py   delayed labels in event time: a sample per enterprise-day, resolved by a
             serious adverse event within 180 days or by the horizon passing
models.py    the forecaster (logistic regression) and the anomaly detector (Half-Space
             Trees), both River
quality.py   progressive validation: AUC, log loss, calibration, ADWIN drift
trainer.py   the one place that learns; its pickled snapshot is what workers score with
scorer.py    a worker's read-only copy of a snapshot
learner.py   what the engine asks of the models at each evaluation
"""
