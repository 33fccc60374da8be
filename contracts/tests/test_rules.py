"""The shared meeting time rules: where each boundary falls and from which instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hnth_contracts.policy import load_policy
from hnth_contracts.rules import letter_required, time_breaches
from hnth_kit.settings import REPO_ROOT

POLICY = load_policy(REPO_ROOT / "policies", "tuyen-quang")
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
HOURS = timedelta(hours=2)


def rules_broken(start: datetime, *, asked_at: datetime | None = None, urgent: str | None = None):
    found = time_breaches(
        start, start + HOURS, POLICY, now=NOW, asked_at=asked_at, urgent_reason=urgent
    )
    return [b.rule for b in found]


def test_the_lead_time_counts_from_when_the_request_was_made() -> None:
    start = NOW + timedelta(days=2)
    assert rules_broken(start) == []
    assert rules_broken(start, asked_at=NOW + timedelta(hours=1)) == []  # never later than now
    assert rules_broken(start + timedelta(hours=1), asked_at=NOW - timedelta(hours=1)) == []
    assert rules_broken(start, asked_at=NOW - timedelta(seconds=1)) == []
    assert rules_broken(start - timedelta(seconds=1)) == ["notice.lead_time"]


def test_a_meeting_already_started_is_refused_however_early_it_was_asked_for() -> None:
    started = NOW - timedelta(minutes=5)
    early = NOW - timedelta(days=5)
    assert rules_broken(started, asked_at=early) == ["meeting.not_in_past"]
    assert rules_broken(started, asked_at=early, urgent="bão") == ["meeting.not_in_past"]


def test_an_urgent_reason_lifts_the_lead_time_only() -> None:
    assert rules_broken(NOW + timedelta(hours=3), urgent="phòng chống thiên tai") == []
    assert rules_broken(NOW + timedelta(hours=3)) == ["notice.lead_time"]


def test_an_end_before_the_start_is_the_only_breach_reported() -> None:
    start = NOW - timedelta(days=1)
    found = time_breaches(start, start - HOURS, POLICY, now=NOW, urgent_reason=None)
    assert [(b.rule, b.field) for b in found] == [("meeting.start_before_end", "end")]


def test_a_meeting_inside_the_lead_time_is_told_its_earliest_start_and_who_registers_it() -> None:
    [breach] = time_breaches(
        NOW + timedelta(hours=3), NOW + timedelta(hours=5), POLICY, now=NOW, urgent_reason=None
    )
    # two days after the request, in the province's time (NOW is 08:00 01/12 there)
    assert "bắt đầu sớm nhất 08:00 03/12/2026" in breach.vi
    assert "do Sở KH&CN đăng ký" in breach.vi
    assert "starting 08:00 03/12/2026 at the earliest" in breach.en


def test_which_provinces_ask_every_registration_for_its_official_letter() -> None:
    assert letter_required(load_policy(REPO_ROOT / "policies", "lang-son"))
    assert not letter_required(POLICY)  # Tuyên Quang leaves it optional
