"""Registration's rules, pure: may a meeting be registered or changed (`meeting`), what is
its status (`status`), which materials are allowed and who may use them (`materials`)."""

from hnth_contracts.policy import describe
from hnth_kit.refusal import Violation
from registration.domain.directory import TECHNICIAN_RULE, technician_missing
from registration.domain.materials import (
    MATERIAL_KINDS,
    MINUTES,
    RECORDING,
    SIGNATURES,
    MaterialRight,
    Reader,
    check_material,
    material_right,
    record_missing,
    recording_refused,
)
from registration.domain.meeting import (
    Caller,
    Directory,
    Draft,
    check_meeting,
    frozen_since_start,
    host_change_violations,
    is_late_notice,
    may_override_lead_time,
    participants,
    reschedules,
    time_violations,
)
from registration.domain.status import APPROVAL, Decision, hold_decision, preemptible, status_of

__all__ = [
    "APPROVAL",
    "MATERIAL_KINDS",
    "MINUTES",
    "RECORDING",
    "SIGNATURES",
    "TECHNICIAN_RULE",
    "Caller",
    "Decision",
    "Directory",
    "Draft",
    "MaterialRight",
    "Reader",
    "Violation",
    "check_material",
    "check_meeting",
    "describe",
    "frozen_since_start",
    "hold_decision",
    "host_change_violations",
    "is_late_notice",
    "material_right",
    "may_override_lead_time",
    "participants",
    "preemptible",
    "record_missing",
    "recording_refused",
    "reschedules",
    "status_of",
    "technician_missing",
    "time_violations",
]
