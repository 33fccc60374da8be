"""The duty officer's pages over stand-ins for the services: the calendar, the board's live
rows, the directory's forms (what registration is asked, a refusal next to its field)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from console_fakes import FakeRegistration, console_over, csrf_of, sign_in

from hnth_console.i18n import translator
from hnth_console.pages import directory as d
from hnth_kit.auth import Role

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
H = timedelta(hours=1)
TODAY = datetime.now(UTC).astimezone(ZONE).replace(hour=9, minute=0, second=0, microsecond=0)
MEETING = {
    "id": "m1",
    "title": "Giao ban chuyển đổi số",
    "host_unit": "VP-UBND",
    "status": "scheduled",
    "start": TODAY.isoformat(),
    "end": (TODAY + timedelta(hours=2)).isoformat(),
    "main_endpoint": "TQ-UBND",
    "endpoints": ["TQ-UBND", "TQ-STTTT"],
    "slot": {"bridge": "MCU-TQ", "virtual_room": "VR-1"},
}
ENDPOINT = {
    "code": "TQ-STTTT",
    "name": "Điểm cầu Sở KH&CN",
    "unit": "STTTT",
    "kind": "room",
    "location": None,
    "active": True,
    "version": 3,
    "technician": {"name": "Cũ", "phone": "0912", "email": "cu@tq.gov.vn", "language": "vi"},
}
KEPT: dict[str, str] = {}
ANNUAL: list[dict[str, Any]] = []
"""The year's endpoint reports inspection lists (a test sets them)."""
NOW_ISO = datetime.now(UTC).isoformat()
NOTICES = [
    {"id": "n1", "recipient": "duty", "role": "duty", "kind": "escalation", "channel": "sms",
     "status": "failed", "reason": "render: UndefinedError: 'dict object' has no attribute"},
    {"id": "n2", "recipient": "unit:STTTT", "role": "host_unit", "kind": "meeting_notice",
     "channel": "email", "status": "sent", "address": "stttt@tq.gov.vn",
     "sent_at": TODAY.astimezone(UTC).isoformat()},
]  # fmt: skip
IDLE: list[dict[str, Any]] = []
"""More endpoints the directory lists (a test sets them)."""
READINESS: list[dict[str, Any]] = []
"""The checks inspection gives for m1 (a test sets them)."""
OFFICE = {"name": "Văn phòng Sở", "person": "Trần Văn C", "phone": "0209 123"}
UNITS = [{"code": "STTTT", "name": "Sở KH&CN", "kind": "department", "active": True,
          "contact": OFFICE}]  # fmt: skip
sent: list[httpx.Request] = []


