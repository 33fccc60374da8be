"""The provinces added as two files each (policies/<tenant>.yaml and data/<tenant>.yaml, no
code): Lào Cai (seed 002, since 2025 with the former Yên Bái) and Hồ Chí Minh City (Bình
Dương's regulation, seed 004). A meeting in each goes through all four services on the real
platform: registered, scheduled on the province's own bridge citing its own regulation,
its parties notified by e-mail and a checklist opened per endpoint.

On the shared platform: each province's data is its own, so no other test touches it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hnth_contracts import SlotAssigned, decode_event
from hnth_contracts.policy import load_policy
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import eventually, read_topic
from notification.domain.notices import calendar_uid

pytestmark = pytest.mark.system

# tenant: (main endpoint, other endpoints, host unit)
PROVINCES = {
    "lao-cai": ("LC-VP-UBND", ["LC-SKHCN", "LC-P-YENBAI"], "VP-UBND"),
    "ho-chi-minh": ("HCM-VP-UBND", ["HCM-SKHCN", "HCM-P-DIAN"], "VP-UBND"),
}


@pytest.fixture
def platform(shared_platform):
    return shared_platform


@pytest.mark.parametrize("tenant", sorted(PROVINCES))
async def test_a_new_province_runs_through_all_four_services(platform, tenant: str) -> None:
    policy = load_policy(REPO_ROOT / "policies", tenant)
    main, others, host = PROVINCES[tenant]
    auth = {"Authorization": f"Bearer {platform.token('--role', 'operator', '--tenant', tenant)}"}
    start = (datetime.now(UTC) + timedelta(days=4)).replace(minute=0, second=0, microsecond=0)
    body = {
        "title": "Hội nghị giao ban trực tuyến",
        "host_unit": host,
        "chair": "Chủ tịch UBND",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "main_endpoint": main,
        "endpoints": others,
    }
    async with httpx.AsyncClient(timeout=15, headers=auth) as http:

        async def get(service: str, path: str) -> httpx.Response:
            return await http.get(f"{platform.urls[service]}{path}")

        made = await http.post(f"{platform.urls['registration']}/meetings", json=body)
        assert made.status_code == 201, made.text
        meeting_id = made.json()["id"]
        scheduled = await eventually(
            lambda: get("registration", f"/meetings/{meeting_id}"),
            until=lambda r: r.json().get("status") == "scheduled",
            timeout=60,
        )
        assert scheduled.json()["slot"]["bridge"] == policy.bridge.name
        # every party the province's policy names gets the invitation, once
        contacts = (await get("registration", "/contacts")).json()
        technicians = [
            (await get("registration", f"/endpoints/{code}")).json()["technician"]["email"]
            for code in [main, *others]
        ]
        addresses = [contacts[r]["email"] for r in ("it_department", "line_provider")]
        addresses += technicians
        uid = calendar_uid(tenant, meeting_id)

        def invited(address: str) -> int:
            return len(platform.smtp.inbox.about(address, uid))

        await eventually(
            lambda: _now(addresses),
            until=lambda found: all(invited(a) >= 1 for a in found),
            timeout=60,
        )
        assert {a: invited(a) for a in addresses} == {a: 1 for a in addresses}
        readiness = await eventually(
            lambda: get("inspection", f"/meetings/{meeting_id}/readiness"),
            until=lambda r: r.status_code == 200 and len(r.json()) == 3,
            timeout=60,
        )
        assert {c["endpoint"] for c in readiness.json()} == {main, *others}
        # the decision cites this province's own rules and regulation
        slots = await read_topic(
            platform.bootstrap,
            platform.topics.slots,
            until=lambda found: any(_assigned(m, meeting_id) for m in found),
            timeout=120,
        )
        (assigned,) = [e for m in slots if (e := _assigned(m, meeting_id))]
        cited = {ref.rule: ref.source for ref in assigned.rules}
        assert cited["notice.lead_time"] == policy.rules["notice.lead_time"].source
        assert f"seeds/{policy.regulation}" in cited["notice.lead_time"]


def _assigned(message, meeting_id: str) -> SlotAssigned | None:
    event = decode_event(message.value)
    if isinstance(event, SlotAssigned) and event.meeting_id == meeting_id:
        return event
    return None


async def _now(value):
    return value
