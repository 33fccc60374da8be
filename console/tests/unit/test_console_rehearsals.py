"""Rehearsals on a meeting's page, over stand-ins for the services: the policy's ask shown
in words, the booking form in local time with the refusal beside its field, and the
keep-or-cancel choice sent with a cancellation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from console_fakes import csrf_of, meeting_page_reads, officer_and_clerk, sign_in

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
START = (datetime.now(UTC).astimezone(ZONE) + timedelta(days=5)).replace(
    hour=9, minute=0, second=0, microsecond=0
)
TOO_LATE = "Buổi tổng duyệt phải kết thúc trước giờ họp ít nhất 2 giờ."
MEETING = {
    "id": "m1",
    "title": "Hội nghị tổng kết năm toàn tỉnh",
    "status": "scheduled",
    "host_unit": "VP-UBND",
    "chair": "Chủ tịch UBND tỉnh",
    "start": START.isoformat(),
    "end": (START + timedelta(hours=3)).isoformat(),
    "main_endpoint": "LS-UBND",
    "endpoints": ["LS-UBND", "LS-X-1"],
    "cancelled": False,
    "rehearsal_required": True,
    "rehearsals": [],
}
BOOKED = {
    "id": "r1",
    "start": (START - timedelta(days=1)).isoformat(),
    "end": (START - timedelta(days=1, minutes=-60)).isoformat(),
    "cancelled": False,
}
sent: list[httpx.Request] = []
UNITS = [
    {"code": "SYT", "name": "Sở Y tế", "contact": {"phone": "0205 3812 000", "email": "syt@ls.vn"}}
]


def services(request: httpx.Request) -> httpx.Response:
    path, method = request.url.path, request.method
    if method == "POST" and path.startswith("/meetings/m1/"):
        sent.append(request)
        body = json.loads(request.content)
        if path.endswith("/rehearsals") and body["end"] > (START - timedelta(hours=2)).isoformat():
            errors = [{"field": "end", "rule": "rehearsal.lead_time", "message": TOO_LATE}]
            return httpx.Response(422, json={"code": "invalid", "errors": errors})
        return httpx.Response(201, json=MEETING)
    if path == "/units":
        return httpx.Response(200, json=UNITS)
    return meeting_page_reads(path, MEETING)


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    sent.clear()
    async with officer_and_clerk(services) as client:
        yield client


def asked() -> tuple[str, dict]:
    [request] = sent
    sent.clear()
    return request.url.path, json.loads(request.content)


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_a_large_meeting_without_a_rehearsal_says_so(console, lang: str) -> None:
    assert (await sign_in(console, "truc-ban", lang=lang)).status_code == 303
    page = await console.get("/meetings/m1")
    assert page.status_code == 200, page.text
    said = page.text.split('id="rehearsal-needed"')[1].split("</p>")[0]
    assert ("rules ask for a rehearsal" if lang == "en" else "yêu cầu một buổi tổng duyệt") in said
    assert 'id="rehearsal-form"' in page.text


async def test_a_rehearsal_is_booked_in_local_time(console) -> None:
    assert (await sign_in(console, "truc-ban")).status_code == 303
    csrf = csrf_of(await console.get("/meetings/m1"))
    day_before = START - timedelta(days=1)
    fields = {"csrf": csrf, "start": f"{day_before:%Y-%m-%d} 14:00", "minutes": "90"}
    done = await console.post("/meetings/m1/rehearsals", data=fields)
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/meetings/m1?done=rehearsal_booked",
    )
    path, body = asked()
    start = day_before.replace(hour=14)
    assert path == "/meetings/m1/rehearsals"
    assert body == {"start": start.isoformat(), "end": (start + timedelta(minutes=90)).isoformat()}
    assert body["start"].endswith("+07:00")


async def test_a_refused_rehearsal_shows_why_beside_its_field(console) -> None:
    assert (await sign_in(console, "truc-ban")).status_code == 303
    csrf = csrf_of(await console.get("/meetings/m1"))
    bad = await console.post("/meetings/m1/rehearsals", data={"csrf": csrf, "start": "sáng mai"})
    assert bad.status_code == 422
    assert "2026-12-03 08:00" in bad.text.split('id="rehearsal-start-error"')[1]
    assert not sent
    fields = {"csrf": csrf, "start": f"{START:%Y-%m-%d} 07:00", "minutes": "60"}
    refused = await console.post("/meetings/m1/rehearsals", data=fields)
    assert refused.status_code == 422
    assert TOO_LATE in refused.text.split('id="rehearsal-end-error"')[1].split("</p>")[0]


async def test_cancelling_a_meeting_with_a_rehearsal_sends_the_choice(console, monkeypatch) -> None:
    monkeypatch.setitem(MEETING, "rehearsals", [BOOKED])
    assert (await sign_in(console, "truc-ban")).status_code == 303
    page = await console.get("/meetings/m1")
    assert 'id="rehearsal-needed"' not in page.text  # one is booked
    assert 'href="/meetings/r1"' in page.text.split('id="rehearsal-list"')[1]
    cancel_form = page.text.split('id="cancel-form"')[1].split("</form>")[0]
    assert 'name="rehearsals" value="cancel"' in cancel_form
    data = {"csrf": csrf_of(page), "reason": "Hoãn theo chỉ đạo", "rehearsals": "cancel"}
    done = await console.post("/meetings/m1/cancel", data=data)
    assert done.status_code == 303
    assert asked() == (
        "/meetings/m1/cancel",
        {"reason": "Hoãn theo chỉ đạo", "rehearsals": "cancel"},
    )


async def test_a_rehearsal_names_its_meeting(console, monkeypatch) -> None:
    monkeypatch.setitem(MEETING, "rehearsal_of", "m0")
    assert (await sign_in(console, "truc-ban")).status_code == 303
    page = await console.get("/meetings/m1")
    assert 'href="/meetings/m0"' in page.text.split('id="rehearsal-of"')[1]
    assert 'id="rehearsal-form"' not in page.text


async def test_another_units_meeting_at_the_clerks_endpoint_is_theirs_to_read_not_change(
    console, monkeypatch
) -> None:
    monkeypatch.setitem(MEETING, "host_unit", "SYT")
    assert (await sign_in(console, "van-thu")).status_code == 303
    page = await console.get("/meetings/m1")
    assert page.status_code == 200, page.text
    assert "Sở Y tế chủ trì cuộc họp này; đơn vị bạn tham gia tại điểm cầu của mình" in page.text
    note = page.text.split('id="guest"')[1].split("</p>")[0]
    assert '<a href="tel:02053812000">0205 3812 000</a>' in note  # whom to ring
    assert 'id="meeting-host">Sở Y tế<' in page.text
    assert 'id="cancel-form"' not in page.text
    assert 'id="change-form"' not in page.text
    monkeypatch.setitem(MEETING, "host_unit", "VP-UBND")
    own = await console.get("/meetings/m1")
    assert 'id="cancel-form"' in own.text
    assert 'id="guest"' not in own.text


async def test_a_refused_rehearsal_is_said_so_and_counts_for_none(console, monkeypatch) -> None:
    monkeypatch.setitem(MEETING, "rehearsals", [{**BOOKED, "status": "rejected"}])
    assert (await sign_in(console, "van-thu")).status_code == 303
    page = await console.get("/meetings/m1")
    listed = page.text.split('id="rehearsal-list">')[1].split("</ul>")[0]
    assert "bị từ chối" in listed
    assert 'id="rehearsal-needed"' in page.text  # still wanted
