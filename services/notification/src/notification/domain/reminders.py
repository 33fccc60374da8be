"""Reminders of a meeting: the day before to everyone, before the check to technicians."""

from __future__ import annotations

from collections.abc import Iterable

from hnth_contracts.policy import Policy
from notification.domain.meetings import Meeting
from notification.domain.notices import Kind, Notice, meeting_recipients, technician, told


def plan_meeting_reminder(timer_id: str, meeting: Meeting, policy: Policy) -> list[Notice]:
    """T-1 day: everyone the notice went to, by e-mail."""
    return [
        Notice(
            cause=timer_id,
            kind=Kind.REMINDER_MEETING,
            recipient=r,
            tenant=meeting.tenant,
            rule=policy.ref("reminder.before_meeting"),
            meeting_id=meeting.meeting_id,
            data=told(meeting, r),
        )
        for r in meeting_recipients(meeting, policy)
    ]


def plan_check_reminder(
    timer_id: str, meeting: Meeting, checked: Iterable[str], policy: Policy
) -> list[Notice]:
    """T-2h: technicians of endpoints with no check result yet."""
    done = set(checked)
    return [
        Notice(
            cause=timer_id,
            kind=Kind.REMINDER_CHECK,
            recipient=technician(endpoint),
            tenant=meeting.tenant,
            rule=policy.ref("reminder.before_check"),
            meeting_id=meeting.meeting_id,
            data={**meeting.data(endpoint), "endpoint": endpoint},
        )
        for endpoint in meeting.endpoints
        if endpoint not in done
    ]
