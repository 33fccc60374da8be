"""The province's accounts (operators: list, create, disable, enable, reset a password)
and the audit of sign-ins and account changes, times in the province's zone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from hnth_console import views
from hnth_console.backends import BackendError, Backends
from hnth_console.deps import Services, Session, page
from hnth_console.reads import directory
from hnth_console.render import render, see_other
from hnth_kit.auth import Role

router = APIRouter(include_in_schema=False)
Operator = Annotated[Session, Depends(page("accounts"))]
Auditor = Annotated[Session, Depends(page("audit"))]
ACCOUNT_FIELDS = ("username", "display_name", "role", "unit", "email", "phone", "password")
LABELS = views.ACCOUNT_LABELS
"""The account forms' labels (i18n keys) for the fields whose key is not their name."""
ACTIONS = {"disable": "disabled", "enable": "enabled", "reset-password": "reset_sent"}
AUDIT_KINDS = (
    "login",
    "login_failed",
    "locked_out",
    "logout",
    "account_created",
    "account_changed",
    "account_disabled",
    "account_enabled",
    "password_reset",
    "password_set",
    "totp_enrolled",
    "tokens_revoked",
    "sso_login",
    "sso_refused",
)


async def accounts_page(
    request: Request,
    s: Session,
    backends: Backends,
    status: int = 200,
    *,
    role: str | None = None,
    active: str | None = None,
    **context: Any,
) -> HTMLResponse:
    found, units, endpoints = await asyncio.gather(
        backends.get("registration", "/accounts", s.token, s.lang, role=role, active=active),
        directory(backends, s, "units"),
        directory(backends, s),
    )
    context.setdefault("form", {})
    context.setdefault("errors", [])
    return render(
        request,
        s,
        "accounts.html",
        status,
        accounts=sorted(found, key=lambda a: (not a.get("active", True), a["username"])),
        roles=[r.value for r in Role],
        units=units,
        endpoints=endpoints,
        filters={"role": role or "", "active": active or ""},
        notices_elsewhere=views.notices_elsewhere,
        **context,
    )


@router.get("/accounts", response_class=HTMLResponse, summary="Tài khoản / accounts")
async def accounts(
    request: Request,
    s: Operator,
    backends: Services,
    role: str | None = None,
    active: str | None = None,
    done: str | None = None,
    who: str | None = None,
) -> HTMLResponse:
    shown = done if done in (*ACTIONS.values(), "created", "changed") else None
    return await accounts_page(
        request, s, backends, role=role or None, active=active or None, done=shown, who=who
    )


@router.post("/accounts", response_class=HTMLResponse)
async def create_account(request: Request, s: Operator, backends: Services) -> Response:
    form = await request.form()
    fields = {k: str(form.get(k) or "").strip() for k in ACCOUNT_FIELDS}
    chosen = [str(v) for v in form.getlist("endpoints")]
    body: dict[str, Any] = {k: v for k, v in fields.items() if v}
    body["username"] = fields["username"].lower()
    body |= scope_of(body.get("role"), body.get("unit"), chosen)
    body["language"] = s.lang
    try:
        await backends.request("POST", "registration", "/accounts", s.token, s.lang, json=body)
    except BackendError as exc:
        if exc.status not in (400, 404, 409, 422):
            raise
        errors = views.refusal_lines(exc.errors, s.t, LABELS) or [exc.message]
        refill = {**fields, "password": "", "endpoints": chosen}
        return await accounts_page(
            request, s, backends, exc.status, form=refill, form_errors=errors
        )
    return see_other("/accounts", done="created", who=body["username"])


EDITABLE = ("display_name", "role", "unit", "email", "phone")


def scope_of(role: str | None, unit: str | None, endpoints: list[str]) -> dict[str, Any]:
    """What an account of `role` is tied to: a registrar its unit, a technician its
    endpoints, nobody else either (a clerk made technician leaves the unit behind)."""
    return {
        "unit": unit if role == "registrar" else None,
        "endpoints": endpoints if role == "technician" else [],
    }


async def edit_page(
    request: Request,
    s: Session,
    backends: Backends,
    account: dict[str, Any],
    status: int = 200,
    errors: Sequence[str] = (),
) -> HTMLResponse:
    units, endpoints = await asyncio.gather(directory(backends, s, "units"), directory(backends, s))
    return render(
        request,
        s,
        "account_edit.html",
        status,
        account=account,
        roles=[r.value for r in Role],
        units=units,
        endpoints=endpoints,
        errors=list(errors),
    )


