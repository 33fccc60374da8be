"""Inspection's rules, pure: one readiness checklist per endpoint, due at T-1h (rule 3).

Walking-skeleton scope: checklists open on SlotAssigned. Submissions, the `missed`
timer, inspections, incidents and reports come with the inspection issue.
"""

from __future__ import annotations

from datetime import datetime

from hnth_contracts import CheckItem, SlotAssigned


def checklist_id(meeting_id: str, endpoint: str) -> str:
    return f"{meeting_id}:{endpoint}"


def open_checklists(slot: SlotAssigned, now: datetime) -> list[dict[str, object]]:
    return [
        {
            "_id": checklist_id(slot.meeting_id, code),
            "tenant": slot.tenant,
            "meeting_id": slot.meeting_id,
            "endpoint": code,
            "state": "pending",
            "due_at": slot.check_deadline,
            "opened_at": now,
            "items": {item.value: None for item in CheckItem},
            "checked_by": None,
            "checked_at": None,
        }
        for code in slot.endpoints
    ]
