"""End to end on real Kafka + the MongoDB-compatible server, every service a real process
(scheduling and notification with 2 replicas each), real SMTP and webhook receivers."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar

from hnth_contracts import CheckCompleted, CheckOutcome, MeetingRequested, decode_event
from hnth_contracts.policy import load_policy
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import eventually, read_topic
from scheduling.domain import next_annual_report

pytestmark = pytest.mark.system
ENDPOINTS = ["TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG"]
POLICY = load_policy(REPO_ROOT / "policies", "tuyen-quang")
VN = ZoneInfo(POLICY.timezone)
ALL_OK = {item: {"ok": True} for item in ("line", "audio", "video", "content", "power")}


@pytest.fixture
def replicas() -> dict[str, int]:
    return {"registration": 1, "scheduling": 2, "notification": 2, "inspection": 1}


def meeting(days_ahead: float = 3, hours: float = 2, **changes: object) -> dict[str, object]:
    start = (datetime.now(UTC) + timedelta(days=days_ahead)).replace(second=0, microsecond=0)
    return {
        "title": "Hội nghị trực tuyến giao ban",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=hours)).isoformat(),
        "main_endpoint": "TQ-UBND",
        "endpoints": ENDPOINTS[1:],
        **changes,
    }


class Client:
    """The platform's HTTP APIs with an operator's token."""

    def __init__(self, platform, http: httpx.AsyncClient) -> None:
        self.platform = platform
        self.http = http
        self.auth = {"Authorization": f"Bearer {platform.token('--role', 'operator')}"}

    async def call(self, method: str, service: str, path: str, **kwargs) -> httpx.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        url = f"{self.platform.urls[service]}{path}"
        return await self.http.request(method, url, headers=headers, **kwargs)

    async def get(self, service: str, path: str) -> httpx.Response:
        return await self.call("GET", service, path)

    async def register(self, body: dict[str, object]) -> str:
        response = await self.call("POST", "registration", "/meetings", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def meeting_when(self, meeting_id: str, status: str, timeout: float = 30) -> dict:
        response = await eventually(
            lambda: self.get("registration", f"/meetings/{meeting_id}"),
            until=lambda r: r.json().get("status") == status,
            timeout=timeout,
        )
        return response.json()

    async def notices_when(self, meeting_id: str, until, timeout: float = 40) -> list[dict]:
        response = await eventually(
            lambda: self.get("notification", f"/meetings/{meeting_id}/notices"),
            until=lambda r: r.status_code == 200 and until(r.json()),
            timeout=timeout,
        )
        return response.json()

    async def addresses(self) -> dict[str, str]:
        """Who should receive a meeting's notices, from the directory registration keeps."""
        contacts = (await self.get("registration", "/contacts")).json()
        found = {
            role: contacts[role]["email"]
            for role in ("it_department", "line_provider", "power_company")
        }
        found["host_unit"] = (await self.get("registration", "/units/VP-UBND")).json()["contact"][
            "email"
        ]
        for code in ENDPOINTS:
            entry = (await self.get("registration", f"/endpoints/{code}")).json()
            found[code] = entry["technician"]["email"]
        return found


@pytest.fixture
async def client(platform):
    async with httpx.AsyncClient(timeout=15) as http:
        yield Client(platform, http)


def calendars(platform, address: str) -> list[Calendar]:
    found = []
    for message in platform.smtp.inbox.to(address):
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                found.append(Calendar.from_ical(part.get_payload(decode=True)))
    return found


def methods_and_sequences(platform, address: str) -> list[tuple[str, int]]:
    return [
        (str(cal["METHOD"]), int(cal.walk("VEVENT")[0]["SEQUENCE"]))
        for cal in calendars(platform, address)
    ]


async def test_happy_path_from_registration_to_passed_checks(platform, client) -> None:
    meeting_id = await client.register(meeting(document_number="45/UBND-TH"))
    scheduled = await client.meeting_when(meeting_id, "scheduled")
    assert scheduled["slot"]["bridge"] == "MCU-TQ"

    addresses = await client.addresses()
    notices = await client.notices_when(
        meeting_id,
        lambda ns: (
            len([n for n in ns if n["channel"] == "email"]) == 7
            and all(n["status"] == "sent" for n in ns)
        ),
    )
    assert sorted(n["role"] for n in notices if n["channel"] == "email") == sorted(
        ["it_department", "line_provider", "power_company", "host_unit"] + ["technician"] * 3
    )
    for address in addresses.values():
        assert methods_and_sequences(platform, address) == [("REQUEST", 0)], address
    signed = [d for d in platform.webhook.received if d.json().get("meeting_id") == meeting_id]
    assert signed, "the subscribed e-office system got nothing"
    for delivery in signed:
        timestamp = delivery.headers["x-hnth-timestamp"]
        expected = hmac.new(
            b"system-test-webhook-secret", f"{timestamp}.".encode() + delivery.body, hashlib.sha256
        )
        assert delivery.headers["x-hnth-signature"] == f"sha256={expected.hexdigest()}"

    for code in ENDPOINTS:
        technician = platform.token("--role", "technician", "--endpoint", code)
        response = await client.call(
            "POST",
            "inspection",
            f"/meetings/{meeting_id}/checks/{code}",
            json={"items": ALL_OK},
            headers={"Authorization": f"Bearer {technician}"},
        )
        assert response.status_code in (200, 201), response.text
    board = await eventually(
        lambda: client.get("inspection", f"/meetings/{meeting_id}/readiness"),
        until=lambda r: {c["state"] for c in r.json()} == {"passed"},
    )
    assert {c["endpoint"] for c in board.json()} == set(ENDPOINTS)
    detail = await eventually(
        lambda: client.get("registration", f"/meetings/{meeting_id}"),
        until=lambda r: [e["type"] for e in r.json()["timeline"]].count("CheckCompleted") == 3,
    )
    types = [e["type"] for e in detail.json()["timeline"]]
    assert types[:2] == ["MeetingRequested", "SlotAssigned"]


