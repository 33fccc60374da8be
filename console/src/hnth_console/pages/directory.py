"""The directory, edited by the IT department: units, endpoints with their technicians, the
province's standing contacts. Every change goes through registration's directory routes,
which publish it (UnitUpdated, EndpointUpdated, ContactsUpdated) to the other services.

A form's field names are the API's field paths (`technician.email`), so a refusal naming a
field is shown next to that field."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from hnth_console.backends import BackendError
from hnth_console.deps import Services, Session, page
from hnth_console.reads import optional
from hnth_console.render import render, see_other

router = APIRouter()
Operator = Annotated[Session, Depends(page("directory"))]

CONTACT = ("name", "person", "phone", "email", "language")
STANDING = ("it_department", "line_provider", "power_company", "duty")
UNIT_KINDS = (
    "party",
    "council",
    "committee",
    "department",
    "commune",
    "ward",
    "special_zone",
    "other",
)
"""The two tiers since 1 July 2025: the province's bodies, then the commune level."""
ENDPOINT_KINDS = ("room", "software")
TOP = ""
"""Where a refusal naming no field is shown: above the form."""


# ------------------------------------------------------------ pure: forms <-> API bodies


def contact_body(form: Mapping[str, str], prefix: str) -> dict[str, str] | None:
    """A contact (`prefix.name`, `prefix.phone`, ...) from the form; None when every field
    is empty (no contact)."""
    fields = {k: form.get(f"{prefix}.{k}", "").strip() for k in CONTACT}
    if not any(v for k, v in fields.items() if k != "language"):
        return None
    body = {k: v for k, v in fields.items() if v and k != "language"}
    body["name"] = fields["name"]  # empty: registration names the field that is missing
    body["language"] = fields["language"] if fields["language"] in ("vi", "en") else "vi"
    return body


def endpoint_body(form: Mapping[str, str], new: bool) -> dict[str, Any]:
    """What registration is asked to store for an endpoint (all its fields: a change
    sends them all, as the form shows them all)."""
    body: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "unit": form.get("unit", "").strip(),
        "kind": form.get("kind", "room"),
        "location": form.get("location", "").strip() or None,
        "active": form.get("active") == "on",
        "technician": contact_body(form, "technician"),
    }
    if new:
        body["code"] = form.get("code", "").strip()
    return body


def unit_body(form: Mapping[str, str], new: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "kind": form.get("kind", "other"),
        "active": form.get("active") == "on",
        "contact": contact_body(form, "contact"),
    }
    if new:
        body["code"] = form.get("code", "").strip()
    return body


def contacts_body(form: Mapping[str, str]) -> dict[str, Any]:
    return {role: contact_body(form, role) for role in STANDING}


