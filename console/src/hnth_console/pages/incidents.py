"""Open incidents and the periodic inspections, overdue first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hnth_console import views
from hnth_console.deps import Services, Session, page
from hnth_console.render import render

router = APIRouter()
Allowed = Annotated[Session, Depends(page("incidents"))]


@router.get("/incidents", response_class=HTMLResponse, summary="Sự cố và kiểm tra định kỳ")
async def incidents(request: Request, s: Allowed, backends: Services) -> HTMLResponse:
    opened, tasks = await asyncio.gather(
        backends.get("inspection", "/incidents", s.token, s.lang, state="open"),
        backends.get("inspection", "/inspections", s.token, s.lang),
    )
    late, later = views.overdue(tasks, datetime.now(UTC))
    return render(request, s, "incidents.html", opened=opened, late=late, later=later)
