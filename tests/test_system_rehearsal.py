"""A rehearsal (tổng duyệt) on the real platform: booked for a meeting, it is scheduled,
notified and checked as a meeting of its own on the same endpoints; cancelling the
meeting asks what becomes of it, and "cancel" cancels both, with the parties told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hnth_kit.testing import eventually
from notification.domain.notices import calendar_uid

pytestmark = pytest.mark.system
TENANT = "tuyen-quang"
# endpoints and a day no other test on the shared platform uses
MAIN, OTHERS = "TQ-SKHCN", ["TQ-SGDDT", "TQ-H-LAMBINH"]


@pytest.fixture
def platform(shared_platform):
    return shared_platform


async def test_a_rehearsal_is_scheduled_notified_checked_and_cancelled_with_its_meeting(
    platform,
) -> None:
    auth = {"Authorization": f"Bearer {platform.token('--role', 'operator', '--tenant', TENANT)}"}
    start = (datetime.now(UTC) + timedelta(days=9)).replace(
        hour=1, minute=0, second=0, microsecond=0
    )
    body = {
        "title": "Hội nghị tổng kết ngành khoa học và giáo dục",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=3)).isoformat(),
        "main_endpoint": MAIN,
        "endpoints": OTHERS,
    }
    registration = platform.urls["registration"]
    async with httpx.AsyncClient(timeout=15, headers=auth) as http:

        async def get(service: str, path: str) -> httpx.Response:
            return await http.get(f"{platform.urls[service]}{path}")

        async def status_is(meeting_id: str, status: str) -> None:
            await eventually(
                lambda: get("registration", f"/meetings/{meeting_id}"),
                until=lambda r: r.json().get("status") == status,
                timeout=60,
            )

        made = await http.post(f"{registration}/meetings", json=body)
        assert made.status_code == 201, made.text
        meeting_id = made.json()["id"]
        await status_is(meeting_id, "scheduled")

        day_before = start - timedelta(days=1)
        asked = {
            "start": day_before.isoformat(),
            "end": (day_before + timedelta(hours=1)).isoformat(),
        }
        booked = await http.post(f"{registration}/meetings/{meeting_id}/rehearsals", json=asked)
        assert booked.status_code == 201, booked.text
        rehearsal_id = booked.json()["id"]
        assert booked.json()["rehearsal_of"] == meeting_id
        again = await http.post(f"{registration}/meetings/{meeting_id}/rehearsals", json=asked)
        assert (again.status_code, again.json()["id"]) == (200, rehearsal_id)
        await status_is(rehearsal_id, "scheduled")

        # its own checks, on the meeting's endpoints
        readiness = await eventually(
            lambda: get("inspection", f"/meetings/{rehearsal_id}/readiness"),
            until=lambda r: r.status_code == 200 and len(r.json()) == 3,
            timeout=60,
        )
        assert {c["endpoint"] for c in readiness.json()} == {MAIN, *OTHERS}
        # its own invitation to each technician
        technician = (await get("registration", f"/endpoints/{MAIN}")).json()["technician"]["email"]
        uid = calendar_uid(TENANT, rehearsal_id)
        await eventually(
            lambda: _now(platform.smtp.inbox.about(technician, uid)),
            until=lambda found: len(found) >= 1,
            timeout=60,
        )
        shown = (await get("registration", f"/meetings/{meeting_id}")).json()
        assert [r["id"] for r in shown["rehearsals"]] == [rehearsal_id]

        # cancelling the meeting asks first; "cancel" takes the rehearsal with it
        url = f"{registration}/meetings/{meeting_id}/cancel"
        unasked = await http.post(url, json={"reason": "Hoãn theo chỉ đạo"})
        assert unasked.status_code == 422, unasked.text
        assert [e["field"] for e in unasked.json()["errors"]] == ["rehearsals"]
        done = await http.post(url, json={"reason": "Hoãn theo chỉ đạo", "rehearsals": "cancel"})
        assert done.status_code == 200, done.text
        await status_is(meeting_id, "cancelled")
        await status_is(rehearsal_id, "cancelled")
        # the technician hears of the rehearsal's cancellation (a CANCEL for its calendar entry)
        await eventually(
            lambda: _now(platform.smtp.inbox.about(technician, uid)),
            until=lambda found: any(b"METHOD:CANCEL" in _calendar(m) for m in found),
            timeout=60,
        )


def _calendar(message) -> bytes:
    return b"".join(
        p.get_payload(decode=True) or b""
        for p in message.walk()
        if p.get_content_type() == "text/calendar"
    )


async def _now(value):
    return value
