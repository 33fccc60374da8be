"""`/healthz` (the process is alive) and `/readyz` (its broker and database answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

Probe = Callable[[], Awaitable[object]]


def health_router(probes: Mapping[str, Probe], timeout: float = 3.0) -> APIRouter:
    """Routes that need no token; `probes` are named async checks that raise when down."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Tiến trình còn chạy / process alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Kafka và MongoDB sẵn sàng / broker and database answer")
    async def readyz() -> JSONResponse:
        async def run(probe: Probe) -> str:
            try:
                await asyncio.wait_for(probe(), timeout)
                return "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                return f"down: {type(exc).__name__}"

        names = list(probes)
        results = await asyncio.gather(*(run(probes[n]) for n in names))
        checks = dict(zip(names, results, strict=True))
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return router