def changes(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """Only what differs from the entry now (a change names only what it changes: an
    endpoint whose unit stays is not checked against its unit again)."""
    return {k: v for k, v in wanted.items() if not _same(current.get(k), v)}


def _same(now: Any, wanted: Any) -> bool:
    if isinstance(now, Mapping) and isinstance(wanted, Mapping):
        keys = set(now) | set(wanted)
        return all((now.get(k) or None) == (wanted.get(k) or None) for k in keys)
    return bool(now == wanted)


def flatten(entry: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """An entry as the form's fields (`technician.email`: its value as text)."""
    fields: dict[str, str] = {}
    for key, value in entry.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            fields |= flatten(value, f"{name}.")
        elif isinstance(value, bool):
            fields[name] = "on" if value else ""
        elif value is not None:
            fields[name] = str(value)
    return fields


def field_errors(errors: Iterable[Mapping[str, Any]], t: Any) -> dict[str, list[str]]:
    """A refusal's errors by the form field they name, as sentences: a broken rule says its
    rule's words and source; a field the schema refuses says what is wrong in plain words."""
    found: dict[str, list[str]] = {}
    for error in errors:
        field = str(error.get("field") or TOP)
        rule = str(error.get("rule") or "")
        if rule.startswith("schema."):
            message = t(schema_words(rule, field))
        else:
            source = f" ({t('source')}: {error['source']})" if error.get("source") else ""
            message = f"{error.get('message') or rule}{source}"
        found.setdefault(field, []).append(message)
    return found


def schema_words(rule: str, field: str) -> str:
    """The i18n key saying why the schema refused a field."""
    kind = rule.removeprefix("schema.")
    if kind in ("missing", "string_too_short"):
        return "dir_required"
    if kind == "string_too_long":
        return "dir_too_long"
    if kind == "string_pattern_mismatch":
        return "dir_bad_email" if field.endswith("email") else "dir_bad_code"
    return "dir_invalid"


# ------------------------------------------------------------ pages


@router.get("/directory", response_class=HTMLResponse, summary="Danh bạ / directory")
async def directory(
    request: Request,
    s: Operator,
    backends: Services,
    done: str | None = None,
    code: str | None = None,
) -> HTMLResponse:
    units, endpoints, contacts, groups = await asyncio.gather(
        backends.get("registration", "/units", s.token, s.lang),
        backends.get("registration", "/endpoints", s.token, s.lang),
        _contacts(backends, s),
        backends.get("registration", "/groups", s.token, s.lang),
    )
    names = {u["code"]: u.get("name", "") for u in units}
    return render(
        request,
        s,
        "directory.html",
        units=sorted(units, key=lambda u: (not u.get("active", True), u["code"])),
        endpoints=sorted(endpoints, key=lambda e: (not e.get("active", True), e["code"])),
        unit_names=names,
        groups=groups,
        contacts=contacts or {},
        standing=STANDING,
        done=done,
        code=code,
    )


@router.get("/directory/endpoints/new", response_class=HTMLResponse, summary="Thêm điểm cầu")
async def new_endpoint(request: Request, s: Operator, backends: Services) -> HTMLResponse:
    return await _endpoint_form(request, s, backends, None, {"active": "on"}, {})


@router.post("/directory/endpoints/new", response_class=HTMLResponse, include_in_schema=False)
async def add_endpoint(request: Request, s: Operator, backends: Services) -> Response:
    form = await form_fields(request)
    try:
        await backends.request(
            "POST", "registration", "/endpoints", s.token, s.lang, json=endpoint_body(form, True)
        )
    except BackendError as exc:
        return await _endpoint_form(request, s, backends, None, form, refusal(exc, s), 422)
    return see_other("/directory", done="endpoint", code=form.get("code", ""))


@router.get("/directory/endpoints/{code}", response_class=HTMLResponse, summary="Sửa điểm cầu")
async def edit_endpoint(
    request: Request, code: str, s: Operator, backends: Services
) -> HTMLResponse:
    found = await backends.get("registration", f"/endpoints/{quote(code)}", s.token, s.lang)
    return await _endpoint_form(request, s, backends, code, flatten(found), {})


@router.post(
    "/directory/endpoints/{code}/room-rules", response_class=HTMLResponse, include_in_schema=False
)
async def attach_room_rules(
    request: Request, code: str, s: Operator, backends: Services
) -> Response:
    """The room rules' file, passed on to registration as it came (registration checks
    its type and size against the materials' rules)."""
    form = await request.form()
    sent = form.get("file")
    if not isinstance(sent, UploadFile) or not sent.filename:
        errors = {"room_rules": [s.t("no_file")]}
        return await _endpoint_again(request, s, backends, code, errors)
    try:
        await backends.request(
            "POST",
            "registration",
            f"/endpoints/{quote(code)}/room-rules",
            s.token,
            s.lang,
            files={"file": (sent.filename, await sent.read(), sent.content_type or "")},
        )
    except BackendError as exc:
        return await _endpoint_again(request, s, backends, code, refusal(exc, s, "room_rules"))
    return see_other(f"/directory/endpoints/{quote(code)}", done="room_rules")


async def _endpoint_again(
    request: Request, s: Session, backends: Services, code: str, errors: dict[str, list[str]]
) -> HTMLResponse:
    found = await backends.get("registration", f"/endpoints/{quote(code)}", s.token, s.lang)
    return await _endpoint_form(request, s, backends, code, flatten(found), errors, 422)


@router.post("/directory/endpoints/{code}", response_class=HTMLResponse, include_in_schema=False)
async def change_endpoint(request: Request, code: str, s: Operator, backends: Services) -> Response:
    form = await form_fields(request)
    path = f"/endpoints/{quote(code)}"
    try:
        await patch_shown(backends, s, path, form, endpoint_body(form, False))
    except BackendError as exc:
        return await _endpoint_form(request, s, backends, code, form, refusal(exc, s), 422)
    return see_other("/directory", done="endpoint", code=code)


@router.get("/directory/units/new", response_class=HTMLResponse, summary="Thêm đơn vị")
async def new_unit(request: Request, s: Operator) -> HTMLResponse:
    return _unit_form(request, s, None, {"active": "on", "kind": "department"}, {})


@router.post("/directory/units/new", response_class=HTMLResponse, include_in_schema=False)
async def add_unit(request: Request, s: Operator, backends: Services) -> Response:
    form = await form_fields(request)
    try:
        await backends.request(
            "POST", "registration", "/units", s.token, s.lang, json=unit_body(form, True)
        )
    except BackendError as exc:
        return _unit_form(request, s, None, form, refusal(exc, s), 422)
    return see_other("/directory", done="unit", code=form.get("code", ""))


@router.get("/directory/units/{code}", response_class=HTMLResponse, summary="Sửa đơn vị")
async def edit_unit(request: Request, code: str, s: Operator, backends: Services) -> HTMLResponse:
    found = await backends.get("registration", f"/units/{quote(code)}", s.token, s.lang)
    return _unit_form(request, s, code, flatten(found), {})


@router.post("/directory/units/{code}", response_class=HTMLResponse, include_in_schema=False)
async def change_unit(request: Request, code: str, s: Operator, backends: Services) -> Response:
    form = await form_fields(request)
    path = f"/units/{quote(code)}"
    try:
        await patch_shown(backends, s, path, form, unit_body(form, False))
    except BackendError as exc:
        return _unit_form(request, s, code, form, refusal(exc, s), 422)
    return see_other("/directory", done="unit", code=code)


@router.get("/directory/contacts", response_class=HTMLResponse, summary="Sửa đầu mối")
async def edit_contacts(request: Request, s: Operator, backends: Services) -> HTMLResponse:
    found = await _contacts(backends, s)
    return _contacts_form(request, s, flatten(found or {}), {})


@router.post("/directory/contacts", response_class=HTMLResponse, include_in_schema=False)
async def change_contacts(request: Request, s: Operator, backends: Services) -> Response:
    form = await form_fields(request)
    try:
        await backends.request(
            "PUT", "registration", "/contacts", s.token, s.lang, json=contacts_body(form)
        )
    except BackendError as exc:
        return _contacts_form(request, s, form, refusal(exc, s), 422)
    return see_other("/directory", done="contacts")


# ------------------------------------------------------------ helpers


async def form_fields(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items() if k != "csrf"}


async def _contacts(backends: Services, s: Session) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await backends.get("registration", "/contacts", s.token, s.lang)
    except BackendError as exc:
        if exc.status != 404:
            raise
        return None
    return found


async def patch_shown(
    backends: Services, s: Session, path: str, form: dict[str, str], body: dict[str, Any]
) -> None:
    """Send what the form changed, on the version the form showed (`If-Match`):
    registration refuses it (412) when someone changed the entry meanwhile, so the form
    never silently undoes the other person's change."""
    current: dict[str, Any] = await backends.get("registration", path, s.token, s.lang)
    shown = form.get("version") or str(current.get("version", ""))
    headers = {"If-Match": f'"{shown}"'} if shown else None
    patch = changes(current, body)
    try:
        await backends.request(
            "PATCH", "registration", path, s.token, s.lang, json=patch, headers=headers
        )
    except BackendError as exc:
        if exc.status == 412:
            raise BackendError("registration", 409, s.t("dir_changed_meanwhile")) from exc
        raise


def refusal(exc: BackendError, s: Session, top: str = TOP) -> dict[str, list[str]]:
    """A refusal's reasons by field (`top`: where those naming no field of the form go,
    the file's reasons beside the upload); a refusal that is no refusal (the service is
    down, its own error) is shown as the error page."""
    if exc.status not in (400, 404, 409, 413, 415, 422):
        raise exc
    if exc.errors:
        found = field_errors(exc.errors, s.t)
        return {top if k == "file" else k: v for k, v in found.items()}
    field = "code" if exc.code == "code_taken" else top
    return {field: [exc.message]}


async def _endpoint_form(
    request: Request,
    s: Session,
    backends: Services,
    code: str | None,
    form: dict[str, str],
    errors: dict[str, list[str]],
    status: int = 200,
) -> HTMLResponse:
    units, rules = await asyncio.gather(
        backends.get("registration", "/units", s.token, s.lang),
        _room_rules(backends, s, code),
    )
    return render(
        request,
        s,
        "directory_endpoint.html",
        status,
        code=code,
        form=form,
        errors=errors,
        units=units,
        kinds=ENDPOINT_KINDS,
        room_rules=rules,
        done=request.query_params.get("done"),
    )


async def _room_rules(backends: Services, s: Session, code: str | None) -> dict[str, Any] | None:
    """The endpoint's current room rules (none for a new endpoint, or none attached yet)."""
    if code is None:
        return None
    path = f"/endpoints/{quote(code)}/room-rules"
    found: dict[str, Any] | None = await optional(
        backends.get("registration", path, s.token, s.lang)
    )
    return found


def _unit_form(
    request: Request,
    s: Session,
    code: str | None,
    form: dict[str, str],
    errors: dict[str, list[str]],
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        s,
        "directory_unit.html",
        status,
        code=code,
        form=form,
        errors=errors,
        kinds=UNIT_KINDS,
    )


def _contacts_form(
    request: Request,
    s: Session,
    form: dict[str, str],
    errors: dict[str, list[str]],
    status: int = 200,
) -> HTMLResponse:
    return render(
        request, s, "directory_contacts.html", status, form=form, errors=errors, standing=STANDING
    )
