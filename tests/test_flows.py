"""End to end on real Kafka + the MongoDB-compatible server, every service a real process
(scheduling and notification with 2 replicas each), real SMTP and webhook receivers.

The tests here share one platform (starting it is most of their time): each keeps to its
own meeting, on a day of its own, and reads only that meeting's mail, notices and boards.
test_flows_clock has those that shift a service's clock, each on a platform of its own."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar

from hnth_contracts import MeetingRequested
from hnth_contracts.policy import load_policy
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import eventually
from notification.domain.notices import calendar_uid
from tests.conftest import lasting_platform

pytestmark = pytest.mark.system
ENDPOINTS = ["TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG"]
TENANT = "tuyen-quang"
POLICY = load_policy(REPO_ROOT / "policies", TENANT)
VN = ZoneInfo(POLICY.timezone)
ALL_OK = {item: {"ok": True} for item in ("line", "audio", "video", "content", "power")}


REPLICAS = {"registration": 1, "scheduling": 2, "notification": 2, "inspection": 1}


@pytest.fixture(scope="module")
async def platform(infra, tmp_path_factory):
    async with lasting_platform(infra, tmp_path_factory, REPLICAS) as platform:
        yield platform


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

    async def meeting_when(self, meeting_id: str, status: str, timeout: float = 120) -> dict:
        response = await eventually(
            lambda: self.get("registration", f"/meetings/{meeting_id}"),
            until=lambda r: r.json().get("status") == status,
            timeout=timeout,
        )
        return response.json()

    async def notices_when(self, meeting_id: str, until, timeout: float = 120) -> list[dict]:
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


def calendars(platform, address: str, meeting_id: str) -> list[Calendar]:
    """The invitations of one meeting that reached `address` (which may get others')."""
    found = []
    uid = calendar_uid(TENANT, meeting_id)
    for message in platform.smtp.inbox.about(address, uid):
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                cal = Calendar.from_ical(part.get_payload(decode=True))
                if str(cal.walk("VEVENT")[0]["UID"]) == uid:
                    found.append(cal)
    return found


def methods_and_sequences(platform, address: str, meeting_id: str) -> list[tuple[str, int]]:
    return [
        (str(cal["METHOD"]), int(cal.walk("VEVENT")[0]["SEQUENCE"]))
        for cal in calendars(platform, address, meeting_id)
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
        assert methods_and_sequences(platform, address, meeting_id) == [("REQUEST", 0)], address
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
        lambda: _async(methods_and_sequences(platform, addresses["it_department"], meeting_id)),
        until=lambda found: ("REQUEST", 1) in found,
    )
    cancelled = await client.call(
        "POST", "registration", f"/meetings/{meeting_id}/cancel", json={"reason": "Hoãn"}
    )
    assert cancelled.json()["status"] == "cancelled"
    for address in addresses.values():
        found = await eventually(
            lambda a=address: _async(methods_and_sequences(platform, a, meeting_id)),
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
