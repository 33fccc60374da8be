"""The chain end to end on real Kafka + the MongoDB-compatible server, services as processes:
HTTP registration -> MeetingRequested -> scheduling -> SlotAssigned -> notification and
inspection both act on it, and registration's timeline shows the decision."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hnth_contracts import MeetingRequested, SlotAssigned, Topics, decode_event
from hnth_kit.testing import eventually, read_topic

pytestmark = pytest.mark.system


def _meeting(days_ahead: int = 3) -> dict[str, object]:
    start = (datetime.now(UTC) + timedelta(days=days_ahead)).replace(microsecond=0)
    return {
        "title": "Hội nghị trực tuyến giao ban tháng",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "main_endpoint": "TQ-UBND",
        "endpoints": ["TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG"],
    }


async def test_registered_meeting_is_scheduled_notified_and_checklisted(infra, platform) -> None:
    token = platform.token("--role", "operator")
    auth = {"Authorization": f"Bearer {token}"}
    await platform.directory_taken_in("scheduling")
    async with httpx.AsyncClient(timeout=10) as http:
        created = await http.post(
            f"{platform.urls['registration']}/meetings", json=_meeting(), headers=auth
        )
        assert created.status_code == 201, created.text
        meeting = created.json()
        assert meeting["status"] == "requested"
        meeting_id = meeting["id"]

        async def get(service: str, path: str) -> httpx.Response:
            return await http.get(f"{platform.urls[service]}{path}", headers=auth)

        detail = await eventually(
            lambda: get("registration", f"/meetings/{meeting_id}"),
            until=lambda r: r.json().get("status") == "scheduled",
        )
        body = detail.json()
        assert body["slot"]["bridge"] == "MCU-TQ"
        assert [e["type"] for e in body["timeline"]] == ["MeetingRequested", "SlotAssigned"]

        notices = await eventually(
            lambda: get("notification", f"/meetings/{meeting_id}/notices"),
            until=lambda r: len(r.json()) == 7,
        )
        roles = sorted(n["role"] for n in notices.json())
        assert roles == sorted(
            ["it_department", "line_provider", "power_company", "host_unit"] + ["technician"] * 3
        )

        readiness = await eventually(
            lambda: get("inspection", f"/meetings/{meeting_id}/readiness"),
            until=lambda r: len(r.json()) == 3,
        )
        assert {c["state"] for c in readiness.json()} == {"pending"}
        assert {c["endpoint"] for c in readiness.json()} == {"TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG"}

    topics = Topics(prefix=platform.topic_prefix)
    [requested] = await read_topic(infra.bootstrap_servers, topics.meetings, expect=1)
    event = decode_event(requested.value)
    assert isinstance(event, MeetingRequested)
    assert requested.key == meeting_id.encode()
    envelope = json.loads(requested.value)
    for field in ("event_id", "type", "schema_version", "occurred_at", "tenant", "correlation_id"):
        assert field in envelope
    assert (event.tenant, event.correlation_id, event.producer) == (
        "tuyen-quang",
        meeting_id,
        "registration",
    )
    [assigned] = await read_topic(infra.bootstrap_servers, topics.slots, expect=1)
    decision = decode_event(assigned.value)
    assert isinstance(decision, SlotAssigned)
    assert decision.causation_id == str(event.event_id)
    assert decision.check_deadline == event.start - timedelta(hours=1)


async def test_every_route_but_health_needs_a_token(platform) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for name, url in platform.urls.items():
            assert (await http.get(f"{url}/healthz")).status_code == 200, name
            assert (await http.get(f"{url}/readyz")).status_code == 200, name
        denied = await http.post(f"{platform.urls['registration']}/meetings", json=_meeting())
        assert denied.status_code == 401
        assert denied.headers["www-authenticate"] == "Bearer"
        bad = await http.get(
            f"{platform.urls['inspection']}/meetings/x/readiness",
            headers={"Authorization": "Bearer not-a-token"},
        )
        assert bad.status_code == 401
        viewer = platform.token("--role", "viewer")
        forbidden = await http.post(
            f"{platform.urls['registration']}/meetings",
            json=_meeting(),
            headers={"Authorization": f"Bearer {viewer}"},
        )
        assert forbidden.status_code == 403
