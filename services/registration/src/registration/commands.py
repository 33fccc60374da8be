"""The commands people send: register, change and cancel a meeting (pydantic models, the
shapes the OpenAPI document shows; a use case takes them as they are)."""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_ENDPOINTS = 2000
MAX_GROUPS = 100
GroupCode = Annotated[str, Field(min_length=1, max_length=64)]
RehearsalChoice = Annotated[
    Literal["keep", "cancel"] | None,
    Field(
        description="Khi cuộc họp có buổi tổng duyệt: giữ (keep) hay hủy (cancel) cùng; bắt "
        "buộc nếu có / when the meeting has rehearsals: keep them or cancel them too; "
        "required if it has any"
    ),
]


def not_null(value: Any) -> Any:
    """For a PATCH: left out, a field keeps its value; sent as null it would erase a
    required one (a field that may be cleared does not use this)."""
    if value is None:
        raise ValueError("không được để trống / may not be null")
    return value


class MeetingIn(BaseModel):
    """Đăng ký cuộc họp / a meeting registration."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500, description="Tên cuộc họp / title")
    host_unit: str = Field(min_length=1, max_length=64, description="Đơn vị chủ trì / host unit")
    chair: str = Field(min_length=1, max_length=200, description="Người chủ trì / chair")
    start: AwareDatetime = Field(description="Bắt đầu, có múi giờ / start, ISO 8601 with offset")
    end: AwareDatetime = Field(description="Kết thúc, có múi giờ / end, ISO 8601 with offset")
    main_endpoint: str = Field(
        min_length=1, max_length=64, description="Điểm cầu chính / main endpoint"
    )
    endpoints: list[str] = Field(
        default_factory=list,
        max_length=MAX_ENDPOINTS,
        description="Các điểm cầu tham gia (mã) / participating endpoint codes",
    )
    groups: list[GroupCode] = Field(
        default_factory=list,
        max_length=MAX_GROUPS,
        description="Nhóm điểm cầu (mã, ví dụ ALL-COMMUNES): khi xếp lịch, mỗi nhóm thành các "
        "điểm cầu đang hoạt động của nó / endpoint groups, each expanded to its active "
        "endpoints when the meeting is scheduled",
    )
    agenda: str | None = Field(None, max_length=10000, description="Nội dung / agenda")
    document_number: str | None = Field(
        None, max_length=100, description="Số công văn / official letter number"
    )
    document_date: date | None = Field(None, description="Ngày công văn / letter date")
    urgent_reason: str | None = Field(
        None,
        max_length=2000,
        description="Lý do họp khẩn, chỉ Sở KH&CN / urgent reason (IT department only)",
    )
    external_host: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Cuộc họp do cấp trên chủ trì (vd. Chính phủ, một bộ: điểm cầu Trung ương), "
        "tỉnh nhận tại điểm cầu chính và chuyển tiếp; chỉ Sở KH&CN / the host outside the "
        "province (the Government, a ministry), received on the main endpoint and relayed; "
        "IT department only",
    )
    record: bool = Field(
        False,
        description="Ghi hình cuộc họp: sau họp, bản ghi được đính kèm hồ sơ (tài liệu loại "
        "recording) / record the meeting: afterwards the recording joins its materials",
    )

    priority: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="Mức ưu tiên theo quy định của tỉnh (meeting.priorities, vd. lanh_dao, "
        "thien_tai, thuong_le); bỏ trống: mức mặc định / priority level from the province's "
        "meeting.priorities; empty: the default level",
    )

    @model_validator(mode="after")
    def _names_endpoints_or_groups(self) -> "MeetingIn":
        if not self.endpoints and not self.groups:
            raise ValueError(
                "cần ít nhất một điểm cầu hoặc nhóm / name at least one endpoint or group"
            )
        return self


class MeetingPatch(BaseModel):
    """Thay đổi cuộc họp / a change: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=500, description="Tên / title")
    chair: str | None = Field(None, min_length=1, max_length=200, description="Chủ trì / chair")
    start: AwareDatetime | None = Field(None, description="Bắt đầu / start")
    end: AwareDatetime | None = Field(None, description="Kết thúc / end")
    main_endpoint: str | None = Field(
        None, min_length=1, max_length=64, description="Điểm cầu chính / main endpoint"
    )
    endpoints: list[str] | None = Field(
        None, min_length=1, max_length=MAX_ENDPOINTS, description="Điểm cầu / endpoints"
    )
    groups: list[GroupCode] | None = Field(
        None, max_length=MAX_GROUPS, description="Nhóm điểm cầu / endpoint groups"
    )
    agenda: str | None = Field(None, max_length=10000, description="Nội dung / agenda")
    document_number: str | None = Field(
        None, max_length=100, description="Số công văn / official letter number"
    )
    document_date: date | None = Field(None, description="Ngày công văn / letter date")
    urgent_reason: str | None = Field(
        None,
        max_length=2000,
        description="Lý do họp khẩn, khi dời vào thời hạn thông báo / urgent reason, "
        "when moving inside the notice lead time",
    )
    external_host: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Cấp trên chủ trì (điểm cầu Trung ương); null: không còn là cuộc họp cấp "
        "trên; chỉ Sở KH&CN / the host outside the province; null clears it; IT department "
        "only",
    )
    record: bool | None = Field(None, description="Ghi hình / record the meeting")
    reason: str | None = Field(
        None,
        min_length=1,
        max_length=2000,
        description="Lý do thay đổi, báo cho mọi bên nhận thông báo / why it changes, told "
        "to every party notified",
    )

    rehearsals: RehearsalChoice = None

    _not_null = field_validator(
        "title", "chair", "start", "end", "main_endpoint", "endpoints", "record"
    )(not_null)


