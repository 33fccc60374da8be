"""Every rule key in `policies/*.yaml` is a knob: flipping its value changes what the
platform decides. One case per key; a key no case covers fails the last test, so a rule
added to the files without a reader (or a reader without a test) is caught here.

Each case reads the decision through the function the service itself calls, with the
shipped Tuyên Quang policy and with the key flipped, and asserts the decisions differ."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hnth_contracts import ReportDue, ReportKind, RuleRef, rules
from hnth_contracts.policy import Policy, Rule, load_policy
from hnth_kit.settings import REPO_ROOT

POLICIES = REPO_ROOT / "policies"
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
START = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # 08:00 local
END = START + timedelta(hours=2)


def shipped() -> Policy:
    return load_policy(POLICIES, "tuyen-quang")


def flipped(policy: Policy, key: str, value: Any) -> Policy:
    rule = policy.rules[key]
    changed = {**policy.rules, key: Rule(value=value, source=rule.source)}
    return policy.model_copy(update={"rules": changed})


# ---------------------------------------------------------------- probes, one per key


def _breaches(policy: Policy, start: datetime, end: datetime, asked_at: datetime) -> list[str]:
    found = rules.time_breaches(start, end, policy, now=asked_at, urgent_reason=None)
    return [b.rule for b in found]


def lead_time(policy: Policy) -> object:
    return _breaches(policy, START, END, START - timedelta(days=3))


def national_lead_time(policy: Policy) -> object:
    found = rules.time_breaches(
        START,
        END,
        policy,
        now=START - timedelta(hours=6),
        urgent_reason=None,
        external_host="Văn phòng Chính phủ",
    )
    return [b.rule for b in found]


def min_duration(policy: Policy) -> object:
    return _breaches(policy, START, START + timedelta(minutes=20), NOW)


def max_duration(policy: Policy) -> object:
    return _breaches(policy, START, START + timedelta(hours=5), NOW)


def urgent_override(policy: Policy) -> object:
    from registration import domain

    return domain.may_override_lead_time(domain.Caller(role="registrar", unit="VP-UBND"), policy)


def material(size: int, content_type: str) -> Callable[[Policy], object]:
    def probe(policy: Policy) -> object:
        from registration import domain

        found = domain.check_material(content_type, b"%PDF-1.7", size, policy=policy)
        return found.rule if found else None

    return probe


def scheduling_assignment(field: str) -> Callable[[Policy], object]:
    def probe(policy: Policy) -> object:
        from scheduling_samples import requested

        from scheduling import domain

        event = requested("m-knob", start=START, hours=2, occurred_at=NOW)
        decision = domain.assign(domain.request_of(event), policy, policy.bridge, event, NOW)
        return getattr(decision, field) if field != "reserved" else decision.slot.reserved

    return probe


def grace(policy: Policy) -> object:
    from scheduling import domain

    return domain.grace_ends(NOW, policy)


def periodic_inspection(policy: Policy) -> object:
    from scheduling import domain

    return domain.inspection(policy, domain.inspection_index(policy, NOW))


def annual(policy: Policy) -> object:
    from scheduling import domain

    return domain.annual_report(policy, 2026)


def record_due(policy: Policy) -> object:
    from scheduling import domain

    return domain.meeting_record(policy, START, END)


def _meeting() -> Any:
    from notification.domain.meetings import Meeting

    return Meeting(
        tenant="tuyen-quang",
        meeting_id="m-knob",
        revision=0,
        title="Giao ban",
        host_unit="VP-UBND",
        main_endpoint="TQ-UBND",
        endpoints=("TQ-UBND", "TQ-STTTT"),
        start=START,
        end=END,
        bridge="MCU-TQ",
        virtual_room="r1",
        dial_in="sip:r1@mcu",
        check_deadline=START - timedelta(hours=1),
        notice_deadline=START - timedelta(days=2),
    )


def recipients(policy: Policy) -> object:
    from notification.domain.notices import meeting_recipients

    return [r.key for r in meeting_recipients(_meeting(), policy)]


def reminders(policy: Policy) -> object:
    from notification.domain.timers import meeting_timers

    return [(t.kind, t.due_at) for t in meeting_timers(_meeting(), policy, NOW)]


def escalation(policy: Policy) -> object:
    from notification.domain.escalations import escalation_target

    return escalation_target(policy)


def sms_recipients(policy: Policy) -> object:
    from hnth_contracts import CheckCompleted, CheckOutcome
    from notification.domain.planning import plan_check_alert
    from notification.domain.sms import plan_sms

    missed = CheckCompleted.create(
        tenant="tuyen-quang",
        correlation_id="knob",
        producer="inspection",
        meeting_id="m-knob",
        endpoint="TQ-STTTT",
        outcome=CheckOutcome.MISSED,
        failed_items=(),
        due_at=START - timedelta(hours=1),
        on_time=False,
    )
    alert = plan_check_alert(missed, _meeting(), policy)
    return sorted(n.recipient.key for n in plan_sms(alert, policy, START - timedelta(minutes=30)))


def report_reminder(kind: ReportKind) -> Callable[[Policy], object]:
    def probe(policy: Policy) -> object:
        from notification.domain.reports import report_reminder_timer

        due = ReportDue.create(
            report_id=f"{kind}:knob",
            kind=kind,
            meeting_id="m-knob" if kind is ReportKind.MEETING_RECORD else None,
            period="2026",
            due_at=START,
            rule=RuleRef(rule="report.annual.due", source="test"),
            tenant="tuyen-quang",
            correlation_id="knob",
            producer="scheduling",
        )
        timer = report_reminder_timer(due, policy, NOW)
        return timer.due_at if timer else None

    return probe


def lockout(policy: Policy) -> object:
    """Failures 20, 12, 8, 4 and 1 minutes ago: 4 within the shipped 15 minutes."""
    from registration.domain import accounts

    knobs = accounts.sign_in_policy(policy)
    failures = [accounts.Attempt(NOW - timedelta(minutes=m), False) for m in (20, 12, 8, 4, 1)]
    return accounts.locked_until(failures, NOW, knobs.lockout_failures, knobs.lockout_window)


def totp_enrolment(policy: Policy) -> object:
    from registration.domain import accounts

    return accounts.must_enrol("operator", False, accounts.sign_in_policy(policy))


def line_measured(latency_ms: float, loss_pct: float) -> Callable[[Policy], object]:
    """Whether a line ticked OK with these figures stays OK under the policy's limits."""

    def probe(policy: Policy) -> object:
        from hnth_contracts import CheckItem, ItemResult
        from inspection.domain import checks

        line = {CheckItem.LINE: ItemResult(ok=True, latency_ms=latency_ms, loss_pct=loss_pct)}
        values = {key: rule.value for key, rule in policy.rules.items()}
        return checks.judged(line, checks.limits(values))[CheckItem.LINE].ok

    return probe


