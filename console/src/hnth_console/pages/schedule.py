"""The schedule: a day or a week of meetings, by endpoint or bridge."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hnth_console import views
from hnth_console.deps import Services, Session, page, policy_of
from hnth_console.reads import directory, meetings_between
from hnth_console.render import render

router = APIRouter()
Allowed = Annotated[Session, Depends(page("schedule"))]


@router.get("/schedule", response_class=HTMLResponse, summary="Lịch họp / schedule")
async def schedule(
    request: Request,
    s: Allowed,
    backends: Services,
    view: str = "week",
    day: date | None = None,
    endpoint: str | None = None,
    bridge: str | None = None,
) -> HTMLResponse:
    view = "day" if view == "day" else "week"
    today = datetime.now(UTC).astimezone(s.zone).date()
    start, end, days = views.period(view, day or today, s.zone)
    meetings, endpoints, units = await asyncio.gather(
        meetings_between(backends, s, start, end, endpoint),
        directory(backends, s),
        directory(backends, s, "units"),
    )
    step = timedelta(days=1 if view == "day" else 7)
    bridges = [b.name for b in policy_of(request, s.who.tenant).all_bridges]
    shown = views.on_bridge(meetings, bridge) if bridge else meetings
    return render(
        request,
        s,
        "schedule.html",
        view=view,
        days=views.by_day(shown, days, s.zone),
        previous=days[0] - step,
        following=days[0] + step,
        endpoint=endpoint or "",
        endpoints=endpoints,
        bridge=bridge or "",
        bridges=bridges,
        unit_names={str(u.get("code")): str(u.get("name") or u.get("code")) for u in units},
    )
