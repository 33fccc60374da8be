"""Registration's rules, pure: may this meeting be registered (or changed) under the
province's policy and directory, and what is its status given what happened to it.

Every broken rule becomes a `Violation` naming the field, the policy rule and the rule's
source, in Vietnamese and English. Nothing here reads the clock or the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hnth_contracts.policy import Policy, describe


@dataclass(frozen=True)
class Violation:
    """A broken rule, for a 422: which field, which rule, its source, and why."""

    field: str
    rule: str
    source: str
    message_vi: str
    message_en: str

    def body(self, english: bool) -> dict[str, str]:
        return {
            "field": self.field,
            "rule": self.rule,
            "source": self.source,
            "message": self.message_en if english else self.message_vi,
        }


@dataclass(frozen=True)
class Caller:
    """Who registers: an IT-department operator registers for any unit, a registrar only
    for its own; who may override the lead time is the policy's `notice.urgent_override`."""

    role: str
    unit: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


@dataclass(frozen=True)
class Directory:
    """What registration needs to know of the directory: which codes are active."""

    units: Mapping[str, bool]
    endpoints: Mapping[str, bool]


@dataclass(frozen=True)
class Draft:
    """A meeting as it would be after the registration or change."""

    host_unit: str
    start: datetime
    end: datetime
    main_endpoint: str
    endpoints: Sequence[str]
    urgent_reason: str | None = None


def participants(main_endpoint: str, endpoints: Sequence[str]) -> tuple[str, ...]:
    """The meeting's endpoints, main endpoint first, each once (the main room always takes part)."""
    return tuple(dict.fromkeys([main_endpoint, *endpoints]))


def check_meeting(
    draft: Draft, *, policy: Policy, directory: Directory, caller: Caller, now: datetime
) -> list[Violation]:
    """Every rule the meeting breaks (empty when it may be registered as drafted)."""
    found: list[Violation] = []

    def broken(field: str, rule: str, vi: str, en: str) -> None:
        found.append(Violation(field, rule, policy.ref(rule).source, vi, en))

    _check_time(draft, policy, now, caller, broken)
    if not directory.units.get(draft.host_unit, False):
        vi, en = _missing(draft.host_unit in directory.units)
        broken(
            "host_unit",
            "directory.unit_active",
            f"Đơn vị {draft.host_unit} {vi}.",
            f"Unit {draft.host_unit} is {en}.",
        )
    elif not caller.is_operator and caller.unit != draft.host_unit:
        broken(
            "host_unit",
            "registration.own_unit",
            f"Tài khoản của đơn vị {caller.unit} không được đăng ký cho đơn vị {draft.host_unit}.",
            f"A registrar of {caller.unit} may not register meetings for {draft.host_unit}.",
        )
    fields = [("main_endpoint", draft.main_endpoint)] + [
        (f"endpoints[{i}]", code) for i, code in enumerate(draft.endpoints)
    ]
    for field, code in fields:
        if not directory.endpoints.get(code, False):
            vi, en = _missing(code in directory.endpoints)
            broken(
                field,
                "directory.endpoint_active",
                f"Điểm cầu {code} {vi}.",
                f"Endpoint {code} is {en}.",
            )
    return found


def _missing(known: bool) -> tuple[str, str]:
    if known:
        return "đã ngừng hoạt động", "inactive"
    return "không có trong danh bạ", "not in the directory"


_Broken = Callable[[str, str, str, str], None]


