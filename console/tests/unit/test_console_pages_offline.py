"""The pages over stand-ins for the services (no process, no Kafka, no database): who may
see what, how the form and the actions answer, how a service's error is shown."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any

import httpx
import pytest
from console_fakes import FakeRegistration, console_over, csrf_of, sign_in

from hnth_console.pages import dead_letters
from hnth_kit.auth import Role
from hnth_kit.dlq import DeadLetter, Resolution

NOW = datetime.now(UTC)


def meetings() -> list[dict[str, str]]:
    """Two meetings an hour after the request that asks (not after collection: the board
    shows today's and tomorrow's, however late in a long run this test comes)."""
    now = datetime.now(UTC)
    soon = {
        "start": (now + timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(hours=2)).isoformat(),
    }
    return [
        {"id": "m1", "title": "Giao ban", "status": "scheduled", **soon},
        {"id": "m2", "title": "Huỷ rồi", "status": "cancelled", **soon},
    ]


sent: list[httpx.Request] = []


def platform(request: httpx.Request) -> httpx.Response:
    """The services, as far as these tests need them."""
    sent.append(request)
    path = request.url.path
    if request.method == "POST" and path == "/meetings":
        title = json.loads(request.content)["title"]
        if title == "busy":
            return httpx.Response(409, json={"code": "slot", "message": "Trùng lịch"})
        if title == "down":
            return httpx.Response(500, text="boom")
        if title == "no letter":
            error = {"field": "body.document_number", "rule": "registration.official_letter",
                     "message": "Tỉnh yêu cầu đăng ký kèm công văn"}  # fmt: skip
            return httpx.Response(422, json={"errors": [error]})
        return httpx.Response(201, json={"id": "m9"})
    if request.method == "POST" and path.startswith("/notices/"):
        if "twice" in path:
            return httpx.Response(409, json={"detail": {"message": "Đã gửi lại"}})
        return httpx.Response(200, json={"recipient": "chu-tri@tq.gov.vn"})
    if path == "/meetings":
        return httpx.Response(200, json={"items": meetings(), "next_cursor": None})
    if path == "/availability":
        return httpx.Response(200, json={"windows": [], "truncated": False})
    if path.endswith("/readiness"):
        due = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        check = {"endpoint": "TQ-UBND", "state": "pending", "due_at": due}
        return httpx.Response(200, json=[check])
    if path == "/incidents":
        opened = (datetime.now(UTC) - timedelta(minutes=20)).isoformat()
        incident = {"id": "i1", "endpoint": "TQ-UBND", "what": "Mất tiếng", "opened_at": opened}
        return httpx.Response(200, json=[{**incident, "state": "open"}])
    if path in ("/endpoints", "/units"):
        return httpx.Response(403, json={"detail": "no"})
    return httpx.Response(404, json={"detail": {"message": f"không có {path}"}})


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    registration = FakeRegistration()
    for role in Role:
        registration.add(f"{role}-1", role.value, unit="VP-UBND", endpoints=["TQ-UBND"])
    async with console_over(registration, platform) as client:
        yield client


async def signed_in(client: httpx.AsyncClient, role: Role, lang: str = "vi") -> httpx.AsyncClient:
    answer = await sign_in(client, f"{role}-1", lang=lang)
    assert answer.status_code == 303, answer.text
    return client


async def csrf(client: httpx.AsyncClient) -> str:
    """The CSRF token of this session, as every page's forms carry it."""
    return csrf_of(await client.get("/board"))


async def test_a_page_needs_a_sign_in_and_a_role_that_may_see_it(console) -> None:
    away = await console.get("/notices")
    assert (away.status_code, away.headers["location"]) == (303, "/signin?next=%2Fnotices")
    refused = await (await signed_in(console, Role.TECHNICIAN, "en")).get("/dead-letters")
    assert refused.status_code == 403
    assert "Your role may not see this page." in refused.text


