"""End to end with a service's clock shifted (a check deadline passing, the year-end
report window): each test on a platform of its own, since the shift would reach other
tests' meetings. Real Kafka + the MongoDB-compatible server, every service a real process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hnth_contracts import CheckCompleted, CheckOutcome, decode_event
from hnth_kit.testing import eventually, read_topic
from scheduling.domain import next_annual_report
from tests.test_flows import ENDPOINTS, POLICY, REPLICAS, VN, meeting
from tests.test_flows import client as client  # a fixture, on this module's platform

pytestmark = pytest.mark.system


@pytest.fixture
def replicas() -> dict[str, int]:
    return dict(REPLICAS)


async def test_missed_check_is_emitted_once_and_alerted_once(platform, client) -> None:
    # Urgent meeting 70 minutes ahead: its T-1h check deadline is 10 minutes away.
    meeting_id = await client.register(
        meeting(days_ahead=70 / 1440, hours=1, urgent_reason="Chỉ đạo khẩn")
    )
    await client.meeting_when(meeting_id, "scheduled")
    await eventually(
        lambda: client.get("inspection", f"/meetings/{meeting_id}/readiness"),
        until=lambda r: r.status_code == 200 and len(r.json()) == 3,
    )
    # notification alerts the host unit only for a meeting it has taken in (from the
    # SlotAssigned, on a topic of its own): its meeting notices show it has
    await client.notices_when(meeting_id, lambda ns: any(n["kind"] == "meeting_notice" for n in ns))
    platform.restart("inspection-0", HNTH_CLOCK_OFFSET_SECONDS="1200")  # 20 minutes later
    board = await eventually(
        lambda: client.get("inspection", f"/meetings/{meeting_id}/readiness"),
        until=lambda r: {c["state"] for c in r.json()} == {"missed"},
        timeout=120,
    )
    assert len(board.json()) == 3
    # the restarted process's relay publishes them: wait for all three, then read on a
    # while for a fourth that must not come
    checks = await read_topic(
        platform.bootstrap, platform.topics.checks, expect=3, timeout=120, read_on=5
    )
    missed = [
        e
        for e in (decode_event(m.value) for m in checks)
        if isinstance(e, CheckCompleted) and e.meeting_id == meeting_id
    ]
    assert sorted(e.endpoint for e in missed) == sorted(ENDPOINTS)
    assert {e.outcome for e in missed} == {CheckOutcome.MISSED}
    alerts = await client.notices_when(
        meeting_id,
        lambda ns: sum(_emailed_alert(n) and n["status"] == "sent" for n in ns) == 6,
    )
    # each missed endpoint alerted once to the IT department and once to the host unit
    # by e-mail (and, by `notice.sms`, to its technician and the duty phones by SMS)
    assert sorted(n["role"] for n in alerts if _emailed_alert(n)) == sorted(
        ["it_department", "host_unit"] * 3
    )


def _emailed_alert(notice: dict) -> bool:
    return notice["kind"] == "check_alert" and notice["channel"] == "email"


def into_annual_report_window(now: datetime) -> timedelta:
    """The clock shift that puts `now` in the middle of the next year-end report window
    (from `report.annual.lead_time` before `report.annual.due` until the due date): the
    annual tasks exist only then, so the test must not depend on today's date."""
    due = next_annual_report(POLICY, now)
    return due.announce_at + (due.due_at - due.announce_at) / 2 - now


@pytest.mark.parametrize(
    "today",
    [
        datetime(2026, 11, 16, 0, 30, tzinfo=VN),  # the window just opened
        datetime(2026, 12, 15, 23, 59, tzinfo=VN),  # its last minute
        datetime(2026, 12, 16, 0, 0, tzinfo=VN),  # just closed: the next year's window
        datetime(2026, 12, 31, 23, 30, tzinfo=VN),
        datetime(2027, 1, 1, 0, 30, tzinfo=VN),
        datetime(2028, 2, 29, 12, 0, tzinfo=VN),
        datetime(2026, 6, 1, 17, 30, tzinfo=UTC),  # local midnight
    ],
)
def test_the_shifted_clock_lands_inside_a_report_window_on_any_day(today: datetime) -> None:
    shifted = today + into_annual_report_window(today)
    due = next_annual_report(POLICY, shifted)
    assert due.announce_at + timedelta(days=7) < shifted < due.due_at - timedelta(days=7)


@pytest.mark.parametrize(
    "clock_offset", [into_annual_report_window(datetime.now(UTC))], ids=["in-report-window"]
)
async def test_the_year_reports_due_are_submitted_and_compiled(platform, client) -> None:
    # the services' clocks sit inside the report window (`clock_offset`); the year is
    # whichever the announced tasks cover
    tasks = await eventually(
        lambda: client.get("inspection", "/annual-reports"),
        until=lambda r: r.status_code == 200 and len(r.json()) == 28,
        timeout=60,
    )
    years = {task["year"] for task in tasks.json()}
    assert len(years) == 1, years
    year = int(years.pop())
    submitted = tasks.json()[:5]
    for task in submitted:
        response = await client.call(
            "POST",
            "inspection",
            f"/annual-reports/{task['id']}",
            json={"effectiveness": "effective", "proposals": "Nâng cấp đường truyền"},
        )
        assert response.status_code in (200, 201), response.text
        assert response.json()["on_time"] is True
    compiled = await client.call("POST", "inspection", f"/reports/{year}/compile")
    assert compiled.status_code in (200, 201), compiled.text
    report = compiled.json()
    assert len(report["not_reported"]) == 28 - len(submitted)
    xlsx = await client.get("inspection", f"/reports/{year}.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
