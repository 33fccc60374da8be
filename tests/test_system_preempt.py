"""Priority and pre-emption (issue 19) on the running platform with the shipped Tuyên
Quang policy (`schedule.preempt_automatic: [thien_tai]`): a disaster-response request
pre-empts a routine meeting by itself, the routine host reads why with alternatives and
every party its invitation went to is told it is off; a leadership request refused by a
routine one is pre-empted by the IT department's order (`POST /meetings/{id}/preempt`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from hnth_kit.testing import eventually
from tests import test_system_approval as approval

pytestmark = pytest.mark.system
TENANT = "tuyen-quang"


def meeting(start: datetime, title: str, **extra: object) -> dict[str, object]:
    """The approval tests' meeting (TQ-UBND with TQ-SNV and TQ-STP, two hours), plus `extra`."""
    return {**approval.meeting(start, title), **extra}


def is_off(notice: dict) -> bool:
    """A notice telling a party the meeting lost its slot to a higher-priority one."""
    return str(notice["cause"]).startswith("preempted:")


def invitation(notice: dict) -> bool:
    return str(notice["cause"]).startswith("assigned:")


@pytest.fixture
def platform(shared_platform):
    """The shared platform, on the shipped policy: the test meets on days of its own."""
    return shared_platform


@pytest.mark.timeout(600)  # four services started: minutes when the machine is busy
async def test_a_disaster_response_request_preempts_a_routine_meeting(
    platform, shared_days
) -> None:
    token = platform.token("--role", "operator", "--tenant", TENANT)
    base, notification = platform.urls["registration"], platform.urls["notification"]
    day = shared_days.take(2)  # the disaster's day, then the leadership's
    async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:

        async def shown(meeting_id: str, *statuses: str) -> dict:
            found = await eventually(
                lambda: http.get(f"{base}/meetings/{meeting_id}"),
                until=lambda r: r.json().get("status") in statuses,
                timeout=120,
            )
            return dict(found.json())

        async def registered(body: dict[str, object]) -> str:
            made = await http.post(f"{base}/meetings", json=body)
            assert made.status_code == 201, made.text
            return str(made.json()["id"])

        async def notices(meeting_id: str, until) -> list[dict]:
            found = await eventually(
                lambda: http.get(f"{notification}/meetings/{meeting_id}/notices"),
                until=lambda r: r.status_code == 200 and until(r.json()),
                timeout=120,
            )
            return list(found.json())

        routine_id = await registered(meeting(day, "Giao ban thường lệ"))
        assert (await shown(routine_id, "scheduled", "rejected"))["status"] == "scheduled"
        await notices(routine_id, lambda found: len(found) > 0)  # its invitations are out

        flood = meeting(day + timedelta(minutes=30), "Ứng phó bão số 3", priority="thien_tai")
        flood_id = await registered(flood)
        assert (await shown(flood_id, "scheduled", "rejected"))["status"] == "scheduled"

        # the routine host reads why (rule and source) and the alternatives
        displaced = await shown(routine_id, "rejected")
        [why] = displaced["rejection"]["conflicts"]
        assert why["rule"]["rule"] == "schedule.preempt_automatic"
        assert "không nêu" in why["rule"]["source"]
        assert why["other_meeting_id"] == flood_id
        assert displaced["rejection"]["alternatives"]
        [release] = [e for e in displaced["timeline"] if e["type"] == "SlotReleased"]
        assert release["reason"] == "preempted"
        assert release["why"]["rule"]["rule"] == "schedule.preempt_automatic"

        # every party the invitation went to is told it is off, once, and the host why
        def parties(found: list[dict], which) -> set[tuple[str, str]]:
            return {(n["recipient"], n["channel"]) for n in found if which(n)}

        def displaced_told(found: list[dict]) -> bool:
            return parties(found, is_off) == parties(found, invitation) and any(
                n["kind"] == "meeting_rejected" for n in found
            )

        told = await notices(routine_id, displaced_told)
        off = [n for n in told if is_off(n)]
        assert len(off) == len(parties(told, invitation)) > 0
        assert {n["kind"] for n in off} == {"meeting_cancelled"}
        assert {n["rule"]["rule"] for n in off} == {"schedule.preempt_automatic"}
        [rejected] = [n for n in told if n["kind"] == "meeting_rejected"]
        assert rejected["rule"]["rule"] == "schedule.preempt_automatic"

        # leadership is not automatic: refused, offered, then pre-empted on the IT order
        later = day + timedelta(days=1)
        other_id = await registered(meeting(later, "Giao ban sở"))
        assert (await shown(other_id, "scheduled", "rejected"))["status"] == "scheduled"
        lead_id = await registered(
            meeting(later + timedelta(minutes=30), "Lãnh đạo tỉnh làm việc", priority="lanh_dao")
        )
        refused = await shown(lead_id, "rejected", "scheduled")
        assert refused["status"] == "rejected", refused
        assert refused["rejection"]["preemptible"] == [other_id]
        order = {"reason": "Chủ tịch UBND tỉnh triệu tập"}
        for _ in range(2):  # asking again answers with the meeting, one order
            answer = await http.post(f"{base}/meetings/{lead_id}/preempt", json=order)
            assert answer.status_code == 200, answer.text
        assert (await shown(lead_id, "scheduled"))["revision"] == 1
        other = await shown(other_id, "rejected")
        [why] = other["rejection"]["conflicts"]
        assert why["rule"]["rule"] == "meeting.priorities"
        assert order["reason"] in why["message"]
        not_offered = await http.post(f"{base}/meetings/{routine_id}/preempt", json=order)
        assert not_offered.status_code == 409, not_offered.text
