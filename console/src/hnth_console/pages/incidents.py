"""Open incidents and the periodic inspections, overdue first; the IT department plans an
inspection (date and time, the endpoints visited, the line provider or not) or calls it off
on its own page, and inspection tells the parties."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from hnth_console import views
from hnth_console.backends import BackendError
from hnth_console.deps import Services, Session, page
from hnth_console.reads import meetings_between, optional
from hnth_console.render import render, see_other

router = APIRouter()
Allowed = Annotated[Session, Depends(page("incidents"))]
Planner = Annotated[Session, Depends(page("inspection_plan"))]
REFUSED = (400, 404, 409, 422)
AFFECTED_AHEAD = timedelta(days=2)
"""How far ahead an open incident's page names the meetings at its endpoint."""


@router.get("/incidents", response_class=HTMLResponse, summary="Sự cố và kiểm tra định kỳ")
async def incidents(
    request: Request, s: Allowed, backends: Services, done: str | None = None
) -> HTMLResponse:
    now = datetime.now(UTC)
    opened, tasks, coming = await asyncio.gather(
        backends.get("inspection", "/incidents", s.token, s.lang, state="open"),
        backends.get("inspection", "/inspections", s.token, s.lang),
        optional(meetings_between(backends, s, now, now + AFFECTED_AHEAD)),
    )
    late, later = views.overdue(views.with_joint_plans(tasks), now)
    live = [m for m in coming or [] if m.get("status") not in ("cancelled", "rejected")]
    affected = {
        str(i.get("id")): [m for m in live if i.get("endpoint") in views.endpoints_of(m)]
        for i in opened
    }
    return render(
        request,
        s,
        "incidents.html",
        opened=opened,
        affected=affected,
        late=late,
        later=later,
        done=done,
    )


def plan_body(form: dict[str, str], s: Session) -> dict[str, Any]:
    """Inspection's plan from the form: the day and time in the province's zone, the
    endpoint codes as typed (commas, semicolons or spaces between them; the directory's
    codes are upper case)."""
    day, time = form.get("day", "").strip(), form.get("time", "").strip()
    try:
        at = views.typed_time(f"{day} {time}", s.zone)
    except ValueError as exc:
        raise ValueError(f"{s.t('planned_at')}: {s.t('start_format')}") from exc
    return {
        "planned_at": at.isoformat(),
        "endpoints": [c.upper() for c in re.split(r"[,;\s]+", form.get("endpoints", "")) if c],
        "with_line_provider": form.get("with_line_provider") == "on",
    }


def _path(task_id: str, tail: str = "") -> str:
    return f"/inspections/{quote(task_id, safe='')}{tail}"


@router.get("/inspections/{task_id}", response_class=HTMLResponse, summary="Kế hoạch kiểm tra")
async def plan(request: Request, task_id: str, s: Planner, backends: Services) -> HTMLResponse:
    return await plan_page(request, task_id, s, backends)


async def plan_page(
    request: Request,
    task_id: str,
    s: Session,
    backends: Services,
    form: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    task = await backends.get("inspection", _path(task_id), s.token, s.lang)
    plan = task.get("plan") or {}
    at = views.parse_time(plan.get("planned_at"))
    shown = form or {
        "day": at.astimezone(s.zone).strftime("%Y-%m-%d") if at else "",
        "time": at.astimezone(s.zone).strftime("%H:%M") if at else "08:00",
        "endpoints": ", ".join(plan.get("endpoints") or [task["endpoint"]]),
        "with_line_provider": "on" if task.get("with_line_provider") else "",
    }
    return render(
        request,
        s,
        "inspection_plan.html",
        status,
        task=task,
        plan=plan,
        form=shown,
        errors=errors or [],
    )


@router.post("/inspections/{task_id}/plan", response_class=HTMLResponse, include_in_schema=False)
async def save_plan(request: Request, task_id: str, s: Planner, backends: Services) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf"}
    try:
        body = plan_body(form, s)
        await backends.request(
            "PUT", "inspection", _path(task_id, "/plan"), s.token, s.lang, json=body
        )
    except ValueError as exc:
        return await plan_page(request, task_id, s, backends, form, [str(exc)], 422)
    except BackendError as exc:
        if exc.status not in REFUSED:
            raise
        return await plan_page(request, task_id, s, backends, form, _messages(exc), exc.status)
    return see_other("/incidents", done="planned")


@router.post("/inspections/{task_id}/cancel", response_class=HTMLResponse, include_in_schema=False)
async def cancel(request: Request, task_id: str, s: Planner, backends: Services) -> Response:
    reason = str((await request.form()).get("reason", "")).strip()
    try:
        await backends.request(
            "POST",
            "inspection",
            _path(task_id, "/cancel"),
            s.token,
            s.lang,
            json={"reason": reason},
        )
    except BackendError as exc:
        if exc.status not in REFUSED:
            raise
        return await plan_page(request, task_id, s, backends, None, _messages(exc), exc.status)
    return see_other("/incidents", done="cancelled")


def _messages(exc: BackendError) -> list[str]:
    """A refusal as sentences, each broken rule with its source."""
    found = []
    for error in exc.errors:
        source = f" ({error['source']})" if error.get("source") else ""
        found.append(f"{error.get('message') or error.get('rule')}{source}")
    return found or [exc.message]
