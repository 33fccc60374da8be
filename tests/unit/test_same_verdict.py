"""Registration (a person's request) and scheduling (the same request on the bus) apply the
meeting time rules from one home, `hnth_contracts.rules`: for the same request at the same
instant they break the same rules, on both sides of every boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hnth_contracts import MeetingRequested
from hnth_contracts.policy import Policy, load_policy
from hnth_kit.settings import REPO_ROOT

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
UNIT, MAIN, OTHER = "VP-UBND", "TQ-UBND", "TQ-STTTT"


def policy() -> Policy:
    return load_policy(REPO_ROOT / "policies", "tuyen-quang")


def registration_verdict(start: datetime, end: datetime, urgent: str | None) -> set[str]:
    from registration import domain

    draft = domain.Draft(UNIT, start, end, MAIN, [OTHER], urgent_reason=urgent)
    directory = domain.Directory(units={UNIT: True}, endpoints={MAIN: True, OTHER: True})
    caller = domain.Caller(role="operator")
    found = domain.check_meeting(
        draft, policy=policy(), directory=directory, caller=caller, now=NOW
    )
    return {v.rule for v in found}


def scheduling_verdict(start: datetime, end: datetime, urgent: str | None) -> set[str]:
    from scheduling import domain

    event = MeetingRequested.create(
        meeting_id="m-verdict",
        title="Giao ban",
        host_unit=UNIT,
        chair="Chủ tịch",
        main_endpoint=MAIN,
        endpoints=(OTHER,),
        start=start,
        end=end,
        urgent_reason=urgent,
        tenant="tuyen-quang",
        correlation_id="m-verdict",
        producer="registration",
        occurred_at=NOW,
    )
    found = domain.policy_violations(domain.request_of(event), policy(), None, NOW)
    return {c.rule.rule for c in found}


LEAD = timedelta(days=2)
HOURS = timedelta(hours=2)
CASES = {
    "exactly the lead time ahead": (NOW + LEAD, timedelta(hours=2), None),
    "a second inside the lead time": (NOW + LEAD - SECOND, timedelta(hours=2), None),
    "inside the lead time with a reason": (NOW + LEAD - SECOND, timedelta(hours=2), "bão"),
    "starting now": (NOW, timedelta(hours=2), None),
    "a second from now": (NOW + SECOND, timedelta(hours=2), None),
    "end before start": (NOW + LEAD * 2, -timedelta(hours=1), None),
    "too short": (NOW + LEAD * 2, timedelta(minutes=14), None),
    "too long": (NOW + LEAD * 2, timedelta(hours=12) + SECOND, None),
    "too short and already started": (NOW - SECOND, timedelta(minutes=10), None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_registration_and_scheduling_break_the_same_time_rules(case: str) -> None:
    start, length, urgent = CASES[case]
    ours = registration_verdict(start, start + length, urgent)
    theirs = scheduling_verdict(start, start + length, urgent)
    assert ours == theirs


def test_the_lead_time_boundary_is_the_same_instant_for_both() -> None:
    late = NOW + LEAD - SECOND
    assert "notice.lead_time" in registration_verdict(late, late + HOURS, None)
    assert "notice.lead_time" in scheduling_verdict(late, late + HOURS, None)
    on_time = NOW + LEAD
    assert "notice.lead_time" not in registration_verdict(on_time, on_time + HOURS, None)
    assert "notice.lead_time" not in scheduling_verdict(on_time, on_time + HOURS, None)
