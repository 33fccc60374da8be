"""Incidents on readiness boards, periodic inspections and year-end evaluations from
ReportDue, on the real broker and database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from inspection_samples import (
    ITEMS_OK,
    T0,
    auth,
    body,
    endpoint_updated,
    events_on,
    report_due,
    slot_assigned,
)

from hnth_contracts import ReportKind, ReportSubmitted
from hnth_kit.auth import Role
from hnth_kit.testing import eventually

pytestmark = pytest.mark.integration
START = T0 + timedelta(days=3)


async def get(http, path: str, until=lambda r: True):
    async def probe():
        response = await http.get(path, headers=auth(Role.VIEWER))
        return response.json() if response.status_code == 200 else None

    return await eventually(probe, until=lambda r: r is not None and until(r))


async def test_open_incidents_show_on_every_board_of_their_endpoint(
    service, http, publish, topics
) -> None:
    await publish(
        [
            slot_assigned("m-1", START, ["TQ-A", "TQ-B"]),
            slot_assigned("m-2", START + timedelta(days=1), ["TQ-A"]),
            endpoint_updated("TQ-Z", "SO-Z", "Điểm cầu Z"),
        ],
        topics,
    )
    await get(http, "/meetings/m-2/readiness", until=lambda b: len(b) == 1)
    await get(http, "/meetings/m-1/readiness", until=lambda b: len(b) == 2)
    tech_a = auth(Role.TECHNICIAN, endpoint="TQ-A", subject="kt-a")
    opened = await http.post(
        "/incidents",
        json={"endpoint": "TQ-A", "meeting_id": "m-1", "what": "mất tín hiệu", "severity": "high"},
        headers=tech_a,
    )
    incident = body(opened)
    assert (incident["state"], incident["opened_by"]) == ("open", "kt-a")
    for meeting in ("m-1", "m-2"):
        board = {i["endpoint"]: i for i in await get(http, f"/meetings/{meeting}/readiness")}
        assert [i["id"] for i in board["TQ-A"]["open_incidents"]] == [incident["id"]]
    assert board_of_b(await get(http, "/meetings/m-1/readiness")) == []

    refused = [
        await http.post("/incidents", json={"endpoint": "TQ-B", "what": "x"}, headers=tech_a),
        await http.post("/incidents", json={"endpoint": "TQ-NONE", "what": "x"}, headers=auth()),
        await http.post(
            "/incidents",
            json={"endpoint": "TQ-B", "meeting_id": "m-2", "what": "x"},
            headers=auth(),
        ),
        await http.patch(
            f"/incidents/{incident['id']}",
            json={"cause": "c", "fix": "f", "resolved_at": "2020-01-01T00:00:00+07:00"},
            headers=tech_a,
        ),
    ]
    assert [r.status_code for r in refused] == [403, 404, 404, 422]
    assert refused[3].json()["errors"][0]["field"] == "resolved_at"
    directory_only = await http.post(
        "/incidents", json={"endpoint": "TQ-Z", "what": "mất điện"}, headers=auth()
    )
    assert directory_only.status_code == 201, "an endpoint known from the directory"

    resolved = await http.patch(
        f"/incidents/{incident['id']}",
        json={"cause": "đứt cáp quang", "fix": "Viễn thông hàn nối"},
        headers=tech_a,
    )
    assert body(resolved)["state"] == "resolved"
    again = await http.patch(
        f"/incidents/{incident['id']}", json={"cause": "c", "fix": "f"}, headers=tech_a
    )
    assert again.status_code == 409
    board = {i["endpoint"]: i for i in await get(http, "/meetings/m-1/readiness")}
    assert board["TQ-A"]["open_incidents"] == []
    stored = await get(http, f"/incidents/{incident['id']}")
    assert (stored["cause"], stored["fix"], stored["resolved_by"]) == (
        "đứt cáp quang",
        "Viễn thông hàn nối",
        "kt-a",
    )
    listed = await get(http, "/incidents?endpoint=TQ-A")
    assert [i["id"] for i in listed] == [incident["id"]]


def board_of_b(board: list[dict]) -> list:
    return next(i for i in board if i["endpoint"] == "TQ-B")["open_incidents"]


async def test_periodic_inspection_and_year_end_tasks_from_report_due(
    infra, service, http, publish, topics
) -> None:
    inspection_due = report_due(
        ReportKind.PERIODIC_INSPECTION, "TQ-A", "SO-A", "2026-Q1", T0 + timedelta(days=20)
    )
    annual_due = report_due(
        ReportKind.ANNUAL_ENDPOINT_REPORT, "TQ-A", "SO-A", "2026", T0 + timedelta(days=280)
    )
    await publish([inspection_due, inspection_due, annual_due], topics)
    [task] = await get(http, "/inspections?endpoint=TQ-A", until=lambda r: len(r) == 1)
    assert (task["state"], task["with_line_provider"]) == ("open", True)
    assert task["line_provider_rule"]["rule"] == "inspection.with_line_provider"
    assert task["checklist"] == ["line", "audio", "video", "content", "power"]

    result = {
        "items": {**ITEMS_OK, "video": {"ok": False, "note": "camera mờ"}},
        "faults": [{"item": "video", "description": "ống kính bẩn"}],
        "fixes": ["vệ sinh ống kính"],
        "line_provider_present": True,
    }
    other = auth(Role.TECHNICIAN, endpoint="TQ-B")
    assert (
        await http.post(f"/inspections/{task['id']}/result", json=result, headers=other)
    ).status_code == 403
    tech = auth(Role.TECHNICIAN, endpoint="TQ-A", subject="kt-a")
    done = body(await http.post(f"/inspections/{task['id']}/result", json=result, headers=tech))
    assert (done["state"], done["result"]["passed"]) == ("done", False)
    assert done["result"]["faults"][0]["description"] == "ống kính bẩn"
    twice = await http.post(f"/inspections/{task['id']}/result", json=result, headers=tech)
    assert twice.status_code == 409

    [annual] = await get(http, "/annual-reports?year=2026", until=lambda r: len(r) == 1)
    evaluation = {"effectiveness": "effective", "problems": "đường truyền chập chờn",
                  "proposals": "nâng cấp băng thông"}  # fmt: skip
    wrong_unit = auth(Role.REGISTRAR, unit="SO-B")
    assert (
        await http.post(f"/annual-reports/{annual['id']}", json=evaluation, headers=wrong_unit)
    ).status_code == 403
    unit = auth(Role.REGISTRAR, unit="SO-A", subject="vp-so-a")
    handed = body(await http.post(f"/annual-reports/{annual['id']}", json=evaluation, headers=unit))
    assert (handed["state"], handed["on_time"]) == ("submitted", True)

    reports = await events_on(infra, topics.reports, expect=5)
    submitted = [e for e in reports if isinstance(e, ReportSubmitted)]
    assert sorted((e.kind.value, e.report_id, e.submitted_by) for e in submitted) == [
        ("annual_endpoint_report", annual_due.report_id, "vp-so-a"),
        ("periodic_inspection", inspection_due.report_id, "kt-a"),
    ]