async def test_the_board_leaves_out_cancelled_meetings_and_flags_a_near_deadline(console) -> None:
    board = await (await signed_in(console, Role.VIEWER)).get("/board")
    assert board.status_code == 200
    assert "Giao ban" in board.text
    assert "Huỷ rồi" not in board.text
    assert 'class="board-row alarm-late"' in board.text
    tile = board.text.split('data-incident="i1"')[1].split("</p>")[0]
    assert "Mất tiếng" in tile  # the endpoint's open incident, on its tile


async def test_the_finder_offers_windows_a_form_filling_after_the_lead_time(console) -> None:
    client = await signed_in(console, Role.REGISTRAR)
    sent.clear()
    before = datetime.now(UTC)
    find = {"find_endpoints": "TQ-UBND", "find_minutes": "60", "find_days": "7"}
    page = await client.get("/meetings/new", params=find)
    after = datetime.now(UTC)
    assert page.status_code == 200
    [asked] = [r for r in sent if r.url.path == "/availability"]
    # Tuyên Quang's lead time is 2 days; a clerk gets 15 minutes to fill the form in
    margin = timedelta(days=2, minutes=15)
    earliest = datetime.fromisoformat(asked.url.params["from"])
    assert before + margin <= earliest <= after + margin


async def test_the_registration_form_answers_each_outcome(console) -> None:
    client = await signed_in(console, Role.OPERATOR)
    form: dict[str, Any] = {
        "title": "T",
        "chair": "C",
        "start": "2026-12-03 08:00",
        "minutes": "60",
        "main_endpoint": "TQ-UBND",
        "idempotency_key": "key-1",
        "csrf": await csrf(client),
    }
    unreadable = await client.post("/meetings/new", data={**form, "start": "mai"})
    assert unreadable.status_code == 422
    assert "Bắt đầu: viết ngày giờ theo dạng DD/MM/YYYY HH:MM" in unreadable.text
    unlettered = await client.post("/meetings/new", data={**form, "title": "no letter"})
    assert unlettered.status_code == 422
    assert "Số công văn: Tỉnh yêu cầu đăng ký kèm công văn" in unlettered.text  # its label
    assert "document_number:" not in unlettered.text
    assert 'id="urgent_reason"' in unlettered.text  # Tuyên Quang: the IT department's
    busy = await client.post("/meetings/new", data={**form, "title": "busy"})
    assert busy.status_code == 409
    assert "Trùng lịch" in busy.text
    down = await client.post("/meetings/new", data={**form, "title": "down"})
    assert down.status_code == 502
    assert "(registration 500): boom" in down.text
    sent.clear()
    made = await client.post("/meetings/new", data=form)
    assert (made.status_code, made.headers["location"]) == (303, "/meetings/m9?done=registered_ok")
    [asked] = sent
    assert asked.headers["idempotency-key"] == "key-1"
    assert json.loads(asked.content)["host_unit"] == "VP-UBND"


async def test_a_clerk_is_not_offered_the_urgent_reason_the_province_keeps_for_others(
    console,
) -> None:
    form = await (await signed_in(console, Role.REGISTRAR)).get("/meetings/new")
    assert form.status_code == 200
    assert 'id="start"' in form.text
    assert 'id="urgent_reason"' not in form.text


async def test_a_missing_meeting_is_a_404_page(console) -> None:
    client = await signed_in(console, Role.VIEWER, "en")
    missing = await client.get("/meetings/nope")
    assert missing.status_code == 404
    assert "không có /meetings/nope" in missing.text  # registration's own words
    assert "registration 404" not in missing.text
    nowhere = await client.get("/no-such-page")
    assert nowhere.status_code == 404
    assert "There is no such page" in nowhere.text
    assert '"detail"' not in nowhere.text


