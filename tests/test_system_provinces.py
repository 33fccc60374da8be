"""Two provinces on one running platform (services as processes, real Kafka + the
MongoDB-compatible server): each registers a meeting with its own token; each is
scheduled on its own bridge, notified to its own contacts and checklisted; neither sees
the other's meeting, directory, notices or readiness board."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hnth_kit.testing import eventually

pytestmark = pytest.mark.system


def _meeting(prefix: str, title: str) -> dict[str, object]:
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    return {
        "title": title,
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "main_endpoint": f"{prefix}-UBND",
        "endpoints": [f"{prefix}-UBND", f"{prefix}-STTTT"],
    }


async def test_two_provinces_share_the_platform_and_see_only_their_own(platform) -> None:
    provinces = {
        "tuyen-quang": ("TQ", "MCU-TQ", "dieudo@pctuyenquang.evn.vn"),
        "lang-son": ("LS", "MCU-LS", "dieudo@pclangson.evn.vn"),
    }
    auth = {
        tenant: {
            "Authorization": f"Bearer {platform.token('--role', 'operator', '--tenant', tenant)}"
        }
        for tenant in provinces
    }
    ids: dict[str, str] = {}
    await platform.directory_taken_in("scheduling")
    async with httpx.AsyncClient(timeout=10) as http:

        async def get(service: str, path: str, tenant: str) -> httpx.Response:
            return await http.get(f"{platform.urls[service]}{path}", headers=auth[tenant])

        for tenant, (prefix, _, _) in provinces.items():
            created = await http.post(
                f"{platform.urls['registration']}/meetings",
                json=_meeting(prefix, f"Giao ban trực tuyến ({tenant})"),
                headers=auth[tenant],
            )
            assert created.status_code == 201, created.text
            assert created.json()["tenant"] == tenant
            ids[tenant] = created.json()["id"]

        async def follow(tenant: str, prefix: str, bridge: str, power: str) -> None:
            meeting_id = ids[tenant]
            scheduled = await eventually(
                lambda: get("registration", f"/meetings/{meeting_id}", tenant),
                until=lambda r: r.json().get("status") == "scheduled",
            )
            assert scheduled.json()["slot"]["bridge"] == bridge
            notices = await eventually(
                lambda: get("notification", f"/meetings/{meeting_id}/notices", tenant),
                until=lambda r: (
                    len(_emails(r.json())) == 6 and all(n["address"] for n in _emails(r.json()))
                ),
            )
            assert {n["id"].split(":")[1] for n in notices.json()} == {tenant}
            power_notice = next(n for n in _emails(notices.json()) if n["role"] == "power_company")
            assert power_notice["address"] == power  # the province's own power company
            board = await eventually(
                lambda: get("inspection", f"/meetings/{meeting_id}/readiness", tenant),
                until=lambda r: r.status_code == 200 and len(r.json()) == 2,
            )
            assert {c["endpoint"] for c in board.json()} == {f"{prefix}-UBND", f"{prefix}-STTTT"}

        for tenant, (prefix, bridge, power) in provinces.items():
            await follow(tenant, prefix, bridge, power)

        for mine, theirs in (("tuyen-quang", "lang-son"), ("lang-son", "tuyen-quang")):
            other = ids[theirs]
            listed = (await get("registration", "/meetings", mine)).json()["items"]
            assert [m["id"] for m in listed] == [ids[mine]]
            assert (await get("registration", f"/meetings/{other}", mine)).status_code == 404
            endpoints = (await get("registration", "/endpoints", mine)).json()
            assert {e["code"][:3] for e in endpoints} == {f"{provinces[mine][0]}-"}
            their_notices = await get("notification", f"/meetings/{other}/notices", mine)
            assert their_notices.status_code in (403, 404) or their_notices.json() == []
            their_board = await get("inspection", f"/meetings/{other}/readiness", mine)
            assert their_board.status_code == 404
            report = (await get("inspection", "/reports/2026", mine)).json()
            assert report["tenant"] == mine


def _emails(notices: list[dict]) -> list[dict]:
    """The e-mail notices (the platform also has a webhook subscriber)."""
    return [n for n in notices if n["channel"] == "email"]