def official_letter(policy: Policy) -> object:
    """A registration without an official letter: refused where the province asks for one."""
    return [b.rule for b in rules.letter_breaches(None, None, policy, NOW)]


def technician_required(policy: Policy) -> object:
    """An active endpoint without a technician: refused where the province requires one."""
    from registration import domain

    found = domain.technician_missing({"code": "TQ-X", "active": True}, policy)
    return found.rule if found else None


def cascade(policy: Policy) -> object:
    """A meeting bigger than the bridge, with a second bridge of the same size: held by the
    two cascaded, or refused as too big for one."""
    from scheduling import domain

    second = policy.bridge.model_copy(update={"name": "MCU-2"})
    two = policy.model_copy(update={"bridges": (second,)})
    rooms = tuple(f"E-{n}" for n in range(policy.bridge.ports + 10))
    request = domain.Request(
        tenant=policy.tenant,
        meeting_id="m-cascade",
        revision=0,
        title="",
        host_unit="VP-UBND",
        main_endpoint=rooms[0],
        endpoints=rooms,
        start=START,
        end=END,
    )
    return [c.rule.rule for c in domain.policy_violations(request, two, None, NOW)]


def approval(policy: Policy) -> object:
    from scheduling import domain

    return domain.needs_approval(policy)


def hold_deadline(policy: Policy) -> object:
    from scheduling import domain

    return domain.hold_expires(policy, START, NOW)


def rehearsal_required(policy: Policy) -> object:
    from registration.domain import rehearsal

    return rehearsal.required(policy, 8)


def rehearsal_lead_time(policy: Policy) -> object:
    from registration.domain import rehearsal

    end = START - timedelta(hours=3)
    return [
        v.rule
        for v in rehearsal.booking_violations(
            policy, meeting_start=START, meeting_cancelled=False, of_a_rehearsal=False, end=end
        )
    ]


def priorities(policy: Policy) -> object:
    from registration.domain.meeting import Caller, priority_violations

    return [v.rule for v in priority_violations("thien_tai", policy, Caller("registrar", "SYT"))]


def preempt_automatic(policy: Policy) -> object:
    from hnth_contracts import priority

    return priority.preempts_automatically(policy, "thien_tai")


def recording(policy: Policy) -> object:
    from registration import domain

    found = domain.check_material("audio/mpeg", b"ID3", 4096, policy=policy, kind="recording")
    return found.rule if found else None


def switch_window(policy: Policy) -> object:
    from registration.domain import backup

    return backup.in_switch_window(START, policy, START - timedelta(minutes=90))


def office_hours(policy: Policy) -> object:
    from scheduling_samples import requested

    from scheduling import domain

    # Friday 14:30 local for 2 hours: the office hours end at 17:00
    friday = domain.request_of(requested(start=datetime(2026, 12, 4, 7, 30, tzinfo=UTC)))
    return [c.start for c in domain.alternative_candidates(friday, policy, NOW)[:12]]


