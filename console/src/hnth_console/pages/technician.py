"""The endpoint technician's pages, built for a phone first (one column, big touch
targets, no script): "my work" (my endpoints' meetings today and tomorrow with their check
deadlines counting down, my open incidents, my inspections and reports to hand in, the
meetings to rate), the T-1h check form, reporting and resolving an incident, a periodic
inspection's result, the annual report, and a meeting's rating. Every form posts to
inspection with the person's own token; inspection decides whose endpoint it is."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from hnth_console import views
from hnth_console.backends import BackendError, Backends
from hnth_console.deps import Services, Session, page, policy_of, warn_of
from hnth_console.pages import tech_views as tv
from hnth_console.reads import directory, meetings_between, optional, per_meeting
from hnth_console.render import error, render, see_other
from hnth_contracts.policy import Policy
from hnth_contracts.rules import LINE_LIMIT_RULES
from hnth_kit.auth import Role

router = APIRouter()
Technician = Annotated[Session, Depends(page("my_work"))]
Acting = Annotated[Session, Depends(page("tech_forms"))]
DONE = frozenset(
    {
        "incident_reported",
        "incident_resolved",
        "inspection_handed_in",
        "annual_handed_in",
        "rated",
        "acknowledged",
    }
)
"""What /my?done= may say was just done (nothing else shows)."""
REFUSALS = (400, 403, 404, 409, 422)
"""A service's answers that mean "not this" (shown on the form, nothing changed)."""
NOTICES_AHEAD = timedelta(days=15)
"""How far ahead My work looks for notices to acknowledge (they come 2 days ahead or more)."""


def mine(s: Session) -> tuple[str, ...]:
    return s.who.endpoints


async def names(backends: Backends, s: Session) -> dict[str, str]:
    """Endpoint code -> name, as far as this person may read the directory."""
    return {str(e["code"]): str(e.get("name") or "") for e in await directory(backends, s)}


def refusal(exc: BackendError) -> tuple[str, dict[str, str]]:
    """A refusal as the form shows it: a sentence on top, and the reasons by field. A
    failure that is no refusal (the service is down, its own error) is raised again, for
    the error page."""
    if exc.status not in REFUSALS:
        raise exc
    fields = tv.service_errors(exc.errors)
    if fields:
        return "", fields
    return exc.message, {}


def form_of(data: Any) -> dict[str, str]:
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}


async def post(
    backends: Backends, s: Session, method: str, path: str, body: Any, key: str = ""
) -> Any:
    headers = {"Idempotency-Key": key} if key else None
    answer = await backends.request(
        method, "inspection", path, s.token, s.lang, json=body, headers=headers
    )
    return answer.json()


# ------------------------------------------------------------ my work


@router.get("/my", response_class=HTMLResponse, summary="Việc của tôi / my work")
async def my_work(
    request: Request, s: Technician, backends: Services, done: str | None = None
) -> HTMLResponse:
    now = datetime.now(UTC)
    start, end, _ = views.period("day", now.astimezone(s.zone).date(), s.zone)
    get = functools.partial(backends.get, token=s.token, lang=s.lang)
    coming, recent, incidents, inspections, annual, named = await asyncio.gather(
        meetings_between(backends, s, start, end + NOTICES_AHEAD),
        meetings_between(backends, s, start - timedelta(days=7), now),
        optional(get("inspection", "/incidents", state="open")),
        optional(get("inspection", "/inspections", state="open")),
        optional(get("inspection", "/annual-reports")),
        names(backends, s),
    )
    tomorrow_ends = end + timedelta(days=1)
    found = [m for m in coming if (views.parse_time(m.get("start")) or end) < tomorrow_ends]
    meetings = [m for m in found if m.get("status") not in ("cancelled", "rejected")]
    boards, notices = await asyncio.gather(
        per_meeting(backends, s, "inspection", "/meetings/{}/readiness", meetings),
        per_meeting(backends, s, "notification", "/meetings/{}/notices", coming),
    )
    readiness = {m["id"]: b for m, b in zip(meetings, boards, strict=True)}
    lead = policy_of(request, s.who.tenant).duration("check.lead_time")
    rows = tv.work_rows(meetings, readiness, mine(s), now, warn_of(request), lead, s.lang)
    return render(
        request,
        s,
        "my_work.html",
        rows=rows,
        names=named,
        now=now,
        done=done if done in DONE else None,
        incidents=[i for i in incidents or [] if i.get("endpoint") in mine(s)],
        inspections=tv.open_tasks(views.with_joint_plans(inspections or []), mine(s)),
        annual=tv.open_tasks(annual or [], mine(s)),
        annual_done=tv.handed_in(annual or [], mine(s)),
        to_acknowledge=tv.to_acknowledge(coming, notices, mine(s), s.zone, s.t),
        to_rate=[
            (m, e) for m in tv.ended(recent, now)[:5] for e in views.endpoints_of(m) if e in mine(s)
        ],
    )


