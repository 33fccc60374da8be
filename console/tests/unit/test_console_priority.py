"""A meeting's priority on the console, over stand-ins for the services: the registration
form offers the province's levels the signed-in role may set (in words, the routine one
chosen), sends the one picked, shows registration's refusal naming `priority` beside the
field; the meeting's page says its priority in words."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from console_fakes import meeting_page_reads, officer_and_clerk, registration_form, sign_in

sent: list[httpx.Request] = []
START = datetime.now(UTC) + timedelta(days=3)
REFUSAL = "Chỉ Sở Thông tin và Truyền thông được đặt mức ưu tiên lãnh đạo tỉnh."
MEETING = {
    "id": "m1",
    "title": "Họp khẩn ứng phó bão số 3",
    "status": "scheduled",
    "host_unit": "VP-UBND",
    "chair": "Phó Chủ tịch",
    "start": START.isoformat(),
    "end": (START + timedelta(hours=2)).isoformat(),
    "main_endpoint": "LS-UBND",
    "endpoints": ["LS-UBND"],
    "priority": "thien_tai",
}
ENDPOINTS = [{"code": "LS-UBND", "name": "UBND tỉnh", "unit": "VP-UBND", "active": True}]


def services(request: httpx.Request) -> httpx.Response:
    path, method = request.url.path, request.method
    if (method, path) == ("POST", "/meetings"):
        sent.append(request)
        if json.loads(request.content).get("priority") == "lanh_dao":
            error = {"field": "priority", "rule": "meeting.priorities", "message": REFUSAL}
            return httpx.Response(422, json={"errors": [error]})
        return httpx.Response(201, json={"id": "m2"})
    return meeting_page_reads(path, MEETING, ENDPOINTS)


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    sent.clear()
    async with officer_and_clerk(services) as client:
        yield client


def options(page: httpx.Response) -> list[tuple[str, bool, str]]:
    """The priority select's options: (value, selected, label)."""
    select = page.text.split('id="priority"')[1].split("</select>")[0]
    return [
        (value, bool(chosen.strip()), label)
        for value, chosen, label in re.findall(
            r'<option value="([^"]*)" ?(selected)?>([^<]*)</option>', select
        )
    ]


def form_fields(page: httpx.Response, **extra: str) -> dict[str, str]:
    return registration_form(page, title=str(MEETING["title"]), start="2026-12-09 08:00",
                             **extra)  # fmt: skip


async def test_the_form_offers_the_levels_the_role_may_set_routine_chosen(console) -> None:
    assert (await sign_in(console, "van-thu")).status_code == 303
    clerk = options(await console.get("/meetings/new"))
    assert clerk == [
        ("thien_tai", False, "Phòng chống thiên tai"),
        ("thuong_le", True, "Thường lệ"),
    ]
    assert (await sign_in(console, "truc-ban", lang="en")).status_code == 303
    officer = options(await console.get("/meetings/new"))
    assert officer == [
        ("lanh_dao", False, "Provincial leadership"),
        ("thien_tai", False, "Disaster response"),
        ("thuong_le", True, "Routine"),
    ]


async def test_the_level_picked_is_asked_for(console) -> None:
    assert (await sign_in(console, "van-thu")).status_code == 303
    form = await console.get("/meetings/new")
    made = await console.post("/meetings/new", data=form_fields(form, priority="thien_tai"))
    assert (made.status_code, made.headers["location"]) == (303, "/meetings/m2?done=registered_ok")
    [asked] = sent
    assert json.loads(asked.content)["priority"] == "thien_tai"


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_a_refused_priority_shows_beside_the_field_and_stays_picked(
    console, lang: str
) -> None:
    assert (await sign_in(console, "truc-ban", lang=lang)).status_code == 303
    form = await console.get("/meetings/new")
    refused = await console.post("/meetings/new", data=form_fields(form, priority="lanh_dao"))
    assert refused.status_code == 422
    beside = refused.text.split('id="priority-error"')[1].split("</p>")[0]
    assert REFUSAL in beside
    assert 'aria-describedby="priority-error"' in refused.text
    assert REFUSAL not in refused.text.split('id="meeting-form"')[0]  # not above the form
    label = "Provincial leadership" if lang == "en" else "Lãnh đạo tỉnh"
    assert ("lanh_dao", True, label) in options(refused)


@pytest.mark.parametrize(("lang", "words"), [("vi", "Mức ưu tiên: Phòng chống thiên tai"),
                                             ("en", "Priority: Disaster response")])  # fmt: skip
async def test_the_meeting_page_says_its_priority_in_words(console, lang, words) -> None:
    assert (await sign_in(console, "van-thu", lang=lang)).status_code == 303
    page = await console.get("/meetings/m1")
    assert page.status_code == 200, page.text
    assert words in page.text.split('id="meeting-priority">')[1].split("</span>")[0]


async def test_a_meeting_without_a_priority_is_routine(console, monkeypatch) -> None:
    monkeypatch.setitem(MEETING, "priority", None)
    assert (await sign_in(console, "van-thu")).status_code == 303
    page = await console.get("/meetings/m1")
    assert "Mức ưu tiên: Thường lệ" in page.text
