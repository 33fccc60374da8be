"""The technician's pages over stand-ins for the services: my work, the check form and its
result, incidents, inspections, the annual report and ratings; each refusal in words next
to its field, nothing sent when the form does not read."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from console_fakes import FakeRegistration, console_over, sign_in

NOW = datetime.now(UTC)  # for what no assertion counts from (an incident's opening)


def soon() -> datetime:
    """Meeting m1's start: 85 minutes after the request that asks (its check deadline is
    then 25 minutes away however long after collection the test runs)."""
    return datetime.now(UTC) + timedelta(minutes=85)


def meeting(mid: str, start: datetime, endpoints: list[str]) -> dict[str, Any]:
    return {
        "id": mid,
        "title": f"Họp {mid}",
        "status": "scheduled",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "endpoints": endpoints,
    }


def meetings() -> dict[str, dict[str, Any]]:
    return {
        "m1": meeting("m1", soon(), ["TQ-UBND", "TQ-STTTT"]),
        "held": meeting("held", datetime.now(UTC) - timedelta(hours=5), ["TQ-UBND"]),
    }


INCIDENT = {
    "id": "i1",
    "endpoint": "TQ-UBND",
    "what": "Mất tiếng phòng họp",
    "severity": "high",
    "opened_at": (NOW - timedelta(minutes=30)).isoformat(),
    "state": "open",
}
PLAN = {"planned_at": "2026-12-15T02:00:00+00:00", "endpoints": ["TQ-UBND", "TQ-STP"],
        "with_line_provider": True}  # fmt: skip
TASK = {"id": "t1", "endpoint": "TQ-UBND", "state": "open", "period": "2026-Q4", "plan": PLAN}
ANNUAL = {"id": "a1", "endpoint": "TQ-UBND", "state": "open", "year": "2026"}
HANDED_IN = {
    "id": "a0",
    "endpoint": "TQ-UBND",
    "state": "submitted",
    "year": "2025",
    "submitted_at": "2025-12-10T02:30:00+00:00",
    "submitted_by": "ky-thuat",
    "on_time": True,
    "evaluation": {"effectiveness": "effective", "proposals": "Nâng cấp đường truyền"},
}
THEIRS = {"id": "a9", "endpoint": "TQ-SNV", "state": "open", "year": "2026"}
NOTICE = {"role": "technician", "channel": "email", "kind": "meeting_notice", "status": "sent"}
NOTICES = [
    {**NOTICE, "id": "n-mine|technician:TQ-UBND", "recipient": "technician:TQ-UBND"},
    {**NOTICE, "id": "n-theirs", "recipient": "technician:TQ-STTTT"},
    {**NOTICE, "id": "n-read", "recipient": "technician:TQ-UBND", "acknowledged_at": "x"},
]
sent: list[httpx.Request] = []


def inspection(request: httpx.Request) -> httpx.Response:
    """Registration's meetings and inspection's routes, as far as these pages need them."""
    path, method = request.url.path, request.method
    if method != "GET":
        sent.append(request)
    if path == "/meetings":
        return httpx.Response(200, json={"items": list(meetings().values()), "next_cursor": None})
    if path == "/endpoints":
        return httpx.Response(200, json=[{"code": "TQ-UBND", "name": "UBND tỉnh"}])
    if path == "/meetings/m1/notices":
        return httpx.Response(200, json=NOTICES)
    if path.endswith("/acknowledge") and "n-theirs" in path:
        message = "Thông báo này gửi cho người khác; chỉ người nhận xác nhận được."
        return httpx.Response(403, json={"code": "not_your_notice", "message": message})
    if path.endswith("/acknowledge"):
        return httpx.Response(200, json={**NOTICES[0], "acknowledged_at": NOW.isoformat()})
    if path.startswith("/meetings/") and path.count("/") == 2 and method == "GET":
        found = meetings().get(path.rsplit("/", 1)[1])
        return httpx.Response(200, json=found) if found else httpx.Response(404, json={})
    if path == "/meetings/m1/readiness":
        due = (soon() - timedelta(hours=1)).isoformat()
        check = {"endpoint": "TQ-UBND", "state": "pending", "due_at": due}
        return httpx.Response(200, json=[check, {**check, "endpoint": "TQ-STTTT"}])
    if path == "/meetings/m1/checks/TQ-UBND":
        items = json.loads(request.content)["items"]
        if items["audio"].get("note") == "policy":
            error = {
                "field": "items.audio.note",
                "rule": "check.problem_note",
                "source": "Quy chế HNTH tỉnh",
                "message": "Cần ghi rõ lỗi âm thanh.",
            }
            return httpx.Response(422, json={"errors": [error]})
        entry = {
            "endpoint": "TQ-UBND",
            "state": "passed",
            "checked_at": NOW.isoformat(),
            "on_time": True,
            "items": items,
        }
        return httpx.Response(201, json=entry)
    if path == "/meetings/m1/checks/TQ-STTTT":
        message = "Bạn chỉ được thao tác trên điểm cầu (đơn vị) của mình."
        return httpx.Response(403, json={"code": "forbidden", "message": message})
    if path == "/incidents" and method == "GET":
        return httpx.Response(200, json=[INCIDENT, {**INCIDENT, "id": "i2", "endpoint": "X"}])
    if path == "/incidents/i1" and method == "GET":
        return httpx.Response(200, json=INCIDENT)
    if path == "/incidents" and method == "POST":
        return httpx.Response(201, json={**INCIDENT, "id": "i9"})
    if path == "/incidents/i1" and method == "PATCH":
        return httpx.Response(200, json={**INCIDENT, "state": "resolved"})
    if path == "/inspections":
        return httpx.Response(200, json=[TASK])
    if path == "/annual-reports":
        return httpx.Response(200, json=[ANNUAL, HANDED_IN, THEIRS])
    if path in ("/inspections/t1/result", "/annual-reports/a1"):
        return httpx.Response(200, json={"id": "t1", "state": "done"})
    if path == "/meetings/held/feedback/endpoints/TQ-UBND":
        return httpx.Response(201, json={})
    return httpx.Response(404, json={"detail": {"message": f"không có {path}"}})


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    registration = FakeRegistration()
    registration.add("ky-thuat", "technician", endpoints=["TQ-UBND"])
    registration.add("truc-ban", "operator")
    registration.add("thu-ky", "registrar", unit="VP-UBND")
    sent.clear()
    async with console_over(registration, inspection) as client:
        yield client


async def technician(client: httpx.AsyncClient, lang: str = "vi") -> httpx.AsyncClient:
    assert (await sign_in(client, "ky-thuat", lang=lang)).status_code == 303
    return client


def form_of(page: httpx.Response) -> dict[str, str]:
    """The hidden fields a page's form carries (the CSRF token, the once-only key)."""
    hidden = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    return dict(hidden)


