"""Registering a meeting, one meeting's page (timeline, materials, notices, readiness,
incidents) and its materials' files."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from hnth_console import meeting_views, views
from hnth_console.backends import BackendError, Backends
from hnth_console.deps import Services, Session, page, policy_of, warn_of
from hnth_console.i18n import Translate
from hnth_console.reads import directory, nothing, optional
from hnth_console.render import render, see_other
from hnth_contracts import priority, rules
from hnth_kit.auth import Role

router = APIRouter()
Registrar = Annotated[Session, Depends(page("new_meeting"))]
MATERIAL_KINDS = ("agenda", "slides", "minutes", "decision", "other")
DONE = (
    "registered_ok",
    "changed_ok",
    "cancelled_ok",
    "rehearsal_booked",
    "uploaded_ok",
    "feedback_ok",
    "access_asked",
    "access_decided",
)
"""What a clerk's form just did, said on the page it returns to."""
Reader = Annotated[Session, Depends(page("schedule"))]
Arranger = Annotated[Session, Depends(page("arrange_meeting"))]
ARRANGED = {
    "approve": "approved_ok",
    "reject": "rejected_ok",
    "move": "moved_ok",
    "preempt": "preempted_ok",
    "switch-backup": "switched_ok",
}
"""What the duty officer's levers just did, said on the page they return to."""
REFUSED = (400, 409, 413, 415, 422)
"""A service's refusals shown next to the form (anything else: the error page)."""
MOVE_FIELDS = {
    "start": "move_start",
    "end": "move_start",
    "reason": "move_reason",
    "urgent_reason": "move_urgent",
}
"""Where a refusal of a move shows: beside the field registration names, else the form."""
SWITCH_WINDOW = "backup.switch_window"
SWITCH_FIELDS = {"endpoint": "switch", "reason": "switch_reason"}
"""Where a refusal of a backup switch shows."""

MEETING_FIELDS = (
    "title",
    "host_unit",
    "chair",
    "start",
    "minutes",
    "main_endpoint",
    "idempotency_key",
    "urgent_reason",
    "document_number",
    "document_date",
    "external_host",
    "record",
    "priority",
)


@router.get("/meetings/new", response_class=HTMLResponse, summary="Đăng ký họp / register")
async def new_meeting(request: Request, s: Registrar, backends: Services) -> HTMLResponse:
    """The form, with the free-slot finder above it: `find_endpoints` + `find_minutes` +
    `find_days` list the free windows (a GET form: works without script); `pick` (a
    window's local start) + `minutes` + `endpoints` fill the form with the window."""
    query = request.query_params
    # one key per form: a double click or a browser retry registers the meeting once
    key = uuid.uuid4().hex
    form: dict[str, Any] = {"idempotency_key": key}
    if query.get("pick"):
        form = meeting_views.picked_form(
            query["pick"], query.get("minutes", ""), query.getlist("endpoints"), key
        )
    finder = None
    if "find_minutes" in query:
        policy = policy_of(request, s.who.tenant)
        finder = await find_windows(
            backends,
            s,
            query,
            policy.duration("notice.lead_time"),
            meeting_views.office_hours(policy),
        )
    return await meeting_form(request, backends, s, 200, form, [], finder=finder)


async def find_windows(
    backends: Backends, s: Session, query: Any, lead_time: timedelta, office: tuple[str, str]
) -> dict[str, Any]:
    """The finder's answer: the windows by day, or the reason next to its field.
    `lead_time`: the province's notice lead time (windows start after it and the time to
    fill the form in); `office`: its office hours, searched unless the person widens them."""
    chosen = [c for c in query.getlist("find_endpoints") if c]
    minutes = query.get("find_minutes", "")
    days = query.get("find_days", "7")
    # office hours on working days unless the person widens them
    hours = (query.get("find_from") or office[0], query.get("find_to") or office[1])
    workdays = bool(query.get("find_workdays"))
    found: dict[str, Any] = {
        "endpoints": chosen,
        "minutes": minutes,
        "days": days,
        "from": hours[0],
        "to": hours[1],
        "workdays": workdays,
        "errors": {},
        "days_found": [],
        "more": False,
    }
    if not chosen:
        found["errors"]["endpoints"] = s.t("finder_choose_endpoints")
    if not minutes.isdecimal() or int(minutes) <= 0:
        found["errors"]["minutes"] = s.t("finder_choose_length")
    if found["errors"]:
        return found
    now = datetime.now(s.zone)
    start, end = meeting_views.finder_range(
        now.date(),
        int(days) if days.isdecimal() else 7,
        s.zone,
        not_before=now + lead_time + meeting_views.FILLING_IN,
    )
    try:
        answer = await backends.get(
            "scheduling",
            "/availability",
            s.token,
            s.lang,
            endpoints=",".join(chosen),
            duration=meeting_views.duration_of(int(minutes)),
            day_from=hours[0],
            day_to=hours[1],
            weekdays="1,2,3,4,5" if workdays else None,
            **{"from": start.isoformat(), "to": end.isoformat()},
        )
    except BackendError as exc:
        if exc.status == 422 and exc.errors:
            fields = {
                "endpoints": "endpoints",
                "duration": "minutes",
                "day_from": "hours",
                "day_to": "hours",
            }
            for e in exc.errors:
                found["errors"][fields.get(str(e.get("field")), "days")] = str(e.get("message"))
            return found
        if exc.status in (401, 403):
            raise
        found["errors"]["service"] = s.t("finder_unavailable")
        return found
    found["days_found"] = meeting_views.windows_by_day(answer["windows"], s.zone, s.t)
    found["more"] = bool(answer.get("truncated"))
    return found