def platform(request: httpx.Request) -> httpx.Response:
    sent.append(request)
    path, method = request.url.path, request.method
    if path == "/meetings":
        return httpx.Response(200, json={"items": [MEETING], "next_cursor": None})
    if path.endswith("/readiness"):
        return httpx.Response(200, json=READINESS)
    if path == "/meetings/m1" and method == "GET":
        return httpx.Response(200, json=MEETING)
    if path == "/meetings/m1/notices":
        return httpx.Response(200, json=NOTICES)
    if path == "/annual-reports":
        return httpx.Response(200, json=ANNUAL)
    if path == "/reports/2026/compile" and method == "POST":
        KEPT.update(compiled_at="2026-12-31T03:00:00+00:00", compiled_by="operator-1")
        return httpx.Response(200, json={"province": {}, **KEPT})
    if path == "/reports/2026.docx":  # the record as kept, or compiled now
        kept = request.url.params.get("fresh") == "false"
        return httpx.Response(
            200, content=b"kept" if kept else b"now", headers={"content-type": "x/y"}
        )
    if path == "/reports/2026":
        if request.url.params.get("fresh") != "false":
            return httpx.Response(200, json={"province": {}, "compiled_at": NOW_ISO})
        found = {"province": {}, **KEPT}
        return httpx.Response(200 if KEPT else 404, json=found if KEPT else {"message": "chưa"})
    if (method, path) == ("GET", "/endpoints"):
        return httpx.Response(200, json=[ENDPOINT, *IDLE])
    if path == "/busy":  # scheduling: m1's times, and another unit's meeting on TQ-VP-2
        later = TODAY + timedelta(hours=5)
        held = [("TQ-UBND", TODAY, TODAY + timedelta(hours=2)), ("TQ-VP-2", later, later + H)]
        busy = [{"endpoint": e, "start": a.isoformat(), "end": b.isoformat()} for e, a, b in held]
        return httpx.Response(200, json={"busy": busy})
    if (method, path) == ("GET", "/endpoints/TQ-STTTT"):
        return httpx.Response(200, json=ENDPOINT)
    if (method, path) == ("PATCH", "/endpoints/TQ-STTTT"):
        if request.headers.get("if-match") != f'"{ENDPOINT["version"]}"':
            return httpx.Response(412, json={"code": "changed_meanwhile", "message": "đã sửa"})
        body = json.loads(request.content)
        email = (body.get("technician") or {}).get("email", "")
        if email.endswith("@"):
            error = {
                "field": "technician.email",
                "rule": "schema.string_pattern_mismatch",
                "message": "Trường 'technician.email' không hợp lệ: String should match",
            }
            return httpx.Response(422, json={"errors": [error]})
        return httpx.Response(200, json={**ENDPOINT, **body})
    if path.startswith("/endpoints/TQ-STTTT/room-rules"):
        return room_rules(request)
    if (method, path) == ("POST", "/endpoints"):
        body = json.loads(request.content)
        if body.get("technician") is None:  # Tuyên Quang's directory.technician_required
            error = {
                "field": "technician",
                "rule": "directory.technician_required",
                "source": "QĐ 345/QĐ-UBND 2017 (seeds/001)",
                "message": "Tỉnh yêu cầu mỗi điểm cầu có 01 cán bộ kỹ thuật",
            }
            return httpx.Response(422, json={"errors": [error]})
        return httpx.Response(201, json={**ENDPOINT, **body, "version": 1})
    if path.startswith("/groups"):
        return groups(request)
    if (method, path) == ("GET", "/units"):
        return httpx.Response(200, json=UNITS)
    if (method, path) == ("GET", "/contacts"):
        return httpx.Response(404, json={"code": "not_found", "message": "Chưa có đầu mối."})
    return httpx.Response(404, json={"detail": {"message": f"không có {path}"}})


BUILT_IN = {"code": "ALL-COMMUNES", "name": "Tất cả các xã", "endpoints": [], "units": [],
            "kinds": ["commune"], "active": True, "built_in": True}  # fmt: skip
CLUSTER = {"code": "CUM-1", "name": "Cụm xã phía Bắc", "endpoints": ["TQ-STTTT"], "units": [],
           "kinds": [], "active": True, "built_in": False, "version": 4}  # fmt: skip


def groups(request: httpx.Request) -> httpx.Response:
    path, method = request.url.path, request.method
    if (method, path) == ("GET", "/groups"):
        return httpx.Response(200, json=[BUILT_IN, CLUSTER])
    if method == "GET":
        found = {"/groups/ALL-COMMUNES": BUILT_IN, "/groups/CUM-1": CLUSTER}.get(path)
        return httpx.Response(200 if found else 404, json=found or {"message": "không có"})
    body = json.loads(request.content)
    if "TQ-KHONG-CO" in body.get("endpoints", ()):
        message = "Điểm cầu TQ-KHONG-CO không có trong danh bạ"
        error = {"field": "endpoints", "rule": "directory.endpoint_active",
                 "source": "HNTH Ops", "message": message}  # fmt: skip
        return httpx.Response(422, json={"errors": [error]})
    if method == "PATCH":
        return httpx.Response(200, json={**CLUSTER, **body})
    return httpx.Response(201, json={**body, "built_in": False, "version": 1})


RULES = {"id": "r", "endpoint": "TQ-STTTT", "filename": "Nội quy.pdf", "version": 2}
RULES_AT = "2026-12-01T08:30:00+07:00"


def room_rules(request: httpx.Request) -> httpx.Response:
    if request.method == "POST":
        if b"application/pdf" not in request.content:
            error = {"field": "file", "rule": "materials.types", "source": "mặc định",
                     "message": "Loại tệp không được phép"}  # fmt: skip
            return httpx.Response(415, json={"errors": [error]})
        return httpx.Response(201, json={**RULES, "version": 3, "uploaded_at": RULES_AT})
    if request.url.path.endswith("/file"):
        headers = {"content-type": "application/pdf", "content-disposition": "attachment"}
        return httpx.Response(200, content=b"%PDF-1.7 rules", headers=headers)
    return httpx.Response(200, json={**RULES, "uploaded_at": RULES_AT})


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    registration = FakeRegistration()
    for role in Role:
        registration.add(f"{role}-1", role.value, unit="VP-UBND", endpoints=["TQ-UBND"])
    sent.clear()
    async with console_over(registration, platform) as client:
        yield client


