"""Periodic inspections with the line provider (rule 4), end to end: scheduling's calendar
opens an inspection (`ReportDue`), the IT department plans it at inspection's API, and
notification mails the endpoints' technicians and the line provider like a meeting's
parties; a change tells whoever it leaves out, a cancellation tells everyone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hnth_contracts import ReportDue, ReportKind, RuleRef
from hnth_kit.testing import eventually

pytestmark = pytest.mark.system
TECHNICIAN = "kythuat.stttt@tuyenquang.gov.vn"
OTHER_TECHNICIAN = "kythuat.hsonduong@tuyenquang.gov.vn"
LINE_PROVIDER = "dieuhanh@vnpt-tuyenquang.vn"


def subjects(platform, address: str, period: str) -> list[str]:
    """The subjects of the plan mails `address` received about this period (not the
    technician's request to hand the inspection in, "Hạn ...", which ReportDue causes)."""
    found = []
    for message in platform.smtp.inbox.to(address):
        subject = str(message["Subject"])
        if period in message.get_body(("plain",)).get_content() and not subject.startswith("Hạn"):
            found.append(subject)
    return found


async def mails(platform, address: str, period: str, count: int) -> list[str]:
    """Wait until `address` has `count` inspection mails about `period`; their subjects."""

    async def received() -> list[str]:
        return subjects(platform, address, period)

    return await eventually(received, until=lambda found: len(found) >= count, timeout=60)


@pytest.fixture
def platform(shared_platform):
    """The shared platform: the test keeps to an inspection period of its own (the mails are
    told apart by it) on days of its own."""
    return shared_platform


@pytest.mark.timeout(600)  # four services started on a busy machine: up to 4 min
async def test_the_line_provider_and_technicians_hear_of_each_plan_change_and_cancel(
    platform, shared_days
) -> None:
    period = f"2026-Q{uuid.uuid4().hex[:6]}"
    task_id = f"periodic_inspection:tuyen-quang:TQ-STTTT:{period}"
    operator = {"Authorization": f"Bearer {platform.token('--role', 'operator')}"}
    await platform.publish(
        ReportDue.create(
            tenant="tuyen-quang",
            correlation_id=task_id,
            producer="scheduling",
            report_id=task_id,
            kind=ReportKind.PERIODIC_INSPECTION,
            endpoint="TQ-STTTT",
            unit="STTTT",
            period=period,
            due_at=datetime.now(UTC) + timedelta(days=14),
            rule=RuleRef(rule="inspection.period_months", source="seeds/001"),
        )
    )
    base = platform.urls["inspection"]
    async with httpx.AsyncClient(base_url=base, headers=operator, timeout=15) as http:
        answer = await http.get("/inspections")
        assert answer.status_code == 200, answer.text
        await eventually(
            lambda: http.get("/inspections", params={"endpoint": "TQ-STTTT"}),
            until=lambda r: any(t["id"] == task_id for t in r.json()),
            timeout=60,
        )
        await platform.directory_taken_in("inspection")
        when = shared_days.take(2)  # the plan's day and the day it is moved to
        plan = {"planned_at": when.isoformat(), "with_line_provider": True}

        too_soon = {**plan, "planned_at": (datetime.now(UTC) + timedelta(hours=3)).isoformat()}
        refused = await http.put(f"/inspections/{task_id}/plan", json=too_soon)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["rule"] == "notice.lead_time"
        typo = await http.put(  # was a 500: "A; B" is no endpoint code
            f"/inspections/{task_id}/plan", json={**plan, "endpoints": ["TQ-SYT; TQ-STTTT"]}
        )
        assert typo.status_code == 422, typo.text
        assert typo.json()["errors"][0]["field"].startswith("endpoints")

        first = await http.put(
            f"/inspections/{task_id}/plan", json={**plan, "endpoints": ["TQ-H-SONDUONG"]}
        )
        assert first.status_code == 200, first.text
        assert first.json()["plan"]["endpoints"] == ["TQ-STTTT", "TQ-H-SONDUONG"]
        for address in (TECHNICIAN, OTHER_TECHNICIAN, LINE_PROVIDER):
            [subject] = await mails(platform, address, period, 1)
            assert subject.startswith("kiểm tra định kỳ hệ thống hội nghị truyền hình")

        later = {"planned_at": (when + timedelta(days=1)).isoformat(), "with_line_provider": False}
        changed = await http.put(f"/inspections/{task_id}/plan", json=later)
        assert changed.status_code == 200, changed.text
        assert (await mails(platform, TECHNICIAN, period, 2))[1].startswith("Thay đổi:")
        for dropped in (OTHER_TECHNICIAN, LINE_PROVIDER):
            assert (await mails(platform, dropped, period, 2))[1].startswith("Hủy:")

        cancelled = await http.post(
            f"/inspections/{task_id}/cancel", json={"reason": "Phòng họp đang sửa chữa"}
        )
        assert cancelled.status_code == 200, cancelled.text
        assert (await mails(platform, TECHNICIAN, period, 3))[2].startswith("Hủy:")
        listed = (await http.get("/inspections", params={"endpoint": "TQ-STTTT"})).json()
        assert next(t for t in listed if t["id"] == task_id)["state"] == "cancelled"
        assert len(subjects(platform, LINE_PROVIDER, period)) == 2  # off already: not told again