def all_ok(**extra: str) -> dict[str, str]:
    return {**{f"{i}_ok": "yes" for i in ("line", "audio", "video", "content", "power")}, **extra}


async def test_home_sends_a_technician_to_my_work_and_others_to_the_board(console) -> None:
    assert (await console.get("/")).headers["location"] == "/signin"  # whose home: sign in
    client = await technician(console)
    assert (await client.get("/")).headers["location"] == "/my"
    assert await sign_in(client, "truc-ban")
    assert (await client.get("/")).headers["location"] == "/board"
    assert (await client.get("/my")).status_code == 403  # an operator has the board


async def test_my_work_lists_my_meetings_with_the_deadline_in_words(console) -> None:
    page = await (await technician(console)).get("/my")
    assert page.status_code == 200
    assert 'id="nav-my_work"' in page.text
    assert "Họp m1" in page.text
    assert 'data-endpoint="TQ-UBND"' in page.text
    assert 'data-endpoint="TQ-STTTT"' not in page.text  # not mine
    assert "TQ-UBND · UBND tỉnh" in page.text
    assert 'class="tech-card alarm-late"' in page.text  # 25 minutes left, nothing in
    assert re.search(r"còn (24|25) phút", page.text)
    assert "chưa kiểm tra" in page.text
    assert 'href="/meetings/m1/checks/TQ-UBND"' in page.text
    assert "Mất tiếng phòng họp" in page.text  # my open incident, and not the other one
    assert 'href="/my/incidents/i2/resolve"' not in page.text
    assert 'href="/my/inspections/t1"' in page.text
    # when the inspection is, with whom: what the technician must know to be there
    assert "Thời gian kiểm tra: 09:00 15/12/2026 · Các điểm cầu: TQ-UBND, TQ-STP" in page.text
    assert 'href="/my/annual/a1"' in page.text
    assert 'href="/my/feedback/held/TQ-UBND"' in page.text
    english = await (await technician(console, "en")).get("/my")
    assert re.search(r"(24|25) min left", english.text)
    assert "not checked yet" in english.text