async def as_role(client: httpx.AsyncClient, role: Role, lang: str = "vi") -> httpx.AsyncClient:
    answer = await sign_in(client, f"{role}-1", lang=lang)
    assert answer.status_code == 303, answer.text
    return client


async def test_the_calendar_draws_a_meeting_as_a_block_on_each_of_its_rows(console) -> None:
    # the day is named: TODAY was fixed at collection, and a long run may cross midnight
    day = TODAY.date().isoformat()
    page = await (await as_role(console, Role.VIEWER)).get(
        "/calendar", params={"view": "day", "rows": "endpoint", "day": day}
    )
    assert page.status_code == 200
    assert page.text.count('data-meeting="m1"') == 2  # TQ-UBND and TQ-STTTT
    assert "09:00–11:00" in page.text  # the province's time, as text in the link
    assert 'href="/meetings/m1"' in page.text
    week = {"view": "week", "rows": "bridge", "day": day}
    by_bridge = await console.get("/calendar", params=week)
    row = by_bridge.text.split('data-row="MCU-TQ"')[1].split("</tr>")[0]
    assert 'data-meeting="m1"' in row
    assert 'id="nav-calendar"' in by_bridge.text
    refused = await console.get("/calendar", params={"rows": "everything"})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")  # the error page
    assert "giá trị không đọc được: rows" in refused.text
    assert '<a href="/" id="error-back">Quay lại</a>' in refused.text  # a way back
    came = await console.get(
        "/calendar", params={"rows": "x"}, headers={"Referer": "http://console/board"}
    )
    assert '<a href="/board" id="error-back">' in came.text  # to the page it came from


async def test_a_clerks_calendar_rows_are_their_units_and_the_busy_endpoints(console) -> None:
    """A province has hundreds of endpoints: a clerk's week shows their unit's and those
    meeting in it, and every one when asked."""
    idle = {**ENDPOINT, "code": "TQ-X-IDLE", "name": "Xã Nhàn", "unit": "X"}
    own = {**ENDPOINT, "code": "TQ-VP-2", "name": "Phòng 2", "unit": "VP-UBND"}
    IDLE.extend([idle, own])
    try:
        clerk = await as_role(console, Role.REGISTRAR)
        week = (await clerk.get("/calendar", params={"day": TODAY.date().isoformat()})).text
        every = await clerk.get("/calendar", params={"every": "true"})
        operator = await (await as_role(console, Role.OPERATOR)).get("/calendar")
    finally:
        IDLE.clear()
    assert 'data-row="TQ-STTTT"' in week  # meets this week
    assert 'data-row="TQ-VP-2"' in week  # the clerk's unit's
    assert 'data-row="TQ-X-IDLE"' not in week
    assert 'id="cal-every"' in week
    assert 'data-row="TQ-X-IDLE"' in every.text
    assert 'data-row="TQ-X-IDLE"' in operator.text  # the IT department plans on every row
    assert 'id="cal-rows"' not in operator.text
    # the clerk's own endpoint held by a meeting they may not read: busy, no title, no link
    row = week.split('data-row="TQ-VP-2"')[1].split("</tr>")[0]
    assert "Bận (cuộc họp của đơn vị khác)" in row
    assert '<a class="cal-block' not in row
    assert "14:00–15:00" in row
    m1_row = week.split('data-row="TQ-UBND"')[1].split("</tr>")[0]
    assert "Bận (" not in m1_row  # a meeting the clerk sees is drawn once, as itself
    key = week.split('id="cal-legend">')[1].split("</p>")[0]  # what the blocks mean
    assert "điểm cầu bận vì cuộc họp của đơn vị khác" in key
    assert "đơn vị khác chủ trì" not in key  # no such block this week


