"""Escalations to the duty contact: a late notice, notices undelivered at the notice
deadline, notices not acknowledged a day ahead, a formal notice that gave up."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from hnth_contracts.policy import Policy
from notification.domain.meetings import Meeting
from notification.domain.notices import (
    FORMAL_KINDS,
    Channel,
    Kind,
    Notice,
    Recipient,
    Status,
)


def escalation_target(policy: Policy) -> Recipient:
    """Who hears escalations: `escalation.late_notice` names a standing role (e.g. duty)."""
    role = str(policy.value("escalation.late_notice"))
    return Recipient(role, role)


def escalation(
    cause: str,
    tenant: str,
    policy: Policy,
    *,
    meeting_id: str | None,
    data: Mapping[str, Any],
) -> Notice:
    """To the duty contact (`escalation.late_notice`), citing the notice rule it protects."""
    return Notice(
        cause=f"{cause}|escalation",
        kind=Kind.ESCALATION,
        recipient=escalation_target(policy),
        tenant=tenant,
        rule=policy.ref("notice.lead_time"),
        meeting_id=meeting_id,
        data=data,
    )


def plan_deadline_escalation(
    timer_id: str, meeting: Meeting, undelivered: Sequence[str], policy: Policy
) -> list[Notice]:
    """At the notice deadline, formal notices not yet delivered go to the duty contact."""
    if not undelivered:
        return []
    return [
        escalation(
            timer_id,
            meeting.tenant,
            policy,
            meeting_id=meeting.meeting_id,
            data={**meeting.data(), "reason": "undelivered", "recipients": list(undelivered)},
        )
    ]


ACKNOWLEDGED_BY = ("line_provider", "power_company", "host_unit", "technician")
"""The parties asked to acknowledge a meeting's written notice (not the IT department's
own copy, not a system's webhook)."""


def unacknowledged_formal(notices: Iterable[Mapping[str, Any]]) -> list[str]:
    """The parties whose delivered written notice of this revision nobody acknowledged."""
    return [
        n["recipient"]
        for n in notices
        if n["kind"] in FORMAL_KINDS
        and n["channel"] == Channel.EMAIL.value
        and n["role"] in ACKNOWLEDGED_BY
        and n["status"] == Status.SENT
        and not n.get("acknowledged_at")
    ]


def plan_ack_escalation(
    timer_id: str, meeting: Meeting, unacknowledged: Sequence[str], policy: Policy
) -> list[Notice]:
    """T-`notice.acknowledge_before`: the parties who have not acknowledged the notice go
    to the duty contact, to be reached by phone while there is a working day left."""
    if not unacknowledged:
        return []
    found = escalation(
        timer_id,
        meeting.tenant,
        policy,
        meeting_id=meeting.meeting_id,
        data={**meeting.data(), "reason": "unacknowledged", "recipients": list(unacknowledged)},
    )
    return [replace(found, rule=policy.ref("notice.acknowledge_before"))]


def escalates_failure(kind: str, status: Status, channel: str = Channel.EMAIL.value) -> bool:
    """A formal notice (rule 2 requires it in writing) or a last-hour SMS that ended
    `failed` is escalated (an escalation itself is not: it would go round)."""
    if status is not Status.FAILED:
        return False
    return kind in FORMAL_KINDS or (channel == Channel.SMS.value and kind != Kind.ESCALATION)


def plan_failure_escalation(
    failed_notice_id: str,
    tenant: str,
    meeting: Mapping[str, Any],
    recipient: str,
    why: str,
    policy: Policy,
) -> list[Notice]:
    """A formal notice that gave up is escalated at once, naming the recipient and why."""
    return [
        escalation(
            failed_notice_id,
            tenant,
            policy,
            meeting_id=meeting.get("meeting_id"),
            data={**meeting, "reason": "failed", "recipients": [recipient], "failure": why},
        )
    ]


def undelivered_formal(notices: Iterable[Mapping[str, Any]]) -> list[str]:
    """The recipients of an assignment's formal notices that are not sent yet."""
    return [
        n["recipient"] for n in notices if n["kind"] in FORMAL_KINDS and n["status"] != Status.SENT
    ]
