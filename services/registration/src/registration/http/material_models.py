"""The shapes of the materials and access-request routes (the OpenAPI document shows them)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from registration import domain

KIND_PATTERN = "^(" + "|".join(domain.MATERIAL_KINDS) + ")$"
KINDS = " | ".join(domain.MATERIAL_KINDS)
MaterialId = Annotated[str, Path(max_length=128, description="Mã tài liệu / material id")]
RequestId = Annotated[
    str, Path(max_length=128, description="Mã đề nghị cung cấp tài liệu / access request id")
]


class AccessRequestIn(BaseModel):
    """Đề nghị cung cấp tài liệu / a request for the meeting's materials."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="Lý do / why")


class Verdict(StrEnum):
    """Đồng ý hoặc từ chối / grant or refuse."""

    GRANT = "grant"
    REFUSE = "refuse"


class DecisionIn(BaseModel):
    """Ý kiến của Sở KH&CN / the IT department's note on its decision."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000, description="Ghi chú / note")


LOCAL_TIME = "giờ của tỉnh, ISO 8601 / in the province's zone, ISO 8601"


class _Shown(BaseModel):
    """What every material, request and decision shows besides its own fields."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="Mã / id")
    tenant: str | None = Field(None, description="Tỉnh / province (tenant)")
    meeting_id: str = Field(description="Mã cuộc họp / meeting id")


class MaterialOut(_Shown):
    """Tài liệu cuộc họp / a meeting material (its bytes: GET .../materials/{material_id})."""

    kind: str | None = Field(None, description=f"Loại tài liệu / kind: {KINDS}")
    filename: str | None = Field(None, description="Tên tệp / file name")
    content_type: str | None = Field(None, description="Kiểu tệp / media type")
    uploaded_by: str | None = Field(None, description="Người tải lên / uploaded by")
    uploaded_at: str | None = Field(None, description=f"Lúc tải lên, {LOCAL_TIME}")
    size: int | None = Field(None, description="Số byte / size in bytes")
    sha256: str | None = Field(None, description="Mã kiểm tra SHA-256 / SHA-256 checksum")
    chunks: int | None = Field(None, description="Số phần lưu trữ / stored chunks")
    reports: list[str] | None = Field(
        None, description="Báo cáo (biên bản) tài liệu này nộp / reports these minutes submit"
    )


class MaterialList(BaseModel):
    """Tài liệu của một cuộc họp / a meeting's materials."""

    items: list[MaterialOut] = Field(description="Tài liệu, cũ trước / materials, oldest first")
    record_missing: bool = Field(description="Thiếu biên bản sau họp / the minutes are overdue")
    access: str = Field(description="Quyền của người gọi / the caller's right (upload, read)")


class MaterialPage(BaseModel):
    """Một trang tài liệu / one page of materials."""

    items: list[MaterialOut] = Field(description="Tài liệu theo lúc tải lên / by upload time")
    next_cursor: str | None = Field(description="Tham số cursor của trang sau / next page")


class AccessOut(_Shown):
    """Đề nghị cung cấp tài liệu hoặc quyết định / an access request or its decision."""

    kind: str | None = Field(None, description="request: đề nghị, decision: quyết định / kind")
    grantee: str | None = Field(None, description="Người/đơn vị được cấp / who would get access")
    requested_by: str | None = Field(None, description="Người đề nghị / requested by")
    reason: str | None = Field(None, description="Lý do / why")
    request_id: str | None = Field(None, description="Đề nghị được quyết định / the request")
    granted: bool | None = Field(None, description="Đồng ý / granted")
    decided_by: str | None = Field(None, description="Người quyết định / decided by")
    note: str | None = Field(None, description="Ghi chú / note")
    at: str | None = Field(None, description=f"Lúc đề nghị hoặc quyết định, {LOCAL_TIME}")
