"""Durable timers a meeting sets (reminders, the notice deadline) and when they still act."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from hnth_contracts.policy import Policy
from notification.domain.meetings import Meeting


class TimerKind(StrEnum):
    REMIND_MEETING = "remind_meeting"
    REMIND_CHECK = "remind_check"
    NOTICE_DEADLINE = "notice_deadline"
    ACK_DEADLINE = "ack_deadline"
    REMIND_REPORT = "remind_report"
    TECHNICIAN_LIST = "technician_list"


@dataclass(frozen=True)
class TimerPlan:
    id: str
    kind: str
    due_at: datetime
    payload: Mapping[str, Any]


def meeting_timers(meeting: Meeting, policy: Policy, now: datetime) -> list[TimerPlan]:
    """Reminders T-`reminder.before_meeting` (all) and T-`reminder.before_check`
    (technicians not yet checked), the notice deadline check and, at
    T-`notice.acknowledge_before`, the parties who have not acknowledged the notice. Per
    revision: a timer of an older revision finds the meeting moved on and does nothing.
    Times already past are not scheduled (the notice itself is the reminder)."""
    key = f"{meeting.tenant}:{meeting.meeting_id}:{meeting.revision}"
    payload = {"meeting_id": meeting.meeting_id, "revision": meeting.revision}
    plans = [
        TimerPlan(
            f"{TimerKind.REMIND_MEETING}:{key}",
            TimerKind.REMIND_MEETING,
            meeting.start - policy.duration("reminder.before_meeting"),
            payload,
        ),
        TimerPlan(
            f"{TimerKind.REMIND_CHECK}:{key}",
            TimerKind.REMIND_CHECK,
            meeting.start - policy.duration("reminder.before_check"),
            payload,
        ),
        TimerPlan(
            f"{TimerKind.NOTICE_DEADLINE}:{key}",
            TimerKind.NOTICE_DEADLINE,
            meeting.notice_deadline,
            payload,
        ),
        TimerPlan(
            f"{TimerKind.ACK_DEADLINE}:{key}",
            TimerKind.ACK_DEADLINE,
            meeting.start - policy.duration("notice.acknowledge_before"),
            payload,
        ),
    ]
    return [p for p in plans if p.due_at > now]


def timer_is_current(payload: Mapping[str, Any], meeting: Meeting | None, cancelled: bool) -> bool:
    """A meeting timer acts only for the meeting's current revision, and never once
    cancelled or displaced."""
    return (
        meeting is not None
        and not cancelled
        and not meeting.released
        and payload.get("revision") == meeting.revision
    )
