"""The hours of a province's day a meeting is held in: its working hours, if its policy
binds every meeting to them (`meeting.working_hours`), and its office hours
(`meeting.office_hours`), which the free-slot finder searches by default and a refusal's
alternatives keep to when the meeting asked for lies inside them (an evening's or a
weekend's urgent meeting is offered times near it, whatever the hour). Both values are
`{days: [1..7, ISO weekdays], from: "07:30", to: "17:00"}` in the province's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from hnth_contracts.policy import Policy
from hnth_contracts.rules import OFFICE_HOURS

WORKING_HOURS = "meeting.working_hours"


@dataclass(frozen=True)
class WorkingHours:
    """Hours of the week: ISO weekdays (1 = Monday), local start and end."""

    days: frozenset[int]
    opens: time
    closes: time


def working_hours(policy: Policy) -> WorkingHours | None:
    """The policy's `meeting.working_hours`, or None when the province has none."""
    return _hours(policy, WORKING_HOURS)


def office_hours(policy: Policy) -> WorkingHours | None:
    """The policy's `meeting.office_hours`, or None when the province has none."""
    return _hours(policy, OFFICE_HOURS)


def _hours(policy: Policy, rule: str) -> WorkingHours | None:
    if rule not in policy.rules:
        return None
    value: Any = policy.value(rule)
    return WorkingHours(
        days=frozenset(int(d) for d in value.get("days", range(1, 8))),
        opens=time.fromisoformat(str(value["from"])),
        closes=time.fromisoformat(str(value["to"])),
    )


def within_hours(start: datetime, end: datetime, hours: WorkingHours, tz: ZoneInfo) -> bool:
    """The meeting starts and ends on one working day, inside its hours."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if local_start.date() != local_end.date() and local_end.time() != time(0):
        return False
    if local_start.isoweekday() not in hours.days:
        return False
    closes_at = local_end.time() if local_end.date() == local_start.date() else time.max
    return hours.opens <= local_start.time() and closes_at <= hours.closes


def kept_for_alternatives(
    policy: Policy, start: datetime, end: datetime, tz: ZoneInfo
) -> list[WorkingHours]:
    """The hours a refused meeting's alternatives keep to: the working hours, and the office
    hours if the meeting asked for lies inside them."""
    office = office_hours(policy)
    kept = [h for h in (working_hours(policy),) if h is not None]
    if office is not None and within_hours(start, end, office, tz):
        kept.append(office)
    return kept
