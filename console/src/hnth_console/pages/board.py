"""The readiness board: today's and tomorrow's meetings, each endpoint's check coloured,
an endpoint's open incident on its tile (a technician reports it from a phone) and, on a
tile in trouble, its technician's phone; above them, what wants the duty officer now
(notices not acknowledged or failed, open incidents, meetings waiting for approval).
The page asks for its rows again (`/board/live`, htmx) every `board_refresh_seconds`;
without script, a reload shows the same. For the IT department, a meeting in its last hour
with a failing endpoint that has a backup offers the switch (on the meeting's page: the
board refreshes under a reason being typed)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hnth_console import meeting_views, views
from hnth_console.backends import BackendError, Backends
from hnth_console.deps import Services, Session, Settings, page, warn_of
from hnth_console.pages.meetings import meeting_names, switch_window
from hnth_console.reads import directory, meetings_between, per_meeting
from hnth_console.render import render

router = APIRouter()
Allowed = Annotated[Session, Depends(page("board"))]


@router.get("/board", response_class=HTMLResponse, summary="Bảng sẵn sàng / readiness board")
async def board(
    request: Request, s: Allowed, backends: Services, settings: Settings
) -> HTMLResponse:
    rows = await board_now(request, s, backends)
    return render(request, s, "board.html", refresh=settings.board_refresh_seconds, **rows)


@router.get(
    "/board/live",
    response_class=HTMLResponse,
    summary="Các dòng của bảng sẵn sàng / the board's rows (for htmx)",
)
async def board_live(
    request: Request, s: Allowed, backends: Services, settings: Settings
) -> HTMLResponse:
    rows = await board_now(request, s, backends)
    return render(request, s, "_board_live.html", refresh=settings.board_refresh_seconds, **rows)


async def board_now(request: Request, s: Session, backends: Backends) -> dict[str, Any]:
    """The board's rows now: today's and tomorrow's meetings that still take place."""
    now = datetime.now(UTC)
    start, end, _ = views.period("day", now.astimezone(s.zone).date(), s.zone)
    found = await meetings_between(backends, s, start, end + timedelta(days=1))
    meetings = [m for m in found if m.get("status") != "cancelled"]
    boards, notices, opened, endpoints = await asyncio.gather(
        per_meeting(backends, s, "inspection", "/meetings/{}/readiness", meetings),
        # None for a role that may not read notices: the rows then say nothing of them
        per_meeting(backends, s, "notification", "/meetings/{}/notices", meetings),
        open_incidents(backends, s),
        directory(backends, s),
    )
    readiness = {m["id"]: b or [] for m, b in zip(meetings, boards, strict=True)}
    rows = views.board_rows(meetings, readiness, now, warn_of(request))
    for row, listed in zip(rows, notices, strict=True):
        wanting = views.unacknowledged(listed or [])
        failed = sum(1 for n in wanting if n.get("status") == "failed")
        row.update(notices_waiting=len(wanting) - failed, notices_failed=failed)
    # the list does not carry a refusal's reasons: read them for the (few) refused meetings
    refused = [row["meeting"] for row in rows if row["meeting"].get("status") == "rejected"]
    wholes = await per_meeting(backends, s, "registration", "/meetings/{}", refused)
    for meeting, whole in zip(refused, wholes, strict=True):
        meeting["rejected_because"] = meeting_views.rejection_words(whole or {}, s.lang)
    # the meetings in the way, by their titles (the words name them by id)
    titles = await meeting_names(
        s, backends, views.meeting_ids(*(m["rejected_because"] for m in refused))
    )
    held: list[dict[str, Any]] = []
    if s.may("arrange_meeting"):
        await offer_backups(request, s, backends, rows, now)
        held = await waiting_for_approval(backends, s, now)
    return {
        "rows": rows,
        "titles": titles,
        "held": held,
        "incidents": views.incidents_by_endpoint(opened),
        "names": {str(e["code"]): str(e.get("name") or "") for e in endpoints},
        "technicians": {str(e["code"]): e.get("technician") or {} for e in endpoints},
        # the duty room's line (a clerk's board is their meetings' rows)
        "attention": None
        if not s.may("notices")
        else views.attention(
            {
                "failed": sum(row["notices_failed"] for row in rows),
                "waiting": sum(row["notices_waiting"] for row in rows),
                "incidents": len(opened),
                "held": len(held),
            },
            s.t,
            s.may,
        ),
        "now": now,
    }


async def waiting_for_approval(backends: Backends, s: Session, now: datetime) -> list[Any]:
    """The meetings held for the IT department's approval, soonest first (registration's
    order), whatever their day (a hold lapses when nobody decides in time:
    `schedule.hold_deadline`)."""
    found = await backends.get(
        "registration",
        "/meetings",
        s.token,
        s.lang,
        status="held",
        **{"from": now.isoformat()},
        limit=200,
    )
    held: list[Any] = found["items"]
    return held


async def open_incidents(backends: Backends, s: Session) -> list[dict[str, Any]]:
    """The open incidents the person may see; none when inspection does not answer (the
    board's checks still show: it is the duty room's screen, an error page helps nobody)."""
    try:
        found: list[dict[str, Any]] = await backends.get(
            "inspection", "/incidents", s.token, s.lang, state="open"
        )
    except BackendError as exc:
        if exc.status in (401, 403):
            raise
        return []
    return found


async def offer_backups(
    request: Request, s: Session, backends: Backends, rows: list[dict[str, Any]], now: datetime
) -> None:
    """Each row's backup offers (`offers`), as the meeting's page makes them; the directory
    is read only when a meeting is in its switch window."""
    window = switch_window(request, s)
    starts = [views.parse_time(row["meeting"].get("start")) for row in rows]
    if not any(meeting_views.in_switch_window(start, now, window) for start in starts):
        return
    endpoints = await directory(backends, s)
    for row, start in zip(rows, starts, strict=True):
        row["offers"] = meeting_views.switchable(start, now, window, row["checks"], endpoints)