async def test_the_notices_to_see_to_read_as_words(console) -> None:
    page = await (await as_role(console, Role.OPERATOR)).get("/notices")
    assert page.status_code == 200
    rows = page.text.split('id="all-acknowledged"')[0]
    for code in ("unit:STTTT", "host_unit", "meeting_notice", "escalation", "UndefinedError"):
        assert code not in rows  # the codes and the exception stay out of the page
    for words in ("stttt@tq.gov.vn", "Tin nhắn SMS", "Thư điện tử"):
        assert words in rows
    assert TODAY.strftime("%H:%M %d/%m") in rows  # when it went, in the province's time
    # whom to ring about the host unit's notice: the person the directory names for it
    assert '☎ Trần Văn C: <a href="tel:0209123">0209 123</a>' in rows


async def test_the_it_department_keeps_the_years_report_and_a_viewer_reads_it(console) -> None:
    KEPT.clear()
    viewer = await as_role(console, Role.VIEWER)
    page = await viewer.get("/reports", params={"year": 2026})
    assert 'id="not-kept"' in page.text
    assert 'id="keep-report"' not in page.text  # reading only
    await as_role(console, Role.OPERATOR)
    page = await console.get("/reports", params={"year": 2026})
    kept = await console.post("/reports/2026/keep", data={"csrf": csrf_of(page)})
    assert (kept.status_code, kept.headers["location"]) == (303, "/reports?year=2026&done=kept")
    shown = await console.get(kept.headers["location"])
    assert "Đã chốt lúc 10:00 31/12/2026 · Chị operator-1" in shown.text  # time, by name
    assert 'href="/reports/2026.docx?kept=true"' in shown.text  # the record as kept
    assert (await console.get("/reports/2026.docx?kept=true")).content == b"kept"
    assert (await console.get("/reports/2026.docx")).content == b"now"
    assert 'id="done"' in shown.text
    await as_role(console, Role.VIEWER)
    mine = await console.get("/reports", params={"year": 2026})
    refused = await console.post("/reports/2026/keep", data={"csrf": csrf_of(mine)})
    assert refused.status_code == 403
    assert "Vai trò của bạn không được" in refused.text


async def test_the_board_rows_come_alone_and_a_poll_without_a_session_reloads(console) -> None:
    away = await console.get("/board/live", headers={"HX-Request": "true"})
    assert away.status_code == 204
    assert away.headers["hx-redirect"] == "/signin?next=%2Fboard"
    await as_role(console, Role.OPERATOR)
    board = await console.get("/board")
    assert 'hx-trigger="every 30s [' in board.text
    assert 'http-equiv="refresh"' not in board.text
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in board.text
    live = await console.get("/board/live")
    assert 'data-meeting="m1"' in live.text
    assert "<header>" not in live.text
    assert (await console.get("/static/vendor/htmx.min.js")).status_code == 200


async def test_the_board_says_what_wants_the_duty_officer_and_whom_to_call(console) -> None:
    missed = {"endpoint": "TQ-STTTT", "state": "missed", "due_at": TODAY.isoformat()}
    READINESS.append(missed)
    try:
        live = (await (await as_role(console, Role.OPERATOR)).get("/board/live")).text
    finally:
        READINESS.clear()
    # m1's notices: an escalation failed, the host unit's notice not acknowledged
    attention = live.split('id="attention"')[1].split("</p>")[0]
    assert "1 thông báo gửi lỗi" in attention
    assert 'href="/notices"' in attention
    assert "1 thông báo chưa được xác nhận" in attention
    row = live.split('data-meeting="m1"')[1]
    assert 'href="/meetings/m1#notices">1 thông báo gửi lỗi · 1 thông báo chưa' in row
    # the missed endpoint's technician, to be rung from the duty room
    assert '☎ Cũ: <a href="tel:0912">0912</a>' in row

    english = (await (await as_role(console, Role.OPERATOR, "en")).get("/board/live")).text
    assert "notices not acknowledged: 1" in english
    assert "tel:" not in english  # no endpoint in trouble: no phone to ring
    # a clerk's board links only to pages a clerk may open (not the notices page)
    clerk = (await (await as_role(console, Role.REGISTRAR)).get("/board/live")).text
    assert 'href="/notices"' not in clerk
    assert 'href="/meetings/m1#notices">' in clerk  # the meeting's own page shows them


