"""National and cascaded meetings on the console, over stand-ins for the services: the IT
department names the central host on the new-meeting form (no one else sees the field);
the meeting's page says who hosts it and, when cascaded, each bridge's share in words."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from console_fakes import (
    csrf_of,
    meeting_page_reads,
    officer_and_clerk,
    registration_form,
    sign_in,
)

sent: list[httpx.Request] = []
START = datetime.now(UTC) + timedelta(days=3)
HOST_DIAL_IN = "sip:VR-01@mcu.langson.gov.vn"
LINKED_DIAL_IN = "sip:VR-01@mcu2.langson.gov.vn"


def share(bridge: str, endpoints: list[str], ports: int, dial_in: str, *, host: bool) -> dict:
    """One bridge's share of a cascaded slot, as registration shows it."""
    return {"bridge": bridge, "endpoints": endpoints, "ports": ports, "dial_in": dial_in,
            "host": host}  # fmt: skip


MEETING = {
    "id": "m1",
    "title": "Hội nghị trực tuyến của Chính phủ",
    "status": "scheduled",
    "host_unit": "VP-UBND",
    "chair": "Thủ tướng",
    "start": START.isoformat(),
    "end": (START + timedelta(hours=3)).isoformat(),
    "main_endpoint": "LS-UBND",
    "endpoints": ["LS-UBND", "LS-X-1", "LS-X-2"],
    "external_host": "Văn phòng Chính phủ",
    "slot": {
        "bridge": "MCU-LS",
        "virtual_room": "VR-01",
        "dial_in": HOST_DIAL_IN,
        "cascade": [
            share("MCU-LS", ["LS-UBND", "LS-X-1"], 3, HOST_DIAL_IN, host=True),
            share("MCU-LS-2", ["LS-X-2"], 2, LINKED_DIAL_IN, host=False),
        ],
    },
}
ENDPOINTS = [{"code": "LS-UBND", "name": "UBND tỉnh", "unit": "VP-UBND", "active": True}]


UNITS = [{"code": "VP-UBND", "name": "Văn phòng UBND"}, {"code": "STP", "name": "Sở Tư pháp"}]


def services(request: httpx.Request) -> httpx.Response:
    path, method = request.url.path, request.method
    if path == "/units":
        return httpx.Response(200, json=UNITS)
    if (method, path) == ("POST", "/meetings"):
        sent.append(request)
        return httpx.Response(201, json={"id": "m2"})
    if path == "/meetings/m1" and method == "PATCH":
        sent.append(request)
        if (
            "urgent_reason" not in json.loads(request.content)
            and "start" in request.content.decode()
        ):
            error = {"field": "body.start", "rule": "notice.lead_time", "message": "Quá gấp"}
            return httpx.Response(422, json={"errors": [error]})
        return httpx.Response(200, json=MEETING)
    if path == "/meetings/mtg-0123456789ab":  # the clerk's own unit's, in the way
        return httpx.Response(200, json={**MEETING, "id": path[10:], "title": "Giao ban tuần"})
    if path == "/availability":  # scheduling: nothing free (it counts the lead time)
        return httpx.Response(200, json={"windows": [], "truncated": False})
    if path == "/meetings/mtg-00000000feed":  # another unit's, not the clerk's to open
        return httpx.Response(403, json={"detail": {"message": "Bạn không được xem cuộc họp này."}})
    return meeting_page_reads(path, MEETING, ENDPOINTS)


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    sent.clear()
    async with officer_and_clerk(services) as client:
        yield client


def form_fields(page: httpx.Response, **extra: str) -> dict[str, str]:
    return registration_form(page, title=str(MEETING["title"]), chair="Thủ tướng",
                             minutes="180", **extra)  # fmt: skip


async def test_the_it_department_names_the_central_host_of_a_national_meeting(console) -> None:
    assert (await sign_in(console, "truc-ban")).status_code == 303
    form = await console.get("/meetings/new")
    assert 'id="external_host"' in form.text
    assert "Cấp trên chủ trì (điểm cầu Trung ương)" in form.text
    made = await console.post(
        "/meetings/new", data=form_fields(form, external_host=" Văn phòng Chính phủ ")
    )
    assert (made.status_code, made.headers["location"]) == (303, "/meetings/m2?done=registered_ok")
    [asked] = sent
    assert json.loads(asked.content)["external_host"] == "Văn phòng Chính phủ"


