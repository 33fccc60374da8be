"""Report requests (`ReportDue`) and their reminders."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hnth_contracts import ReportDue, ReportKind, RuleRef
from hnth_contracts.policy import Policy
from notification.domain.meetings import Meeting
from notification.domain.notices import Kind, Notice, Recipient, technician
from notification.domain.timers import TimerKind, TimerPlan


def report_recipient(endpoint: str | None, unit: str | None, kind: str) -> Recipient:
    """An endpoint's technician, else the unit (the host unit, for a meeting's minutes)."""
    if endpoint:
        return technician(endpoint)
    if unit:
        role = "host_unit" if kind == ReportKind.MEETING_RECORD else "unit"
        return Recipient(f"unit:{unit}", role)
    return Recipient("it_department", "it_department")


def report_data(event: ReportDue, meeting: Meeting | None = None) -> dict[str, Any]:
    """What a report request and its reminder say; a meeting's minutes name the meeting
    by its title when this service knows it (from its assignment)."""
    return {
        "report_id": event.report_id,
        "report_kind": event.kind.value,
        "endpoint": event.endpoint,
        "unit": event.unit,
        "meeting_id": event.meeting_id,
        "period": event.period,
        "due_at": event.due_at,
        "rule": event.rule.rule,
        "source": event.rule.source,
        "title": meeting.title if meeting else None,
    }


def plan_report_request(event: ReportDue, meeting: Meeting | None = None) -> list[Notice]:
    return [
        Notice(
            cause=f"report:{event.tenant}:{event.report_id}",
            kind=Kind.REPORT_REQUEST,
            recipient=report_recipient(event.endpoint, event.unit, event.kind),
            tenant=event.tenant,
            rule=event.rule,
            meeting_id=event.meeting_id,
            data=report_data(event, meeting),
        )
    ]


def plan_report_reminder(timer_id: str, tenant: str, report: Mapping[str, Any]) -> list[Notice]:
    return [
        Notice(
            cause=timer_id,
            kind=Kind.REPORT_REMINDER,
            recipient=report_recipient(
                report.get("endpoint"), report.get("unit"), str(report["report_kind"])
            ),
            tenant=tenant,
            rule=RuleRef(rule=str(report["rule"]), source=str(report["source"])),
            meeting_id=report.get("meeting_id"),
            data=dict(report),
        )
    ]


def report_reminder_rule(kind: ReportKind) -> str:
    """How long before its due date a report is reminded. The minutes have their own lead:
    they are due `meeting_record.due_after` after the meeting's end (P3D), so the yearly
    reports' `report.reminder_before` (P3D) would fall at the end itself, already past."""
    if kind is ReportKind.MEETING_RECORD:
        return "meeting_record.reminder_before"
    return "report.reminder_before"


def report_reminder_timer(
    event: ReportDue, policy: Policy, now: datetime, meeting: Meeting | None = None
) -> TimerPlan | None:
    due = event.due_at - policy.duration(report_reminder_rule(event.kind))
    if due <= now:
        return None
    return TimerPlan(
        f"{TimerKind.REMIND_REPORT}:{event.tenant}:{event.report_id}",
        TimerKind.REMIND_REPORT,
        due,
        report_data(event, meeting),
    )
