"""What registration's HTTP answers look like: times in the province's zone, and the
response schemas (described in Vietnamese and English) the OpenAPI document shows."""

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from registration.directory import ContactsIn, EndpointIn, UnitIn

_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
"""An ISO 8601 instant with its offset (a date alone, like a letter's date, is left as is)."""


def local(value: Any, zone: ZoneInfo) -> Any:
    """`value` with every instant in it shown in `zone`: datetimes, and the ISO strings
    inside decisions stored as JSON (a slot's windows, a rejection's alternatives)."""
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat()
    if isinstance(value, str) and _INSTANT.match(value):
        return datetime.fromisoformat(value).astimezone(zone).isoformat()
    if isinstance(value, dict):
        return {k: local(v, zone) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [local(v, zone) for v in value]
    return value


class Status(StrEnum):
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    HELD = "held"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class WindowOut(BaseModel):
    """Khoảng thời gian, giờ của tỉnh / a time window, in the province's time."""

    start: AwareDatetime = Field(description="Bắt đầu / start")
    end: AwareDatetime = Field(description="Kết thúc / end")


class BridgeShareOut(BaseModel):
    """Phần của một cầu khi cuộc họp nối tầng / one bridge's share of a cascaded meeting."""

    bridge: str = Field(description="Cầu MCU / bridge")
    endpoints: list[str] = Field(description="Điểm cầu nối vào cầu này / endpoints on it")
    ports: int = Field(
        description="Số cổng, gồm cổng liên kết nối tầng / ports, cascade links included"
    )
    dial_in: str = Field(description="Địa chỉ kết nối của cầu này / this bridge's dial-in")
    host: bool = Field(False, description="Cầu chính / the host bridge")


class SlotOut(BaseModel):
    """Chỗ của cuộc họp trên cầu MCU / the meeting's place on the bridge."""

    model_config = ConfigDict(extra="allow")

    bridge: str = Field(description="Cầu MCU / bridge")
    virtual_room: str = Field(description="Phòng họp ảo / virtual room")
    dial_in: str = Field(description="Địa chỉ kết nối / dial-in address")
    meeting: WindowOut = Field(description="Thời gian họp / meeting window")
    reserved: WindowOut = Field(
        description="Thời gian giữ điểm cầu (gồm chuẩn bị, thu dọn) / "
        "reserved window, with setup and teardown"
    )
    cascade: list[BridgeShareOut] = Field(
        default_factory=list,
        description="Nối tầng: phần của từng cầu, cầu chính trước / cascade: each bridge's "
        "share, the host first (empty on one bridge)",
    )


class RuleOut(BaseModel):
    """Quy định và căn cứ / a rule and its source."""

    rule: str = Field(description="Mã quy định trong chính sách / policy rule")
    source: str = Field(description="Căn cứ (văn bản, điều khoản) / source (regulation)")


class ConflictOut(BaseModel):
    """Lý do từ chối / why the slot was refused."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(
        description="Loại: điểm cầu bận, hết cổng MCU, quy định / "
        "kind: endpoint_busy, bridge_capacity, policy"
    )
    resource: str = Field(description="Điểm cầu hoặc cầu MCU / endpoint or bridge")
    other_meeting_id: str | None = Field(None, description="Cuộc họp trùng / clashing meeting")
    other_window: WindowOut | None = Field(
        None, description="Thời gian cuộc họp trùng / its window"
    )
    rule: RuleOut = Field(description="Quy định bị vi phạm / the rule broken")
    message: str = Field(description="Lý do (tiếng Việt) / reason in Vietnamese")
    message_en: str | None = Field(None, description="Lý do (tiếng Anh) / reason in English")


class RejectionOut(BaseModel):
    """Quyết định từ chối xếp lịch / scheduling's refusal."""

    conflicts: list[ConflictOut] = Field(description="Các xung đột / conflicts")
    alternatives: list[WindowOut] = Field(
        description="Khung giờ trống gần nhất / nearest free windows"
    )
    preemptible: list[str] = Field(
        default_factory=list,
        description="Các cuộc họp ưu tiên thấp hơn Sở KH&CN có thể cho thay chỗ "
        "(POST /meetings/{id}/preempt) / lower-priority meetings an operator may pre-empt",
    )


class TimelineEntryOut(BaseModel):
    """Một việc đã xảy ra với cuộc họp / one thing that happened to the meeting.

    Each kind adds its details: `by`, `revision`, `slot`, `rejection`, `check`, `reason`..."""

    model_config = ConfigDict(extra="allow")

    event_id: str = Field(description="Mã sự kiện / event id")
    type: str = Field(
        description="Loại: MeetingRequested, MeetingChanged, MeetingCancelled, SlotAssigned, "
        "SlotRejected, SlotReleased, CheckCompleted, ReportDue, Material... / kind"
    )
    at: AwareDatetime = Field(description="Thời điểm / when")


class ExpansionOut(BaseModel):
    """Một nhóm khi xếp lịch / what a group expanded to."""

    group: str = Field(description="Mã nhóm / group")
    endpoints: list[str] = Field(description="Điểm cầu đang hoạt động của nhóm / its endpoints")


class RehearsalOut(BaseModel):
    """Buổi tổng duyệt / a rehearsal of the meeting."""

    id: str = Field(description="Mã cuộc họp tổng duyệt / the rehearsal's meeting id")
    start: AwareDatetime = Field(description="Bắt đầu / start")
    end: AwareDatetime = Field(description="Kết thúc / end")
    cancelled: bool = Field(description="Đã hủy / cancelled")
    status: Status | None = Field(
        None, description="Trạng thái xếp lịch (rejected: không xếp được) / its state"
    )


class MeetingOut(BaseModel):
    """Cuộc họp, giờ của tỉnh / a meeting, times in the province's zone."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="Mã cuộc họp / meeting id")
    status: Status = Field(
        description="Trạng thái: requested, held, scheduled, rejected, cancelled / status"
    )
    title: str = Field(description="Tên cuộc họp / title")
    host_unit: str = Field(description="Đơn vị chủ trì / host unit")
    chair: str = Field(description="Người chủ trì / chair")
    start: AwareDatetime = Field(description="Bắt đầu / start")
    end: AwareDatetime = Field(description="Kết thúc / end")
    main_endpoint: str = Field(description="Điểm cầu chính / main endpoint")
    endpoints: list[str] = Field(
        description="Các điểm cầu, điểm cầu chính đầu tiên / endpoints, main one first"
    )
    agenda: str | None = Field(None, description="Nội dung / agenda")
    document_number: str | None = Field(None, description="Số công văn / letter number")
    document_date: date | None = Field(None, description="Ngày công văn / letter date")
    urgent_reason: str | None = Field(None, description="Lý do họp khẩn / urgent reason")
    external_host: str | None = Field(
        None, description="Cấp trên chủ trì (điểm cầu Trung ương) / host outside the province"
    )
    priority: str | None = Field(
        None, description="Mức ưu tiên (meeting.priorities) / priority level; None: default"
    )
    late_notice: bool = Field(
        False,
        description="Đăng ký trong thời hạn thông báo (họp khẩn) / inside the notice lead time",
    )
    record: bool = Field(False, description="Ghi hình / to be recorded")
    source: str = Field(description="Hệ thống đăng ký / registering system")
    revision: int = Field(description="Lần thay đổi / revision (0 = as registered)")
    cancelled: bool = Field(description="Đã hủy / cancelled")
    cancel_reason: str | None = Field(None, description="Lý do hủy / cancellation reason")
    registered_at: AwareDatetime | None = Field(None, description="Lúc đăng ký / registered at")
    registered_by: str | None = Field(None, description="Người đăng ký / registered by")
    changed_at: AwareDatetime | None = Field(None, description="Lúc thay đổi / changed at")
    cancelled_at: AwareDatetime | None = Field(None, description="Lúc hủy / cancelled at")
    groups: list[str] = Field(
        default_factory=list, description="Nhóm điểm cầu đã nêu / endpoint groups named"
    )
    rehearsal_of: str | None = Field(
        None, description="Là buổi tổng duyệt của cuộc họp này / the meeting it rehearses"
    )
    rehearsal_required: bool | None = Field(
        None,
        description="Chính sách yêu cầu tổng duyệt (rehearsal.min_endpoints) / the policy "
        "asks for a rehearsal",
    )
    rehearsals: list[RehearsalOut] | None = Field(
        None, description="Các buổi tổng duyệt đã đặt / rehearsals booked"
    )
    slot: SlotOut | None = Field(None, description="Chỗ trên cầu MCU khi đã xếp / slot")
    expanded: list[ExpansionOut] | None = Field(
        None,
        description="Các nhóm thành những điểm cầu nào khi xếp lịch / what each group "
        "expanded to when the meeting was scheduled",
    )
    reached: list[str] | None = Field(
        None,
        description="Mọi điểm cầu cuộc họp có nhóm đã xếp đến (kể cả qua nhóm) / every "
        "endpoint a meeting with groups was scheduled on, those its groups reached included",
    )
    rejection: RejectionOut | None = Field(
        None, description="Lý do từ chối và gợi ý khung giờ / rejection and alternatives"
    )
    timeline: list[TimelineEntryOut] | None = Field(
        None, description="Diễn biến, cũ trước / timeline, oldest first"
    )
    record_missing: bool | None = Field(
        None, description="Thiếu biên bản sau họp / the minutes are overdue"
    )
    people: dict[str, str] | None = Field(
        None,
        description="Họ tên những người diễn biến nêu (tên đăng nhập -> họ tên) / the full "
        "names of the people the timeline names (username -> name)",
    )


class MeetingPage(BaseModel):
    """Một trang danh sách / one page of meetings."""

    items: list[MeetingOut] = Field(description="Cuộc họp theo giờ bắt đầu / by start")
    next_cursor: str | None = Field(description="Tham số cursor của trang sau / next page")


class _Stored(BaseModel):
    """What every directory entry carries besides its fields."""

    model_config = ConfigDict(extra="allow")

    version: int = Field(description="Phiên bản, tăng mỗi lần sửa / version, one up per change")
    updated_at: AwareDatetime = Field(description="Lúc sửa gần nhất / last changed")


class UnitOut(_Stored, UnitIn):
    """Đơn vị / a unit, as the directory holds it."""

    model_config = ConfigDict(extra="allow")

    unit: str = Field(
        description="Đơn vị quản lý: chính mã của đơn vị / owning unit: a unit is its own,"
        " so this is its code (endpoints name theirs the same way)"
    )


class EndpointOut(_Stored, EndpointIn):
    """Điểm cầu / an endpoint, as the directory holds it."""

    model_config = ConfigDict(extra="allow")


class GroupOut(BaseModel):
    """Nhóm điểm cầu / an endpoint group: one the IT department keeps, or a built-in one
    derived from unit kinds (`built_in`, no version)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Mã nhóm / code")
    name: str = Field(description="Tên nhóm / name")
    endpoints: list[str] = Field(description="Điểm cầu / endpoints")
    units: list[str] = Field(description="Mọi điểm cầu của các đơn vị này / units")
    kinds: list[str] = Field(description="Mọi điểm cầu của đơn vị loại này / unit kinds")
    active: bool = Field(description="Đang dùng / active")
    built_in: bool = Field(False, description="Nhóm có sẵn / built in")
    version: int | None = Field(None, description="Phiên bản / version")
    updated_at: AwareDatetime | None = Field(None, description="Lúc sửa gần nhất / last changed")


class ContactsOut(_Stored, ContactsIn):
    """Các đầu mối của tỉnh / the province's standing contacts."""

    model_config = ConfigDict(extra="allow")


class RuleError(BaseModel):
    """Một quy định bị vi phạm / one broken rule."""

    field: str = Field(description="Trường / field")
    rule: str = Field(description="Quy định / rule")
    source: str = Field(description="Căn cứ / source")
    message: str = Field(description="Giải thích theo Accept-Language / message")


class RuleErrors(BaseModel):
    """Dữ liệu vi phạm quy định / the request breaks rules (422)."""

    errors: list[RuleError] = Field(description="Các vi phạm / violations")


class Problem(BaseModel):
    """Lỗi / an error."""

    code: str = Field(description="Mã lỗi / error code")
    message: str = Field(description="Thông báo theo Accept-Language / message")
    message_vi: str = Field(description="Tiếng Việt / in Vietnamese")
    message_en: str = Field(description="Tiếng Anh / in English")


def answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the error codes a route may answer."""
    described = {
        400: "Dữ liệu không phải JSON / not JSON",
        401: "Thiếu hoặc sai mã xác thực / missing or bad token",
        403: "Không có quyền / not allowed",
        404: "Không tìm thấy / not found",
        409: "Xung đột / conflict",
        413: "Dữ liệu quá lớn / body too large",
    }
    found: dict[int | str, dict[str, Any]] = {
        code: {"model": Problem, "description": described[code]} for code in codes
    }
    found[422] = {"model": RuleErrors, "description": "Vi phạm quy định / rules broken"}
    return found


def shaped(model: Any, *codes: int) -> dict[str, Any]:
    """A route's documented answers: `model` (with only the fields the answer has) and
    the error codes it may give."""
    return {
        "response_model": model,
        "response_model_exclude_unset": True,
        "responses": answers(*codes),
    }
