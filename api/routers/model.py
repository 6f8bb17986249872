"""The online models: the snapshot in force, its progressive-validation quality, and
the changes operators must know about (suspended, restored, drift)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import Member
from api.deps import ReadsDep
from api.schemas import ModelView

router = APIRouter(tags=["model"])


@router.get("/model", response_model=ModelView)
async def get_model(store: ReadsDep, _caller: Member) -> Any:
    """The model snapshot the workers score with: whether the forecaster weighs on the
    grades (`in_force`), what it learned, its quality (ROC AUC and log loss since the
    start and over the recent window, calibration by band, drifts) and the latest
    operator events, newest first. Before the first snapshot: `published` false."""
    meta = await store.model_meta()
    events = await store.recent_model_events(50)
    if meta is None:
        return {"published": False, "events": events}
    return {"published": True, **meta, "events": events}