async def test_a_registrar_sees_no_central_host_field_and_sends_none(console) -> None:
    assert (await sign_in(console, "van-thu")).status_code == 303
    form = await console.get("/meetings/new")
    assert 'id="external_host"' not in form.text
    made = await console.post("/meetings/new", data=form_fields(form))
    assert made.status_code == 303
    [asked] = sent
    assert "external_host" not in json.loads(asked.content)


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_the_meeting_page_shows_the_central_host_and_each_bridges_share(
    console, lang: str
) -> None:
    assert (await sign_in(console, "van-thu", lang=lang)).status_code == 303
    page = await console.get("/meetings/m1")
    assert page.status_code == 200, page.text
    host = page.text.split('id="external-host"')[1].split("</p>")[0]
    assert "Văn phòng Chính phủ" in host
    assert "LS-UBND" in host
    linked = page.text.split('id="cascade-MCU-LS-2"')[1].split("</tr>")[0]
    assert "<td>1</td><td>2</td>" in linked  # one endpoint, two ports with its link
    assert LINKED_DIAL_IN in linked
    main = page.text.split('id="cascade-MCU-LS"')[1].split("</tr>")[0]
    assert HOST_DIAL_IN in main
    if lang == "en":
        assert "Cascaded over several bridges" in page.text
        assert "(linked to MCU-LS)" in linked
        assert "(host, with the main endpoint)" in main
    else:
        assert "Nối tầng qua nhiều cầu MCU" in page.text
        assert "(nối với MCU-LS)" in linked
        assert "(cầu chính, có điểm cầu chính)" in main


async def test_a_meeting_on_one_bridge_shows_no_cascade(console, monkeypatch) -> None:
    monkeypatch.setitem(MEETING, "external_host", None)
    monkeypatch.setitem(MEETING, "slot", {**MEETING["slot"], "cascade": []})
    assert (await sign_in(console, "van-thu")).status_code == 303
    page = await console.get("/meetings/m1")
    assert page.status_code == 200
    assert 'id="cascade' not in page.text
    assert 'id="external-host"' not in page.text


async def test_the_it_department_changes_or_clears_the_central_host(console) -> None:
    assert (await sign_in(console, "truc-ban")).status_code == 303
    page = await console.get("/meetings/m1")
    assert 'id="change-external-host"' in page.text
    was = {"csrf": csrf_of(page), "external_host_was": MEETING["external_host"]}
    for typed, asked in (("Bộ Y tế", "Bộ Y tế"), ("  ", None)):
        done = await console.post("/meetings/m1/change", data={**was, "external_host": typed})
        assert done.status_code == 303, done.text
        assert json.loads(sent.pop().content) == {"external_host": asked}
    unchanged = {**was, "external_host": MEETING["external_host"], "title": "Họp"}
    assert (await console.post("/meetings/m1/change", data=unchanged)).status_code == 303
    assert json.loads(sent.pop().content) == {"title": "Họp"}


async def test_a_registrar_changes_no_central_host(console) -> None:
    assert (await sign_in(console, "van-thu")).status_code == 303
    page = await console.get("/meetings/m1")
    assert 'id="change-external-host"' not in page.text
    fields = {"csrf": csrf_of(page), "external_host": "Bộ Y tế", "title": "Họp"}
    assert (await console.post("/meetings/m1/change", data=fields)).status_code == 303
    assert json.loads(sent.pop().content) == {"title": "Họp"}


async def test_the_change_form_adds_and_takes_out_endpoints(console, monkeypatch) -> None:
    """The endpoints the meeting names are offered ticked (one the directory no longer lists
    too, so reading the page drops none); the change sends the list only when it changed."""
    monkeypatch.setitem(MEETING, "endpoints", ["LS-UBND", "LS-X-1", "LS-OLD"])
    directory = [*ENDPOINTS, {"code": "LS-X-1", "name": "Xã 1", "unit": "X1", "active": True}]
    monkeypatch.setitem(globals(), "ENDPOINTS", directory)  # what the directory lists
    assert (await sign_in(console, "van-thu")).status_code == 303
    page = await console.get("/meetings/m1")
    assert 'id="change-ep-LS-UBND"' not in page.text  # the main endpoint is not to untick
    for code in ("LS-X-1", "LS-OLD"):
        assert f'value="{code}" id="change-ep-{code}" checked' in page.text
    was = {"csrf": csrf_of(page), "endpoints_was": "LS-X-1,LS-OLD", "main_endpoint_was": "LS-UBND"}
    kept = await console.post(
        "/meetings/m1/change", data={**was, "endpoints": ["LS-OLD", "LS-X-1"], "title": "Họp"}
    )
    assert kept.status_code == 303, kept.text
    assert json.loads(sent.pop().content) == {"title": "Họp"}  # the same set: not sent
    out = await console.post("/meetings/m1/change", data={**was, "endpoints": ["LS-X-1"]})
    assert out.status_code == 303, out.text
    assert json.loads(sent.pop().content) == {"endpoints": ["LS-UBND", "LS-X-1"]}
    none = await console.post("/meetings/m1/change", data=was)  # all unticked: the main one
    assert none.status_code == 303, none.text
    assert json.loads(sent.pop().content) == {"endpoints": ["LS-UBND"]}


