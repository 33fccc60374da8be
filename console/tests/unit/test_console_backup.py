"""The duty officer switches a failing endpoint to its backup from the meeting's page, over
stand-ins for the services: the offer shows only in the province's last hour, for a failed
check or an open incident on an endpoint the directory gives a backup; one click with the
reason posts registration's switch; a refusal shows beside the form. The duty board offers
the same switches (one home: `meeting_views.switchable`), linking to the meeting's form."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from console_fakes import csrf_of, meeting_page_reads, officer_and_clerk, sign_in

from hnth_console import meeting_views

WINDOW = "Chỉ chuyển sang điểm cầu dự phòng trong 1 giờ cuối trước khai mạc (backup.switch_window)"
sent: list[httpx.Request] = []
state: dict[str, object] = {}


def meeting() -> dict[str, object]:
    start = datetime.now(UTC) + state["ahead"]  # type: ignore[operator]
    return {
        "id": "m1",
        "title": "Họp ban chỉ đạo phòng chống thiên tai",
        "status": "scheduled",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=90)).isoformat(),
        "main_endpoint": "LS-UBND",
        "endpoints": ["LS-UBND", "LS-P-KYLUA"],
    }


ENDPOINTS = [
    {"code": "LS-UBND", "name": "Điểm cầu UBND tỉnh", "backup": "LS-STTTT-LAPTOP"},
    {"code": "LS-P-KYLUA", "name": "Điểm cầu UBND phường Kỳ Lừa", "backup": "LS-P-KYLUA-4G"},
    {"code": "LS-P-KYLUA-4G", "name": "Máy tính bảng 4G phường Kỳ Lừa"},
]
READINESS = [
    {"endpoint": "LS-UBND", "state": "passed", "closed": False, "open_incidents": []},
    {"endpoint": "LS-P-KYLUA", "state": "failed", "closed": False, "open_incidents": []},
]


def services(request: httpx.Request) -> httpx.Response:
    path, method = request.url.path, request.method
    if method == "POST" and path == "/meetings/m1/switch-backup":
        sent.append(request)
        if state.get("refuse"):
            errors = [{"field": "endpoint", "rule": "backup.switch_window", "message": WINDOW}]
            return httpx.Response(409, json={"code": "backup.switch_window", "errors": errors})
        return httpx.Response(200, json=meeting())
    if path == "/meetings/m1/readiness":
        return httpx.Response(200, json=READINESS)
    if path == "/meetings":  # the board's today and tomorrow
        return httpx.Response(200, json={"items": [meeting()], "next_cursor": None})
    return meeting_page_reads(path, meeting(), ENDPOINTS)


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    sent.clear()
    state.clear()
    state["ahead"] = timedelta(minutes=40)
    async with officer_and_clerk(services) as client:
        yield client


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_a_failed_check_in_the_last_hour_offers_the_backup_in_one_click(
    console, lang: str
) -> None:
    assert (await sign_in(console, "truc-ban", lang=lang)).status_code == 303
    page = await console.get("/meetings/m1")
    assert page.status_code == 200, page.text
    section = page.text.split('id="switch-backup"')[1].split("</section>")[0]
    heading = "Switch to backup" if lang == "en" else "Chuyển sang điểm cầu dự phòng"
    assert heading in section
    assert "LS-P-KYLUA-4G · Máy tính bảng 4G phường Kỳ Lừa" in section
    assert "LS-STTTT-LAPTOP" not in section  # the main room passed its check
    reason = "Kiểm tra T-1h không đạt: mất đường truyền"
    done = await console.post(
        "/meetings/m1/switch-backup",
        data={"csrf": csrf_of(page), "endpoint": "LS-P-KYLUA", "reason": reason},
    )
    assert (done.status_code, done.headers["location"]) == (303, "/meetings/m1?done=switched_ok")
    [request] = sent
    assert json.loads(request.content) == {"endpoint": "LS-P-KYLUA", "reason": reason}


async def test_no_offer_before_the_last_hour(console) -> None:
    state["ahead"] = timedelta(hours=3)
    assert (await sign_in(console, "truc-ban")).status_code == 303
    assert 'id="switch-backup"' not in (await console.get("/meetings/m1")).text


async def test_a_switch_needs_a_reason_and_a_refusal_shows_beside_the_form(console) -> None:
    assert (await sign_in(console, "truc-ban")).status_code == 303
    csrf = csrf_of(await console.get("/meetings/m1"))
    empty = await console.post(
        "/meetings/m1/switch-backup", data={"csrf": csrf, "endpoint": "LS-P-KYLUA", "reason": ""}
    )
    assert empty.status_code == 422
    assert "Hãy ghi lý do chuyển." in empty.text.split('id="switch-reason-error-1"')[1]
    assert not sent
    state["refuse"] = True
    refused = await console.post(
        "/meetings/m1/switch-backup", data={"csrf": csrf, "endpoint": "LS-P-KYLUA", "reason": "x"}
    )
    assert refused.status_code == 409
    assert "backup.switch_window" in refused.text.split('id="switch-error-1"')[1].split("</p>")[0]


def test_an_open_incident_offers_the_backup_and_a_closed_checklist_does_not() -> None:
    checks = [
        {"endpoint": "A", "state": "pending", "open_incidents": [{"id": "i1"}]},
        {"endpoint": "B", "state": "failed", "closed": True},
        {"endpoint": "C", "state": "missed"},
    ]
    offers = meeting_views.backup_offers(checks, {"A": "A2", "B": "B2"}, {"A2": "A2 · dự phòng"})
    assert offers == [
        {"endpoint": "A", "name": "A", "backup": "A2", "backup_name": "A2 · dự phòng"}
    ]


def board_offer(page: httpx.Response) -> str:
    """The board's offers for meeting m1 (empty when none)."""
    row = page.text.split('data-meeting="m1"')[1].split("</section>")[0]
    return "".join(p.split("</p>")[0] for p in row.split('class="board-switch"')[1:])


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_the_duty_board_offers_the_same_switch_linking_to_the_meetings_form(
    console, lang: str
) -> None:
    assert (await sign_in(console, "truc-ban", lang=lang)).status_code == 303
    for page in ("/board", "/board/live"):
        offer = board_offer(await console.get(page))
        heading = "Switch to backup" if lang == "en" else "Chuyển sang điểm cầu dự phòng"
        assert f"{heading}: LS-P-KYLUA-4G · Máy tính bảng 4G phường Kỳ Lừa" in offer
        assert "LS-P-KYLUA · Điểm cầu UBND phường Kỳ Lừa" in offer
        assert 'href="/meetings/m1#switch-backup"' in offer
        assert "LS-STTTT-LAPTOP" not in offer  # the main room passed its check
    meeting_page = await console.get("/meetings/m1")
    assert 'id="switch-backup"' in meeting_page.text  # where the link leads
    board = await console.get("/board")
    assert '<small class="tile-name">Điểm cầu UBND phường Kỳ Lừa</small>' in board.text  # named


async def test_the_board_offers_no_switch_before_the_last_hour_nor_to_a_registrar(
    console,
) -> None:
    state["ahead"] = timedelta(hours=3)
    assert (await sign_in(console, "truc-ban")).status_code == 303
    board = await console.get("/board")
    assert 'data-meeting="m1"' in board.text
    assert board_offer(board) == ""
    state["ahead"] = timedelta(minutes=40)
    assert (await sign_in(console, "van-thu")).status_code == 303
    assert board_offer(await console.get("/board")) == ""


def test_an_offer_only_in_the_switch_window() -> None:
    now = datetime(2026, 12, 9, 1, 30, tzinfo=UTC)
    checks = [{"endpoint": "A", "state": "missed"}]
    endpoints = [{"code": "A", "backup": "A2"}, {"code": "A2", "name": "dự phòng"}]
    hour = timedelta(hours=1)
    offer = [{"endpoint": "A", "name": "A", "backup": "A2", "backup_name": "A2 · dự phòng"}]
    for start, offered in ((now + hour, offer), (now + 2 * hour, []), (now, []), (None, [])):
        assert meeting_views.switchable(start, now, hour, checks, endpoints) == offered