async def test_a_refused_meeting_says_why_on_the_board(console, monkeypatch) -> None:
    conflict = {"message": "Điểm cầu TQ-UBND đã có cuộc họp khác", "message_en": "TQ-UBND busy"}
    monkeypatch.setitem(MEETING, "status", "rejected")
    monkeypatch.setitem(MEETING, "rejection", {"conflicts": [conflict]})
    live = (await (await as_role(console, Role.OPERATOR)).get("/board/live")).text
    why = live.split('class="rejected-why"')[1].split("</p>")[0]
    assert "Không xếp được lịch vì: Điểm cầu TQ-UBND đã có cuộc họp khác" in why
    # the meeting in the way is named, not given by its id
    conflict["message"] = "Điểm cầu TQ-UBND đã được xếp cho cuộc họp mtg-0123456789ab"
    live = (await (await as_role(console, Role.OPERATOR)).get("/board/live")).text
    why = live.split('class="rejected-why"')[1].split("</p>")[0]
    assert "mtg-0123456789ab" not in why.replace('href="/meetings/mtg-0123456789ab"', "")


async def test_only_the_it_department_edits_the_directory(console) -> None:
    refused = await (await as_role(console, Role.REGISTRAR)).get("/directory")
    assert refused.status_code == 403
    page = await (await as_role(console, Role.OPERATOR)).get("/directory")
    assert page.status_code == 200
    assert "cu@tq.gov.vn" in page.text
    assert 'id="edit-TQ-STTTT"' in page.text


async def test_an_endpoints_new_technician_is_sent_as_a_change(console) -> None:
    await as_role(console, Role.OPERATOR)
    form = await console.get("/directory/endpoints/TQ-STTTT")
    assert 'value="cu@tq.gov.vn"' in form.text
    fields = {
        "csrf": csrf_of(form),
        "version": "3",
        "name": ENDPOINT["name"],
        "unit": "STTTT",
        "kind": "room",
        "location": "",
        "active": "on",
        "technician.name": "Nguyễn Văn Mới",
        "technician.phone": "0912",
        "technician.email": "moi@tq.gov.vn",
        "technician.language": "vi",
    }
    saved = await console.post("/directory/endpoints/TQ-STTTT", data=fields)
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        "/directory?done=endpoint&code=TQ-STTTT",
    )
    [patch] = [r for r in sent if r.method == "PATCH"]
    technician = {"name": "Nguyễn Văn Mới", "phone": "0912", "email": "moi@tq.gov.vn"}
    assert json.loads(patch.content) == {"technician": {**technician, "language": "vi"}}

    refused = await console.post(
        "/directory/endpoints/TQ-STTTT", data={**fields, "technician.email": "moi@"}
    )
    assert refused.status_code == 422
    assert 'id="err-technician-email"' in refused.text
    assert "Địa chỉ thư điện tử không hợp lệ" in refused.text
    assert "String should match" not in refused.text  # no schema internals
    assert 'value="moi@"' in refused.text  # the form as the person filled it

    stale = await console.post("/directory/endpoints/TQ-STTTT", data={**fields, "version": "2"})
    assert stale.status_code == 422
    assert "Chưa có gì thay đổi" in stale.text
    stale_patch = [r for r in sent if r.method == "PATCH"][-1]
    assert stale_patch.headers["if-match"] == '"2"'  # registration refused the version shown


async def test_a_new_endpoint_without_its_technician_is_refused_beside_the_technician(
    console,
) -> None:
    await as_role(console, Role.OPERATOR)
    form = await console.get("/directory/endpoints/new")
    fields = {"csrf": csrf_of(form), "code": "TQ-X", "name": "Xã X", "unit": "STTTT"}
    refused = await console.post("/directory/endpoints/new", data=fields)
    assert refused.status_code == 422
    beside = refused.text.split('id="technician"')[1].split("</fieldset>")[0]
    assert 'id="err-technician"' in beside
    assert "01 cán bộ kỹ thuật (Căn cứ: QĐ 345/QĐ-UBND 2017 (seeds/001))" in beside
    assert 'value="TQ-X"' in refused.text  # the form as the person filled it
    named = {**fields, "technician.name": "Nguyễn Văn Kỹ", "technician.phone": "0912"}
    added = await console.post("/directory/endpoints/new", data=named)
    assert (added.status_code, added.headers["location"]) == (
        303,
        "/directory?done=endpoint&code=TQ-X",
    )


