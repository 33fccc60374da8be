"""The operator console over the real platform (services as processes, real Kafka and
database), driven at the HTTP level: every page for the roles that may see it, refused
to the others; a meeting registered through the form reaches the board."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from hnth_console.app import build
from hnth_console.settings import ConsoleSettings
from hnth_contracts import Topics
from hnth_kit.auth import Role
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.testing import eventually, headers_of, read_topic, signed_token

pytestmark = pytest.mark.system
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
ENDPOINTS = ["TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG"]


def token(role: Role, **scope: str) -> str:
    return signed_token(role=role, tenant="tuyen-quang", subject=f"{role}-1", **scope)


@pytest.fixture
async def console(console_env, monkeypatch) -> AsyncIterator[httpx.AsyncClient]:
    for key, value in console_env.items():
        monkeypatch.setenv(key, value)
    app = build(ConsoleSettings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        yield client


async def sign_in(console: httpx.AsyncClient, role: Role, **scope: str) -> None:
    console.cookies.clear()
    response = await console.post("/login", data={"token": token(role, **scope), "next": "/board"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/board"


def meeting_form(start: datetime, **extra: str) -> dict[str, object]:
    return {
        "title": "Giao ban trực tuyến qua bảng điều hành",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.astimezone(ZONE).strftime("%Y-%m-%d %H:%M"),
        "minutes": "90",
        "main_endpoint": ENDPOINTS[0],
        "endpoints": ENDPOINTS[1:],
        **extra,
    }


async def test_pages_need_a_valid_token(console) -> None:
    response = await console.get("/board")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/board"
    bad = await console.post("/login", data={"token": "not-a-token", "next": "/board"})
    assert bad.status_code == 401
    assert "Mã không hợp lệ" in bad.text
    away = await console.post("/login", data={"token": token(Role.VIEWER), "next": "//evil"})
    assert away.headers["location"] == "/board"  # never redirected off the console


async def test_a_meeting_registered_through_the_form_reaches_board_and_schedule(
    console,
) -> None:
    await sign_in(console, Role.OPERATOR)
    form = await console.get("/meetings/new")
    assert form.status_code == 200
    assert 'value="TQ-STTTT"' in form.text  # the directory's endpoints to pick from
    start = (datetime.now(UTC) + timedelta(hours=20)).replace(second=0, microsecond=0)
    refused = await console.post("/meetings/new", data=meeting_form(start))
    assert refused.status_code == 422  # inside the notice lead time without a reason
    assert "2 ngày" in refused.text
    created = await console.post(
        "/meetings/new", data=meeting_form(start, urgent_reason="Chỉ đạo khẩn của tỉnh")
    )
    assert created.status_code == 303, created.text
    meeting_page = created.headers["location"]
    meeting_id = meeting_page.rsplit("/", 1)[1]

    detail = await eventually(
        lambda: console.get(meeting_page),
        until=lambda r: "MCU-TQ" in r.text and r.text.count("alarm-") >= 3,
    )
    assert "SlotAssigned" in detail.text
    board = await console.get("/board")
    assert board.status_code == 200
    assert f'data-meeting="{meeting_id}"' in board.text
    row = board.text.split(f'data-meeting="{meeting_id}"')[1].split("</section>")[0]
    assert row.count('class="tile alarm-waiting"') == 3  # nothing in, deadline not near
    assert 'http-equiv="refresh" content="5"' in board.text
    day = start.astimezone(ZONE).date().isoformat()
    week = await console.get("/schedule", params={"day": day, "endpoint": "TQ-STTTT"})
    assert f'href="/meetings/{meeting_id}"' in week.text
    other = await console.get("/schedule", params={"day": day, "endpoint": "TQ-H-NAHANG"})
    assert f'href="/meetings/{meeting_id}"' not in other.text

    await console.get("/lang/en", params={"next": "/board"})
    english = await console.get("/board")
    assert "Readiness board" in english.text
    assert "Bảng sẵn sàng" not in english.text


async def test_reports_incidents_notices_pages(console, platform) -> None:
    await sign_in(console, Role.OPERATOR)
    auth = {"Authorization": f"Bearer {token(Role.OPERATOR)}"}
    async with httpx.AsyncClient(timeout=10) as http:
        # the directory reaches inspection as events: retry until it knows the endpoint
        opened = await eventually(
            lambda: http.post(
                f"{platform.urls['inspection']}/incidents",
                json={"endpoint": "TQ-STTTT", "what": "Mất tín hiệu đường truyền"},
                headers=auth,
            ),
            until=lambda r: r.status_code != 404,
        )
    assert opened.status_code == 201, opened.text
    incidents = await console.get("/incidents")
    assert incidents.status_code == 200
    assert "Mất tín hiệu đường truyền" in incidents.text

    year = datetime.now(UTC).year
    reports = await console.get("/reports", params={"year": year})
    assert reports.status_code == 200
    assert re.search(r'id="compliance"', reports.text)
    assert "Họp được kiểm tra đúng hạn" in reports.text
    xlsx = await console.get(f"/reports/{year}.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    assert "attachment" in xlsx.headers["content-disposition"]

    notices = await console.get("/notices")
    assert notices.status_code == 200
    assert "Thông báo" in notices.text


async def poisoned(console, infra, platform) -> httpx.Response:
    """Publish a message no service can read; the dead-letters page once it shows it."""
    topics = Topics(prefix=platform.topic_prefix)
    producer = Producer(infra.bootstrap_servers, client_id="console-test")
    await producer.start()
    try:
        await producer.send([OutMessage(topics.meetings, b"poison", b"{not json")])
    finally:
        await producer.stop()
    await sign_in(console, Role.OPERATOR)
    return await eventually(
        lambda: console.get("/dead-letters"),
        until=lambda r: "invalid_json" in r.text,
        timeout=30,
    )


async def test_dead_letters_are_listed_and_replayed(console, infra, platform) -> None:
    topics = Topics(prefix=platform.topic_prefix)
    page = await poisoned(console, infra, platform)
    ref = re.search(r'name="ref" value="([^"]+)"', page.text).group(1)
    assert ref.startswith(topics.meetings + ".dlq:")
    replayed = await console.post("/dead-letters/replay", data={"ref": ref})
    assert replayed.status_code == 303
    assert (await console.get(replayed.headers["location"])).text.count(ref) >= 1
    messages = await read_topic(infra.bootstrap_servers, topics.meetings, expect=2)
    again = [m for m in messages if headers_of(m).get("hnth-replayed-from") == ref]
    assert [m.value for m in again] == [b"{not json"]


ACCESS = [
    # role, scope, pages shown, pages refused
    (Role.OPERATOR, {}, ["/dead-letters", "/notices", "/reports", "/meetings/new"], []),
    (
        Role.VIEWER,
        {},
        ["/schedule", "/board", "/incidents", "/notices", "/reports"],
        ["/meetings/new", "/dead-letters"],
    ),
    (
        Role.REGISTRAR,
        {"unit": "VP-UBND"},
        ["/schedule", "/board", "/meetings/new"],
        ["/notices", "/reports", "/dead-letters"],
    ),
    (
        Role.TECHNICIAN,
        {"endpoint": "TQ-STTTT"},
        ["/schedule", "/board", "/incidents"],
        ["/meetings/new", "/notices", "/reports", "/dead-letters"],
    ),
]


async def test_each_page_is_shown_to_its_roles_and_refused_to_the_others(console) -> None:
    for role, scope, allowed, refused in ACCESS:
        await sign_in(console, role, **scope)
        for path in allowed:
            response = await console.get(path)
            assert response.status_code == 200, (role, path, response.text[:500])
        for path in refused:
            response = await console.get(path)
            assert response.status_code == 403, (role, path)
            assert "không được xem trang này" in response.text
        home = await console.get("/board")
        for path in refused:  # the navigation does not offer what is refused
            assert f'href="{path}"' not in home.text, (role, path)