class CancelIn(BaseModel):
    """Hủy cuộc họp / a cancellation."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=2000, description="Lý do hủy / reason")
    rehearsals: RehearsalChoice = None


class RejectIn(BaseModel):
    """Không duyệt cuộc họp đang giữ chỗ / an operator's rejection of a held meeting."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=2000, description="Lý do không duyệt / why it is rejected"
    )


class PreemptIn(BaseModel):
    """Sở KH&CN cho cuộc họp thay chỗ các cuộc họp ưu tiên thấp hơn / the IT department lets
    a refused meeting displace the lower-priority meetings in its way."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=2000, description="Lý do thay chỗ / why they are displaced"
    )


class MoveIn(BaseModel):
    """Sở KH&CN dời cuộc họp / the IT department moves a meeting (re-validated as a change)."""

    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime = Field(description="Bắt đầu mới / new start")
    end: AwareDatetime = Field(description="Kết thúc mới / new end")
    reason: str = Field(min_length=1, max_length=2000, description="Lý do dời / why it moves")
    urgent_reason: str | None = Field(
        None,
        max_length=2000,
        description="Lý do họp khẩn, khi dời vào thời hạn thông báo / urgent reason, "
        "when moving inside the notice lead time",
    )
    rehearsals: RehearsalChoice = None


class RehearsalIn(BaseModel):
    """Đặt buổi tổng duyệt / book a rehearsal: the meeting's endpoints, at these times."""

    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime = Field(description="Bắt đầu tổng duyệt / rehearsal start")
    end: AwareDatetime = Field(description="Kết thúc tổng duyệt / rehearsal end")
    urgent_reason: str | None = Field(
        None,
        max_length=2000,
        description="Lý do khẩn, khi đặt trong thời hạn thông báo; chỉ Sở KH&CN / urgent "
        "reason, inside the notice lead time; IT department only",
    )


class SwitchBackupIn(BaseModel):
    """Sở KH&CN chuyển sang điểm cầu dự phòng / the IT department switches an endpoint of
    the meeting to the backup the directory names for it (the last hour before opening)."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(
        min_length=1,
        max_length=64,
        description="Điểm cầu gặp sự cố, được thay bằng điểm cầu dự phòng của nó / the failing "
        "endpoint, replaced by its backup",
    )
    reason: str = Field(
        min_length=1,
        max_length=2000,
        description="Lý do chuyển / why (the failed check, the incident)",
    )