async def test_the_endpoint_page_shows_its_room_rules_and_attaches_new_ones(console) -> None:
    await as_role(console, Role.OPERATOR)
    page = await console.get("/directory/endpoints/TQ-STTTT")
    rules = page.text.split('id="room-rules"')[1].split("</section>")[0]
    assert 'href="/endpoints/TQ-STTTT/room-rules"' in rules
    assert "Nội quy.pdf" in rules
    assert "phiên bản 2 · 01/12/2026 08:30" in rules
    got = await console.get("/endpoints/TQ-STTTT/room-rules")
    assert (got.status_code, got.content) == (200, b"%PDF-1.7 rules")

    token = {"csrf": csrf_of(page)}
    pdf = {"file": ("noi-quy.pdf", b"%PDF-1.7 new", "application/pdf")}
    saved = await console.post("/directory/endpoints/TQ-STTTT/room-rules", data=token, files=pdf)
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        "/directory/endpoints/TQ-STTTT?done=room_rules",
    )
    [sent_file] = [r for r in sent if r.method == "POST"]
    assert b'filename="noi-quy.pdf"' in sent_file.content
    exe = {"file": ("x.exe", b"MZ", "application/x-msdownload")}
    refused = await console.post("/directory/endpoints/TQ-STTTT/room-rules", data=token, files=exe)
    assert refused.status_code == 422
    beside = refused.text.split('id="room-rules-form"')[1].split("</form>")[0]
    assert "Loại tệp không được phép (Căn cứ: mặc định)" in beside
    empty = await console.post("/directory/endpoints/TQ-STTTT/room-rules", data=token)
    assert "Hãy chọn một tệp." in empty.text


async def test_the_it_department_keeps_endpoint_groups(console) -> None:
    await as_role(console, Role.OPERATOR)
    page = await console.get("/directory")
    groups = page.text.split('id="groups"')[1].split("</table>")[0]
    assert "ALL-COMMUNES · Tất cả các xã" in groups
    assert 'id="edit-group-ALL-COMMUNES"' not in groups  # built in: derived from unit kinds
    assert 'id="edit-group-CUM-1"' in groups
    # a new group: the boxes ticked become its lists; an unknown endpoint is refused
    form = await console.get("/directory/groups/new")
    assert 'value="TQ-STTTT"' in form.text
    assert 'value="commune"' in form.text
    fields = {"csrf": csrf_of(form), "code": "CUM-2", "name": "Cụm 2", "active": "on",
              "kinds": "ward", "endpoints": ["TQ-STTTT", "TQ-KHONG-CO"]}  # fmt: skip
    refused = await console.post("/directory/groups/new", data=fields)
    assert refused.status_code == 422
    beside = refused.text.split('<fieldset id="endpoints"')[1].split("</fieldset>")[0]
    assert "TQ-KHONG-CO không có trong danh bạ (Căn cứ: HNTH Ops)" in beside
    assert 'value="CUM-2"' in refused.text  # the form as the person filled it
    added = await console.post("/directory/groups/new", data={**fields, "endpoints": "TQ-STTTT"})
    assert (added.status_code, added.headers["location"]) == (
        303,
        "/directory?done=group&code=CUM-2",
    )
    posted = json.loads([r for r in sent if r.method == "POST"][-1].content)
    assert posted == {"code": "CUM-2", "name": "Cụm 2", "active": True, "kinds": ["ward"],
                      "units": [], "endpoints": ["TQ-STTTT"]}  # fmt: skip
    # a change sends what changed, on the version the form showed
    edit = await console.get("/directory/groups/CUM-1")
    assert 'id="ep-TQ-STTTT" checked' in edit.text
    change = {"csrf": csrf_of(edit), "version": "4", "name": "Cụm xã phía Bắc", "kinds": "commune",
              "endpoints": "TQ-STTTT", "active": "on"}  # fmt: skip
    saved = await console.post("/directory/groups/CUM-1", data=change)
    assert saved.status_code == 303, saved.text
    [patch] = [r for r in sent if r.method == "PATCH"]
    assert (json.loads(patch.content), patch.headers["if-match"]) == ({"kinds": ["commune"]}, '"4"')
    assert (await console.get("/directory/groups/ALL-COMMUNES")).status_code == 303


