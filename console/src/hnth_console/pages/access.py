"""Access to a meeting's materials: whoever may not read them asks the IT department
(with the reason), and the IT department grants or refuses each request on the meeting's
page (registration's `/meetings/{id}/access-requests`)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from hnth_console.backends import BackendError
from hnth_console.deps import Services, Session, page
from hnth_console.pages.meetings import Reader, meeting_page
from hnth_console.render import see_other

router = APIRouter()
Decider = Annotated[Session, Depends(page("material_access"))]
VERDICTS = ("grant", "refuse")


def _path(meeting_id: str, tail: str = "") -> str:
    return f"/meetings/{quote(meeting_id)}{tail}"


async def _send(
    request: Request,
    meeting_id: str,
    s: Session,
    backends: Services,
    path: str,
    body: dict[str, Any],
) -> Response | None:
    """Registration's answer: None when done, the page with its refusal otherwise."""
    try:
        await backends.request("POST", "registration", path, s.token, s.lang, json=body)
    except BackendError as exc:
        if exc.status not in (400, 404, 409, 422):
            raise
        messages = [str(e.get("message")) for e in exc.errors] or [exc.message]
        return await meeting_page(
            request, meeting_id, s, backends, status=exc.status, errors={"access": messages}
        )
    return None


@router.post(
    "/meetings/{meeting_id}/access-requests", response_class=HTMLResponse, include_in_schema=False
)
async def ask(request: Request, meeting_id: str, s: Reader, backends: Services) -> Response:
    reason = str((await request.form()).get("reason") or "").strip()
    if not reason:
        return await meeting_page(
            request,
            meeting_id,
            s,
            backends,
            status=422,
            errors={"access": [s.t("access_reason_needed")]},
        )
    path = _path(meeting_id, "/access-requests")
    refused = await _send(request, meeting_id, s, backends, path, {"reason": reason})
    return refused or see_other(_path(meeting_id), done="access_asked")


@router.post(
    "/meetings/{meeting_id}/access-requests/{request_id}/{verdict}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
async def decide(
    request: Request,
    meeting_id: str,
    request_id: str,
    verdict: str,
    s: Decider,
    backends: Services,
) -> Response:
    if verdict not in VERDICTS:
        return await meeting_page(
            request, meeting_id, s, backends, status=422, errors={"access": [verdict]}
        )
    note = str((await request.form()).get("note") or "").strip() or None
    path = _path(meeting_id, f"/access-requests/{quote(request_id)}/{verdict}")
    refused = await _send(request, meeting_id, s, backends, path, {"note": note})
    return refused or see_other(_path(meeting_id), done="access_decided")