# ------------------------------------------------------------ the T-1h check


@router.get(
    "/meetings/{meeting_id}/checks/{endpoint}",
    response_class=HTMLResponse,
    summary="Kiểm tra điểm cầu trước họp / an endpoint's check",
)
async def check_form(
    request: Request, meeting_id: str, endpoint: str, s: Acting, backends: Services
) -> HTMLResponse:
    return await check_page(request, s, backends, meeting_id, endpoint, {"key": new_key()})


@router.post("/meetings/{meeting_id}/checks/{endpoint}", response_class=HTMLResponse)
async def submit_check(
    request: Request, meeting_id: str, endpoint: str, s: Acting, backends: Services
) -> HTMLResponse:
    form = form_of(await request.form())
    items, errors = tv.checklist(form)
    if errors:
        return await check_page(request, s, backends, meeting_id, endpoint, form, 422, errors)
    path = f"/meetings/{quote(meeting_id)}/checks/{quote(endpoint)}"
    try:
        entry = await post(backends, s, "POST", path, {"items": items}, form.get("key", ""))
    except BackendError as exc:
        top, fields = refusal(exc)
        return await check_page(
            request, s, backends, meeting_id, endpoint, form, exc.status, fields, top
        )
    meeting = await optional(
        backends.get("registration", f"/meetings/{quote(meeting_id)}", s.token, s.lang)
    )
    return render(
        request,
        s,
        "tech_check_done.html",
        m=meeting or {"id": meeting_id},
        endpoint=endpoint,
        entry=entry,
        items=tv.ITEMS,
    )


async def check_page(
    request: Request,
    s: Session,
    backends: Backends,
    meeting_id: str,
    endpoint: str,
    form: Mapping[str, str],
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    refused: str = "",
) -> HTMLResponse:
    """The check form (again, as filled in, with the reasons next to the fields)."""
    get = functools.partial(backends.get, token=s.token, lang=s.lang)
    meeting, board = await asyncio.gather(
        get("registration", f"/meetings/{quote(meeting_id)}"),
        optional(get("inspection", f"/meetings/{quote(meeting_id)}/readiness")),
    )
    check = next((c for c in board or [] if c.get("endpoint") == endpoint), None)
    lead = policy_of(request, s.who.tenant).duration("check.lead_time")
    due = tv.deadline(meeting, check, lead)
    now = datetime.now(UTC)
    foreign = bool(s.who.endpoints) and endpoint not in s.who.endpoints
    return render(
        request,
        s,
        "check_form.html",
        status,
        m=meeting,
        endpoint=endpoint,
        check=check,
        due=due,
        left=tv.countdown(due, now, s.lang) if due else "",
        form=form,
        errors=dict(errors or {}),
        refused=refused or ("not_my_endpoint" if foreign else ""),
        items=tv.ITEMS,
        limits=line_limits(policy_of(request, s.who.tenant)),
    )


def line_limits(policy: Policy) -> dict[str, Any]:
    """The line's figures the province's policy allows (beyond them the line fails,
    whatever box is ticked), to say on the form before it is sent."""
    limited = LINE_LIMIT_RULES.items()
    return {field: policy.value(rule) for field, rule in limited if rule in policy.rules}


def new_key() -> str:
    """One per form shown: a double tap or a browser retry records it once."""
    return uuid.uuid4().hex


# ------------------------------------------------------------ incidents


