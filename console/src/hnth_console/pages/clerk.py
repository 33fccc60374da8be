"""The host unit's clerk on a meeting's page: change or cancel it (with the reason),
upload its agenda, slides and minutes, rate it afterwards; and the page's live part
(who has been notified, which endpoints are ready) as a fragment of its own, which the
page refreshes without a full reload."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from hnth_console import meeting_views, views
from hnth_console.backends import BackendError, Backends
from hnth_console.deps import Services, Session, page, warn_of
from hnth_console.pages.meetings import (
    Reader,
    live_context,
    meeting_page,
    refused,
    rehearsal_choice,
)
from hnth_console.reads import nothing, optional
from hnth_console.render import render, see_other

router = APIRouter()
Clerk = Annotated[Session, Depends(page("change_meeting"))]
Rater = Annotated[Session, Depends(page("meeting_feedback"))]
REHEARSAL_FIELDS = {"start": "rehearsal_start", "end": "rehearsal_end"}
"""Registration's refusal of a rehearsal beside the field it names."""


def _path(meeting_id: str, tail: str = "") -> str:
    return f"/meetings/{quote(meeting_id)}{tail}"


@router.post("/meetings/{meeting_id}/change", response_class=HTMLResponse, include_in_schema=False)
async def change(request: Request, meeting_id: str, s: Clerk, backends: Services) -> Response:
    """Registration's PATCH with what the clerk changed (the start with its length, the
    endpoints it names, the official letter; the IT department's urgent reason inside the
    notice lead time; why, for the change notices); a refusal beside the form, filled as
    it was."""
    form = await request.form()
    fields = {k: str(form.get(k) or "").strip() for k in ("title", "chair", "start", "minutes")}
    body: dict[str, Any] = {k: fields[k] for k in ("title", "chair") if fields[k]}
    host = str(form.get("external_host") or "").strip()
    urgent = str(form.get("urgent_reason") or "").strip()
    why = str(form.get("change_reason") or "").strip()
    typed: dict[str, Any] = {
        **fields,
        "external_host": host,
        "urgent_reason": urgent,
        "change_reason": why,
    }
    if s.may("national_meeting") and host != str(form.get("external_host_was") or ""):
        body["external_host"] = host or None  # named, changed, or cleared
    for letter in ("document_number", "document_date"):  # the official letter, corrected
        if letter in form:
            typed[letter] = str(form.get(letter) or "").strip()
            if typed[letter] != str(form.get(f"{letter}_was") or ""):
                body[letter] = typed[letter] or None
    if "endpoints_was" in form:  # the form offered the endpoints: ticked or not, as shown
        was = [c for c in str(form.get("endpoints_was")).split(",") if c]
        chosen = [str(v) for v in form.getlist("endpoints")]
        typed["endpoints"] = chosen
        if set(chosen) != set(was):  # the main endpoint stays, if only it is left
            body["endpoints"] = [str(form.get("main_endpoint_was") or ""), *chosen]

    async def again(status: int, why: list[str]) -> HTMLResponse:
        errors = {"change": why}
        return await meeting_page(
            request, meeting_id, s, backends, status=status, errors=errors, typed=typed
        )

    if fields["start"]:
        try:
            start = views.typed_time(fields["start"], s.zone)
            minutes = int(fields["minutes"] or "0")
        except ValueError:
            return await again(422, [f"{s.t('start')}: {s.t('start_format')}"])
        body |= {
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=minutes)).isoformat(),
        }
    if not body:  # what becomes of the rehearsals is no change of its own
        return await again(422, [s.t("nothing_changed")])
    if urgent:  # inside the notice lead time: the IT department only (registration decides)
        body["urgent_reason"] = urgent
    if why:  # told to every party with the change notice
        body["reason"] = why
    body |= rehearsal_choice(form)
    try:
        await backends.request(
            "PATCH", "registration", _path(meeting_id), s.token, s.lang, json=body
        )
    except BackendError as exc:
        return await refused(request, meeting_id, s, backends, exc, "change", typed=typed)
    return see_other(_path(meeting_id), done="changed_ok")


@router.post("/meetings/{meeting_id}/cancel", response_class=HTMLResponse, include_in_schema=False)
async def cancel(request: Request, meeting_id: str, s: Clerk, backends: Services) -> Response:
    """Registration's cancel, with the reason (required here: the notices carry it)."""
    form = await request.form()
    reason = str(form.get("reason") or "").strip()
    if not reason:
        return await meeting_page(
            request, meeting_id, s, backends, status=422, errors={"cancel": [s.t("reason_needed")]}
        )
    try:
        await backends.request(
            "POST",
            "registration",
            _path(meeting_id, "/cancel"),
            s.token,
            s.lang,
            json={"reason": reason, **rehearsal_choice(form)},
        )
    except BackendError as exc:
        return await refused(request, meeting_id, s, backends, exc, "cancel")
    return see_other(_path(meeting_id), done="cancelled_ok")