async def test_the_check_form_labels_every_choice_and_records_at_once(console) -> None:
    client = await technician(console)
    form = await client.get("/meetings/m1/checks/TQ-UBND")
    assert form.status_code == 200
    for item in ("line", "audio", "video", "content", "power"):
        assert f'<label class="tech-choice ok" for="{item}-yes">' in form.text
        assert f'for="{item}-note"' in form.text
    assert 'for="latency_ms"' in form.text
    assert 'for="loss_pct"' in form.text
    # the province's limits, said before the form is sent (beyond them the line fails)
    assert 'Độ trễ (ms) <small class="muted">tối đa 300</small>' in form.text
    hidden = form_of(form)
    assert hidden["csrf"]
    assert hidden["key"]
    done = await client.post(
        "/meetings/m1/checks/TQ-UBND",
        data={**hidden, **all_ok(latency_ms="38", loss_pct="0,2")},
    )
    assert done.status_code == 200, done.text
    assert "Đã ghi nhận kết quả kiểm tra" in done.text
    assert re.search(
        r'id="check-result"[^>]*>[^<]*TQ-UBND · Họp m1:\s*<strong>đạt</strong>', done.text
    )
    assert "đúng hạn" in done.text
    assert "Độ trễ (ms) 38 · Mất gói (%) 0,2" in done.text
    [asked] = sent
    assert asked.headers["idempotency-key"] == hidden["key"]
    body = json.loads(asked.content)["items"]
    assert body["line"] == {"ok": True, "note": None, "latency_ms": 38.0, "loss_pct": 0.2}


async def test_a_check_that_does_not_read_is_not_sent(console) -> None:
    client = await technician(console)
    hidden = form_of(await client.get("/meetings/m1/checks/TQ-UBND"))
    refused = await client.post(
        "/meetings/m1/checks/TQ-UBND",
        data={**hidden, **all_ok(audio_ok="no", loss_pct="120"), "video_ok": ""},
    )
    assert refused.status_code == 422
    assert 'id="err-audio_note"' in refused.text
    assert "hãy ghi rõ lỗi" in refused.text
    assert 'id="err-video_ok"' in refused.text
    assert "Mất gói là một số từ 0 đến 100" in refused.text
    assert 'id="audio-no" value="no" checked' in refused.text  # as filled in
    assert sent == []


