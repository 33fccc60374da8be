"""Notification's HTTP routes: a meeting's notice history, and the acknowledgement link."""

import html
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hnth_kit.auth import Principal, Role, require
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
        "resend_of": n.get("resend_of"),
        "resent_by": n.get("resent_by"),
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


REFUSALS = {
    domain.ResendRefusal.STILL_PENDING: (
        "Thông báo đang được gửi; chờ kết quả trước khi gửi lại.",
        "The notice is still being delivered; wait for its outcome before resending.",
    ),
    domain.ResendRefusal.MEETING_CANCELLED: (
        "Cuộc họp đã bị hủy: không gửi lại thông báo mời hoặc nhắc họp.",
        "The meeting is cancelled: its invitation or reminders are not sent again.",
    ),
}


def build_router(
    store: NotificationStore,
    authenticate: Any,
    clock: Clock,
    ack_secret: bytes,
    wake: Callable[[], None] = lambda: None,
) -> APIRouter:
    router = APIRouter(tags=["notices"])
    operator = require(authenticate, Role.OPERATOR)

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

    @router.post(
        "/notices/{notice_id:path}/resend",
        status_code=202,
        summary="Gửi lại một thông báo / resend a notice (Sở TT&TT)",
    )
    async def resend(
        notice_id: str,
        request: Request,
        who: Annotated[Principal, Depends(operator)],
        idempotency_key: Annotated[str, Header(description="One per resend request")] = "",
    ) -> dict[str, Any]:
        """A fresh delivery of the same notice to the same recipient over the same channel,
        as a notice of its own (cause: this notice and the request's Idempotency-Key): a retried
        request sends once, a new request sends again. A cancelled meeting's invitation
        or reminders are refused; its cancellation may be resent."""
        if not domain.valid_resend_key(idempotency_key):
            raise HTTPException(
                status_code=400,
                detail=problem(
                    request,
                    "idempotency_key_required",
                    "Cần header Idempotency-Key (8-100 ký tự chữ, số, '-', '_', '.').",
                    "An Idempotency-Key header is required (8-100 letters, digits, '-', '_', '.').",
                ),
            )
        original = await store.notice(notice_id)
        if original is None or original["tenant"] != who.tenant:
            raise HTTPException(
                status_code=404,
                detail=problem(
                    request,
                    "unknown_notice",
                    "Không có thông báo này.",
                    "There is no such notice.",
                ),
            )
        cause = domain.resend_cause(who.tenant, notice_id, idempotency_key)
        repeated = await store.notice(f"{cause}|{original['recipient']}|{original['channel']}")
        if repeated is None:
            meeting_id = original.get("meeting_id")
            cancelled = bool(meeting_id) and await store.cancelled(who.tenant, meeting_id)
            refusal = domain.resend_refusal(original["status"], original["kind"], cancelled)
            if refusal is not None:
                vi, en = REFUSALS[refusal]
                raise HTTPException(status_code=409, detail=problem(request, refusal.value, vi, en))
        notice, _ = await store.add_resend(original, cause, who.subject, clock.now())
        wake()
        return notice_view(notice)

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