async def test_a_refused_change_comes_back_as_typed_and_the_it_department_gives_a_reason(
    console,
) -> None:
    """Inside the notice lead time registration refuses a new start without an urgent
    reason: the form keeps the start, the title and the ticks, and the IT department (only
    it) has the field to give the reason."""
    assert (await sign_in(console, "truc-ban")).status_code == 303
    page = await console.get("/meetings/m1")
    assert 'id="change-urgent"' in page.text
    typed = {"csrf": csrf_of(page), "title": "Họp gấp", "start": "2026-12-08 09:00"}
    typed |= {"minutes": "90", "endpoints_was": "LS-X-1,LS-X-2", "main_endpoint_was": "LS-UBND"}
    typed |= {"endpoints": ["LS-X-1"], "external_host_was": MEETING["external_host"]}
    typed["external_host"] = MEETING["external_host"]
    refused = await console.post("/meetings/m1/change", data=typed)
    assert refused.status_code == 422
    assert "Quá gấp" in refused.text
    for kept in ('value="Họp gấp"', 'value="2026-12-08 09:00"', '<option value="90" selected>'):
        assert kept in refused.text, kept
    assert 'value="LS-X-2" id="change-ep-LS-X-2" >' in refused.text  # still unticked
    assert '<details id="change-endpoints" open>' in refused.text
    urgent = await console.post("/meetings/m1/change", data={**typed, "urgent_reason": "Bão"})
    assert urgent.status_code == 303
    assert json.loads(sent.pop().content)["urgent_reason"] == "Bão"
    assert (await sign_in(console, "van-thu")).status_code == 303
    assert 'id="change-urgent"' not in (await console.get("/meetings/m1")).text


async def test_the_change_form_corrects_the_official_letter(console, monkeypatch) -> None:
    """A mistyped letter number is corrected on the change form (it could only be fixed by
    cancelling and registering again); an unchanged one is not sent."""
    monkeypatch.setitem(MEETING, "document_number", "12/UBND")
    monkeypatch.setitem(MEETING, "document_date", "2026-12-01")
    assert (await sign_in(console, "van-thu")).status_code == 303
    page = await console.get("/meetings/m1")
    assert 'id="change-document-number" maxlength="100" value="12/UBND"' in page.text
    was = {"csrf": csrf_of(page), "document_number_was": "12/UBND"}
    was |= {"document_date_was": "2026-12-01", "document_date": "2026-12-01"}
    done = await console.post("/meetings/m1/change", data={**was, "document_number": "21/UBND"})
    assert done.status_code == 303, done.text
    assert json.loads(sent.pop().content) == {"document_number": "21/UBND"}
    same = {**was, "document_number": "12/UBND", "title": "Họp"}
    assert (await console.post("/meetings/m1/change", data=same)).status_code == 303
    assert json.loads(sent.pop().content) == {"title": "Họp"}


async def test_a_change_says_why_for_the_notices_and_a_reason_alone_changes_nothing(
    console,
) -> None:
    assert (await sign_in(console, "van-thu")).status_code == 303
    page = await console.get("/meetings/m1")
    assert 'id="change-reason"' in page.text
    why = {"csrf": csrf_of(page), "change_reason": "Lãnh đạo tỉnh bận đột xuất"}
    done = await console.post("/meetings/m1/change", data={**why, "title": "Họp"})
    assert done.status_code == 303, done.text
    assert json.loads(sent.pop().content) == {"title": "Họp", "reason": why["change_reason"]}
    alone = await console.post("/meetings/m1/change", data=why)
    assert alone.status_code == 422
    assert "Lãnh đạo tỉnh bận đột xuất</textarea>" in alone.text  # kept as typed
    assert sent == []


async def test_a_clerk_is_offered_only_their_own_unit_as_the_host(console) -> None:
    """Registration refuses another unit after the form is sent: the form offers none."""
    assert (await sign_in(console, "van-thu")).status_code == 303
    clerk = await console.get("/meetings/new")
    assert '<option value="VP-UBND" selected>' in clerk.text
    assert '<option value="STP"' not in clerk.text
    # Tuyên Quang leaves the official letter optional (Lạng Sơn marks it required)
    number = clerk.text.split('id="document_number"')[1].split(">")[0]
    assert "required" not in number
    assert (await sign_in(console, "truc-ban")).status_code == 303
    officer = await console.get("/meetings/new")
    assert '<option value="STP"' in officer.text  # the IT department files for any unit


