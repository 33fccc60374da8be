"""Notification's HTTP routes: a meeting's notices."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from hnth_kit.auth import Principal
from notification.store import NotificationStore


def build_router(store: NotificationStore, authenticate: Any) -> APIRouter:
    router = APIRouter(tags=["notices"])

    @router.get("/meetings/{meeting_id}/notices", summary="Thông báo của cuộc họp / notices")
    async def notices(
        meeting_id: str, who: Annotated[Principal, Depends(authenticate)]
    ) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in n.items() if k not in ("_id", "tenant")}
            for n in await store.for_meeting(meeting_id, who.tenant)
        ]

    return router
