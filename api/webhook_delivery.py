"""(to be written: the webhook delivery loop)"""

from __future__ import annotations

from fastapi import FastAPI


async def run_deliveries(app: FastAPI) -> None:
    """Deliver webhooks until cancelled."""
