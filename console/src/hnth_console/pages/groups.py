"""Endpoint groups, kept by the IT department ("all communes", a cluster, a department's
set): a meeting may name a group, and scheduling expands it to its active endpoints when it
decides. The built-in groups (by unit kind) are shown and cannot be changed. Every change
goes through registration's `/groups` routes, which announce it (EndpointGroupUpdated)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from hnth_console.backends import BackendError
from hnth_console.deps import Services, Session, page
from hnth_console.pages.directory import UNIT_KINDS, patch_shown, refusal
from hnth_console.render import render, see_other

router = APIRouter()
Operator = Annotated[Session, Depends(page("directory"))]
LISTS = ("endpoints", "units", "kinds")
"""A group's members, each a list of ticked boxes in the form."""


def group_body(form: FormData, new: bool) -> dict[str, Any]:
    """What registration is asked to store for a group (all its fields: the form shows
    them all; the lists are the boxes ticked)."""
    body: dict[str, Any] = {
        "name": str(form.get("name") or "").strip(),
        "active": form.get("active") == "on",
        **{name: sorted({str(v) for v in form.getlist(name)} - {""}) for name in LISTS},
    }
    if new:
        body["code"] = str(form.get("code") or "").strip()
    return body


def group_fields(group: dict[str, Any]) -> dict[str, Any]:
    """A group as the form shows it (lists stay lists: they tick boxes)."""
    shown: dict[str, Any] = {k: v for k, v in group.items() if k in ("code", "name", *LISTS)}
    shown["active"] = "on" if group.get("active", True) else ""
    shown["version"] = str(group.get("version", ""))
    return shown


@router.get("/directory/groups/new", response_class=HTMLResponse, summary="Thêm nhóm điểm cầu")
async def new_group(request: Request, s: Operator, backends: Services) -> HTMLResponse:
    return await _group_form(request, s, backends, None, {"active": "on"}, {})


@router.post("/directory/groups/new", response_class=HTMLResponse, include_in_schema=False)
async def add_group(request: Request, s: Operator, backends: Services) -> Response:
    form = await request.form()
    body = group_body(form, True)
    try:
        await backends.request("POST", "registration", "/groups", s.token, s.lang, json=body)
    except BackendError as exc:
        return await _group_form(request, s, backends, None, body, refusal(exc, s), 422)
    return see_other("/directory", done="group", code=body["code"])


@router.get("/directory/groups/{code}", response_class=HTMLResponse, summary="Sửa nhóm")
async def edit_group(request: Request, code: str, s: Operator, backends: Services) -> Response:
    found = await backends.get("registration", f"/groups/{quote(code)}", s.token, s.lang)
    if found.get("built_in"):  # derived from unit kinds: nothing to edit
        return see_other("/directory")
    return await _group_form(request, s, backends, code, group_fields(found), {})


@router.post("/directory/groups/{code}", response_class=HTMLResponse, include_in_schema=False)
async def change_group(request: Request, code: str, s: Operator, backends: Services) -> Response:
    form = await request.form()
    body = group_body(form, False)
    shown = {"version": str(form.get("version") or "")}
    try:
        await patch_shown(backends, s, f"/groups/{quote(code)}", shown, body)
    except BackendError as exc:
        refill = {**body, **shown}
        return await _group_form(request, s, backends, code, refill, refusal(exc, s), 422)
    return see_other("/directory", done="group", code=code)


async def _group_form(
    request: Request,
    s: Session,
    backends: Services,
    code: str | None,
    form: dict[str, Any],
    errors: dict[str, list[str]],
    status: int = 200,
) -> HTMLResponse:
    units, endpoints = await asyncio.gather(
        backends.get("registration", "/units", s.token, s.lang, active=True),
        backends.get("registration", "/endpoints", s.token, s.lang, active=True),
    )
    return render(
        request,
        s,
        "directory_group.html",
        status,
        code=code,
        form=form,
        errors=errors,
        units=units,
        endpoints=endpoints,
        kinds=UNIT_KINDS,
    )
