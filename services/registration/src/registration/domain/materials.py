"""Meeting materials and records (rule 8): which files are allowed, who may use them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from hnth_contracts.policy import Policy
from hnth_kit.refusal import Violation

MATERIAL_KINDS = ("agenda", "slides", "decision", "minutes", "other", "recording")
"""Chương trình, bài trình bày, kết luận, biên bản, khác, bản ghi hình."""
MINUTES = "minutes"
RECORDING = "recording"
RECORDING_RULE = "materials.recording"
"""The recording's own file rules (`types`, `max_bytes`): video is not a document."""

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
    content_type: str, head: bytes, size: int, *, policy: Policy, kind: str = "other"
) -> Violation | None:
    """Is this file an allowed material: a type the policy lists, whose bytes look like that
    type (when we know its signature), no larger than the policy's limit. A recording
    follows `materials.recording` instead of the documents' rules."""
    if kind == RECORDING:
        rules = policy.value(RECORDING_RULE)
        types, limit = [str(t) for t in rules["types"]], int(rules["max_bytes"])
        type_rule = size_rule = RECORDING_RULE
    else:
        types = [str(t) for t in policy.value("materials.types")]
        limit = int(policy.value("materials.max_bytes"))
        type_rule, size_rule = "materials.types", "materials.max_bytes"
    if content_type not in types or not head.startswith(SIGNATURES.get(content_type, (b"",))):
        return Violation(
            "file",
            type_rule,
            policy.ref(type_rule).source,
            f"Loại tệp '{content_type}' không được phép hoặc không khớp nội dung; "
            f"cho phép: {', '.join(types)}.",
            f"The file type '{content_type}' is not allowed or does not match its content; "
            f"allowed: {', '.join(types)}.",
        )
    if size > limit:
        return Violation(
            "file",
            size_rule,
            policy.ref(size_rule).source,
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
    endpoints: tuple[str, ...] = ()

    @property
    def grantee(self) -> str:
        """Whom a grant is for: a registrar's unit, a technician's one endpoint, else the
        person (a technician of several endpoints asks for themself)."""
        if self.role == "registrar" and self.unit:
            return f"unit:{self.unit}"
        if self.role == "technician" and len(self.endpoints) == 1:
            return f"endpoint:{self.endpoints[0]}"
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
    if reader.role == "technician" and set(reader.endpoints) & set(endpoints):
        return MaterialRight.READ
    return MaterialRight.READ if granted else MaterialRight.NONE


def recording_refused(*, record: bool, ended: bool, policy: Policy) -> Violation | None:
    """A recording joins the records of a meeting marked to be recorded, once it is over."""
    if record and ended:
        return None
    vi, en = (
        ("Cuộc họp chưa kết thúc", "The meeting is not over yet")
        if record
        else ("Cuộc họp không được đăng ký ghi hình", "The meeting is not marked to be recorded")
    )
    return Violation(
        "kind",
        RECORDING_RULE,
        policy.ref(RECORDING_RULE).source,
        f"{vi}: chưa thể đính kèm bản ghi hình.",
        f"{en}: no recording can be attached.",
    )


def record_missing(*, record_due: bool, minutes_uploaded: bool) -> bool:
    """The meeting lacks its record: the minutes were asked for (ReportDue) and not uploaded."""
    return record_due and not minutes_uploaded