async def test_each_page_names_itself_in_the_browser_tab(console) -> None:
    """Tabs, history and a screen reader's first words tell pages apart by their title."""
    client = await signed_in(console, Role.OPERATOR, "en")
    app = "HNTH Ops: video conferencing"
    for path, name in [
        ("/board", "Readiness board"),
        ("/notices", "Notices"),
        ("/meetings/new", "Register a meeting"),
        ("/meetings/nope", "Error"),
    ]:
        page = await client.get(path)
        assert f"<title>{name} · {app}</title>" in page.text, path
    templates = files("hnth_console") / "templates"
    pages = {page.name: page.read_text() for page in templates.iterdir()}
    untitled = [
        name
        for name, text in pages.items()
        if '{% extends "base.html" %}' in text and "{% block title %}" not in text
    ]
    assert untitled == []


async def test_a_page_says_where_one_is_and_lets_the_keyboard_skip_the_menu(console) -> None:
    client = await signed_in(console, Role.OPERATOR, "en")
    board = await client.get("/board")
    assert 'id="nav-board" aria-current="page"' in board.text
    assert 'id="nav-notices" aria-current' not in board.text
    assert board.text.index('id="skip-link"') < board.text.index("<nav>")
    assert 'href="#main"' in board.text
    assert '<main id="main"' in board.text
    # switching language comes back to the same view, its query and all
    day = await client.get("/notices", params={"day": "2026-12-09", "view": "day"})
    assert 'href="/lang/vi?next=/notices%3Fday%3D2026-12-09%26view%3Dday"' in day.text
    switched = await client.get("/lang/vi", params={"next": "/notices?day=2026-12-09&view=day"})
    assert switched.headers["location"] == "/notices?day=2026-12-09&view=day"


async def test_a_resend_goes_back_with_the_recipient_or_shows_the_refusal(console) -> None:
    client = await signed_in(console, Role.OPERATOR)
    form = {"notice_id": "n1", "idempotency_key": "k", "back": "/meetings/m1"}
    form["csrf"] = await csrf(client)
    done = await client.post("/notices/resend", data=form)
    assert done.status_code == 303
    assert done.headers["location"] == "/meetings/m1?resent=chu-tri%40tq.gov.vn"
    twice = await client.post("/notices/resend", data={**form, "notice_id": "twice"})
    assert twice.status_code == 409
    assert "Đã gửi lại" in twice.text


async def test_a_dead_letter_is_discarded_once_and_only_with_a_reason(
    console, monkeypatch: pytest.MonkeyPatch
) -> None:
    letter = DeadLetter("hnth.meetings.dlq", 0, 7, b"k", b"v", {})
    earlier = Resolution(letter.ref, "discarded", "operator-2", "trùng", NOW)

    async def letters(*_: Any) -> list[DeadLetter]:
        return [letter]

    async def resolutions(*_: Any) -> dict[str, Resolution]:
        return {letter.ref: earlier}

    monkeypatch.setattr(dead_letters, "letters", letters)
    monkeypatch.setattr(dead_letters, "read_resolutions", resolutions)
    client = await signed_in(console, Role.OPERATOR, "en")
    token = await csrf(client)
    no_reason = await client.post("/dead-letters/discard", data={"ref": letter.ref, "csrf": token})
    assert no_reason.status_code == 422
    again = await client.post(
        "/dead-letters/discard", data={"ref": letter.ref, "reason": "x", "csrf": token}
    )
    assert again.status_code == 409
    assert f"{letter.ref} · " in again.text
    assert "operator-2" in again.text
    unknown = await client.post("/dead-letters/replay", data={"ref": "nope", "csrf": token})
    assert unknown.status_code == 404


