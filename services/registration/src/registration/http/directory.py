"""Directory routes: every role reads (rule 5: technical contacts are circulated to all);
only the IT department (operator) creates, updates or deactivates."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hnth_contracts import EndpointKind, UnitKind
from hnth_contracts.groups import BUILT_IN
from hnth_kit.auth import Caller, Operator, Principal
from hnth_kit.mongo import Document
from hnth_kit.refusal import SCHEMA_SOURCE, Refusal, Violation
from registration import technician_list
from registration.commands import not_null
from registration.directory import (
    BackupCode,
    Codes,
    ContactIn,
    ContactsIn,
    EndpointIn,
    GroupIn,
    UnitIn,
    two_tiers,
)
from registration.http.deps import Directory, policy, state
from registration.http.render import entry
from registration.usecases.directory import DirectoryCases
from registration.views import ContactsOut, EndpointOut, GroupOut, UnitOut, answers, shaped

router = APIRouter(tags=["directory"], responses=answers(401, 403, 404, 409))

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
ACTIVE_FILTER = "Lọc theo trạng thái hoạt động / only active (true) or inactive (false)"
Code = Annotated[
    str, Path(max_length=64, description="Mã đơn vị hoặc điểm cầu / unit or endpoint code")
]

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="Phiên bản đã sửa / the entry's `version` the change was made on: when "
        "the entry is at another version now, 412 and nothing changes",
    ),
]


def version_of(if_match: str | None) -> int | None:
    """The version an `If-Match` names (`3`, `"3"` or `W/"3"`)."""
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdecimal():
        vi = f"If-Match '{if_match}' không hợp lệ: ghi số phiên bản của mục, ví dụ \"3\""
        en = f"If-Match '{if_match}' is not valid: give the entry's version, e.g. \"3\""
        raise Refusal.broken([Violation("If-Match", "schema.if_match", SCHEMA_SOURCE, vi, en)])
    return int(text)


class UnitPatch(BaseModel):
    """Sửa đơn vị / a unit change: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=300, description="Tên / name")
    kind: UnitKind | None = Field(None, description="Loại / kind")
    active: bool | None = Field(None, description="Đang hoạt động / active")
    contact: ContactIn | None = Field(
        None, description="Văn phòng nhận thông báo / where the unit's notices go"
    )

    _not_null = field_validator("name", "kind", "active")(not_null)
    _two_tiers = field_validator("kind")(two_tiers)


