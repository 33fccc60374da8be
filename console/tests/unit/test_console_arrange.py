"""The duty officer's levers on a meeting's page, over stand-ins for the services: approve
or reject a held meeting, move an open one (registration's operator routes); a refusal
next to its field; the board and the schedule say `held` in words."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from console_fakes import csrf_of, meeting_page_reads, officer_and_clerk, sign_in

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
START = (datetime.now(UTC).astimezone(ZONE) + timedelta(days=1)).replace(
    hour=9, minute=0, second=0, microsecond=0
)
MEETING = {
    "id": "m1",
    "title": "Họp ban chỉ đạo phòng chống thiên tai",
    "status": "held",
    "host_unit": "VP-UBND",
    "chair": "Phó Chủ tịch",
    "start": START.isoformat(),
    "end": (START + timedelta(minutes=90)).isoformat(),
    "main_endpoint": "LS-UBND",
    "endpoints": ["LS-UBND", "LS-X-1"],
}
TAKEN = "Cầu MCU-LS đã kín giờ này (schedule.bridge_ports, Quyết định 01)"
NEEDS_URGENT = "Dời vào thời hạn thông báo cần lý do họp khẩn (schedule.notice_lead_time)"
sent: list[httpx.Request] = []


def services(request: httpx.Request) -> httpx.Response:
    path, method = request.url.path, request.method
    if method == "POST" and path.startswith("/meetings/m1/"):
        sent.append(request)
        body = json.loads(request.content) if request.content else None
        if path.endswith("/move") and body["start"].startswith(f"{START:%Y-%m-%d}T10:00"):
            errors = [{"field": "start", "rule": "schedule.bridge_ports", "message": TAKEN}]
            return httpx.Response(409, json={"code": "conflict", "errors": errors})
        urgent_hour = str((body or {}).get("start", "")).startswith(f"{START:%Y-%m-%d}T11:00")
        if path.endswith("/move") and urgent_hour and not body.get("urgent_reason"):
            errors = [{"field": "urgent_reason", "rule": "schedule.notice_lead_time",
                       "message": NEEDS_URGENT}]  # fmt: skip
            return httpx.Response(422, json={"code": "invalid", "errors": errors})
        if path.endswith("/approve") and MEETING["status"] != "held":
            return httpx.Response(409, json={"code": "decided", "message": "Đã quyết định rồi"})
        return httpx.Response(200, json=MEETING)
    if path == "/meetings":
        return httpx.Response(200, json={"items": [MEETING], "next_cursor": None})
    return meeting_page_reads(path, MEETING)


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    sent.clear()
    async with officer_and_clerk(services) as client:
        yield client


def asked() -> tuple[str, dict | None]:
    """The one request the console sent to registration: its path and body."""
    [request] = sent
    sent.clear()
    return request.url.path, json.loads(request.content) if request.content else None


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_the_duty_officer_approves_a_held_meeting(console, lang: str) -> None:
    assert (await sign_in(console, "truc-ban", lang=lang)).status_code == 303
    page = await console.get("/meetings/m1")
    assert page.status_code == 200, page.text
    assert 'id="approve-form"' in page.text
    assert 'id="reject-form"' in page.text
    words = "awaiting approval" if lang == "en" else "chờ Sở KH&amp;CN duyệt"
    assert words in page.text.split('id="meeting-status"')[1].split("</span>")[0]
    done = await console.post("/meetings/m1/approve", data={"csrf": csrf_of(page)})
    assert (done.status_code, done.headers["location"]) == (303, "/meetings/m1?done=approved_ok")
    assert asked() == ("/meetings/m1/approve", None)
    shown = await console.get(done.headers["location"])
    said = "Approved; being scheduled." if lang == "en" else "Đã duyệt; đang xếp lịch."
    assert said in shown.text.split('id="done"')[1].split("</p>")[0]
    assert 'id="approve-form"' not in shown.text  # not offered again while it is taken in


async def test_a_rejection_needs_a_reason_and_carries_it(console) -> None:
    assert (await sign_in(console, "truc-ban")).status_code == 303
    csrf = csrf_of(await console.get("/meetings/m1"))
    empty = await console.post("/meetings/m1/reject", data={"csrf": csrf, "reason": "  "})
    assert empty.status_code == 422
    assert "Hãy ghi lý do không duyệt." in empty.text.split('id="reject-error"')[1]
    assert 'aria-describedby="reject-error"' in empty.text
    assert not sent
    reason = "Trùng lịch họp của lãnh đạo tỉnh"
    done = await console.post("/meetings/m1/reject", data={"csrf": csrf, "reason": reason})
    assert done.headers["location"] == "/meetings/m1?done=rejected_ok"
    assert asked() == ("/meetings/m1/reject", {"reason": reason})


async def test_a_decision_registration_refuses_shows_beside_the_buttons(
    console, monkeypatch
) -> None:
    assert (await sign_in(console, "truc-ban")).status_code == 303
    csrf = csrf_of(await console.get("/meetings/m1"))
    monkeypatch.setitem(MEETING, "status", "scheduled")  # decided meanwhile
    refused = await console.post("/meetings/m1/approve", data={"csrf": csrf})
    assert refused.status_code == 409
    assert 'id="approve-form"' not in refused.text  # it is no longer held
    assert "Đã quyết định rồi" in refused.text.split('id="decide-error"')[1].split("</p>")[0]


async def test_the_duty_officer_moves_a_meeting_in_local_time(console) -> None:
    assert (await sign_in(console, "truc-ban", lang="en")).status_code == 303
    page = await console.get("/meetings/m1")
    form = page.text.split('id="move-form"')[1].split("</form>")[0]
    assert f'value="{START:%d/%m/%Y} 09:00"' in form  # the start as it is, in Vietnam time
    assert '<option value="90" selected>' in form  # its length
    fields = {"csrf": csrf_of(page), "start": f"{START:%Y-%m-%d} 14:30", "minutes": "60",
              "reason": "Phòng họp chính đang sửa chữa"}  # fmt: skip
    done = await console.post("/meetings/m1/move", data=fields)
    assert (done.status_code, done.headers["location"]) == (303, "/meetings/m1?done=moved_ok")
    path, body = asked()
    assert path == "/meetings/m1/move"
    start = START.replace(hour=14, minute=30)
    assert body == {"start": start.isoformat(),
                    "end": (start + timedelta(minutes=60)).isoformat(),
                    "reason": "Phòng họp chính đang sửa chữa"}  # fmt: skip
    assert body["start"].endswith("+07:00")


async def test_a_move_s_bad_input_and_refusal_show_beside_their_fields(console) -> None:
    assert (await sign_in(console, "truc-ban")).status_code == 303
    csrf = csrf_of(await console.get("/meetings/m1"))
    bad = await console.post(
        "/meetings/m1/move", data={"csrf": csrf, "start": "mai 9 giờ", "minutes": "", "reason": ""}
    )
    assert bad.status_code == 422
    assert "2026-12-03 08:00" in bad.text.split('id="move-start-error"')[1].split("</p>")[0]
    assert "Hãy chọn thời lượng." in bad.text.split('id="move-minutes-error"')[1]
    assert "Hãy ghi lý do dời." in bad.text.split('id="move-reason-error"')[1]
    assert not sent
    fields = {"csrf": csrf, "start": f"{START:%Y-%m-%d} 10:00", "minutes": "60", "reason": "Lý do"}
    refused = await console.post("/meetings/m1/move", data=fields)
    assert refused.status_code == 409
    assert TAKEN in refused.text.split('id="move-start-error"')[1].split("</p>")[0]
    assert 'aria-describedby="move-start-error"' in refused.text
    # the refused move comes back as typed, to be corrected rather than typed again
    assert f'id="move-start" required value="{START:%Y-%m-%d} 10:00"' in refused.text
    assert ">Lý do</textarea>" in refused.text
    assert '<option value="60" selected>' in refused.text.split('id="move-minutes"')[1]


async def test_a_registrar_has_no_levers_and_cannot_post_them(console) -> None:
    assert (await sign_in(console, "van-thu")).status_code == 303
    page = await console.get("/meetings/m1")
    assert page.status_code == 200
    for lever in ('id="approve-form"', 'id="reject-form"', 'id="move-form"'):
        assert lever not in page.text
    csrf = csrf_of(page)
    for action in ("approve", "reject", "move", "preempt"):
        refused = await console.post(f"/meetings/m1/{action}", data={"csrf": csrf, "reason": "x"})
        assert refused.status_code == 403
    assert not sent


async def test_a_past_or_scheduled_meeting_offers_only_what_fits(console, monkeypatch) -> None:
    assert (await sign_in(console, "truc-ban")).status_code == 303
    monkeypatch.setitem(MEETING, "status", "scheduled")
    page = await console.get("/meetings/m1")
    assert 'id="approve-form"' not in page.text
    assert 'id="move-form"' in page.text
    past = datetime.now(UTC) - timedelta(days=1)
    monkeypatch.setitem(MEETING, "start", past.isoformat())
    monkeypatch.setitem(MEETING, "end", (past + timedelta(hours=1)).isoformat())
    assert 'id="move-form"' not in (await console.get("/meetings/m1")).text


@pytest.mark.parametrize("where", ["/schedule", "/board"])
async def test_the_board_and_the_schedule_say_held_in_words(console, where: str) -> None:
    assert (await sign_in(console, "truc-ban", lang="en")).status_code == 303
    # the schedule names the day: its week starts on Monday, and tomorrow is next week's
    page = await console.get(where, params={"day": START.date().isoformat()})
    assert page.status_code == 200, page.text
    assert "awaiting approval" in page.text
    assert "status-held" in page.text


async def test_a_move_inside_the_lead_time_asks_for_and_carries_the_urgent_reason(console) -> None:
    assert (await sign_in(console, "truc-ban")).status_code == 303
    csrf = csrf_of(await console.get("/meetings/m1"))
    fields = {"csrf": csrf, "start": f"{START:%Y-%m-%d} 11:00", "minutes": "90", "reason": "Bão"}
    refused = await console.post("/meetings/m1/move", data=fields)
    assert refused.status_code == 422
    assert NEEDS_URGENT in refused.text.split('id="move-urgent-error"')[1].split("</p>")[0]
    sent.clear()
    urgent = "Ứng phó bão số 3"
    done = await console.post("/meetings/m1/move", data={**fields, "urgent_reason": urgent})
    assert done.headers["location"] == "/meetings/m1?done=moved_ok"
    assert asked()[1]["urgent_reason"] == urgent


REFUSED_BY_LOWER = {
    **MEETING,
    "status": "rejected",
    "revision": 0,
    "timeline": [
        {
            "type": "SlotRejected",
            "revision": 0,
            "at": START.isoformat(),
            "rejection": {"conflicts": [], "alternatives": [], "preemptible": ["m-low"]},
        }
    ],
}


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_the_duty_officer_lets_a_meeting_refused_by_lower_ones_preempt_them(
    console, monkeypatch, lang: str
) -> None:
    for key, value in REFUSED_BY_LOWER.items():
        monkeypatch.setitem(MEETING, key, value)
    assert (await sign_in(console, "truc-ban", lang=lang)).status_code == 303
    page = await console.get("/meetings/m1")
    assert 'id="preempt-form"' in page.text
    assert 'href="/meetings/m-low"' in page.text.split('id="preempt"')[1]
    csrf = csrf_of(page)
    empty = await console.post("/meetings/m1/preempt", data={"csrf": csrf, "reason": ""})
    assert empty.status_code == 422
    assert 'aria-describedby="preempt-error"' in empty.text
    assert not sent
    reason = "Bão số 3 đổ bộ, cần họp ngay"
    done = await console.post("/meetings/m1/preempt", data={"csrf": csrf, "reason": reason})
    assert done.headers["location"] == "/meetings/m1?done=preempted_ok"
    assert asked() == ("/meetings/m1/preempt", {"reason": reason})


async def test_no_preemption_is_offered_without_lower_meetings_to_displace(
    console, monkeypatch
) -> None:
    monkeypatch.setitem(MEETING, "status", "rejected")
    assert (await sign_in(console, "truc-ban")).status_code == 303
    page = await console.get("/meetings/m1")
    assert 'id="preempt-form"' not in page.text


async def test_the_board_lists_the_meetings_waiting_for_the_it_departments_approval(
    console,
) -> None:
    assert (await sign_in(console, "truc-ban")).status_code == 303
    sent.clear()
    page = await console.get("/board")
    held = page.text.split('id="held"')[1].split("</section>")[0]
    assert "Cuộc họp chờ Sở KH&amp;CN duyệt (1)" in held
    assert 'href="/meetings/m1"' in held
    assert (await sign_in(console, "van-thu")).status_code == 303
    assert 'id="held"' not in (await console.get("/board")).text  # the clerk cannot decide


async def test_a_refused_meeting_says_why_at_the_top_and_how_to_submit_it_again(
    console, monkeypatch
) -> None:
    monkeypatch.setitem(MEETING, "status", "rejected")
    refusal = {"message": "Sở KH&CN không duyệt cuộc họp: trùng lịch tỉnh", "message_en": "Not ok"}
    monkeypatch.setitem(MEETING, "rejection", {"conflicts": [refusal]})
    assert (await sign_in(console, "van-thu")).status_code == 303
    page = await console.get("/meetings/m1")
    top = page.text.split('id="rejected-because">')[1].split("</p>")[0]
    assert top.startswith("Không xếp được lịch vì: Sở KH&amp;CN không duyệt cuộc họp: trùng")
    assert "để đăng ký lại" in top  # the clerk may change it
