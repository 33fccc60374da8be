"""The acknowledgement link: a page that shows the notice, and the POST that confirms it."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hnth_kit.mongo import Document
from notification import content
from notification.http.deps import UseCases

router = APIRouter(tags=["notices"])


@router.get(
    "/ack/{token}",
    summary="Trang xác nhận đã nhận thông báo / the acknowledgement page (changes nothing)",
    response_model=None,
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
    }
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(body)
    return HTMLResponse(_ack_page(notice, tz))


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