class EndpointPatch(BaseModel):
    """Sửa điểm cầu / an endpoint change: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=300, description="Tên / name")
    unit: str | None = Field(None, min_length=1, max_length=64, description="Đơn vị / unit")
    kind: EndpointKind | None = Field(None, description="Loại / kind")
    location: str | None = Field(None, max_length=500, description="Địa điểm / location")
    active: bool | None = Field(None, description="Đang hoạt động / active")
    technician: ContactIn | None = Field(None, description="Cán bộ kỹ thuật / technician")
    backup: BackupCode = None

    _not_null = field_validator("name", "unit", "kind", "active")(not_null)


@router.get("/units", summary="Danh sách đơn vị / units", **shaped(list[UnitOut]))
async def list_units(
    request: Request,
    who: Caller,
    cases: Directory,
    active: Annotated[bool | None, Query(description=ACTIVE_FILTER)] = None,
) -> list[dict[str, Any]]:
    found = await cases.entries("units", who.tenant, {} if active is None else {"active": active})
    return [entry(u, policy(request, who)) for u in found]


@router.get("/units/{code}", summary="Một đơn vị / a unit", **shaped(UnitOut))
async def get_unit(request: Request, code: Code, who: Caller, cases: Directory) -> dict[str, Any]:
    return entry(await cases.entry("units", who.tenant, code), policy(request, who))


@router.post(
    "/units",
    status_code=status.HTTP_201_CREATED,
    summary="Thêm đơn vị / add a unit",
    **shaped(UnitOut),
)
async def create_unit(
    request: Request, body: UnitIn, who: Operator, cases: Directory
) -> dict[str, Any]:
    return entry(await cases.add_unit(who, body), policy(request, who))


@router.patch("/units/{code}", summary="Sửa đơn vị / update a unit", **shaped(UnitOut))
async def update_unit(
    request: Request,
    code: Code,
    body: UnitPatch,
    who: Operator,
    cases: Directory,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    changed = await cases.update("units", who, code, changes, version_of(if_match))
    return entry(changed, policy(request, who))


@router.post(
    "/units/{code}/deactivate", summary="Ngừng đơn vị / deactivate a unit", **shaped(UnitOut)
)
async def deactivate_unit(
    request: Request, code: Code, who: Operator, cases: Directory
) -> dict[str, Any]:
    changed = await cases.update("units", who, code, {"active": False})
    return entry(changed, policy(request, who))


@router.get("/endpoints", summary="Danh sách điểm cầu / endpoints", **shaped(list[EndpointOut]))
async def list_endpoints(
    request: Request,
    who: Caller,
    cases: Directory,
    unit: Annotated[str | None, Query(max_length=64, description="Đơn vị / unit")] = None,
    active: Annotated[bool | None, Query(description=ACTIVE_FILTER)] = None,
) -> list[dict[str, Any]]:
    filters: dict[str, Any] = {} if active is None else {"active": active}
    if unit:
        filters["unit"] = unit
    found = await cases.entries("endpoints", who.tenant, filters)
    return [entry(e, policy(request, who)) for e in found]


@router.get("/endpoints/{code}", summary="Một điểm cầu / an endpoint", **shaped(EndpointOut))
async def get_endpoint(
    request: Request, code: Code, who: Caller, cases: Directory
) -> dict[str, Any]:
    return entry(await cases.entry("endpoints", who.tenant, code), policy(request, who))


@router.post(
    "/endpoints",
    status_code=status.HTTP_201_CREATED,
    summary="Thêm điểm cầu / add an endpoint",
    **shaped(EndpointOut),
)
async def create_endpoint(
    request: Request, body: EndpointIn, who: Operator, cases: Directory
) -> dict[str, Any]:
    return entry(await cases.add_endpoint(who, body), policy(request, who))


@router.patch(
    "/endpoints/{code}", summary="Sửa điểm cầu / update an endpoint", **shaped(EndpointOut)
)
async def update_endpoint(
    request: Request,
    code: Code,
    body: EndpointPatch,
    who: Operator,
    cases: Directory,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    changed = await cases.update("endpoints", who, code, changes, version_of(if_match))
    return entry(changed, policy(request, who))


@router.post(
    "/endpoints/{code}/deactivate",
    summary="Ngừng điểm cầu / deactivate an endpoint",
    **shaped(EndpointOut),
)
async def deactivate_endpoint(
    request: Request, code: Code, who: Operator, cases: Directory
) -> dict[str, Any]:
    changed = await cases.update("endpoints", who, code, {"active": False})
    return entry(changed, policy(request, who))


class GroupPatch(BaseModel):
    """Sửa nhóm điểm cầu / a group change: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=300, description="Tên / name")
    endpoints: Codes | None = Field(None, max_length=20000, description="Điểm cầu / endpoints")
    units: Codes | None = Field(None, max_length=20000, description="Đơn vị / units")
    kinds: list[UnitKind] | None = Field(None, max_length=10, description="Loại đơn vị / kinds")
    active: bool | None = Field(None, description="Đang dùng / active")

    _not_null = field_validator("name", "endpoints", "units", "kinds", "active")(not_null)


def built_in(lang_en: bool) -> list[dict[str, Any]]:
    """The groups every province has (derived from unit kinds), in the reader's language."""
    return [
        {
            "code": g.code,
            "name": g.name_en if lang_en else g.name,
            "endpoints": [],
            "units": [],
            "kinds": sorted(g.kinds),
            "active": True,
            "built_in": True,
        }
        for g in BUILT_IN.values()
    ]


def group_entry(found: dict[str, Any], request: Request, who: Any) -> dict[str, Any]:
    shown = entry(found, policy(request, who))
    shown.pop("unit", None)  # `entry` names a unit's own code; a group has `units`
    return shown


@router.get("/groups", summary="Nhóm điểm cầu / endpoint groups", **shaped(list[GroupOut]))
async def list_groups(
    request: Request,
    who: Caller,
    cases: Directory,
    active: Annotated[bool | None, Query(description=ACTIVE_FILTER)] = None,
) -> list[dict[str, Any]]:
    """The built-in groups first, then those the IT department keeps."""
    found = await cases.entries("groups", who.tenant, {} if active is None else {"active": active})
    english = request.headers.get("accept-language", "").startswith("en")
    kept = [group_entry(g, request, who) for g in found]
    return (built_in(english) if active is not False else []) + kept


