"""Liveness and the Prometheus exposition; both open, without a key."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest

from api.deps import ReadsDep
from api.errors import RETRY_LATER
from api.handling import publish_figures
from api.schemas import Health
from rules.grading import GRADES
from rules.learning.trainer import figures
from streams.figures import MODEL_FIGURES
from streams.store import StoreError

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(store: ReadsDep) -> Response:
    try:
        ok = await store.ping()
    except (StoreError, OSError):
        ok = False
    body = Health(status="ok" if ok else "degraded", redis=ok)
    return JSONResponse(body.model_dump(), 200 if ok else 503, None if ok else RETRY_LATER)


ENTERPRISES = Gauge("creditwatch_enterprises", "Enterprises at each grade now", ["grade"])


@router.get("/metrics", response_class=Response)
async def metrics(store: ReadsDep) -> Response:
    # the state's figures are read at each scrape; with Redis away the API's own
    # figures still answer and these are left as they were
    try:
        meta = await store.model_meta()
        counts = await store.grade_counts()
        dispositions = await store.disposition_counts()
    except (StoreError, OSError):
        pass
    else:
        if meta is not None:
            MODEL_FIGURES.figures = figures(meta)
        for grade in GRADES:
            ENTERPRISES.labels(grade).set(counts.get(grade, 0))
        publish_figures(dispositions)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