async def test_conflict_is_rejected_with_alternatives_and_the_host_is_told(
    platform, client
) -> None:
    first = await client.register(meeting(days_ahead=4))
    await client.meeting_when(first, "scheduled")
    clash = await client.register(meeting(days_ahead=4, hours=1, endpoints=["TQ-STTTT"]))
    rejected = await client.meeting_when(clash, "rejected")
    assert "rejection" in rejected, (rejected["timeline"], rejected["status"])
    conflicts = rejected["rejection"]["conflicts"]
    assert {c["other_meeting_id"] for c in conflicts} == {first}
    assert 1 <= len(rejected["rejection"]["alternatives"]) <= 3
    told = await client.notices_when(clash, lambda ns: any(n["status"] == "sent" for n in ns))
    assert [(n["kind"], n["role"]) for n in told if n["channel"] == "email"] == [
        ("meeting_rejected", "host_unit")
    ]


async def test_change_and_cancel_ripple_through_every_service(platform, client) -> None:
    meeting_id = await client.register(meeting(days_ahead=5))
    await client.meeting_when(meeting_id, "scheduled")
    addresses = await client.addresses()
    await client.notices_when(meeting_id, lambda ns: sum(n["status"] == "sent" for n in ns) >= 7)

    later = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=5, hours=3)
    changed = await client.call(
        "PATCH",
        "registration",
        f"/meetings/{meeting_id}",
        json={"start": later.isoformat(), "end": (later + timedelta(hours=1)).isoformat()},
    )
    assert changed.status_code == 200, changed.text
    await eventually(
        lambda: client.get("registration", f"/meetings/{meeting_id}"),
        until=lambda r: any(
            e["type"] == "SlotAssigned" and e["revision"] == 1 for e in r.json()["timeline"]
        ),
    )
    await eventually(
        lambda: _async(methods_and_sequences(platform, addresses["it_department"])),
        until=lambda found: ("REQUEST", 1) in found,
    )
    cancelled = await client.call(
        "POST", "registration", f"/meetings/{meeting_id}/cancel", json={"reason": "Hoãn"}
    )
    assert cancelled.json()["status"] == "cancelled"
    for address in addresses.values():
        found = await eventually(
            lambda a=address: _async(methods_and_sequences(platform, a)),
            until=lambda found: any(m == "CANCEL" for m, _ in found),
        )
        assert [m for m, _ in found].count("CANCEL") == 1, (address, found)
    board = await eventually(
        lambda: client.get("inspection", f"/meetings/{meeting_id}/readiness"),
        until=lambda r: all(c.get("closed") for c in r.json()),
    )
    assert len(board.json()) == 3
    # the released slot is free again: the same window is granted to another meeting
    again = await client.register(
        meeting(days_ahead=5, hours=1)
        | {"start": later.isoformat(), "end": (later + timedelta(hours=1)).isoformat()}
    )
    await client.meeting_when(again, "scheduled")


async def _async(value):
    return value


async def test_external_system_request_gets_the_same_treatment(platform, client) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=6)
    request = MeetingRequested.create(
        tenant="tuyen-quang",
        correlation_id="eoffice-2026-991",
        producer="e-office",
        meeting_id="eoffice-2026-991",
        title="Họp trực tuyến do văn phòng điện tử đăng ký",
        host_unit="SYT",
        chair="Giám đốc Sở Y tế",
        start=start,
        end=start + timedelta(hours=1),
        main_endpoint="TQ-SYT",
        endpoints=("TQ-SYT", "TQ-H-NAHANG"),
    )
    await platform.publish(request)
    scheduled = await client.meeting_when("eoffice-2026-991", "scheduled")
    assert scheduled["source"] == "e-office"
    notices = await client.notices_when(
        "eoffice-2026-991",
        lambda ns: sum(n["status"] == "sent" and n["channel"] == "email" for n in ns) == 6,
    )
    assert {n["role"] for n in notices} >= {"it_department", "technician", "host_unit"}
    board = await eventually(
        lambda: client.get("inspection", "/meetings/eoffice-2026-991/readiness"),
        until=lambda r: r.status_code == 200 and len(r.json()) == 2,
    )
    assert {c["state"] for c in board.json()} == {"pending"}


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
    platform.restart("inspection-0", HNTH_CLOCK_OFFSET_SECONDS="1200")  # 20 minutes later
    board = await eventually(
        lambda: client.get("inspection", f"/meetings/{meeting_id}/readiness"),
        until=lambda r: {c["state"] for c in r.json()} == {"missed"},
        timeout=40,
    )
    assert len(board.json()) == 3
    # the restarted process's relay publishes them: wait for all three, then read on a
    # while for a fourth that must not come
    checks = await read_topic(
        platform.bootstrap, platform.topics.checks, expect=3, timeout=30, read_on=5
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
        lambda ns: sum(n["kind"] == "check_alert" and n["status"] == "sent" for n in ns) == 6,
    )
    # each missed endpoint alerted once to the IT department and once to the host unit
    assert sorted(n["role"] for n in alerts if n["kind"] == "check_alert") == sorted(
        ["it_department", "host_unit"] * 3
    )


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
