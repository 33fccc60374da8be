"""Property-based: no meeting the policy checks accept ever breaks a rule that was not
overridden, and every rejection names a rule that is really broken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hnth_contracts.policy import load_policy
from registration import domain

POLICY = load_policy(Path(__file__).resolve().parents[4] / "policies", "tuyen-quang")
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
UNITS = {"VP-UBND": True, "SYT": True, "OLD": False}
ENDPOINTS = {"TQ-UBND": True, "TQ-SYT": True, "TQ-STTTT": True, "TQ-OLD": False}
LEAD = POLICY.duration("notice.lead_time")
URGENT_ROLES = {POLICY.value("notice.urgent_override")}  # "operator" in Tuyên Quang
MIN, MAX = POLICY.duration("meeting.min_duration"), POLICY.duration("meeting.max_duration")

minutes = st.integers(min_value=-3 * 24 * 60, max_value=10 * 24 * 60).map(
    lambda m: timedelta(minutes=m)
)
lengths = st.integers(min_value=-120, max_value=15 * 60).map(lambda m: timedelta(minutes=m))
codes = st.sampled_from([*ENDPOINTS, "TQ-NOWHERE"])
drafts = st.builds(
    domain.Draft,
    host_unit=st.sampled_from([*UNITS, "NOWHERE"]),
    start=minutes.map(lambda d: NOW + d),
    end=st.just(NOW),  # replaced below: end = start + length
    main_endpoint=codes,
    endpoints=st.lists(codes, min_size=1, max_size=4),
    urgent_reason=st.one_of(st.none(), st.just("Họp khẩn")),
)
callers = st.builds(
    domain.Caller,
    role=st.sampled_from(["operator", "registrar", "technician", "viewer"]),
    unit=st.sampled_from([None, *UNITS]),
)


@settings(max_examples=2000, deadline=None)
@given(draft=drafts, length=lengths, caller=callers)
def test_accepted_meetings_keep_every_rule_not_overridden(draft, length, caller) -> None:
    draft = domain.Draft(
        draft.host_unit,
        draft.start,
        draft.start + length,
        draft.main_endpoint,
        domain.participants(draft.main_endpoint, draft.endpoints),
        draft.urgent_reason,
    )
    directory = domain.Directory(units=UNITS, endpoints=ENDPOINTS)
    violations = domain.check_meeting(
        draft, policy=POLICY, directory=directory, caller=caller, now=NOW
    )
    broken = {v.rule for v in violations}
    truth = {
        "meeting.start_before_end": draft.end <= draft.start,
        "meeting.min_duration": draft.start < draft.end and draft.end - draft.start < MIN,
        "meeting.max_duration": draft.end - draft.start > MAX,
        "meeting.not_in_past": draft.start < draft.end and draft.start <= NOW,
        "notice.lead_time": draft.start < draft.end
        and NOW < draft.start < NOW + LEAD
        and not draft.urgent_reason,
        "notice.urgent_override": draft.start < draft.end
        and NOW < draft.start < NOW + LEAD
        and bool(draft.urgent_reason)
        and caller.role not in URGENT_ROLES,
        "directory.unit_active": not UNITS.get(draft.host_unit, False),
        "registration.own_unit": UNITS.get(draft.host_unit, False)
        and not caller.is_operator
        and caller.unit != draft.host_unit,
        "directory.endpoint_active": any(not ENDPOINTS.get(c, False) for c in draft.endpoints),
    }
    assert broken == {rule for rule, is_broken in truth.items() if is_broken}
    if not violations:
        # Accepted: inside the lead time only as an operator's urgent meeting.
        late = domain.is_late_notice(draft.start, policy=POLICY, now=NOW)
        assert not late or (caller.role in URGENT_ROLES and draft.urgent_reason)
        assert MIN <= draft.end - draft.start <= MAX
        assert draft.start > NOW
    for violation in violations:
        assert violation.source == POLICY.ref(violation.rule).source
        assert violation.message_vi
        assert violation.message_en


def test_status_follows_decisions_and_keeps_a_slot_through_a_rejected_change() -> None:
    d = domain.Decision
    assert domain.status_of(False, 0, []) == "requested"
    assert domain.status_of(False, 0, [d("MeetingRequested", 0)]) == "requested"
    assert domain.status_of(False, 0, [d("SlotAssigned", 0)]) == "scheduled"
    assert domain.status_of(False, 0, [d("SlotRejected", 0)]) == "rejected"
    held = [d("SlotAssigned", 0), d("SlotRejected", 1)]
    assert domain.status_of(False, 1, held) == "scheduled"
    moved = [d("SlotAssigned", 0), d("SlotAssigned", 1), d("SlotReleased", 0, True)]
    assert domain.status_of(False, 1, moved) == "scheduled"
    assert domain.status_of(True, 1, moved) == "cancelled"


def test_durations_read_as_people_say_them() -> None:
    assert domain.describe(timedelta(days=2)) == "2 ngày"
    assert domain.describe(timedelta(hours=1, minutes=30), english=True) == "1 h 30 min"


def test_an_active_endpoint_without_a_technician_breaks_the_province_rule() -> None:
    found = domain.technician_missing({"code": "TQ-X", "active": True}, POLICY)
    assert found is not None
    assert (found.field, found.rule) == ("technician", domain.TECHNICIAN_RULE)
    assert found.source == POLICY.ref(domain.TECHNICIAN_RULE).source
    assert "TQ-X" in found.message_vi
    assert "TQ-X" in found.message_en


def test_a_named_technician_or_a_deactivated_endpoint_is_enough() -> None:
    tech = {"name": "Nguyễn Văn Kỹ"}
    assert domain.technician_missing({"code": "TQ-X", "technician": tech}, POLICY) is None
    assert domain.technician_missing({"code": "TQ-X", "active": False}, POLICY) is None


def test_a_province_that_does_not_require_a_technician_accepts_none() -> None:
    hue = load_policy(Path(__file__).resolve().parents[4] / "policies", "thua-thien-hue")
    assert domain.technician_missing({"code": "TTH-X", "technician": None}, hue) is None
