"""The IT department plans a periodic inspection in the console (rule 4), over a stand-in
for inspection: the list links each open one to its plan page, the form's day and time are
the province's local time, a refusal is shown beside the form with its rule's source, and a
cancellation sends the reason."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from console_fakes import FakeRegistration, console_over, post_form, sign_in

TASK = "periodic_inspection:tuyen-quang:TQ-SYT:2026-Q4"
LINK = f'href="/inspections/{quote(TASK, safe="")}"'
PLAN = {
    "planned_at": "2026-12-10T08:30:00+07:00",
    "endpoints": ["TQ-SYT"],
    "with_line_provider": True,
}


class FakeInspection:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.task: dict[str, Any] = {
            "id": TASK,
            "endpoint": "TQ-SYT",
            "period": "2026-Q4",
            "due_at": "2026-12-31T17:00:00+07:00",
            "state": "open",
            "with_line_provider": True,
            "plan": None,
        }
        self.others: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = json.loads(request.content) if request.content else None
        if request.method != "GET":
            self.sent.append((request.method, path, body))
        if path == "/incidents":
            return httpx.Response(200, json=[])
        if path == "/inspections":
            return httpx.Response(200, json=[self.task, *self.others])
        if path == f"/inspections/{TASK}":
            return httpx.Response(200, json=self.task)
        if path == f"/inspections/{TASK}/plan":
            if body["planned_at"].startswith("2026-12-01"):
                error = {
                    "field": "planned_at",
                    "rule": "notice.lead_time",
                    "source": "seeds/000",
                    "message": "Ngày kiểm tra phải sau thời điểm thông báo ít nhất 48 giờ",
                }
                return httpx.Response(422, json={"errors": [error]})
            self.task |= {"plan": body}
            return httpx.Response(200, json=self.task)
        if path == f"/inspections/{TASK}/cancel":
            self.task |= {"state": "cancelled"}
            return httpx.Response(200, json=self.task)
        return httpx.Response(404, json={"detail": {"message": f"không có {path}"}})


@pytest.fixture
def inspection() -> FakeInspection:
    return FakeInspection()


@pytest.fixture
async def console(inspection) -> AsyncIterator[httpx.AsyncClient]:
    registration = FakeRegistration()
    registration.add("truc-ban", "operator")
    registration.add("xem", "viewer")
    async with console_over(registration, inspection) as client:
        yield client


async def test_the_operator_plans_an_inspection_in_local_time(console, inspection) -> None:
    await sign_in(console, "truc-ban")
    listed = await console.get("/incidents")
    assert LINK in listed.text
    assert "Chưa lên lịch." in listed.text

    saved = await post_form(
        console,
        f"/inspections/{TASK}",
        f"/inspections/{TASK}/plan",
        day="2026-12-10",
        time="08:30",
        endpoints="TQ-SYT; tq-h-sonduong",  # as typed: a semicolon, lower case
        with_line_provider="on",
    )

    assert saved.status_code == 303
    [(method, _, body)] = inspection.sent
    assert method == "PUT"
    assert body == {
        "planned_at": "2026-12-10T08:30:00+07:00",
        "endpoints": ["TQ-SYT", "TQ-H-SONDUONG"],
        "with_line_provider": True,
    }
    after = await console.get(saved.headers["location"])
    assert "các bên được thông báo" in after.text
    assert "08:30 10/12/2026" in after.text


async def test_an_endpoint_a_joint_inspection_visits_is_not_left_unplanned(
    console, inspection
) -> None:
    """TQ-SYT's own inspection has no plan, TQ-STTTT's plan visits it: the list says so."""
    joint = {**PLAN, "endpoints": ["TQ-STTTT", "TQ-SYT"]}
    other = {**inspection.task, "id": "other", "endpoint": "TQ-STTTT", "plan": joint}
    inspection.others = [other]
    await sign_in(console, "truc-ban")
    listed = await console.get("/incidents")
    assert "Kiểm tra cùng đợt với điểm cầu TQ-STTTT" in listed.text
    assert "Chưa lên lịch." not in listed.text


async def test_a_refused_plan_is_shown_with_its_rule_source(console, inspection) -> None:
    await sign_in(console, "truc-ban")
    refused = await post_form(
        console, f"/inspections/{TASK}", f"/inspections/{TASK}/plan", day="2026-12-01", time="09:00"
    )
    assert refused.status_code == 422
    assert "ít nhất 48 giờ (seeds/000)" in refused.text
    assert 'value="2026-12-01"' in refused.text  # what was typed stays


async def test_the_operator_cancels_with_a_reason(console, inspection) -> None:
    await sign_in(console, "truc-ban")
    inspection.task["plan"] = PLAN
    done = await post_form(
        console,
        f"/inspections/{TASK}",
        f"/inspections/{TASK}/cancel",
        reason="Phòng họp đang sửa",
    )
    assert done.status_code == 303
    assert inspection.sent == [
        ("POST", f"/inspections/{TASK}/cancel", {"reason": "Phòng họp đang sửa"})
    ]


async def test_only_the_it_department_plans(console) -> None:
    await sign_in(console, "xem")
    assert LINK not in (await console.get("/incidents")).text
    assert (await console.get(f"/inspections/{TASK}")).status_code == 403