KNOBS: dict[str, tuple[Any, Callable[[Policy], object]]] = {
    "notice.lead_time": ("P5D", lead_time),
    "notice.national_lead_time": ("P1D", national_lead_time),
    "meeting.min_duration": ("PT30M", min_duration),
    "meeting.max_duration": ("PT4H", max_duration),
    "notice.urgent_override": (["operator", "registrar"], urgent_override),
    "materials.max_bytes": (1024, material(4096, "application/pdf")),
    "materials.types": (["image/png"], material(4096, "application/pdf")),
    "check.lead_time": ("PT2H", scheduling_assignment("check_deadline")),
    "slot.setup_buffer": ("PT30M", scheduling_assignment("reserved")),
    "slot.teardown_buffer": ("PT30M", scheduling_assignment("reserved")),
    "directory.unknown_endpoint_grace": ("PT30M", grace),
    "inspection.period_months": (6, periodic_inspection),
    "inspection.lead_time": ("P30D", periodic_inspection),
    "report.annual.due": ("11-30", annual),
    "report.annual.lead_time": ("P10D", annual),
    "meeting_record.due_after": ("P7D", record_due),
    "notice.recipients": (["it_department"], recipients),
    "reminder.before_meeting": ("PT3H", reminders),
    "notice.acknowledge_before": ("PT5H", reminders),
    "reminder.before_check": ("PT4H", reminders),
    "escalation.late_notice": ("it_department", escalation),
    "notice.sms": ({"kinds": {"check_alert": ["power_company"]}}, sms_recipients),
    "report.reminder_before": ("P1D", report_reminder(ReportKind.ANNUAL_ENDPOINT_REPORT)),
    "meeting_record.reminder_before": ("PT12H", report_reminder(ReportKind.MEETING_RECORD)),
    "auth.lockout_failures": (4, lockout),
    "auth.lockout_window": ("PT30M", lockout),
    "auth.totp_roles": (["operator"], totp_enrolment),
    "check.line_max_latency_ms": (1000, line_measured(420, 0.5)),
    "check.line_max_loss_pct": (20, line_measured(40, 12)),
    "registration.official_letter": (True, official_letter),
    "directory.technician_required": (False, technician_required),
    "bridge.cascade": (False, cascade),
    "schedule.approval": ("operator", approval),
    "schedule.hold_deadline": ("PT2H", hold_deadline),
    "rehearsal.min_endpoints": (5, rehearsal_required),
    "rehearsal.lead_time": ("PT12H", rehearsal_lead_time),
    "meeting.priorities": (
        [{"level": "thien_tai", "roles": ["operator"]}, {"level": "thuong_le", "roles": []}],
        priorities,
    ),
    "schedule.preempt_automatic": ([], preempt_automatic),
    "backup.switch_window": ("PT2H", switch_window),
    "meeting.office_hours": (
        {"days": [1, 2, 3, 4, 5, 6], "from": "07:00", "to": "21:00"},
        office_hours,
    ),
    "materials.recording": ({"types": ["video/mp4"], "max_bytes": 1024}, recording),
}


@pytest.mark.parametrize("key", sorted(KNOBS))
def test_flipping_the_rule_changes_the_decision(key: str) -> None:
    policy = shipped()
    value, probe = KNOBS[key]
    assert policy.value(key) != value, "the flip must be a different value"
    assert probe(policy) != probe(flipped(policy, key, value))


_INSPECTION = "services/inspection/tests/unit/test_inspection_usecases.py::"
_ACCOUNTS = "services/registration/tests/unit/test_accounts.py::"
ELSEWHERE: dict[str, str] = {
    "check.problem_note": _INSPECTION
    + "test_a_problem_needs_a_note_only_where_the_policy_asks_for_one",
    "inspection.with_line_provider": _INSPECTION
    + "test_the_line_provider_is_on_an_inspection_only_where_the_policy_says",
    # the token and link lifetimes show in what sign-in issues and accepts
    "auth.access_token_ttl": _ACCOUNTS
    + "test_auth_access_token_ttl_is_how_long_an_access_token_lives",
    "auth.refresh_token_ttl": _ACCOUNTS
    + "test_auth_refresh_token_ttl_ends_the_session_when_it_says",
    "auth.link_ttl": _ACCOUNTS + "test_auth_link_ttl_is_how_long_a_set_password_link_works",
}
"""Keys whose effect shows only through a use case: the test that flips each one."""


def test_every_rule_key_in_every_policy_file_has_a_knob_test() -> None:
    keys = {key for path in sorted(Path(POLICIES).glob("*.yaml")) for key in _keys(path)}
    assert keys - {*KNOBS, *ELSEWHERE} == set()
    for where in ELSEWHERE.values():
        path, name = where.split("::")
        assert f"def {name}(" in (REPO_ROOT / path).read_text(encoding="utf-8"), where


def _keys(path: Path) -> set[str]:
    return set(load_policy(path.parent, path.stem).rules)