def _check_time(
    draft: Draft, policy: Policy, now: datetime, caller: Caller, broken: _Broken
) -> None:
    if draft.end <= draft.start:
        broken(
            "end",
            "meeting.start_before_end",
            "Thời gian kết thúc phải sau thời gian bắt đầu.",
            "The end must be after the start.",
        )
        return
    length = draft.end - draft.start
    if length < policy.duration("meeting.min_duration"):
        broken(
            "end",
            "meeting.min_duration",
            f"Cuộc họp ngắn hơn mức tối thiểu {describe(policy.duration('meeting.min_duration'))}.",
            "The meeting is shorter than the minimum "
            f"{describe(policy.duration('meeting.min_duration'), english=True)}.",
        )
    if length > policy.duration("meeting.max_duration"):
        broken(
            "end",
            "meeting.max_duration",
            f"Cuộc họp dài hơn mức tối đa {describe(policy.duration('meeting.max_duration'))}.",
            "The meeting is longer than the maximum "
            f"{describe(policy.duration('meeting.max_duration'), english=True)}.",
        )
    if draft.start <= now:
        broken(
            "start",
            "meeting.not_in_past",
            "Thời gian bắt đầu đã qua.",
            "The start is in the past.",
        )
        return
    if not is_late_notice(draft.start, policy=policy, now=now):
        return
    lead = policy.duration("notice.lead_time")
    if not draft.urgent_reason:
        broken(
            "start",
            "notice.lead_time",
            f"Cuộc họp phải được đăng ký trước ít nhất {describe(lead)} để thông báo bằng văn bản; "
            "họp khẩn do Sở TT&TT đăng ký kèm lý do.",
            f"Meetings must be registered at least {describe(lead, english=True)} ahead "
            "for the written notices; "
            "urgent meetings are registered by the IT department with a reason.",
        )
    elif not may_override_lead_time(caller, policy):
        vi, en = _role_names(urgent_roles(policy))
        broken(
            "urgent_reason",
            "notice.urgent_override",
            f"Chỉ {vi} được đăng ký họp khẩn trong thời hạn thông báo.",
            f"Only {en} may register an urgent meeting inside the notice lead time.",
        )


_ROLE_NAMES = {
    "operator": ("Sở TT&TT", "the IT department"),
    "registrar": ("đơn vị chủ trì", "the host unit's registrar"),
}


def urgent_roles(policy: Policy) -> tuple[str, ...]:
    """The roles the policy lets register inside the lead time (`notice.urgent_override`:
    one role or a list)."""
    value = policy.value("notice.urgent_override")
    return (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)


def may_override_lead_time(caller: Caller, policy: Policy) -> bool:
    return caller.role in urgent_roles(policy)


def _role_names(roles: Sequence[str]) -> tuple[str, str]:
    names = [_ROLE_NAMES.get(r, (r, r)) for r in roles]
    return ", ".join(vi for vi, _ in names), ", ".join(en for _, en in names)


def reschedules(before: Draft, after: Draft) -> bool:
    """Does a change move the meeting or change its rooms? Only then do the time and
    directory rules apply again: fixing a title inside the lead time is not a new notice."""

    def shape(d: Draft) -> tuple[object, ...]:
        return (d.start, d.end, d.main_endpoint, tuple(d.endpoints))

    return shape(before) != shape(after)


def is_late_notice(start: datetime, *, policy: Policy, now: datetime) -> bool:
    """Does the meeting start sooner than the notice lead time allows (rule 2)?"""
    return start - now < policy.duration("notice.lead_time")


def frozen_since_start(start: datetime, now: datetime) -> bool:
    """A meeting that has started (or is over) can no longer be changed or cancelled."""
    return start <= now


@dataclass(frozen=True)
class Decision:
    """A scheduling decision on the meeting's timeline."""

    kind: str
    """`SlotAssigned`, `SlotRejected` or `SlotReleased`."""
    revision: int
    released_for_change: bool = False
    """A SlotReleased because a changed slot replaced it: the meeting still holds a slot."""


def status_of(cancelled: bool, revision: int, decisions: Sequence[Decision]) -> str:
    """`cancelled`, `scheduled`, `rejected` or `requested`.

    A change that is rejected leaves the earlier slot in place (scheduling keeps it), so a
    meeting that once got a slot stays `scheduled` until the slot is released."""
    if cancelled:
        return "cancelled"
    current = [
        d
        for d in decisions
        if d.revision == revision and d.kind in ("SlotAssigned", "SlotRejected")
    ]
    held = _slot_held(decisions)
    if current and current[-1].kind == "SlotAssigned":
        return "scheduled"
    if held:
        return "scheduled"
    if current:
        return "rejected"
    return "requested"