async def test_every_word_of_the_pages_is_there_in_english(console) -> None:
    await as_role(console, Role.OPERATOR, "en")
    pages = [
        "/calendar?view=week",
        "/calendar?view=day&rows=bridge",
        "/directory",
        "/directory/endpoints/TQ-STTTT",
        "/directory/endpoints/new",
        "/directory/units/new",
        "/directory/contacts",
        "/directory/groups/new",
        "/directory/groups/CUM-1",
    ]
    for path in pages:
        page = await console.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        for raw in ("weekday_", "dir_", "by_endpoint", "calendar_", "no_bridge_yet"):
            assert raw not in page.text.replace('id="', ""), (path, raw)
    week = await console.get("/calendar?view=week")
    assert "By endpoint" in week.text
    assert "Lịch" not in week.text


def test_a_form_becomes_the_apis_body() -> None:
    form = {"contact.name": " VP ", "contact.email": "", "contact.language": "xx"}
    assert d.contact_body(form, "contact") == {"name": "VP", "language": "vi"}
    assert d.contact_body({"contact.language": "en"}, "contact") is None
    body = d.unit_body({"code": "X", "name": "Đơn vị X", "kind": "commune"}, new=True)
    assert body == {
        "code": "X",
        "name": "Đơn vị X",
        "kind": "commune",
        "active": False,
        "contact": None,
    }
    assert d.contacts_body({"duty.name": "Trực"})["duty"] == {"name": "Trực", "language": "vi"}
    entry: dict[str, Any] = {"code": "A", "active": True, "technician": {"email": "a@b"}}
    assert d.flatten(entry) == {"code": "A", "active": "on", "technician.email": "a@b"}
    now = {"unit": "U", "technician": {"name": "A", "person": None, "language": "vi"}}
    wanted = {"unit": "U", "technician": {"name": "A", "language": "vi"}, "location": None}
    assert d.changes(now, wanted) == {}


def test_a_refusal_is_a_sentence_next_to_its_field() -> None:
    t = translator("en")
    errors = [
        {"field": "code", "rule": "schema.string_pattern_mismatch", "message": "x"},
        {"field": "name", "rule": "schema.missing", "message": "x"},
        {"field": "unit", "rule": "directory.unit_active", "source": "Quy chế", "message": "Gone"},
    ]
    assert d.field_errors(errors, t) == {
        "code": [t("dir_bad_code")],
        "name": ["This field is required."],
        "unit": ["Gone (Source: Quy chế)"],
    }


async def test_the_years_report_is_kept_with_reports_missing_only_when_the_officer_says_so(
    console,
) -> None:
    """Finalising early is allowed, never by accident: the page counts who has handed in,
    and keeping while some have not needs the box ticked."""
    KEPT.clear()
    due = "2026-12-15T17:00:00+00:00"
    ANNUAL[:] = [
        {
            "id": "a1",
            "endpoint": "TQ-UBND",
            "state": "submitted",
            "due_at": due,
            "evaluation": {"effectiveness": "effective", "problems": "Mất tiếng hai lần"},
        },
        {"id": "a2", "endpoint": "TQ-SNV", "state": "open", "due_at": due},
        {"id": "a3", "endpoint": "TQ-STP", "state": "open", "due_at": due},
    ]
    try:
        await as_role(console, Role.OPERATOR)
        page = await console.get("/reports", params={"year": 2026})
        assert "Đã nộp báo cáo năm: 1/3 điểm cầu · Hạn" in page.text
        assert 'id="despite-missing"' in page.text
        assert "Còn 2 điểm cầu chưa nộp báo cáo năm" in page.text
        missing = page.text.split('data-endpoint="TQ-SNV"')[1].split("</tr>")[0]
        assert 'href="/technicians#tech-TQ-SNV"' in missing  # whom to chase
        # a report handed in is read on the page, not only in the downloads
        handed = page.text.split('data-endpoint="TQ-UBND"')[1].split("</tr>")[0]
        assert "Xem báo cáo" in handed
        assert "Mất tiếng hai lần" in handed
        assert "Hiệu quả" in handed
        unsaid = await console.post("/reports/2026/keep", data={"csrf": csrf_of(page)})
        assert unsaid.status_code == 422
        assert "Còn 2 điểm cầu chưa nộp báo cáo năm" in unsaid.text
        assert not KEPT, "nothing kept"
        said = {"csrf": csrf_of(page), "despite_missing": "yes"}
        kept = await console.post("/reports/2026/keep", data=said)
        assert kept.headers["location"] == "/reports?year=2026&done=kept"
    finally:
        ANNUAL.clear()