@router.get("/my/incidents/new", response_class=HTMLResponse, summary="Báo sự cố")
async def incident_form(
    request: Request,
    s: Acting,
    backends: Services,
    endpoint: str = "",
    meeting_id: str = "",
) -> HTMLResponse:
    form = {"endpoint": endpoint or (s.who.endpoint or ""), "meeting_id": meeting_id}
    return await incident_page(request, s, backends, {**form, "severity": "medium"})


@router.post("/my/incidents/new", response_class=HTMLResponse)
async def report_incident(request: Request, s: Acting, backends: Services) -> Response:
    form = form_of(await request.form())
    body, errors = tv.incident_body(form, mine(s), s.zone, datetime.now(UTC))
    if errors:
        return await incident_page(request, s, backends, form, 422, errors)
    try:
        await post(backends, s, "POST", "/incidents", body)
    except BackendError as exc:
        top, fields = refusal(exc)
        return await incident_page(request, s, backends, form, exc.status, fields, top)
    return see_other(back_to(s), done="incident_reported")


async def incident_page(
    request: Request,
    s: Session,
    backends: Backends,
    form: Mapping[str, str],
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    refused: str = "",
) -> HTMLResponse:
    choices = list(s.who.endpoints) or list(await names(backends, s))
    return render(
        request,
        s,
        "incident_form.html",
        status,
        form=form,
        errors=dict(errors or {}),
        refused=refused,
        endpoints=choices,
        names=await names(backends, s),
        severities=tv.SEVERITIES,
        mode="new",
    )


@router.get("/my/incidents/{incident_id}/resolve", response_class=HTMLResponse)
async def resolve_form(
    request: Request, incident_id: str, s: Acting, backends: Services
) -> HTMLResponse:
    return await resolve_page(request, s, backends, incident_id, {})


@router.post("/my/incidents/{incident_id}/resolve", response_class=HTMLResponse)
async def resolve_incident(
    request: Request, incident_id: str, s: Acting, backends: Services
) -> Response:
    form = form_of(await request.form())
    body, errors = tv.resolve_body(form)
    if errors:
        return await resolve_page(request, s, backends, incident_id, form, 422, errors)
    try:
        await post(backends, s, "PATCH", f"/incidents/{quote(incident_id)}", body)
    except BackendError as exc:
        top, fields = refusal(exc)
        return await resolve_page(request, s, backends, incident_id, form, exc.status, fields, top)
    return see_other(back_to(s), done="incident_resolved")


async def resolve_page(
    request: Request,
    s: Session,
    backends: Backends,
    incident_id: str,
    form: Mapping[str, str],
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    refused: str = "",
) -> HTMLResponse:
    path = f"/incidents/{quote(incident_id)}"
    incident = await backends.get("inspection", path, s.token, s.lang)
    return render(
        request,
        s,
        "incident_form.html",
        status,
        incident=incident,
        form=form,
        errors=dict(errors or {}),
        refused=refused,
        mode="resolve",
    )


def back_to(s: Session) -> str:
    """Where a technician's form goes back to: my work (an operator: the incidents)."""
    return "/my" if s.may("my_work") else "/incidents"


@router.post("/my/notices/acknowledge", include_in_schema=False)
async def acknowledge_notice(
    request: Request,
    notice_id: Annotated[str, Form()],
    s: Technician,
    backends: Services,
) -> Response:
    """What the e-mailed link does, signed in: the notice to my endpoint is acknowledged
    by me (notification refuses one addressed to somebody else)."""
    path = f"/notices/{quote(notice_id, safe='')}/acknowledge"
    try:
        await backends.request("POST", "notification", path, s.token, s.lang)
    except BackendError as exc:
        if exc.status not in REFUSALS:
            raise
        return error(request, s, exc.status, exc.message)
    return see_other("/my", done="acknowledged")


# ------------------------------------------------------------ inspections, reports, ratings


async def task_of(backends: Backends, s: Session, path: str, task_id: str) -> dict[str, Any]:
    """An inspection task or an annual report request by its id (404 when not there)."""
    tasks = await backends.get("inspection", path, s.token, s.lang)
    found = next((t for t in tasks if t.get("id") == task_id), None)
    if found is None:
        raise BackendError("inspection", 404, s.t("task_not_found"))
    return dict(found)


