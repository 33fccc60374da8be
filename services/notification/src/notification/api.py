"""Notification's HTTP routes: a meeting's notice history, and the acknowledgement link."""

import html
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hnth_kit.auth import Principal, Role
from hnth_kit.clock import Clock
from hnth_kit.errors import problem, wants_english
from hnth_kit.mongo import Document
from notification import domain
from notification.store import NotificationStore


def notice_view(n: Document) -> dict[str, Any]:
    """One line of a meeting's notice history: who, what, why, when sent, when acknowledged."""
    return {
        "id": n["_id"],
        "recipient": n["recipient"],
        "role": n["role"],
        "channel": n["channel"],
        "kind": n["kind"],
        "cause": n["cause"],
        "status": n["status"],
        "address": n.get("address"),
        "attempts": n.get("attempts", 0),
        "reason": n.get("failure_reason") or n.get("last_error"),
        "rule": n.get("rule"),
        "created_at": n.get("created_at"),
        "sent_at": n.get("sent_at"),
        "acknowledged_at": n.get("acknowledged_at"),
    }


def _may_see(who: Principal, meeting: domain.Meeting | None, notices: list[Document]) -> bool:
    """Sở TT&TT and viewers see everything; a host unit its meetings; a technician the
    meetings its endpoint takes part in."""
    if who.role in (Role.OPERATOR, Role.VIEWER):
        return True
    if who.role is Role.REGISTRAR:
        host = f"unit:{who.unit}"
        return (meeting is not None and meeting.host_unit == who.unit) or any(
            n["recipient"] == host for n in notices
        )
    return meeting is not None and who.endpoint in meeting.endpoints


def build_router(
    store: NotificationStore, authenticate: Any, clock: Clock, ack_secret: bytes
) -> APIRouter:
    router = APIRouter(tags=["notices"])

    @router.get(
        "/meetings/{meeting_id}/notices",
        summary="Lịch sử thông báo của cuộc họp / a meeting's notices",
    )
    async def notices(
        meeting_id: str, request: Request, who: Annotated[Principal, Depends(authenticate)]
    ) -> list[dict[str, Any]]:
        found = await store.for_meeting(meeting_id, who.tenant)
        meeting = await store.meeting(who.tenant, meeting_id)
        if not _may_see(who, meeting, found):
            raise HTTPException(
                status_code=403,
                detail=problem(
                    request,
                    "forbidden",
                    "Không có quyền xem thông báo của cuộc họp này.",
                    "You may not see this meeting's notices.",
                ),
            )
        return [notice_view(n) for n in found]

    @router.get(
        "/ack/{token}",
        summary="Xác nhận đã nhận thông báo / acknowledge a notice (the signed link is the proof)",
        response_model=None,
    )
    async def acknowledge(token: str, request: Request) -> Response:
        notice_id = domain.verify_ack_token(ack_secret, token)
        notice = await store.acknowledge(notice_id, clock.now()) if notice_id else None
        if notice is None:
            return JSONResponse(
                status_code=404,
                content=problem(
                    request,
                    "unknown_acknowledgement",
                    "Đường dẫn xác nhận không hợp lệ.",
                    "This acknowledgement link is not valid.",
                ),
            )
        body = {
            "notice": notice["_id"],
            "kind": notice["kind"],
            "meeting_id": notice.get("meeting_id"),
            "acknowledged_at": notice["acknowledged_at"].isoformat(),
        }
        if "text/html" not in request.headers.get("accept", ""):
            return JSONResponse(body)
        return HTMLResponse(_ack_page(body, wants_english(request)))

    return router


def _ack_page(body: dict[str, Any], english: bool) -> str:
    title = "Thank you: receipt confirmed" if english else "Cảm ơn: đã xác nhận nhận thông báo"
    when = html.escape(body["acknowledged_at"])
    return (
        f"<!doctype html><meta charset=utf-8><title>{title}</title><h1>{title}</h1>"
        f"<p>{html.escape(str(body['meeting_id'] or ''))} · {when}</p>"
    )