@router.get("/accounts/{username}/edit", response_class=HTMLResponse)
async def edit_account(
    request: Request, username: str, s: Operator, backends: Services
) -> HTMLResponse:
    """One account's form: name, role with its unit or endpoints, e-mail, phone."""
    found = await backends.get("registration", f"/accounts/{quote(username)}", s.token, s.lang)
    return await edit_page(request, s, backends, found)


@router.post("/accounts/{username}/edit", response_class=HTMLResponse)
async def save_account(
    request: Request, username: str, s: Operator, backends: Services
) -> Response:
    """Registration's PATCH with what the form changed (an emptied e-mail, phone or unit
    is cleared; what is as it was is not sent, so the audit names only real changes and an
    unchanged unit since deactivated blocks nothing); a refusal above the form, what was
    typed kept."""
    form = await request.form()
    path = f"/accounts/{quote(username)}"
    was = await backends.get("registration", path, s.token, s.lang)
    fields = {k: str(form.get(k) or "").strip() for k in EDITABLE}
    wanted: dict[str, Any] = {k: fields[k] or None for k in EDITABLE}
    wanted |= scope_of(wanted["role"], wanted["unit"], [str(v) for v in form.getlist("endpoints")])
    body = {
        k: v
        for k, v in wanted.items()
        if (sorted(v) != sorted(was.get(k) or []) if k == "endpoints" else v != was.get(k))
    }
    if not body:
        return see_other("/accounts", done="changed", who=username)
    try:
        await backends.request("PATCH", "registration", path, s.token, s.lang, json=body)
    except BackendError as exc:
        if exc.status not in (400, 404, 409, 422):
            raise
        errors = views.refusal_lines(exc.errors, s.t, LABELS) or [exc.message]
        typed = {**wanted, "username": username}
        return await edit_page(request, s, backends, typed, exc.status, errors)
    return see_other("/accounts", done="changed", who=username)


@router.post("/accounts/{username}/{action}", response_class=HTMLResponse)
async def account_action(
    request: Request, username: str, action: str, s: Operator, backends: Services
) -> Response:
    """Disable, enable, or send a new set-password link (registration revokes the tokens)."""
    if action not in ACTIONS:
        return await accounts_page(request, s, backends, 404, errors=[action])
    path = f"/accounts/{quote(username)}/{action}"
    try:
        await backends.request("POST", "registration", path, s.token, s.lang)
    except BackendError as exc:
        if exc.status not in (400, 404, 409, 422):
            raise
        errors = [str(e.get("message")) for e in exc.errors] or [exc.message]
        return await accounts_page(request, s, backends, exc.status, errors=errors)
    return see_other("/accounts", done=ACTIONS[action], who=username)


# ------------------------------------------------------------ audit


def day_bound(day: str, s: Session, *, end: bool) -> str | None:
    """A day as the province reads it (`YYYY-MM-DD`), as a UTC instant: its start, or the
    start of the next day for `end`; None when empty or unreadable."""
    try:
        start = datetime.combine(datetime.strptime(day, "%Y-%m-%d").date(), time(), s.zone)
    except ValueError:
        return None
    return (start + timedelta(days=1 if end else 0)).isoformat()


@router.get("/audit", response_class=HTMLResponse, summary="Nhật ký / audit")
async def audit(
    request: Request,
    s: Auditor,
    backends: Services,
    kind: str = "",
    username: str = "",
    since: str = "",
    until: str = "",
) -> HTMLResponse:
    """`since`, `until`: days (`YYYY-MM-DD`) as the province reads them, both included."""
    records = await backends.get(
        "registration",
        "/audit",
        s.token,
        s.lang,
        kind=kind or None,
        username=username.strip() or None,
        **{"from": day_bound(since, s, end=False), "to": day_bound(until, s, end=True)},
    )
    filters = {"kind": kind, "username": username, "since": since, "until": until}
    return render(
        request,
        s,
        "audit.html",
        records=records,
        kinds=AUDIT_KINDS,
        filters=filters,
        audit_detail=views.audit_detail,
    )
