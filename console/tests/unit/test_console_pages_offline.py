"""The pages over stand-ins for the services (no process, no Kafka, no database): who may
see what, how the form and the actions answer, how a service's error is shown."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hnth_console.app import build
from hnth_console.backends import Backends
from hnth_console.pages import dead_letters
from hnth_console.settings import ConsoleSettings
from hnth_kit.auth import Role
from hnth_kit.dlq import DeadLetter, Resolution
from hnth_kit.testing import TEST_JWKS, signed_token

NOW = datetime.now(UTC)
SOON = {
    "start": (NOW + timedelta(hours=1)).isoformat(),
    "end": (NOW + timedelta(hours=2)).isoformat(),
}
MEETINGS = [
    {"id": "m1", "title": "Giao ban", "status": "scheduled", **SOON},
    {"id": "m2", "title": "Huỷ rồi", "status": "cancelled", **SOON},
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
        return httpx.Response(201, json={"id": "m9"})
    if request.method == "POST" and path.startswith("/notices/"):
        if "twice" in path:
            return httpx.Response(409, json={"detail": {"message": "Đã gửi lại"}})
        return httpx.Response(200, json={"recipient": "chu-tri@tq.gov.vn"})
    if path == "/meetings":
        return httpx.Response(200, json={"items": MEETINGS, "next_cursor": None})
    if path.endswith("/readiness"):
        due = (NOW + timedelta(minutes=5)).isoformat()
        check = {"endpoint": "TQ-UBND", "state": "pending", "due_at": due}
        return httpx.Response(200, json=[check])
    if path in ("/endpoints", "/units"):
        return httpx.Response(403, json={"detail": "no"})
    return httpx.Response(404, json={"detail": {"message": f"không có {path}"}})


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    settings = ConsoleSettings(auth_jwks=TEST_JWKS)
    app = build(settings)
    app.state.backends = Backends(settings, transport=httpx.MockTransport(platform))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        yield client
    await app.state.backends.close()


def signed_in(client: httpx.AsyncClient, role: Role, lang: str = "vi") -> httpx.AsyncClient:
    scope = {"unit": "VP-UBND", "endpoint": "TQ-UBND"}
    token = signed_token(role=role, tenant="tuyen-quang", subject=f"{role}-1", **scope)
    client.cookies.clear()
    client.cookies.set("hnth_token", token)
    client.cookies.set("lang", lang)
    return client


async def test_a_page_needs_a_sign_in_and_a_role_that_may_see_it(console) -> None:
    away = await console.get("/notices")
    assert (away.status_code, away.headers["location"]) == (303, "/login?next=/notices")
    refused = await signed_in(console, Role.TECHNICIAN, "en").get("/dead-letters")
    assert refused.status_code == 403
    assert "Your role may not see this page." in refused.text


async def test_the_board_leaves_out_cancelled_meetings_and_flags_a_near_deadline(console) -> None:
    board = await signed_in(console, Role.VIEWER).get("/board")
    assert board.status_code == 200
    assert "Giao ban" in board.text
    assert "Huỷ rồi" not in board.text
    assert 'class="board-row alarm-late"' in board.text


async def test_the_registration_form_answers_each_outcome(console) -> None:
    client = signed_in(console, Role.OPERATOR)
    form: dict[str, Any] = {
        "title": "T",
        "chair": "C",
        "start": "2026-12-03 08:00",
        "minutes": "60",
        "main_endpoint": "TQ-UBND",
        "idempotency_key": "key-1",
    }
    unreadable = await client.post("/meetings/new", data={**form, "start": "mai"})
    assert unreadable.status_code == 422
    assert "start: YYYY-MM-DD HH:MM" in unreadable.text
    busy = await client.post("/meetings/new", data={**form, "title": "busy"})
    assert busy.status_code == 409
    assert "Trùng lịch" in busy.text
    down = await client.post("/meetings/new", data={**form, "title": "down"})
    assert down.status_code == 502
    assert "(registration 500): boom" in down.text
    sent.clear()
    made = await client.post("/meetings/new", data=form)
    assert (made.status_code, made.headers["location"]) == (303, "/meetings/m9")
    [asked] = sent
    assert asked.headers["idempotency-key"] == "key-1"
    assert json.loads(asked.content)["host_unit"] == "VP-UBND"


async def test_a_missing_meeting_is_a_404_page(console) -> None:
    missing = await signed_in(console, Role.VIEWER, "en").get("/meetings/nope")
    assert missing.status_code == 404
    assert "(registration 404): không có /meetings/nope" in missing.text


async def test_a_resend_goes_back_with_the_recipient_or_shows_the_refusal(console) -> None:
    client = signed_in(console, Role.OPERATOR)
    form = {"notice_id": "n1", "idempotency_key": "k", "back": "/meetings/m1"}
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

    async def letters(_: Any) -> list[DeadLetter]:
        return [letter]

    async def resolutions(*_: Any) -> dict[str, Resolution]:
        return {letter.ref: earlier}

    monkeypatch.setattr(dead_letters, "letters", letters)
    monkeypatch.setattr(dead_letters, "read_resolutions", resolutions)
    client = signed_in(console, Role.OPERATOR, "en")
    no_reason = await client.post("/dead-letters/discard", data={"ref": letter.ref})
    assert no_reason.status_code == 422
    again = await client.post("/dead-letters/discard", data={"ref": letter.ref, "reason": "x"})
    assert again.status_code == 409
    assert f"{letter.ref} · " in again.text
    assert "operator-2" in again.text
    unknown = await client.post("/dead-letters/replay", data={"ref": "nope"})
    assert unknown.status_code == 404
