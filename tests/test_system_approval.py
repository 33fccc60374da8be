"""The IT department arranges the schedule (issue 19) on the running platform, with
Tuyên Quang's policy set to `schedule.approval: operator` (a policy dir of the test's
own, a short `schedule.hold_deadline`): a held meeting is approved once and scheduled,
with its invitations; another nobody decides is released at its deadline and its host
reads why on the timeline; the duty officer approves one through the console."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from hnth_kit.auth import Role
from hnth_kit.testing import eventually
from tests import test_console_pages as pages
from tests.policy_files import policies_with
from tests.test_console_pages import post_form, signed_in

pytestmark = pytest.mark.system
TENANT = "tuyen-quang"
HOLD = "PT45S"


def operator_policies(folder: Path) -> Path:
    """Every shipped policy, Tuyên Quang's with operator approval and a short hold."""
    values = {"schedule.approval": "operator", "schedule.hold_deadline": HOLD}
    return policies_with(folder, TENANT, values)


@pytest.fixture(scope="module")
def platform(module_platform, tmp_path_factory):
    """The module's platform, its scheduling restarted once on operator approval:
    scheduling decides by the policy's value; registration only cites the rule's source,
    the same in both files. The directory is in scheduling's database already."""
    folder = operator_policies(tmp_path_factory.mktemp("policies"))
    module_platform.restart("scheduling-0", HNTH_POLICY_DIR=str(folder))
    return module_platform


console = pages.console  # the signed-in console client, over this module's platform


def meeting(start: datetime, title: str) -> dict[str, object]:
    return {
        "title": title,
        "host_unit": "VP-UBND",
        "chair": "Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "main_endpoint": "TQ-UBND",
        "endpoints": ["TQ-SNV", "TQ-STP"],
    }


@pytest.mark.timeout(600)  # four services started, scheduling restarted: minutes when busy
async def test_a_held_meeting_is_approved_once_and_another_expires(platform) -> None:
    token = platform.token("--role", "operator", "--tenant", TENANT)
    auth = {"Authorization": f"Bearer {token}"}
    base = platform.urls["registration"]
    day = (datetime.now(UTC) + timedelta(days=5)).replace(hour=1, minute=0, second=0, microsecond=0)
    async with httpx.AsyncClient(timeout=30, headers=auth) as http:

        async def shown(meeting_id: str, *statuses: str) -> dict:
            found = await eventually(
                lambda: http.get(f"{base}/meetings/{meeting_id}"),
                until=lambda r: r.json().get("status") in statuses,
                timeout=120,
            )
            return dict(found.json())

        ids = []
        for start, title in ((day, "Giao ban (duyệt)"), (day + timedelta(hours=5), "Hết hạn")):
            made = await http.post(f"{base}/meetings", json=meeting(start, title))
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])
        approved_id, expiring_id = ids
        held = await shown(approved_id, "held", "scheduled", "rejected")
        assert held["status"] == "held", held
        [hold] = [e for e in held["timeline"] if e["type"] == "SlotHeld"]
        assert [r["rule"] for r in hold["rules"]] == ["schedule.approval", "schedule.hold_deadline"]

        # approving twice decides once
        for _ in range(2):
            answer = await http.post(f"{base}/meetings/{approved_id}/approve")
            assert answer.status_code == 200, answer.text
        other_way = await http.post(
            f"{base}/meetings/{approved_id}/reject", json={"reason": "đổi ý"}
        )
        assert other_way.status_code == 409, other_way.text
        scheduled = await shown(approved_id, "scheduled", "rejected")
        assert scheduled["status"] == "scheduled", scheduled
        kinds = [e["type"] for e in scheduled["timeline"]]
        assert kinds.count("HoldDecided") == 1
        [decision] = [e for e in scheduled["timeline"] if e["type"] == "HoldDecided"]
        assert decision["approved"]
        assert decision["rule"]["rule"] == "schedule.approval"
        assert "không nêu" in decision["rule"]["source"]
        assert scheduled["slot"]["bridge"]
        # the approved meeting's invitations go out as any assigned meeting's
        notices = await eventually(
            lambda: http.get(f"{platform.urls['notification']}/meetings/{approved_id}/notices"),
            until=lambda r: r.status_code == 200 and len(r.json()) > 0,
            timeout=120,
        )
        assert notices.json()

        # nobody decides the other: released at the deadline, the host reads why
        expired = await shown(expiring_id, "rejected", "scheduled")
        assert expired["status"] == "rejected", expired
        [conflict] = expired["rejection"]["conflicts"]
        assert conflict["rule"]["rule"] == "schedule.hold_deadline"
        assert "không nêu" in conflict["rule"]["source"]
        released = await eventually(
            lambda: http.get(f"{base}/meetings/{expiring_id}"),
            until=lambda r: any(e["type"] == "SlotReleased" for e in r.json()["timeline"]),
            timeout=60,
        )
        [release] = [e for e in released.json()["timeline"] if e["type"] == "SlotReleased"]
        assert release["reason"] == "hold_expired"
        too_late = await http.post(f"{base}/meetings/{expiring_id}/approve")
        assert too_late.status_code == 409, too_late.text
        assert kinds.count("SlotAssigned") == 1


@pytest.mark.timeout(600)
async def test_the_duty_officer_approves_a_held_meeting_in_the_console(platform, console) -> None:
    token = platform.token("--role", "operator", "--tenant", TENANT)
    base = platform.urls["registration"]
    start = (datetime.now(UTC) + timedelta(days=6)).replace(
        hour=2, minute=0, second=0, microsecond=0
    )
    async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        made = await http.post(f"{base}/meetings", json=meeting(start, "Duyệt qua bảng điều hành"))
        assert made.status_code == 201, made.text
        meeting_id = made.json()["id"]
        page = f"/meetings/{meeting_id}"
        await signed_in(console, Role.OPERATOR)
        held = await eventually(
            lambda: console.get(page),
            until=lambda r: 'class="pill status-held"' in r.text,
            timeout=120,
        )
        assert "chờ Sở KH&amp;CN duyệt" in held.text
        assert 'id="approve-form"' in held.text
        assert 'id="move-form"' in held.text

        done = await post_form(console, page, f"{page}/approve", {})
        assert (done.status_code, done.headers["location"]) == (303, f"{page}?done=approved_ok")
        scheduled = await eventually(
            lambda: console.get(page),
            until=lambda r: 'class="pill status-scheduled"' in r.text,
            timeout=120,
        )
        assert 'id="approve-form"' not in scheduled.text
        found = (await http.get(f"{base}/meetings/{meeting_id}")).json()
        [decision] = [e for e in found["timeline"] if e["type"] == "HoldDecided"]
        assert decision["approved"]