def _slot_held(decisions: Sequence[Decision]) -> bool:
    held = False
    for decision in decisions:
        if decision.kind == "SlotAssigned":
            held = True
        elif decision.kind == "SlotReleased" and not decision.released_for_change:
            held = False
    return held


# ---------------------------------------------------------------- materials (rule 8)

MATERIAL_KINDS = ("agenda", "slides", "decision", "minutes", "other")
"""Chương trình, bài trình bày, kết luận, biên bản, khác."""
MINUTES = "minutes"

_OOXML = (b"PK\x03\x04",)  # DOCX, XLSX, PPTX are zip containers
SIGNATURES: Mapping[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _OOXML,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _OOXML,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _OOXML,
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
"""How each type's files begin: a declared type the bytes contradict is refused."""


def check_material(
    content_type: str, head: bytes, size: int, *, policy: Policy
) -> Violation | None:
    """Is this file an allowed material: a type the policy lists, whose bytes look like that
    type (when we know its signature), no larger than the policy's limit."""
    types = [str(t) for t in policy.value("materials.types")]
    limit = int(policy.value("materials.max_bytes"))
    if content_type not in types or not head.startswith(SIGNATURES.get(content_type, (b"",))):
        return Violation(
            "file",
            "materials.types",
            policy.ref("materials.types").source,
            f"Loại tệp '{content_type}' không được phép hoặc không khớp nội dung; "
            f"cho phép: {', '.join(types)}.",
            f"The file type '{content_type}' is not allowed or does not match its content; "
            f"allowed: {', '.join(types)}.",
        )
    if size > limit:
        return Violation(
            "file",
            "materials.max_bytes",
            policy.ref("materials.max_bytes").source,
            f"Tệp {size} byte vượt quá giới hạn {limit} byte.",
            f"The file's {size} bytes exceed the limit of {limit} bytes.",
        )
    return None


class MaterialRight(StrEnum):
    UPLOAD = "upload"
    """Attach and read: the host unit and the IT department."""
    READ = "read"
    """Read: participating units and endpoints, and agencies granted access."""
    NONE = "none"
    """Another agency: it may ask the IT department for access."""


@dataclass(frozen=True)
class Reader:
    """Who asks for a meeting's materials, as the token says."""

    role: str
    subject: str
    unit: str | None = None
    endpoint: str | None = None

    @property
    def grantee(self) -> str:
        """Whom a grant is for: a registrar's unit, a technician's endpoint, else the person."""
        if self.role == "registrar" and self.unit:
            return f"unit:{self.unit}"
        if self.role == "technician" and self.endpoint:
            return f"endpoint:{self.endpoint}"
        return f"subject:{self.subject}"


def material_right(
    reader: Reader,
    *,
    host_unit: str,
    endpoints: Sequence[str],
    participating_units: Sequence[str],
    granted: bool,
) -> MaterialRight:
    """What `reader` may do with a meeting's materials (rule 8, seeds/003 mục I.4: managed
    centrally, given to other agencies on request)."""
    if reader.role == "operator" or (reader.role == "registrar" and reader.unit == host_unit):
        return MaterialRight.UPLOAD
    if reader.role == "registrar" and reader.unit in participating_units:
        return MaterialRight.READ
    if reader.role == "technician" and reader.endpoint in endpoints:
        return MaterialRight.READ
    return MaterialRight.READ if granted else MaterialRight.NONE


def record_missing(*, record_due: bool, minutes_uploaded: bool) -> bool:
    """The meeting lacks its record: the minutes were asked for (ReportDue) and not uploaded."""
    return record_due and not minutes_uploaded
