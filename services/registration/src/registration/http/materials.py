"""Meeting materials: upload, list, download, and every meeting's materials."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Header, Query, Request, Response, UploadFile, status

from hnth_contracts.envelope import UtcDatetime
from hnth_kit.auth import Caller
from registration.http.deps import MaterialCases, policy
from registration.http.material_models import (
    KIND_PATTERN,
    KINDS,
    MaterialId,
    MaterialList,
    MaterialOut,
    MaterialPage,
)
from registration.http.meetings import MeetingId
from registration.http.render import shown
from registration.paging import decode_cursor, encode_cursor
from registration.store import MaterialQuery
from registration.usecases.materials import Upload
from registration.views import answers, shaped

router = APIRouter(tags=["materials"], responses=answers(401, 403, 404, 409))
every = APIRouter(tags=["materials"], responses=answers(401, 403, 404, 409))
"""`GET /materials`, listed after the access requests in the OpenAPI document."""


@router.post(
    "/meetings/{meeting_id}/materials",
    status_code=status.HTTP_201_CREATED,
    summary="Đính kèm tài liệu / attach a material (PDF, DOCX, XLSX, PPTX, PNG, JPEG)",
    response_model=MaterialOut,
    response_model_exclude_unset=True,
    responses={
        403: {"description": "Không phải đơn vị chủ trì / not the host unit"},
        413: {"description": "Quá lớn / too large (materials.max_bytes)"},
        415: {"description": "Loại tệp không được phép / type not allowed (materials.types)"},
    },
)
async def upload(
    request: Request,
    response: Response,
    meeting_id: MeetingId,
    who: Caller,
    cases: MaterialCases,
    file: Annotated[UploadFile, File(description="Tệp / the file")],
    kind: Annotated[
        str,
        Form(pattern=KIND_PATTERN, description=f"Loại tài liệu / kind of material: {KINDS}"),
    ] = "other",
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Gửi lại an toàn / safe retries"),
    ] = None,
) -> dict[str, Any]:
    sent = Upload(kind, file.filename, file.content_type, await file.read())
    stored = await cases.upload(who, meeting_id, sent, idempotency_key)
    if not stored.created:
        response.status_code = status.HTTP_200_OK
    return shown(stored.document, policy(request, who))


@router.get(
    "/meetings/{meeting_id}/materials",
    summary="Tài liệu cuộc họp / materials",
    **shaped(MaterialList),
)
async def list_materials(
    request: Request, meeting_id: MeetingId, who: Caller, cases: MaterialCases
) -> dict[str, Any]:
    listing = await cases.listing(who, meeting_id)
    province = policy(request, who)
    return {
        "items": [shown(m, province) for m in listing.items],
        "record_missing": listing.record_missing,
        "access": listing.access.value,
    }


@router.get(
    "/meetings/{meeting_id}/materials/{material_id}",
    summary="Tải tài liệu / download a material (exact bytes, sha256 in ETag)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download(
    meeting_id: MeetingId, material_id: MaterialId, who: Caller, cases: MaterialCases
) -> Response:
    material, data = await cases.download(who, meeting_id, material_id)
    filename = quote(material["filename"])
    return Response(
        data,
        media_type=material["content_type"],
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
            "ETag": f'"{material["sha256"]}"',
            "X-Checksum-SHA256": material["sha256"],
        },
    )


@every.get(
    "/materials",
    summary="Tài liệu mọi cuộc họp / materials of all meetings (operator: all of the "
    "province; others: what they may read)",
    **shaped(MaterialPage),
)
async def all_materials(
    request: Request,
    who: Caller,
    cases: MaterialCases,
    meeting: Annotated[
        str | None, Query(max_length=128, description="Mã cuộc họp / meeting id")
    ] = None,
    kind: Annotated[
        str | None, Query(pattern=KIND_PATTERN, description=f"Loại tài liệu / kind: {KINDS}")
    ] = None,
    uploaded_from: Annotated[
        UtcDatetime | None, Query(alias="from", description="Tải lên từ / uploaded from")
    ] = None,
    uploaded_to: Annotated[
        UtcDatetime | None, Query(alias="to", description="Tải lên trước / before")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Số mục / page size")] = 50,
    cursor: Annotated[str | None, Query(max_length=300, description="Trang sau / next")] = None,
) -> dict[str, Any]:
    province = policy(request, who)
    after = decode_cursor(request, cursor)
    query = MaterialQuery(who.tenant, meeting, kind, uploaded_from, uploaded_to, after)
    page = await cases.page(who, query, limit)
    return {
        "items": [shown(m, province) for m in page.items],
        "next_cursor": encode_cursor(page.after) if page.more else None,
    }