async def test_the_services_refusals_are_shown_in_words(console) -> None:
    client = await technician(console)
    hidden = form_of(await client.get("/meetings/m1/checks/TQ-UBND"))
    rule = await client.post(
        "/meetings/m1/checks/TQ-UBND",
        data={**hidden, **all_ok(audio_ok="no", audio_note="policy")},
    )
    assert rule.status_code == 422
    assert "Cần ghi rõ lỗi âm thanh. (Quy chế HNTH tỉnh)" in rule.text
    # another technician's endpoint: the form says so, and inspection refuses a post
    other = await client.get("/meetings/m1/checks/TQ-STTTT")
    assert "Bạn chỉ được thao tác trên điểm cầu của mình." in other.text
    assert 'id="check-form"' not in other.text
    posted = await client.post("/meetings/m1/checks/TQ-STTTT", data={**hidden, **all_ok()})
    assert posted.status_code == 403
    assert "Bạn chỉ được thao tác trên điểm cầu (đơn vị) của mình." in posted.text
    assert (
        "{" not in posted.text.split('<main id="main" tabindex="-1">')[1].split("</main>")[0]
    )  # no JSON


async def test_an_incident_is_reported_and_resolved(console) -> None:
    client = await technician(console)
    page = await client.get("/my/incidents/new?meeting_id=m1")
    assert page.status_code == 200
    for field in ("endpoint", "what", "since"):
        assert f'<label for="{field}">' in page.text
    hidden = form_of(page)
    data = {**hidden, "endpoint": "TQ-UBND", "what": "", "severity": "high", "since": "xx"}
    refused = await client.post("/my/incidents/new", data=data)
    assert refused.status_code == 422
    assert "Hãy mô tả sự cố." in refused.text
    assert "HH:MM" in refused.text
    assert sent == []
    reported = await client.post(
        "/my/incidents/new", data={**data, "what": "Mất hình", "since": ""}
    )
    assert (reported.status_code, reported.headers["location"]) == (
        303,
        "/my?done=incident_reported",
    )
    body = json.loads(sent[-1].content)
    assert body == {
        "endpoint": "TQ-UBND",
        "what": "Mất hình",
        "severity": "high",
        "meeting_id": "m1",
    }
    assert "Đã báo sự cố." in (await client.get("/my?done=incident_reported")).text
    assert 'id="done"' not in (await client.get("/my?done=anything")).text
    # the IT department comes back to the incidents page, which says so in words
    incidents = await client.get("/incidents?done=incident_reported")
    assert incidents.status_code == 200
    assert "Đã báo sự cố." in incidents.text
    assert "done_incident_reported" not in incidents.text
    assert 'id="done"' not in (await client.get("/incidents?done=anything")).text
    resolve = await client.get("/my/incidents/i1/resolve")
    assert "Mất tiếng phòng họp" in resolve.text
    hidden = form_of(resolve)
    assert (await client.post("/my/incidents/i1/resolve", data=hidden)).status_code == 422
    done = await client.post(
        "/my/incidents/i1/resolve", data={**hidden, "cause": "Lỏng jack", "fix": "Cắm lại"}
    )
    assert done.headers["location"] == "/my?done=incident_resolved"
    assert sent[-1].method == "PATCH"
    assert json.loads(sent[-1].content) == {"cause": "Lỏng jack", "fix": "Cắm lại"}


async def test_an_inspection_an_annual_report_and_a_rating(console) -> None:
    client = await technician(console)
    hidden = form_of(await client.get("/my/inspections/t1"))
    done = await client.post(
        "/my/inspections/t1", data={**hidden, **all_ok(), "faults": "Quạt kêu"}
    )
    assert done.headers["location"] == "/my?done=inspection_handed_in"
    assert json.loads(sent[-1].content)["faults"] == [{"description": "Quạt kêu"}]
    hidden = form_of(await client.get("/my/annual/a1"))
    assert (await client.post("/my/annual/a1", data=hidden)).status_code == 422
    done = await client.post("/my/annual/a1", data={**hidden, "effectiveness": "effective"})
    assert done.headers["location"] == "/my?done=annual_handed_in"
    hidden = form_of(await client.get("/my/feedback/held/TQ-UBND"))
    rating = {"line": "5", "audio": "4", "video": "4", "comment": "Tốt"}
    done = await client.post("/my/feedback/held/TQ-UBND", data={**hidden, **rating})
    assert done.headers["location"] == "/my?done=rated"
    assert sent[-1].method == "PUT"
    assert json.loads(sent[-1].content) == {"comment": "Tốt", "line": 5, "audio": 4, "video": 4}
    missing = await client.get("/my/inspections/nope")
    assert missing.status_code == 404


