"""The notices a meeting's assignment, cancellation or rejection, and a check outcome, cause."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from hnth_contracts import CheckCompleted, CheckOutcome, SlotRejected, SlotReleased
from hnth_contracts.policy import Policy
from notification.domain.escalations import escalation
from notification.domain.meetings import Meeting, assignment_cause, cancellation_cause, is_late
from notification.domain.notices import (
    Calendar,
    Kind,
    Notice,
    Recipient,
    calendar_uid,
    meeting_recipients,
    technician,
    told,
)


def plan_assignment(
    meeting: Meeting, policy: Policy, webhooks: Sequence[str], now: datetime
) -> list[Notice]:
    """The formal notice (or its update) to everyone, a cancellation to technicians of
    endpoints the change dropped, and an escalation when the notice is late."""
    cause = assignment_cause(meeting)
    # the first assignment anyone hears of is an invitation, whatever its revision (a
    # request refused, then changed and placed, was never announced before)
    first = meeting.was is None
    kind = Kind.MEETING_NOTICE if first else Kind.MEETING_CHANGED
    uid = calendar_uid(meeting.tenant, meeting.meeting_id)
    base = Notice(
        cause=cause,
        kind=kind,
        recipient=Recipient("", ""),
        tenant=meeting.tenant,
        rule=policy.ref("notice.lead_time"),
        meeting_id=meeting.meeting_id,
        data=meeting.data(),
        calendar=Calendar(uid, "REQUEST", meeting.revision),
    )
    notices = [
        replace(base, recipient=r, data=told(meeting, r))
        for r in meeting_recipients(meeting, policy, webhooks)
    ]
    why = "replaced_by_backup" if meeting.backup else "endpoint_removed"
    dropped = replace(
        base,
        kind=Kind.MEETING_CANCELLED,
        data={**meeting.data(), "reason": why},
        calendar=Calendar(uid, "CANCEL", meeting.revision),
    )
    notices += [replace(dropped, recipient=technician(e)) for e in meeting.removed_endpoints]
    if is_late(meeting, now):
        notices.append(
            escalation(
                cause,
                meeting.tenant,
                policy,
                meeting_id=meeting.meeting_id,
                data={**meeting.data(), "reason": "late_notice"},
            )
        )
    return notices


def plan_cancellation(
    meeting: Meeting, policy: Policy, webhooks: Sequence[str], reason: str | None
) -> list[Notice]:
    """METHOD:CANCEL to everyone the meeting's notice went to; SEQUENCE above the last."""
    calendar = Calendar(
        calendar_uid(meeting.tenant, meeting.meeting_id), "CANCEL", meeting.revision + 1
    )
    return [
        Notice(
            cause=cancellation_cause(meeting.tenant, meeting.meeting_id),
            kind=Kind.MEETING_CANCELLED,
            recipient=r,
            tenant=meeting.tenant,
            rule=policy.ref("notice.lead_time"),
            meeting_id=meeting.meeting_id,
            data={**told(meeting, r), "reason": reason or ""},
            calendar=calendar,
        )
        for r in meeting_recipients(meeting, policy, webhooks)
    ]


def plan_preemption(
    meeting: Meeting, event: SlotReleased, policy: Policy, webhooks: Sequence[str]
) -> list[Notice]:
    """A meeting displaced by a higher-priority one (`SlotReleased(preempted)`): everyone
    its notice went to hears it is off and why (the rule and its source), once per revision."""
    why = event.why
    cause = f"preempted:{meeting.tenant}:{meeting.meeting_id}:{event.revision}"
    reason = {"reason": why.message, "reason_en": why.message_en} if why else {}
    return [
        replace(
            notice,
            cause=cause,
            rule=why.rule if why else policy.ref("meeting.priorities"),
            data={**notice.data, **reason},
        )
        for notice in plan_cancellation(meeting, policy, webhooks, None)
    ]


def plan_rejection(event: SlotRejected, policy: Policy) -> list[Notice]:
    """The host unit hears why (each conflict with its rule) and the proposed alternatives."""
    conflicts = [
        {
            "kind": c.kind.value,
            "resource": c.resource,
            "message": c.message,
            "message_en": c.message_en,
            "rule": c.rule.rule,
            "source": c.rule.source,
            "other_meeting_id": c.other_meeting_id,  # named as its host reads it, when sent
        }
        for c in event.conflicts
    ]
    return [
        Notice(
            cause=f"rejected:{event.tenant}:{event.meeting_id}:{event.revision}",
            kind=Kind.MEETING_REJECTED,
            recipient=Recipient(f"unit:{event.host_unit}", "host_unit"),
            tenant=event.tenant,
            rule=event.conflicts[0].rule,
            meeting_id=event.meeting_id,
            data={
                "meeting_id": event.meeting_id,
                "title": event.title or event.meeting_id,  # older writers sent no title
                "host_unit": event.host_unit,
                "revision": event.revision,
                "conflicts": conflicts,
                "alternatives": [{"start": w.start, "end": w.end} for w in event.alternatives],
            },
        )
    ]


def plan_check_alert(
    event: CheckCompleted, meeting: Meeting | None, policy: Policy
) -> list[Notice]:
    """A failed or missed check alerts the IT department and the host unit, naming the endpoint."""
    if event.outcome is CheckOutcome.PASSED:
        return []
    recipients = [Recipient("it_department", "it_department")]
    if meeting is not None:
        recipients.append(Recipient(f"unit:{meeting.host_unit}", "host_unit"))
    data: dict[str, Any] = (
        meeting.data() if meeting else {"meeting_id": event.meeting_id, "title": event.meeting_id}
    )
    data |= {
        "endpoint": event.endpoint,
        "outcome": event.outcome.value,
        "failed_items": [i.value for i in event.failed_items],
        "due_at": event.due_at,
    }
    return [
        Notice(
            cause=f"check:{event.event_id}",
            kind=Kind.CHECK_ALERT,
            recipient=r,
            tenant=event.tenant,
            rule=policy.ref("check.lead_time"),
            meeting_id=event.meeting_id,
            data=data,
        )
        for r in recipients
    ]