@router.get("/my/inspections/{task_id}", response_class=HTMLResponse, summary="Kiểm tra định kỳ")
async def inspection_form(
    request: Request, task_id: str, s: Acting, backends: Services
) -> HTMLResponse:
    return await task_page(request, s, backends, "inspection", task_id, {})


@router.post("/my/inspections/{task_id}", response_class=HTMLResponse)
async def inspection_result(
    request: Request, task_id: str, s: Acting, backends: Services
) -> Response:
    form = form_of(await request.form())
    body, errors = tv.inspection_body(form)
    path = f"/inspections/{quote(task_id)}/result"
    return await hand_in(request, s, backends, "inspection", task_id, form, body, errors, path)


@router.get("/my/annual/{task_id}", response_class=HTMLResponse, summary="Báo cáo năm")
async def annual_form(
    request: Request, task_id: str, s: Acting, backends: Services
) -> HTMLResponse:
    return await task_page(request, s, backends, "annual", task_id, {})


@router.post("/my/annual/{task_id}", response_class=HTMLResponse)
async def annual_report(request: Request, task_id: str, s: Acting, backends: Services) -> Response:
    form = form_of(await request.form())
    body, errors = tv.annual_body(form)
    path = f"/annual-reports/{quote(task_id)}"
    return await hand_in(request, s, backends, "annual", task_id, form, body, errors, path)


async def hand_in(
    request: Request,
    s: Session,
    backends: Backends,
    kind: str,
    task_id: str,
    form: Mapping[str, str],
    body: dict[str, Any],
    errors: Mapping[str, str],
    path: str,
) -> Response:
    if errors:
        return await task_page(request, s, backends, kind, task_id, form, 422, errors)
    try:
        await post(backends, s, "POST", path, body)
    except BackendError as exc:
        top, fields = refusal(exc)
        return await task_page(request, s, backends, kind, task_id, form, exc.status, fields, top)
    return see_other(back_to(s), done=f"{kind}_handed_in")


async def task_page(
    request: Request,
    s: Session,
    backends: Backends,
    kind: str,
    task_id: str,
    form: Mapping[str, str],
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    refused: str = "",
) -> HTMLResponse:
    listed = "/inspections" if kind == "inspection" else "/annual-reports"
    task = await task_of(backends, s, listed, task_id)
    if s.who.role == Role.TECHNICIAN and task.get("endpoint") not in mine(s):
        raise BackendError("inspection", 403, s.t("not_my_endpoint"))  # refused at sight
    return render(
        request,
        s,
        f"tech_{kind}.html",
        status,
        task=task,
        form=form,
        errors=dict(errors or {}),
        refused=refused,
        items=tv.ITEMS,
        effectiveness=tv.EFFECTIVENESS,
    )


@router.get("/my/feedback/{meeting_id}/{endpoint}", response_class=HTMLResponse, summary="Đánh giá")
async def feedback_form(
    request: Request, meeting_id: str, endpoint: str, s: Acting, backends: Services
) -> HTMLResponse:
    return await feedback_page(request, s, backends, meeting_id, endpoint, {})


@router.post("/my/feedback/{meeting_id}/{endpoint}", response_class=HTMLResponse)
async def rate(
    request: Request, meeting_id: str, endpoint: str, s: Acting, backends: Services
) -> Response:
    form = form_of(await request.form())
    body, errors = tv.feedback_body(form)
    if errors:
        return await feedback_page(request, s, backends, meeting_id, endpoint, form, 422, errors)
    path = f"/meetings/{quote(meeting_id)}/feedback/endpoints/{quote(endpoint)}"
    try:
        await post(backends, s, "PUT", path, body)
    except BackendError as exc:
        top, fields = refusal(exc)
        return await feedback_page(
            request, s, backends, meeting_id, endpoint, form, exc.status, fields, top
        )
    return see_other(back_to(s), done="rated")


async def feedback_page(
    request: Request,
    s: Session,
    backends: Backends,
    meeting_id: str,
    endpoint: str,
    form: Mapping[str, str],
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    refused: str = "",
) -> HTMLResponse:
    meeting = await backends.get("registration", f"/meetings/{quote(meeting_id)}", s.token, s.lang)
    return render(
        request,
        s,
        "tech_feedback.html",
        status,
        m=meeting,
        endpoint=endpoint,
        form=form,
        errors=dict(errors or {}),
        refused=refused,
    )