async def test_a_refused_change_says_the_meeting_keeps_its_earlier_slot(
    console, monkeypatch
) -> None:
    """Registration says `scheduled` (the earlier slot holds) while the change was refused:
    the page says why, and when the meeting still takes place."""
    refusal = {
        "conflicts": [
            {"message": "Điểm cầu LS-X-1 đã được xếp cho cuộc họp mtg-0123456789ab"},
            {"message": "Điểm cầu LS-X-2 đã được xếp cho cuộc họp mtg-00000000feed"},
        ],
        "alternatives": [{"start": "2026-12-11T05:15:00Z", "end": "2026-12-11T07:15:00Z"}],
    }
    earlier = {"start": "2026-12-10T08:00:00+07:00", "end": "2026-12-10T10:00:00+07:00"}
    monkeypatch.setitem(MEETING, "status", "scheduled")
    monkeypatch.setitem(MEETING, "rejection", refusal)
    monkeypatch.setitem(MEETING, "slot", {**MEETING["slot"], "meeting": earlier})
    assert (await sign_in(console, "van-thu")).status_code == 303
    page = await console.get("/meetings/m1")
    said = page.text.split('id="change-refused">')[1].split("</p>")[0]
    assert said.startswith("Thay đổi không xếp được lịch: Điểm cầu LS-X-1")
    # the meeting in the way by its title, a link; another unit's without one
    assert '<a href="/meetings/mtg-0123456789ab">«Giao ban tuần»</a>' in said
    assert "LS-X-2 đã được xếp cho cuộc họp của đơn vị khác" in said
    assert "mtg-00000000feed" not in said
    assert "cuộc họp vẫn giữ lịch cũ: 10/12/2026 08:00 – 10:00" in said
    # the free times offered, in words, each filling the change form when picked
    offered = page.text.split('id="alternatives">')[1].split("</div>")[0]
    assert "12:15 – 14:15, Thứ Sáu 11/12/2026" in offered
    assert 'href="?pick=11/12/2026%2012%3A15#change-form"' in offered
    picked = await console.get("/meetings/m1", params={"pick": "11/12/2026 12:15"})
    field = picked.text.split('id="change-start"')[1].split(">")[0]
    assert 'value="11/12/2026 12:15"' in field


async def test_a_refused_meetings_free_times_are_those_still_free_but_an_urgent_ones_stay(
    console, monkeypatch
) -> None:
    """Scheduling says nothing is free now: an ordinary meeting's offered times are gone
    (another meeting took them); an urgent one's stay, as its lead time is not the
    province's that scheduling's free times keep."""
    offered = (START + timedelta(days=1)).replace(second=0, microsecond=0)  # still ahead
    until = offered + timedelta(hours=2)
    refusal = {
        "conflicts": [{"message": "Điểm cầu LS-X-1 đã có cuộc họp khác"}],
        "alternatives": [{"start": offered.isoformat(), "end": until.isoformat()}],
    }
    monkeypatch.setitem(MEETING, "status", "rejected")
    monkeypatch.setitem(MEETING, "rejection", refusal)
    monkeypatch.delitem(MEETING, "external_host")  # a province's own meeting
    assert (await sign_in(console, "van-thu")).status_code == 303
    ordinary = await console.get("/meetings/m1")
    assert 'id="alternatives"' not in ordinary.text
    monkeypatch.setitem(MEETING, "urgent_reason", "Ứng phó bão")
    urgent = await console.get("/meetings/m1")
    local = ZoneInfo("Asia/Ho_Chi_Minh")
    words = f"{offered.astimezone(local):%H:%M} – {until.astimezone(local):%H:%M}"
    assert words in urgent.text.split('id="alternatives"')[1]


async def test_the_page_waiting_for_a_decision_reloads_once_it_is_made(
    console, monkeypatch
) -> None:
    """A clerk who just registered watches the page: when scheduling decides, the live part
    loads the whole page again (the refusal and its free times are outside it), and the
    "waiting to be scheduled" line goes."""
    monkeypatch.setitem(MEETING, "status", "requested")
    assert (await sign_in(console, "van-thu")).status_code == 303
    page = await console.get("/meetings/m1", params={"done": "registered_ok"})
    assert 'live?shown=requested"' in page.text
    assert 'id="done"' in page.text
    waiting = await console.get("/meetings/m1/live", params={"shown": "requested"})
    assert "HX-Redirect" not in waiting.headers
    assert 'id="meeting-live"' in waiting.text
    monkeypatch.setitem(MEETING, "status", "rejected")
    decided = await console.get("/meetings/m1/live", params={"shown": "requested"})
    assert decided.headers["HX-Redirect"] == "/meetings/m1"
    reloaded = await console.get("/meetings/m1", params={"done": "registered_ok"})
    assert 'id="done"' not in reloaded.text  # not "waiting" beside "refused"
    # a page not waiting for a decision keeps what is typed in its forms: no reload
    settled = await console.get("/meetings/m1/live", params={"shown": "rejected"})
    assert "HX-Redirect" not in settled.headers