async def test_a_dead_letter_shows_when_it_came_and_its_content_readable(
    console, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {"hnth-dlq-reason": "schema", "hnth-dlq-at": "2026-12-07T01:30:00+00:00"}
    body = json.dumps({"title": "Họp giao ban"}).encode()  # ASCII, \u-escaped on the wire
    letter = DeadLetter("hnth.meetings.dlq", 0, 8, b"k", body, headers)

    async def letters(*_: Any) -> list[DeadLetter]:
        return [letter]

    async def resolutions(*_: Any) -> dict[str, Resolution]:
        return {}

    monkeypatch.setattr(dead_letters, "letters", letters)
    monkeypatch.setattr(dead_letters, "read_resolutions", resolutions)
    page = await (await signed_in(console, Role.OPERATOR)).get("/dead-letters")
    assert "08:30 07/12/2026" in page.text  # when it came, the province's time
    assert "Họp giao ban" in page.text
    assert "\\u" not in page.text


async def test_a_letter_no_service_reads_is_replayed_only_when_the_operator_says_so(
    console, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {"hnth-dlq-reason": "invalid_json", "hnth-dlq-error": "Invalid JSON: EOF"}
    letter = DeadLetter("hnth.meetings.dlq", 0, 7, b"k", b"{not json", headers)
    replayed: list[DeadLetter] = []

    async def letters(*_: Any) -> list[DeadLetter]:
        return [letter]

    async def resolutions(*_: Any) -> dict[str, Resolution]:
        return {}

    async def replay(_: str, found: DeadLetter, **__: Any) -> None:
        replayed.append(found)

    monkeypatch.setattr(dead_letters, "letters", letters)
    monkeypatch.setattr(dead_letters, "read_resolutions", resolutions)
    monkeypatch.setattr(dead_letters, "replay", replay)
    client = await signed_in(console, Role.OPERATOR)
    page = await client.get("/dead-letters")
    # what to do, in words; the service's own (English) error folded with the content
    assert "Bên gửi đã gửi dữ liệu hỏng" in page.text
    details = page.text.split('class="letter-body"')[1].split("</details>")[0]
    assert "Invalid JSON: EOF" in details
    assert 'name="anyway"' in page.text
    form = {"ref": letter.ref, "csrf": await csrf(client)}
    refused = await client.post("/dead-letters/replay", data=form)
    assert refused.status_code == 422
    assert "gửi lại sẽ lỗi lại" in refused.text
    assert replayed == []
    done = await client.post("/dead-letters/replay", data={**form, "anyway": "on"})
    assert done.status_code == 303
    assert replayed == [letter]


async def test_an_operator_sees_and_acts_on_their_own_provinces_dead_letters_only(
    console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tuyên Quang's operator: its letters and those naming no province, never Lào Cai's
    (which it can neither list nor replay)."""
    mine = DeadLetter("hnth.checks.dlq", 0, 1, b"k", b'{"tenant": "tuyen-quang", "x": 1}', {})
    theirs = DeadLetter("hnth.checks.dlq", 0, 2, b"k", b'{"tenant": "lao-cai", "x": 1}', {})
    inbound = DeadLetter("hnth.inbound.lao-cai.dlq", 0, 3, b"k", b"{not json", {})
    nobodys = DeadLetter("hnth.meetings.dlq", 0, 4, b"k", b"{not json", {})

    async def every(*_: Any, **__: Any) -> list[DeadLetter]:
        return [mine, theirs, inbound, nobodys]

    async def topics(*_: Any) -> list[str]:
        return ["hnth.checks.dlq", "hnth.inbound.lao-cai.dlq", "hnth.meetings.dlq"]

    async def resolutions(*_: Any) -> dict[str, Resolution]:
        return {}

    monkeypatch.setattr(dead_letters, "read_dead_letters", every)
    monkeypatch.setattr(dead_letters, "dead_letter_topics", topics)
    monkeypatch.setattr(dead_letters, "read_resolutions", resolutions)
    client = await signed_in(console, Role.OPERATOR)
    page = await client.get("/dead-letters")
    assert (mine.ref in page.text, nobodys.ref in page.text) == (True, True)
    assert (theirs.ref in page.text, inbound.ref in page.text) == (False, False)
    assert page.text.count("không rõ tỉnh") == 1  # the one naming no province, said so
    assert "<pre>{not json</pre>" in page.text  # what the letter holds, to judge it by
    token = csrf_of(page)
    for other in (theirs, inbound):
        refused = await client.post("/dead-letters/replay", data={"ref": other.ref, "csrf": token})
        assert refused.status_code == 404
