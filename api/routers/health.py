"""Liveness and the Prometheus exposition; both open, without a key."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from api.deps import StoreDep
from api.schemas import Health
from rules.learning.trainer import figures
from streams.figures import MODEL_FIGURES

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(store: StoreDep) -> Response:
    try:
        ok = await store.ping()
    except (RedisError, OSError):
        ok = False
    body = Health(status="ok" if ok else "degraded", redis=ok)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response)
async def metrics(store: StoreDep) -> Response:
    try:
        meta = await store.model_meta()
    except (RedisError, OSError):
        meta = None  # the API's own figures still answer; the model's are left as they were
    if meta is not None:
        MODEL_FIGURES.figures = figures(meta)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
