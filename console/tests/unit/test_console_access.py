"""Access to a meeting's materials on its page, over stand-ins for the services: whoever
may not read them asks (with a reason); the IT department grants or refuses each request."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from console_fakes import FakeRegistration, console_over, csrf_of, sign_in

sent: list[httpx.Request] = []
START = datetime.now(UTC) + timedelta(days=3)
MEETING = {
    "id": "m1",
    "title": "Giao ban",
    "status": "scheduled",
    "host_unit": "VP-UBND",
    "chair": "Chủ tịch",
    "start": START.isoformat(),
    "end": (START + timedelta(hours=2)).isoformat(),
    "endpoints": ["TQ-UBND"],
}
ASKED = {
    "id": "req-1",
    "kind": "request",
    "meeting_id": "m1",
    "requested_by": "xem-1",
    "grantee": "xem-1",
    "reason": "Cần tài liệu để báo cáo lãnh đạo",
    "at": "2026-12-02T09:00:00+07:00",
}


def services(request: httpx.Request) -> httpx.Response:
    path, method = request.url.path, request.method
    if method == "POST":
        sent.append(request)
        return httpx.Response(201, json={})
    if path == "/meetings/m1":
        return httpx.Response(200, json=MEETING)
    if path == "/meetings/m1/materials":  # registration refuses them to these readers
        return httpx.Response(403, json={"detail": {"message": "no"}})
    if path == "/meetings/m1/access-requests":
        return httpx.Response(200, json=[ASKED])
    if path in ("/incidents", "/meetings/m1/notices", "/meetings/m1/readiness"):
        return httpx.Response(200, json=[])
    return httpx.Response(404, json={"detail": {"message": f"không có {path}"}})


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    registration = FakeRegistration()
    registration.add("xem-1", "viewer")
    registration.add("truc-ban", "operator")
    sent.clear()
    async with console_over(registration, services) as client:
        yield client


async def test_a_reader_without_access_asks_for_it_with_a_reason(console) -> None:
    assert (await sign_in(console, "xem-1")).status_code == 303
    page = await console.get("/meetings/m1")
    assert page.status_code == 200, page.text[:500]
    assert 'id="access-form"' in page.text
    assert 'id="access-requests"' not in page.text  # deciding is the IT department's
    empty = await console.post(
        "/meetings/m1/access-requests", data={"csrf": csrf_of(page), "reason": " "}
    )
    assert empty.status_code == 422
    assert "Hãy ghi lý do đề nghị." in empty.text
    assert sent == []
    asked = await console.post(
        "/meetings/m1/access-requests", data={"csrf": csrf_of(page), "reason": "Cần xem"}
    )
    assert asked.headers["location"] == "/meetings/m1?done=access_asked"
    [request] = sent
    assert request.url.path == "/meetings/m1/access-requests"
    assert json.loads(request.content) == {"reason": "Cần xem"}


async def test_the_it_department_grants_or_refuses_each_request(console) -> None:
    assert (await sign_in(console, "truc-ban")).status_code == 303
    page = await console.get("/meetings/m1")
    row = page.text.split('data-request="req-1"')[1].split("</tr>")[0]
    assert "Cần tài liệu để báo cáo lãnh đạo" in row
    assert 'id="grant-req-1"' in row
    assert 'id="refuse-req-1"' in row
    granted = await console.post(
        "/meetings/m1/access-requests/req-1/grant",
        data={"csrf": csrf_of(page), "note": "Chỉ dùng nội bộ"},
    )
    assert granted.headers["location"] == "/meetings/m1?done=access_decided"
    [request] = sent
    assert request.url.path == "/meetings/m1/access-requests/req-1/grant"
    assert json.loads(request.content) == {"note": "Chỉ dùng nội bộ"}
    odd = await console.post(
        "/meetings/m1/access-requests/req-1/maybe", data={"csrf": csrf_of(page)}
    )
    assert odd.status_code == 422
    assert len(sent) == 1