async def test_a_report_handed_in_is_read_back_and_another_endpoints_is_refused_at_sight(
    console,
) -> None:
    client = await technician(console)
    my = await client.get("/my")
    assert 'href="/my/annual/a1"' in my.text  # still to hand in
    assert 'href="/my/annual/a0"' in my.text  # handed in: there to read
    assert "Đã nộp lúc 09:30 10/12/2025" in my.text  # in the province's time
    assert "/my/annual/a9" not in my.text  # another endpoint's
    read = await client.get("/my/annual/a0")
    assert "Đã nộp lúc 09:30 10/12/2025 · ky-thuat" in read.text
    assert "Nâng cấp đường truyền" in read.text
    assert 'id="annual-form"' not in read.text
    theirs = await client.get("/my/annual/a9")
    assert theirs.status_code == 403
    assert "Bạn chỉ được thao tác trên điểm cầu của mình." in theirs.text
    assert 'id="annual-form"' not in theirs.text


async def test_a_form_without_the_csrf_token_or_for_another_role_is_refused(console) -> None:
    client = await technician(console)
    assert (await client.post("/my/incidents/new", data={"what": "x"})).status_code == 403
    assert await sign_in(client, "thu-ky")
    assert (await client.get("/meetings/m1/checks/TQ-UBND")).status_code == 403
    assert sent == []


async def test_a_technicians_calendar_has_the_rows_of_their_own_endpoints(console) -> None:
    client = await technician(console)
    page = await client.get("/calendar")
    assert page.status_code == 200
    assert re.findall(r'data-row="([^"]+)"', page.text) == ["TQ-UBND"]


async def test_a_technician_acknowledges_the_notice_to_their_endpoint_on_my_work(
    console,
) -> None:
    """The notice e-mailed to my endpoint, read and acknowledged where I work, signed in:
    only mine, only those not yet acknowledged."""
    client = await technician(console)
    my = await client.get("/my")
    assert "Thông báo cần xác nhận đã nhận" in my.text
    assert 'data-notice="n-mine|technician:TQ-UBND"' in my.text
    assert 'data-notice="n-theirs"' not in my.text
    assert 'data-notice="n-read"' not in my.text
    token = form_of(my)["csrf"]
    form = {"csrf": token, "notice_id": "n-mine|technician:TQ-UBND"}
    done = await client.post("/my/notices/acknowledge", data=form)
    assert done.headers["location"] == "/my?done=acknowledged"
    assert sent[-1].url.raw_path.endswith(b"/notices/n-mine%7Ctechnician%3ATQ-UBND/acknowledge")
    refused = await client.post("/my/notices/acknowledge", data={**form, "notice_id": "n-theirs"})
    assert refused.status_code == 403
    assert "chỉ người nhận xác nhận được" in refused.text


async def test_an_open_incident_names_the_meetings_it_affects_and_what_to_do(console) -> None:
    """The duty officer's incidents page: the meetings at the endpoint in the next two days,
    the technician's contact, and the form that marks it resolved."""
    assert (await sign_in(console, "truc-ban")).status_code == 303
    page = await console.get("/incidents")
    row = page.text.split('data-incident="i1"')[1].split("</tr>")[0]
    assert 'href="/meetings/m1"' in row  # TQ-UBND takes part in m1
    assert "Họp m1" in row
    assert 'href="/technicians#tech-TQ-UBND"' in row
    assert 'href="/my/incidents/i1/resolve"' in row
