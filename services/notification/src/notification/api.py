"""Notification's HTTP routes: a meeting's notice history, and the acknowledgement link."""

import html
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hnth_kit.auth import Principal, Role, require
from hnth_kit.clock import Clock
from hnth_kit.errors import problem
from hnth_kit.mongo import Document
from notification import content
from notification.domain import meetings, resends, signing
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


def _may_see(who: Principal, meeting: meetings.Meeting | None, notices: list[Document]) -> bool:
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
    resends.ResendRefusal.STILL_PENDING: (
        "Thông báo đang được gửi; chờ kết quả trước khi gửi lại.",
        "The notice is still being delivered; wait for its outcome before resending.",
    ),
    resends.ResendRefusal.MEETING_CANCELLED: (
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
    timezone_for: Callable[[str], str] = lambda _: "Asia/Ho_Chi_Minh",
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
        if not resends.valid_resend_key(idempotency_key):
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
        cause = resends.resend_cause(who.tenant, notice_id, idempotency_key)
        repeated = await store.notice(f"{cause}|{original['recipient']}|{original['channel']}")
        if repeated is None:
            meeting_id = original.get("meeting_id")
            cancelled = bool(meeting_id) and await store.cancelled(who.tenant, meeting_id)
            refusal = resends.resend_refusal(original["status"], original["kind"], cancelled)
            if refusal is not None:
                vi, en = REFUSALS[refusal]
                raise HTTPException(status_code=409, detail=problem(request, refusal.value, vi, en))
        notice, _ = await store.add_resend(original, cause, who.subject, clock.now())
        wake()
        return notice_view(notice)

    async def acknowledged(token: str, request: Request, record: bool) -> Response:
        """The notice a valid link names (acknowledged first when `record`), as JSON or,
        for a browser, as the bilingual page; 404 for a link that is not ours."""
        notice_id = signing.verify_ack_token(ack_secret, token)
        if notice_id is None:
            notice = None
        elif record:
            notice = await store.acknowledge(notice_id, clock.now())
        else:
            notice = await store.notice(notice_id)
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
        at = notice.get("acknowledged_at")
        body = {
            "notice": notice["_id"],
            "kind": notice["kind"],
            "meeting_id": notice.get("meeting_id"),
            "acknowledged_at": at.isoformat() if at else None,
        }
        if "text/html" not in request.headers.get("accept", ""):
            return JSONResponse(body)
        tz = timezone_for(notice["tenant"])
        return HTMLResponse(_ack_page(notice, tz))

    @router.get(
        "/ack/{token}",
        summary="Trang xác nhận đã nhận thông báo / the acknowledgement page (changes nothing)",
        response_model=None,
    )
    async def ack_page(token: str, request: Request) -> Response:
        """Shows the notice and a button that POSTs to this URL. A GET changes nothing:
        mail scanners and link previews fetch links nobody clicked."""
        return await acknowledged(token, request, record=False)

    @router.post(
        "/ack/{token}",
        summary="Xác nhận đã nhận thông báo / acknowledge a notice (the signed link is the proof)",
        response_model=None,
    )
    async def acknowledge(token: str, request: Request) -> Response:
        """Records the first acknowledgement; a repeated POST keeps the first time."""
        return await acknowledged(token, request, record=True)

    return router


def _ack_page(notice: Document, tz: str) -> str:
    """Both languages on one page (the link does not say which the reader prefers): what
    the notice is, and either the button that confirms it or when it was confirmed."""
    data = notice.get("data") or {}
    what = html.escape(str(data.get("title") or notice.get("meeting_id") or notice["kind"]))
    at = notice.get("acknowledged_at")
    if at is None:
        action = (
            "<form method=post><button type=submit>"
            "Xác nhận đã nhận thông báo / Confirm that I have read this notice"
            "</button></form>"
        )
    else:
        vi = html.escape(content.local_time(at, "vi", tz))
        en = html.escape(content.local_time(at, "en", tz))
        action = f"<p>Đã xác nhận lúc {vi}.<br>Confirmed at {en}.</p>"
    return (
        "<!doctype html><html lang=vi><meta charset=utf-8>"
        "<title>Xác nhận thông báo / Confirm a notice</title>"
        "<h1>Xác nhận thông báo / Confirm a notice</h1>"
        f"<p>{what} · {html.escape(notice['kind'])}</p>{action}</html>"
    )
