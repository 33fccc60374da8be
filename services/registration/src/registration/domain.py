"""Registration's rules, pure: validate a meeting request against the province policy.

Walking-skeleton scope: start before end, duration bounds, notice lead time (with the
operator's urgent override). Directory checks and roles come with the registration issue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hnth_contracts.policy import Policy


@dataclass(frozen=True)
class Violation:
    """A broken rule, for a 422: which field, which rule, its source, and why."""

    field: str
    rule: str
    source: str
    message: str


def check_meeting(
    start: datetime, end: datetime, *, policy: Policy, now: datetime, urgent: bool
) -> list[Violation]:
    """Every rule the meeting breaks (empty when it may be registered)."""
    found: list[Violation] = []

    def broken(field: str, rule: str, message: str) -> None:
        found.append(Violation(field, rule, policy.ref(rule).source, message))

    if end <= start:
        found.append(
            Violation("end", "meeting.start_before_end", "HNTH Ops", "end must be after start")
        )
        return found
    if end - start < policy.duration("meeting.min_duration"):
        broken("end", "meeting.min_duration", "the meeting is shorter than the policy allows")
    if end - start > policy.duration("meeting.max_duration"):
        broken("end", "meeting.max_duration", "the meeting is longer than the policy allows")
    if start - now < policy.duration("notice.lead_time") and not urgent:
        broken("start", "notice.lead_time", "the meeting starts sooner than the notice lead time")
    return found


def is_late_notice(start: datetime, *, policy: Policy, now: datetime) -> bool:
    return start - now < policy.duration("notice.lead_time")
