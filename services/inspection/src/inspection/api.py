"""Inspection's HTTP routes: a meeting's readiness board."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from hnth_kit.auth import Principal
from inspection.store import InspectionStore


def build_router(store: InspectionStore, authenticate: Any) -> APIRouter:
    router = APIRouter(tags=["readiness"])

    @router.get("/meetings/{meeting_id}/readiness", summary="Sẵn sàng của các điểm cầu / readiness")
    async def readiness(
        meeting_id: str, who: Annotated[Principal, Depends(authenticate)]
    ) -> list[dict[str, Any]]:
        return [
            {k: c[k] for k in ("endpoint", "state", "due_at", "checked_by", "checked_at", "items")}
            for c in await store.for_meeting(meeting_id, who.tenant)
        ]

    return router