@router.get("/groups/{code}", summary="Một nhóm / a group", **shaped(GroupOut))
async def get_group(request: Request, code: Code, who: Caller, cases: Directory) -> dict[str, Any]:
    english = request.headers.get("accept-language", "").startswith("en")
    for group in built_in(english):
        if group["code"] == code.upper():
            return group
    return group_entry(await cases.entry("groups", who.tenant, code), request, who)


@router.post(
    "/groups",
    status_code=status.HTTP_201_CREATED,
    summary="Thêm nhóm điểm cầu / add an endpoint group",
    **shaped(GroupOut),
)
async def create_group(
    request: Request, body: GroupIn, who: Operator, cases: Directory
) -> dict[str, Any]:
    return group_entry(await cases.add_group(who, body), request, who)


@router.patch("/groups/{code}", summary="Sửa nhóm / update a group", **shaped(GroupOut))
async def update_group(
    request: Request,
    code: Code,
    body: GroupPatch,
    who: Operator,
    cases: Directory,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    changed = await cases.update("groups", who, code, changes, version_of(if_match))
    return group_entry(changed, request, who)


@router.post(
    "/groups/{code}/deactivate", summary="Ngừng nhóm / deactivate a group", **shaped(GroupOut)
)
async def deactivate_group(
    request: Request, code: Code, who: Operator, cases: Directory
) -> dict[str, Any]:
    changed = await cases.update("groups", who, code, {"active": False})
    return group_entry(changed, request, who)


@router.get(
    "/directory/technicians.xlsx",
    summary="Danh bạ kỹ thuật / the technical contact list (XLSX)",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "Danh bạ kỹ thuật (XLSX)"}},
)
async def technicians_xlsx(request: Request, who: Caller, cases: Directory) -> Response:
    """Every endpoint's technician and the standing contacts (rule 5: known to all), in
    the reader's language (`Accept-Language`)."""
    endpoints, units, contacts = await _contact_list(who, cases)
    lang = _lang(request)
    body = technician_list.workbook(endpoints, units, contacts, lang)
    return _download(body, XLSX, who, lang, "xlsx")


@router.get(
    "/directory/technicians.pdf",
    summary="Danh bạ kỹ thuật / the technical contact list (PDF)",
    response_class=Response,
    responses={200: {"content": {PDF: {}}, "description": "Danh bạ kỹ thuật (PDF)"}},
)
async def technicians_pdf(request: Request, who: Caller, cases: Directory) -> Response:
    """The same list as a PDF to print or send, with the province and when it was made
    (the province's time), in the reader's language (`Accept-Language`)."""
    endpoints, units, contacts = await _contact_list(who, cases)
    lang, rules = _lang(request), policy(request, who)
    made = cases.clock.now().astimezone(ZoneInfo(rules.timezone))
    body = await asyncio.to_thread(
        technician_list.pdf,
        endpoints,
        units,
        contacts,
        province=rules.name,
        updated=f"{made:%d/%m/%Y %H:%M}",
        lang=lang,
        fonts=state(request).pdf_fonts,
    )
    return _download(body, PDF, who, lang, "pdf")


async def _contact_list(
    who: Principal, cases: DirectoryCases
) -> tuple[list[Document], dict[str, str], Document | None]:
    """The province's endpoints, its units' names by code and its standing contacts (None
    when none are recorded yet: the endpoints alone)."""
    endpoints = await cases.entries("endpoints", who.tenant, {})
    units = {
        str(u["code"]): str(u.get("name") or "")
        for u in await cases.entries("units", who.tenant, {})
    }
    try:
        return endpoints, units, await cases.contacts(who.tenant)
    except Refusal:
        return endpoints, units, None


def _lang(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").startswith("en") else "vi"


def _download(body: bytes, media_type: str, who: Principal, lang: str, ext: str) -> Response:
    name = "danh-ba-ky-thuat" if lang == "vi" else "technical-contacts"
    disposition = f'attachment; filename="{name}-{who.tenant}.{ext}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get(
    "/contacts", summary="Đầu mối của tỉnh / the province's contacts", **shaped(ContactsOut)
)
async def get_contacts(request: Request, who: Caller, cases: Directory) -> dict[str, Any]:
    return entry(await cases.contacts(who.tenant), policy(request, who))


@router.put("/contacts", summary="Cập nhật đầu mối / replace the contacts", **shaped(ContactsOut))
async def put_contacts(
    request: Request, body: ContactsIn, who: Operator, cases: Directory
) -> dict[str, Any]:
    return entry(await cases.set_contacts(who, body), policy(request, who))