@router.post(
    "/meetings/{meeting_id}/rehearsals", response_class=HTMLResponse, include_in_schema=False
)
async def book_rehearsal(
    request: Request, meeting_id: str, s: Clerk, backends: Services
) -> Response:
    """A rehearsal on the meeting's endpoints at the start (local time) and length given;
    back to the meeting's page, or the refusal beside the form."""
    form = await request.form()
    start_text, minutes_text = (str(form.get(k) or "").strip() for k in ("start", "minutes"))
    try:
        start = views.typed_time(start_text, s.zone)
    except ValueError:
        errors = {"rehearsal_start": [f"{s.t('rehearsal_start')}: {s.t('move_start_format')}"]}
        return await meeting_page(request, meeting_id, s, backends, status=422, errors=errors)
    minutes = int(minutes_text) if minutes_text.isdecimal() and int(minutes_text) > 0 else 60
    body = {"start": start.isoformat(), "end": (start + timedelta(minutes=minutes)).isoformat()}
    path = _path(meeting_id)
    try:
        # no key: registration books the same meeting and start once (a double click)
        await backends.request(
            "POST", "registration", f"{path}/rehearsals", s.token, s.lang, json=body
        )
    except BackendError as exc:
        return await refused(request, meeting_id, s, backends, exc, "rehearsal", REHEARSAL_FIELDS)
    return see_other(path, done="rehearsal_booked")


@router.post(
    "/meetings/{meeting_id}/materials", response_class=HTMLResponse, include_in_schema=False
)
async def upload(request: Request, meeting_id: str, s: Reader, backends: Services) -> Response:
    """The file, passed on to registration as it came (registration checks its type,
    size and who may attach); one upload per form key."""
    form = await request.form()
    sent = form.get("file")
    if not isinstance(sent, UploadFile) or not sent.filename:
        return await meeting_page(
            request, meeting_id, s, backends, status=422, errors={"upload": [s.t("no_file")]}
        )
    content = await sent.read()
    kind = str(form.get("kind") or "other")
    try:
        await backends.request(
            "POST",
            "registration",
            _path(meeting_id, "/materials"),
            s.token,
            s.lang,
            files={"file": (sent.filename, content, sent.content_type or "")},
            data={"kind": kind},
            headers={"Idempotency-Key": str(form.get("idempotency_key") or uuid.uuid4().hex)},
        )
    except BackendError as exc:
        return await refused(request, meeting_id, s, backends, exc, "upload")
    return see_other(_path(meeting_id), done="uploaded_ok")


@router.post(
    "/meetings/{meeting_id}/feedback", response_class=HTMLResponse, include_in_schema=False
)
async def feedback(request: Request, meeting_id: str, s: Rater, backends: Services) -> Response:
    """The host unit's overall rating (inspection's `PUT .../feedback/host`)."""
    form = await request.form()
    overall = str(form.get("overall") or "")
    body = {"overall": int(overall) if overall.isdecimal() else 0}
    body_comment = str(form.get("comment") or "").strip()
    try:
        await backends.request(
            "PUT",
            "inspection",
            _path(meeting_id, "/feedback/host"),
            s.token,
            s.lang,
            json={**body, "comment": body_comment},
        )
    except BackendError as exc:
        return await refused(request, meeting_id, s, backends, exc, "feedback")
    return see_other(_path(meeting_id), done="feedback_ok")


@router.get("/meetings/{meeting_id}/live", response_class=HTMLResponse, summary="Cập nhật")
async def live(
    request: Request,
    meeting_id: str,
    s: Reader,
    backends: Services,
    shown: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Who has been notified and which endpoints are ready, alone (the page swaps it in).
    `shown`: the meeting's state as the page shows it; while it waits for a decision, the
    decision reloads the whole page (htmx's `HX-Redirect`), so a refusal and its free times
    appear without a reload by hand (a page not waiting keeps what is typed in its forms)."""
    waiting = shown is not None and meeting_views.waits_for_decision(shown)
    state = meeting_state(meeting_id, s, backends) if waiting else nothing()
    context, now = await asyncio.gather(
        live_context(meeting_id, s, backends, warn_of(request)), state
    )
    if now is not None and now != shown:
        return Response(headers={"HX-Redirect": _path(meeting_id)})
    return render(request, s, "_meeting_live.html", **context, state=shown)


async def meeting_state(meeting_id: str, s: Session, backends: Backends) -> str | None:
    """What the page says of the meeting's state: its status, and whether a change waits."""
    found = await optional(backends.get("registration", _path(meeting_id), s.token, s.lang))
    if found is None:
        return None
    return meeting_views.state_shown(found)
