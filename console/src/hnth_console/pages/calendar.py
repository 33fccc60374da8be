"""The schedule as a calendar: a week or a day of meetings as blocks on a row per
endpoint or per bridge (the list at /schedule stays, for printing)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hnth_console import calendar_grid, views
from hnth_console.backends import BackendError, Backends
from hnth_console.deps import Services, Session, page, policy_of
from hnth_console.reads import directory, meetings_between
from hnth_console.render import render
from hnth_kit.auth import Role

router = APIRouter()
Allowed = Annotated[Session, Depends(page("calendar"))]
WEEK_MIN_WIDTH = 45.0
"""A block in a week's narrow day cell is drawn at least this wide (percent): its times
stay readable; a day's cell draws each block exactly as long as its meeting."""


@router.get("/calendar", response_class=HTMLResponse, summary="Lịch dạng lưới / calendar")
async def calendar(
    request: Request,
    s: Allowed,
    backends: Services,
    view: Literal["week", "day"] = "week",
    rows: Literal["endpoint", "bridge"] = "endpoint",
    day: date | None = None,
    every: bool = False,
) -> HTMLResponse:
    """`every`: every endpoint's row, for a clerk (who otherwise sees the rows of their
    unit's endpoints and of those that meet in the period: a province has hundreds)."""
    today = datetime.now(UTC).astimezone(s.zone).date()
    start, end, days = views.period(view, day or today, s.zone)
    found, endpoints = await asyncio.gather(
        meetings_between(backends, s, start, end), directory(backends, s)
    )
    if rows == "endpoint":
        resources = [(str(e["code"]), f"{e['code']} · {e.get('name', '')}") for e in endpoints]
    else:
        bridges = policy_of(request, s.who.tenant).all_bridges
        resources = [(b.name, f"{b.name} ({b.ports} {s.t('ports')})") for b in bridges]
    shown = rows_shown(s, rows, every, found, endpoints)
    if rows == "endpoint" and s.who.role == Role.REGISTRAR:
        # the clerk's rows held by meetings they may not read: busy, without a title
        codes = shown if shown is not None else [str(e["code"]) for e in endpoints]
        found = [*found, *await busy_elsewhere(backends, s, codes, start, end, found)]
    hours = calendar_grid.visible_hours(found, days, s.zone)

    step = timedelta(days=1 if view == "day" else 7)
    return render(
        request,
        s,
        "calendar.html",
        view=view,
        rows_by=rows,
        day=days[0],
        days=days,
        today=today,
        hours=hours,
        marks=calendar_grid.hour_marks(hours, 1 if view == "day" else 3),
        grid=calendar_grid.grid(
            found,
            rows,
            resources,
            days,
            s.zone,
            hours,
            0.0 if view == "day" else WEEK_MIN_WIDTH,
            only=shown,
        ),
        narrowed=rows == "endpoint" and s.who.role == Role.REGISTRAR,
        every=every,
        previous=days[0] - step,
        following=days[0] + step,
        no_bridge=calendar_grid.NO_BRIDGE,
        # a clerk's view: another unit's meeting at one of their endpoints, drawn apart
        guest_of=s.is_guest_at,
        keys={
            "guest": any(s.is_guest_at(m) and m.get("status") != "busy" for m in found),
            "busy": any(m.get("status") == "busy" for m in found),
        },
    )


async def busy_elsewhere(
    backends: Backends,
    s: Session,
    codes: Collection[str],
    start: datetime,
    end: datetime,
    seen: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The times scheduling says the endpoints are held by a meeting this person does not
    see (another unit's), each as a block "busy" with no title or link: a row that looks
    free would be refused."""
    if not codes:
        return []
    try:
        answer = await backends.get(
            "scheduling",
            "/busy",
            s.token,
            s.lang,
            endpoints=",".join(sorted(codes)),
            **{"from": start.isoformat(), "to": end.isoformat()},
        )
    except BackendError:
        return []  # the calendar shows what registration gives
    known = {
        (code, views.parse_time(m.get("start")), views.parse_time(m.get("end")))
        for m in seen
        for code in views.endpoints_of(m)
    }
    return [
        {
            "id": "",
            "title": s.t("busy_other_unit"),
            "status": "busy",
            "start": b["start"],
            "end": b["end"],
            "endpoints": [b["endpoint"]],
        }
        for b in answer.get("busy") or []
        if (b["endpoint"], views.parse_time(b["start"]), views.parse_time(b["end"])) not in known
    ]


def rows_shown(
    s: Session, rows: str, every: bool, meetings: list[dict[str, Any]], endpoints: list[Any]
) -> Collection[str] | None:
    """The endpoint rows a person sees (None: all): a technician's own endpoints (a phone
    has room for little else); a clerk's unit's endpoints and those meeting in the period,
    unless they ask for `every` one."""
    if rows != "endpoint":
        return None
    if s.may("my_work"):
        return s.who.endpoints
    if s.who.role != Role.REGISTRAR or every:
        return None
    own = {str(e["code"]) for e in endpoints if s.who.unit and e.get("unit") == s.who.unit}
    return own | {str(code) for m in meetings for code in m.get("endpoints") or []}
