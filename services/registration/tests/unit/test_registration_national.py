"""A national meeting (hosted outside the province, "điểm cầu Trung ương") that the
province receives and relays: its own lead time, registered by the IT department."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hnth_contracts.policy import load_policy
from registration import domain

POLICY = load_policy(Path(__file__).resolve().parents[4] / "policies", "lang-son")
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
DIRECTORY = domain.Directory(units={"VP-UBND": True}, endpoints={"LS-UBND": True})
OPERATOR = domain.Caller(role="operator")
GOVERNMENT = "Văn phòng Chính phủ"


def national(start: datetime, host: str | None = GOVERNMENT) -> domain.Draft:
    return domain.Draft(
        "VP-UBND",
        start,
        start + timedelta(hours=2),
        "LS-UBND",
        ("LS-UBND",),
        document_number="12/VPCP",
        document_date=NOW.date(),
        external_host=host,
    )


def broken(draft: domain.Draft, caller: domain.Caller = OPERATOR) -> set[tuple[str, str]]:
    found = domain.check_meeting(draft, policy=POLICY, directory=DIRECTORY, caller=caller, now=NOW)
    return {(v.field, v.rule) for v in found}


def test_a_national_meeting_called_a_day_ahead_needs_no_urgent_reason() -> None:
    tomorrow = NOW + timedelta(days=1)
    assert broken(national(tomorrow)) == set()
    assert broken(national(tomorrow, host=None)) == {("start", "notice.lead_time")}
    assert domain.is_late_notice(tomorrow, POLICY, NOW), "it is flagged late all the same"


def test_a_national_meeting_inside_its_own_lead_time_is_refused_naming_the_rule() -> None:
    soon = NOW + POLICY.duration("notice.national_lead_time") - timedelta(minutes=15)
    [violation] = domain.check_meeting(
        national(soon), policy=POLICY, directory=DIRECTORY, caller=OPERATOR, now=NOW
    )
    assert (violation.field, violation.rule) == ("start", "notice.national_lead_time")
    assert GOVERNMENT in violation.message_vi
    assert "seeds/000" in violation.source


def test_only_the_it_department_registers_a_national_meeting() -> None:
    registrar = domain.Caller(role="registrar", unit="VP-UBND")
    later = NOW + timedelta(days=5)
    assert broken(national(later), registrar) == {("external_host", "registration.own_unit")}
