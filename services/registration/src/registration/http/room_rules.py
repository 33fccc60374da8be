"""An endpoint's room rules (nội quy phòng họp, rule 6): attach a version, read the
current one and download it. Every role reads; the IT department or the endpoint's own
technician attaches."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Request, Response, UploadFile, status
from pydantic import AwareDatetime, BaseModel, Field

from hnth_kit.auth import Caller
from registration.http.deps import RoomRuleCases, policy
from registration.http.directory import Code
from registration.http.render import shown
from registration.usecases.materials import Upload
from registration.views import answers, shaped

router = APIRouter(tags=["directory"], responses=answers(401, 403, 404))


class RoomRulesOut(BaseModel):
    """Nội quy phòng họp / an endpoint's room rules, as last attached."""

    id: str = Field(description="Mã tệp / file id")
    endpoint: str = Field(description="Điểm cầu / endpoint")
    version: int = Field(description="Phiên bản / version (1, 2, ...)")
    filename: str = Field(description="Tên tệp / file name")
    content_type: str = Field(description="Loại tệp / type")
    size: int = Field(description="Cỡ tệp (byte) / size in bytes")
    sha256: str = Field(description="Mã kiểm tra SHA-256 / SHA-256 checksum")
    uploaded_by: str = Field(description="Người tải lên / uploaded by")
    uploaded_at: AwareDatetime = Field(description="Tải lên lúc (giờ của tỉnh) / uploaded at")


@router.post(
    "/endpoints/{code}/room-rules",
    status_code=status.HTTP_201_CREATED,
    summary="Đính kèm nội quy phòng họp / attach the endpoint's room rules (the materials' "
    "file rules: materials.types, materials.max_bytes)",
    **shaped(RoomRulesOut, 413),
)
async def attach(
    request: Request,
    code: Code,
    who: Caller,
    cases: RoomRuleCases,
    file: Annotated[UploadFile, File(description="Tệp / the file")],
) -> dict[str, Any]:
    sent = Upload("room_rules", file.filename, file.content_type, await file.read())
    return shown(await cases.attach(who, code, sent), policy(request, who))


@router.get(
    "/endpoints/{code}/room-rules",
    summary="Nội quy phòng họp hiện hành / the endpoint's current room rules",
    **shaped(RoomRulesOut),
)
async def current(
    request: Request, code: Code, who: Caller, cases: RoomRuleCases
) -> dict[str, Any]:
    return shown(await cases.current(who, code), policy(request, who))


@router.get(
    "/endpoints/{code}/room-rules/file",
    summary="Tải nội quy phòng họp / download the room rules (exact bytes)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download(code: Code, who: Caller, cases: RoomRuleCases) -> Response:
    found, data = await cases.download(who, code)
    return Response(
        data,
        media_type=found["content_type"],
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found['filename'])}",
            "ETag": f'"{found["sha256"]}"',
        },
    )
