"""The acknowledgement link: a page that shows the notice, and the POST that confirms it."""

from __future__ import annotations

import html
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hnth_kit.http import LENIENT
from hnth_kit.mongo import Document
from notification import content
from notification.http.deps import UseCases

router = APIRouter(tags=["notices"])


@router.get(
    "/ack/{token}",
    summary="Trang xác nhận đã nhận thông báo / the acknowledgement page (changes nothing)",
    response_model=None,
    openapi_extra={LENIENT: True},  # the link in an e-mail
)
async def ack_page(token: str, request: Request, use: UseCases) -> Response:
    """Shows the notice and a button that POSTs to this URL. A GET changes nothing:
    mail scanners and link previews fetch links nobody clicked."""
    notice = await use.acknowledgement(token, record=False)
    return _render(notice, request, use.policy_for(notice["tenant"]).timezone)


@router.post(
    "/ack/{token}",
    summary="Xác nhận đã nhận thông báo / acknowledge a notice (the signed link is the proof)",
    response_model=None,
    openapi_extra={LENIENT: True},
)
async def acknowledge(token: str, request: Request, use: UseCases) -> Response:
    """Records the first acknowledgement; a repeated POST keeps the first time."""
    notice = await use.acknowledgement(token, record=True)
    return _render(notice, request, use.policy_for(notice["tenant"]).timezone)


def _render(notice: Document, request: Request, tz: str) -> Response:
    """As JSON or, for a browser, as the bilingual page."""
    at = notice.get("acknowledged_at")
    body = {
        "notice": notice["_id"],
        "kind": notice["kind"],
        "meeting_id": notice.get("meeting_id"),
        "acknowledged_at": at.isoformat() if at else None,
        # a newer notice replaces this one: the token of its acknowledgement link
        "newer_token": notice.get("newer_token"),
    }
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(body)
    return HTMLResponse(_ack_page(notice, tz))


KIND_WORDS = {
    "meeting_notice": ("Thông báo lịch họp trực tuyến", "Video-conference meeting notice"),
    "meeting_changed": ("Thông báo thay đổi cuộc họp", "Meeting change notice"),
    "meeting_cancelled": ("Thông báo hủy cuộc họp", "Meeting cancellation"),
    "meeting_rejected": ("Thông báo chưa xếp được lịch", "Meeting not scheduled"),
    "reminder_meeting": ("Nhắc lịch họp", "Meeting reminder"),
    "reminder_check": ("Nhắc kiểm tra điểm cầu", "Endpoint check reminder"),
    "check_alert": ("Cảnh báo kiểm tra điểm cầu", "Endpoint check alert"),
    "report_request": ("Đề nghị gửi báo cáo", "Report request"),
    "report_reminder": ("Nhắc gửi báo cáo", "Report reminder"),
    "escalation": ("Báo trực kỹ thuật", "Duty escalation"),
    "inspection_planned": ("Kế hoạch kiểm tra điểm cầu", "Planned inspection"),
    "inspection_cancelled": ("Hủy kiểm tra điểm cầu", "Inspection cancelled"),
    "technician_list": ("Danh sách kỹ thuật viên", "Technician list"),
    "access_link": ("Đường dẫn đăng nhập", "Sign-in link"),
}
"""A notice's kind as its reader names it (the page is opened from a phone as often)."""

DROPPED = ("endpoint_removed", "replaced_by_backup")
"""Why an endpoint's own cancellation came (the meeting goes on without it), not a
reason to quote."""

STYLE = (
    "body{font:1.05rem/1.5 system-ui,sans-serif;margin:0 auto;max-width:40rem;padding:1rem}"
    "h1{font-size:1.3rem}.en{color:#555}button{font-size:1.1rem;padding:.8rem 1.2rem;"
    "width:100%;border-radius:.4rem;border:0;background:#0b5394;color:#fff}"
    ".done{background:#e6f4ea;padding:.8rem;border-radius:.4rem}"
    ".replaced{background:#fdecea;padding:.8rem;border-radius:.4rem}"
    ".newer{display:block;font-size:1.1rem;padding:.8rem;text-align:center;border-radius:.4rem;"
    "background:#0b5394;color:#fff}"
)


def _ack_page(notice: Document, tz: str) -> str:
    """Both languages on one page (the link does not say which the reader prefers), for a
    phone as for a desk: what the notice is (kind, meeting, opening in the province's time,
    the reader's endpoint), and either the button that confirms it or when it was."""
    data = notice.get("data") or {}
    vi_kind, en_kind = KIND_WORDS.get(notice["kind"], (notice["kind"], notice["kind"]))
    lines = [f"<p><strong>{html.escape(vi_kind)}</strong> <span class=en>/ {en_kind}</span></p>"]
    if data.get("title"):
        lines.append(f"<p>{html.escape(str(data['title']))}</p>")
    start = data.get("start")
    if isinstance(start, datetime):
        vi, en = (html.escape(content.local_time(start, lang, tz)) for lang in ("vi", "en"))
        lines.append(f"<p>Khai mạc: {vi}<br><span class=en>Opens: {en}</span></p>")
    reason = data.get("reason")
    if notice["kind"] == "meeting_cancelled" and reason not in (None, "", *DROPPED):
        said = html.escape(str(reason))
        told_en = html.escape(str(data.get("reason_en") or reason))
        lines.append(f"<p>Lý do: {said}<br><span class=en>Reason: {told_en}</span></p>")
    prefix, _, endpoint = str(notice.get("recipient", "")).partition(":")
    if prefix == "technician" and endpoint:
        lines.append(f"<p>Điểm cầu / endpoint: {html.escape(endpoint)}</p>")
    at = notice.get("acknowledged_at")
    if notice.get("newer_token"):
        lines.append(
            "<p class=replaced>Thông báo này đã được thay bằng thông báo mới hơn (cuộc họp đã "
            "thay đổi hoặc bị hủy).<br><span class=en>A newer notice replaces this one (the "
            "meeting changed or was cancelled).</span></p>"
            f'<p><a class=newer href="{html.escape(str(notice["newer_token"]))}">Xem thông báo '
            "mới nhất / Read the latest notice</a></p>"
        )
    elif at is None:
        lines.append(
            "<form method=post><button type=submit>"
            "Xác nhận đã nhận thông báo / Confirm that I have read this notice"
            "</button></form>"
        )
    else:
        vi = html.escape(content.local_time(at, "vi", tz))
        en = html.escape(content.local_time(at, "en", tz))
        lines.append(f"<p class=done>Đã xác nhận lúc {vi}.<br>Confirmed at {en}.</p>")
    return (
        "<!doctype html><html lang=vi><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>Xác nhận thông báo / Confirm a notice</title><style>{STYLE}</style>"
        "<h1>Xác nhận thông báo <span class=en>/ Confirm a notice</span></h1>"
        f"{''.join(lines)}</html>"
    )
