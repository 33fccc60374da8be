"""The calendar: when year-end reports, periodic inspections and meeting records are due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hnth_contracts import ReportDue, ReportKind
from hnth_contracts.policy import Policy
from hnth_contracts.rules import zone
from scheduling.domain.decisions import PRODUCER


def end_of_local_day(day: date, policy: Policy) -> datetime:
    """Midnight at the END of `day` in the province, in UTC: "by 15/12" means until then."""
    return datetime.combine(day + timedelta(days=1), time(0), zone(policy)).astimezone(UTC)


@dataclass(frozen=True)
class Due:
    """One due item: what it covers, when it is due, and when the ReportDue goes out."""

    period: str
    due_at: datetime
    announce_at: datetime


def annual_report(policy: Policy, year: int) -> Due:
    """The year-end evaluation report (rule 7): due at the end of the policy's month-day,
    announced `report.annual.lead_time` before."""
    month, day = (int(part) for part in str(policy.value("report.annual.due")).split("-"))
    due_at = end_of_local_day(date(year, month, day), policy)
    return Due(str(year), due_at, due_at - policy.duration("report.annual.lead_time"))


def next_annual_report(policy: Policy, now: datetime) -> Due:
    """The first annual report not yet due at `now` (announced at once if its lead passed)."""
    year = now.astimezone(zone(policy)).year
    due = annual_report(policy, year)
    return due if due.due_at > now else annual_report(policy, year + 1)


def inspection(policy: Policy, index: int) -> Due:
    """Periodic inspection number `index` (rule 4): periods of `inspection.period_months`
    counted from January of year 0, so 3 months gives calendar quarters; due at the end
    of the period, announced `inspection.lead_time` before."""
    months = int(policy.value("inspection.period_months"))
    first = index * months
    end_month = first + months  # months since year 0, exclusive
    due_at = datetime.combine(
        date(end_month // 12, end_month % 12 + 1, 1), time(0), zone(policy)
    ).astimezone(UTC)
    year, month = divmod(first, 12)
    if months == 3:
        period = f"{year}-Q{month // 3 + 1}"
    elif months == 12:
        period = str(year)
    else:
        period = f"{year}-{month + 1:02d}/{months}M"
    lead = (
        policy.duration("inspection.lead_time")
        if "inspection.lead_time" in policy.rules
        else timedelta(0)
    )
    return Due(period, due_at, due_at - lead)


def inspection_index(policy: Policy, now: datetime) -> int:
    """The period `now` falls in (its inspection is the next one due)."""
    local = now.astimezone(zone(policy))
    return (local.year * 12 + local.month - 1) // int(policy.value("inspection.period_months"))


def meeting_record(policy: Policy, start: datetime, end: datetime) -> Due:
    """Materials and minutes (rule 8): announced when the meeting ends, due
    `meeting_record.due_after` later; the period is the meeting's local date."""
    period = start.astimezone(zone(policy)).date().isoformat()
    return Due(period, end + policy.duration("meeting_record.due_after"), end)


def report_due(
    policy: Policy,
    *,
    tenant: str,
    kind: ReportKind,
    due: Due,
    rule: str,
    now: datetime,
    endpoint: str | None = None,
    unit: str | None = None,
    meeting_id: str | None = None,
) -> ReportDue:
    subject = meeting_id or endpoint or unit or tenant
    report_id = f"{kind.value}:{tenant}:{subject}:{due.period}"
    return ReportDue.create(
        tenant=tenant,
        correlation_id=meeting_id or report_id,
        producer=PRODUCER,
        occurred_at=now,
        report_id=report_id,
        kind=kind,
        endpoint=endpoint,
        unit=unit,
        meeting_id=meeting_id,
        period=due.period,
        due_at=due.due_at,
        rule=policy.ref(rule),
    )
