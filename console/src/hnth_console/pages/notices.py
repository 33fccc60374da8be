"""Notices nobody has acknowledged yet, and resending one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from hnth_console import meeting_views, views
from hnth_console.backends import BackendError
from hnth_console.deps import Services, Session, page
from hnth_console.reads import directory, meetings_between, optional, per_meeting
from hnth_console.render import error, render, safe_next, see_other

router = APIRouter()
Allowed = Annotated[Session, Depends(page("notices"))]
Resender = Annotated[Session, Depends(page("resend"))]


@router.get("/notices", response_class=HTMLResponse, summary="Thông báo chưa xác nhận")
async def notices(
    request: Request, s: Allowed, backends: Services, resent: str | None = None
) -> HTMLResponse:
    now = datetime.now(UTC)
    soon = (now - timedelta(days=1), now + timedelta(days=14))
    meetings = await meetings_between(backends, s, *soon)
    found, endpoints, units, contacts = await asyncio.gather(
        per_meeting(backends, s, "notification", "/meetings/{}/notices", meetings),
        directory(backends, s),
        directory(backends, s, "units"),
        optional(backends.get("registration", "/contacts", s.token, s.lang)),
    )
    # whom to ring about each: the person and phone the directory gives for the party
    reach = views.parties_to_reach(endpoints, units, contacts or {})
    wanting = [(m, views.unacknowledged(n or [])) for m, n in zip(meetings, found, strict=True)]
    shown = [
        {
            "meeting": m,
            "notices": [
                {
                    **meeting_views.notice_in_words(x, s.zone, s.t),
                    "reach": reach.get(str(x.get("recipient"))),
                }
                for x in listed
            ],
        }
        for m, listed in wanting
        if listed
    ]
    every = [x for _, listed in wanting for x in listed]
    failed = sum(1 for x in every if x.get("status") == "failed")
    counts = {"waiting": len(every) - failed, "failed": failed, "meetings": len(shown)}
    return render(
        request, s, "notices.html", rows=shown, counts=counts, resent=resent, back="/notices"
    )


@router.post("/notices/resend", include_in_schema=False)
async def resend_notice(
    request: Request,
    notice_id: Annotated[str, Form()],
    idempotency_key: Annotated[str, Form()],
    s: Resender,
    backends: Services,
    back: Annotated[str, Form()] = "/notices",
) -> Response:
    """Ask notification to deliver the notice again (the form's key: a double click or
    a browser retry resends once), then show the page it came from with the result."""
    try:
        found = await backends.request(
            "POST",
            "notification",
            f"/notices/{quote(notice_id, safe='')}/resend",
            s.token,
            s.lang,
            headers={"Idempotency-Key": idempotency_key},
        )
    except BackendError as exc:
        if exc.status not in (400, 409):
            raise
        return error(request, s, exc.status, exc.message)
    # the party in words (its address once known), never its key (`power_company`)
    again = found.json()
    party = meeting_views.recipient_words({**again, "recipient": ""}, s.t)
    return see_other(safe_next(back), resent=party or meeting_views.recipient_words(again, s.t))