@router.post("/meetings/new", response_class=HTMLResponse, include_in_schema=False)
async def register_meeting(request: Request, s: Registrar, backends: Services) -> Response:
    form = await request.form()
    fields, chosen = read_form(form)
    groups = sorted({str(g) for g in form.getlist("groups")} - {""})
    # the form again, as the person filled it
    refill = {**fields, "endpoints": chosen, "groups": groups}
    try:
        body = meeting_body(fields, chosen, s.zone, s.who.unit, groups)
    except ValueError:
        unreadable = [f"{s.t('start')}: {s.t('start_format')}"]
        return await meeting_form(request, backends, s, 422, refill, unreadable)
    try:
        created = await register(backends, s, body, fields["idempotency_key"])
    except BackendError as exc:
        if exc.status not in (400, 409, 422):
            raise
        beside, rest = _beside_fields(exc, s.t)
        return await meeting_form(request, backends, s, exc.status, refill, rest, beside)
    return see_other(f"/meetings/{created}", done="registered_ok")


@router.get("/meetings/{meeting_id}", response_class=HTMLResponse, summary="Một cuộc họp")
async def meeting(
    request: Request,
    meeting_id: str,
    s: Reader,
    backends: Services,
    resent: str | None = None,
    done: str | None = None,
    pick: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """`pick`: a free time the refusal offered, to fill the change form's start with."""
    typed = {"start": pick} if pick else None
    return await meeting_page(
        request, meeting_id, s, backends, resent=resent, done=done, typed=typed
    )


async def meeting_page(
    request: Request,
    meeting_id: str,
    s: Session,
    backends: Backends,
    *,
    status: int = 200,
    errors: dict[str, list[str]] | None = None,
    resent: str | None = None,
    done: str | None = None,
    typed: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    """The meeting in words: what, when (province's zone), its state and timeline, its
    materials, who has been notified and which endpoints are ready; the clerk's forms
    (change, cancel, upload, feedback) with a refusal's reasons next to the form, and the
    change form as it was `typed` when it was refused."""
    get = functools.partial(backends.get, token=s.token, lang=s.lang)
    found, incidents, materials, feedback, live, asked, units = await asyncio.gather(
        get("registration", f"/meetings/{quote(meeting_id)}"),
        optional(get("inspection", "/incidents")),
        # None: this person may not read the materials (registration decides, per role)
        optional(get("registration", f"/meetings/{quote(meeting_id)}/materials")),
        optional(get("inspection", f"/meetings/{quote(meeting_id)}/feedback")),
        live_context(meeting_id, s, backends, warn_of(request)),
        # the requests for the materials, for the IT department to decide
        optional(get("registration", f"/meetings/{quote(meeting_id)}/access-requests"))
        if s.may("material_access")
        else nothing(),
        directory(backends, s, "units"),  # the host unit by its name
    )
    now = datetime.now(UTC)
    start, end = views.parse_time(found.get("start")), views.parse_time(found.get("end"))
    open_ = found.get("status") != "cancelled" and start is not None and start > now
    host = [f for f in feedback or [] if f.get("endpoint") in (None, "", "host")]
    # a clerk reads another unit's meeting held at their unit's endpoint: to attend, not change
    guest = s.is_guest_at(found)
    timeline = meeting_views.timeline_lines(
        found.get("timeline") or [], s.zone, s.t, s.lang, found.get("people") or {}
    )
    why = meeting_views.rejection_words(found, s.lang)
    refused = why if found.get("status") == "rejected" else ""
    # a change refused while the earlier slot holds: the meeting stays as it was
    change_refused = why if found.get("status") == "scheduled" else ""
    state = meeting_views.state_shown(found)
    # the free times offered with the refusal, each to fill the change form with: those of
    # a refusal still free now (another meeting may have taken one since)
    picks = meeting_views.alternative_picks(found, s.zone, s.t) if why else []
    if picks and refused and (found.get("urgent_reason") or found.get("external_host")):
        # scheduling's free times count the province's lead time: not this meeting's
        picks = [p for p in picks if p["at"] > now]
    elif picks and refused and s.who.role in (Role.OPERATOR, Role.REGISTRAR):
        lead = policy_of(request, s.who.tenant).duration("notice.lead_time")
        picks = await free_now(backends, s, found, picks, now + lead)
    preemptible = (
        meeting_views.preemptible(found)
        if s.may("arrange_meeting") and open_ and found.get("status") == "rejected"
        else []
    )
    mentioned = views.meeting_ids(refused, change_refused, *(e["details"] for e in timeline))
    names = await meeting_names(s, backends, list(dict.fromkeys([*mentioned, *preemptible])))
    return render(
        request,
        s,
        "meeting.html",
        status,
        m=found,
        incidents=meeting_views.incidents_of(found, incidents or []),
        materials=materials,
        timeline=timeline,
        rejected_because=refused,
        change_pending=meeting_views.change_pending(found),
        change_refused=change_refused,
        names=names,
        host=next((u for u in units if u.get("code") == found.get("host_unit")), {}),
        picks=picks,
        may_change=s.may("change_meeting") and open_ and not guest,
        guest=guest,
        # a decision just sent is not offered again while registration takes it in
        may_decide=s.may("arrange_meeting")
        and found.get("status") == "held"
        and done not in ("approved_ok", "rejected_ok"),
        may_move=s.may("arrange_meeting") and open_,
        preemptible=preemptible,
        # the failing endpoints the duty officer may switch (the board offers the same)
        offers=meeting_views.switchable(
            start, now, switch_window(request, s), live["checks"], live["endpoints"]
        )
        if s.may("arrange_meeting")
        else [],
        priority=meeting_views.priority_words(
            policy_of(request, s.who.tenant), found.get("priority"), s.lang
        ),
        may_rate=s.may("meeting_feedback") and end is not None and end <= now,
        host_rating=host[0] if host else None,
        # a recording only for a meeting marked to be recorded (registration decides when)
        kinds=(*MATERIAL_KINDS, "recording") if found.get("record") else MATERIAL_KINDS,
        access=meeting_views.access_rows(asked or [], s.zone),
        errors=errors or {},
        done=done if done in (*DONE, *ARRANGED.values()) and not stale(done, state) else None,
        state=state,
        resent=resent,
        back=f"/meetings/{meeting_id}",
        upload_key=uuid.uuid4().hex,
        typed=typed,
        may_urgent=s.who.role in rules.urgent_roles(policy_of(request, s.who.tenant)),
        lengths=meeting_views.LENGTHS,
        length=int((end - start).total_seconds() // 60) if start and end else 0,
        **live,
    )


WAITING_WORDS = ("registered_ok", "changed_ok", "moved_ok")
"""What was just done, said as waiting for the schedule: not said once it was decided."""


def stale(done: str, state: str) -> bool:
    """A "waiting to be scheduled" line beside a meeting already decided (a reload of the
    page it was first said on) would contradict the state beside it."""
    return done in WAITING_WORDS and not meeting_views.waits_for_decision(state)


async def free_now(
    backends: Backends,
    s: Session,
    meeting: Mapping[str, Any],
    picks: list[Any],
    not_before: datetime,
) -> list[Any]:
    """`picks` still free at the meeting's endpoints (scheduling's `/availability`), as
    offered when scheduling cannot say."""
    start, end = views.parse_time(meeting.get("start")), views.parse_time(meeting.get("end"))
    if start is None or end is None:
        return picks
    minutes = int((end - start).total_seconds() // 60)
    try:
        answer = await backends.get(
            "scheduling",
            "/availability",
            s.token,
            s.lang,
            endpoints=",".join(views.endpoints_of(meeting)),
            duration=meeting_views.duration_of(minutes),
            **{
                "from": min(p["at"] for p in picks).isoformat(),
                "to": max(p["until"] for p in picks).isoformat(),
            },
        )
    except BackendError as exc:
        if exc.status == 401:
            raise
        return picks
    return meeting_views.still_free(picks, answer.get("windows") or [], not_before)


async def meeting_names(
    s: Session, backends: Backends, ids: Sequence[str]
) -> dict[str, tuple[str, bool]]:
    """How the page names the other meetings its words mention (a refusal names the one in
    the way by its id): one the reader may open by its title, a link; any other as another
    unit's, without a link the reader could not follow."""
    found = await asyncio.gather(
        *(
            optional(backends.get("registration", f"/meetings/{quote(i)}", s.token, s.lang))
            for i in ids
        )
    )
    return {
        i: (f"«{m.get('title', i)}»", True) if m else (s.t("another_units_meeting"), False)
        for i, m in zip(ids, found, strict=True)
    }


async def live_context(
    meeting_id: str, s: Session, backends: Backends, warn: timedelta
) -> dict[str, Any]:
    """The page's live part: the notices and the endpoints' checks, in words."""
    get = functools.partial(backends.get, token=s.token, lang=s.lang)
    notices, readiness, endpoints = await asyncio.gather(
        optional(get("notification", f"/meetings/{quote(meeting_id)}/notices")),
        optional(get("inspection", f"/meetings/{quote(meeting_id)}/readiness")),
        directory(backends, s),
    )
    names = meeting_views.endpoint_names(endpoints)
    now = datetime.now(UTC)
    checks = readiness or []
    return {
        "meeting_id": meeting_id,
        "endpoints": endpoints,
        "notices": [meeting_views.notice_in_words(n, s.zone, s.t) for n in notices or []],
        "checks": [
            {
                **c,
                "name": names.get(str(c.get("endpoint")), str(c.get("endpoint"))),
                "words": meeting_views.check_state(c, s.zone, s.t),
                "alarm": views.alarm(c, now, warn),
            }
            for c in checks
        ],
    }


@router.get("/meetings/{meeting_id}/materials/{material_id}", summary="Tải tài liệu")
async def material(meeting_id: str, material_id: str, s: Reader, backends: Services) -> Response:
    """The file, exactly as registration gives it to this person (it records the download)."""
    path = f"/meetings/{quote(meeting_id)}/materials/{quote(material_id)}"
    got = await backends.request("GET", "registration", path, s.token, s.lang)
    kept = ("content-disposition", "etag", "x-checksum-sha256")
    headers = {k: v for k, v in got.headers.items() if k.lower() in kept}
    return Response(got.content, media_type=got.headers.get("content-type"), headers=headers)


async def refused(
    request: Request,
    meeting_id: str,
    s: Session,
    backends: Backends,
    exc: BackendError,
    form: str,
    fields: dict[str, str] | None = None,
    typed: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    """The meeting's page again with the service's refusal next to the `form` (or next to
    the field `fields` maps the refusal's field to), what was `typed` kept; anything but a
    refusal is raised."""
    if exc.status not in REFUSED:
        raise exc
    errors: dict[str, list[str]] = {}
    for e in exc.errors or [{"message": exc.message}]:
        key = (fields or {}).get(str(e.get("field")).removeprefix("body."), form)
        errors.setdefault(key, []).append(str(e.get("message")))
    return await meeting_page(
        request, meeting_id, s, backends, status=exc.status, errors=errors, typed=typed
    )


# ------------------------------------------------- the duty officer's levers


async def arrange(
    request: Request,
    meeting_id: str,
    s: Session,
    backends: Backends,
    action: str,
    body: dict[str, Any] | None = None,
    fields: dict[str, str] | None = None,
    typed: Mapping[str, Any] | None = None,
) -> Response:
    """Registration's `POST /meetings/{id}/{action}` (operator only); back to the page
    saying it is done, or the refusal next to the form, filled as it was `typed`."""
    path = f"/meetings/{quote(meeting_id)}"
    try:
        await backends.request("POST", "registration", f"{path}/{action}", s.token, s.lang,
                               json=body)  # fmt: skip
    except BackendError as exc:
        return await refused(request, meeting_id, s, backends, exc, action, fields, typed)
    return see_other(path, done=ARRANGED[action])


@router.post("/meetings/{meeting_id}/approve", response_class=HTMLResponse, include_in_schema=False)
async def approve(request: Request, meeting_id: str, s: Arranger, backends: Services) -> Response:
    """The IT department approves a held meeting: scheduling then assigns its held slot."""
    return await arrange(request, meeting_id, s, backends, "approve")


@router.post("/meetings/{meeting_id}/reject", response_class=HTMLResponse, include_in_schema=False)
async def reject(request: Request, meeting_id: str, s: Arranger, backends: Services) -> Response:
    """The IT department rejects a held meeting, with the reason the host is told."""
    reason = str((await request.form()).get("reason") or "").strip()
    if not reason:
        errors = {"reject": [s.t("reject_reason_needed")]}
        return await meeting_page(request, meeting_id, s, backends, status=422, errors=errors)
    return await arrange(request, meeting_id, s, backends, "reject", {"reason": reason})


@router.post("/meetings/{meeting_id}/preempt", response_class=HTMLResponse, include_in_schema=False)
async def preempt(request: Request, meeting_id: str, s: Arranger, backends: Services) -> Response:
    """The IT department lets a meeting refused only by lower-priority meetings displace
    them, with the reason their hosts and parties are told."""
    reason = str((await request.form()).get("reason") or "").strip()
    if not reason:
        errors = {"preempt": [s.t("preempt_reason_needed")]}
        return await meeting_page(request, meeting_id, s, backends, status=422, errors=errors)
    return await arrange(request, meeting_id, s, backends, "preempt", {"reason": reason})


@router.post("/meetings/{meeting_id}/move", response_class=HTMLResponse, include_in_schema=False)
async def move(request: Request, meeting_id: str, s: Arranger, backends: Services) -> Response:
    """The IT department moves a meeting: the new start (the province's local time) and
    length, with the reason every party is told."""
    form = await request.form()
    start_text, minutes_text, reason = (
        str(form.get(k) or "").strip() for k in ("start", "minutes", "reason")
    )
    urgent = str(form.get("urgent_reason") or "").strip()
    # a refused move comes back as typed (keys of its own: the change form keeps its own)
    typed = {"move_start": start_text, "move_minutes": minutes_text, "move_reason": reason}
    typed["move_urgent"] = urgent
    errors: dict[str, list[str]] = {}
    try:
        start = views.typed_time(start_text, s.zone)
    except ValueError:
        errors["move_start"] = [f"{s.t('new_start')}: {s.t('move_start_format')}"]
    if not minutes_text.isdecimal() or int(minutes_text) <= 0:
        errors["move_minutes"] = [s.t("move_length_needed")]
    if not reason:
        errors["move_reason"] = [s.t("move_reason_needed")]
    if errors:
        return await meeting_page(
            request, meeting_id, s, backends, status=422, errors=errors, typed=typed
        )
    end = start + timedelta(minutes=int(minutes_text))
    body = {"start": start.isoformat(), "end": end.isoformat(), "reason": reason}
    if urgent:  # inside the notice lead time
        body["urgent_reason"] = urgent
    body |= rehearsal_choice(form)
    return await arrange(request, meeting_id, s, backends, "move", body, MOVE_FIELDS, typed)


BESIDE = ("priority",)
"""The registration form's fields a refusal shows beside (the rest above the form)."""


FORM_LABELS = {"groups": "endpoint_groups", "record": "record_meeting", "minutes": "length"}
"""The registration form's labels (i18n keys) for the fields whose key is not their name."""


def _beside_fields(exc: BackendError, t: Translate) -> tuple[dict[str, list[str]], list[str]]:
    """A refusal of the registration form split: the reasons for a field in `BESIDE`, by
    field, and the others as sentences for above the form, each led by its field's label."""
    beside: dict[str, list[str]] = {}
    rest: list[Mapping[str, Any]] = []
    for e in exc.errors:
        field = str(e.get("field")).removeprefix("body.")
        if field in BESIDE:
            beside.setdefault(field, []).append(str(e.get("message")))
        else:
            rest.append(e)
    return beside, views.refusal_lines(rest, t, FORM_LABELS) if exc.errors else [exc.message]


def rehearsal_choice(form: FormData) -> dict[str, str]:
    """`rehearsals: keep | cancel` when the form asked (the meeting has rehearsals)."""
    choice = str(form.get("rehearsals") or "")
    return {"rehearsals": choice} if choice in ("keep", "cancel") else {}


# ------------------------------------------------------------ the registration form


async def meeting_form(
    request: Request,
    backends: Backends,
    s: Session,
    status: int,
    form: dict[str, Any],
    errors: list[str],
    beside: dict[str, list[str]] | None = None,
    finder: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The form (again), with the province's endpoints and units to pick from, the priority
    levels the person may set (the default one chosen), and a refusal's reasons `beside`
    the fields they name (the rest in `errors` above the form)."""
    endpoints, units, groups = await asyncio.gather(
        directory(backends, s), directory(backends, s, "units"), directory(backends, s, "groups")
    )
    if s.who.role == Role.REGISTRAR and s.who.unit:  # files for its own unit only
        units = [u for u in units if u.get("code") == s.who.unit]
    policy = policy_of(request, s.who.tenant)
    host = form.get("host_unit") or s.who.unit
    form = {**form, "main_endpoint": meeting_views.main_endpoint_of(form, host, endpoints)}
    return render(
        request,
        s,
        "new_meeting.html",
        status,
        endpoints=endpoints,
        units=units,
        groups=groups,
        form=form,
        errors=errors,
        beside=beside or {},
        priorities=meeting_views.priority_choices(policy, s.who.role, s.lang),
        default_priority=priority.levels(policy)[-1].code,
        may_urgent=s.who.role in rules.urgent_roles(policy),
        finder=finder,
        office=meeting_views.office_hours(policy),
        letter_required=rules.letter_required(policy),
        lengths=meeting_views.LENGTHS,
        finder_days=meeting_views.FINDER_DAYS,
    )


async def register(backends: Backends, s: Session, body: dict[str, Any], key: str) -> str:
    """Ask registration to register the meeting (once per form `key`); its id."""
    created = await backends.request(
        "POST",
        "registration",
        "/meetings",
        s.token,
        s.lang,
        json=body,
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )
    return str(created.json()["id"])


def read_form(form: FormData) -> tuple[dict[str, str], list[str]]:
    """The form's fields, trimmed, and the endpoints ticked."""
    fields = {k: str(form.get(k) or "").strip() for k in MEETING_FIELDS}
    return fields, [str(v) for v in form.getlist("endpoints")]


def meeting_body(
    fields: dict[str, str],
    chosen: list[str],
    zone: ZoneInfo,
    unit: str | None,
    groups: Sequence[str] = (),
) -> dict[str, Any]:
    """What registration is asked to register (the host unit defaults to the person's
    `unit`; `groups` are expanded by scheduling when it decides); ValueError when the start
    or the length does not read (`views.typed_time` in the province's `zone`, whole
    minutes)."""
    start = views.typed_time(fields["start"], zone)
    minutes = int(fields["minutes"] or "0")
    body: dict[str, Any] = {
        "title": fields["title"],
        "host_unit": fields["host_unit"] or unit,
        "chair": fields["chair"],
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
        "main_endpoint": fields["main_endpoint"],
        "endpoints": sorted({fields["main_endpoint"], *chosen} - {""}),
    }
    if groups:
        body["groups"] = list(groups)
    if fields["urgent_reason"]:  # inside the notice lead time: the IT department only
        body["urgent_reason"] = fields["urgent_reason"]
    if fields.get("external_host"):  # a national meeting: the IT department only
        body["external_host"] = fields["external_host"]
    if fields.get("record"):  # the recording joins its materials afterwards
        body["record"] = True
    if fields.get("priority"):  # a level of meeting.priorities (registration checks the role)
        body["priority"] = fields["priority"]
    for letter in ("document_number", "document_date"):  # the official letter, if any
        if fields.get(letter):
            body[letter] = fields[letter]
    return body


def switch_window(request: Request, s: Session) -> timedelta:
    """The province's `backup.switch_window`: the last stretch before an opening in which
    a failing endpoint may be switched to its backup."""
    return policy_of(request, s.who.tenant).duration(SWITCH_WINDOW)


@router.post(
    "/meetings/{meeting_id}/switch-backup", response_class=HTMLResponse, include_in_schema=False
)
async def switch_backup(
    request: Request, meeting_id: str, s: Arranger, backends: Services
) -> Response:
    """The IT department switches a failing endpoint to its backup, with the reason."""
    form = await request.form()
    endpoint, reason = (str(form.get(k) or "").strip() for k in ("endpoint", "reason"))
    if not reason:
        errors = {"switch_reason": [s.t("switch_reason_needed")]}
        return await meeting_page(request, meeting_id, s, backends, status=422, errors=errors)
    body = {"endpoint": endpoint, "reason": reason}
    return await arrange(request, meeting_id, s, backends, "switch-backup", body, SWITCH_FIELDS)
