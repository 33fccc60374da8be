"""Tokens, times and meeting bodies shared by registration's tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hnth_contracts import (
    CheckCompleted,
    CheckOutcome,
    Conflict,
    ConflictKind,
    Event,
    MeetingRequested,
    MeetingSubmitted,
    RuleRef,
    Slot,
    SlotAssigned,
    SlotRejected,
    Topics,
    Window,
    key_of,
)
from hnth_kit.auth import Role
from hnth_kit.clock import ManualClock
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.service import Service
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import TEST_SIGNING_KEYS, signed_token
from registration.app import RegistrationSettings, build
from registration.directory import read_directories

TENANT = "tuyen-quang"
NOW = datetime.now(UTC).replace(microsecond=0)
DIRECTORY_EVENTS = sum(
    1 + len(f.units) + len(f.endpoints) for f in read_directories(REPO_ROOT / "data")
)
"""Snapshots every province's demo directory announces at start (contacts, units, endpoints)."""


@dataclass
class Registration:
    service: Service
    http: httpx.AsyncClient
    clock: ManualClock
    topics: Topics
    bootstrap: str

    def headers(
        self, role: str = "operator", tenant: str = TENANT, **claims: str
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(role, tenant=tenant, **claims)}"}


def token(
    role: str, ttl: timedelta = timedelta(hours=1), tenant: str = TENANT, **claims: str
) -> str:
    return signed_token(role=Role(role), tenant=tenant, ttl=ttl, **claims)


def meeting_body(days_ahead: float = 3, hours: float = 2, **changes: object) -> dict[str, object]:
    start = NOW + timedelta(days=days_ahead)
    return {
        "title": "Hội nghị giao ban trực tuyến",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=hours)).isoformat(),
        "main_endpoint": "TQ-UBND",
        "endpoints": ["TQ-STTTT", "TQ-H-SONDUONG"],
        **changes,
    }


def submitted(
    system: str,
    request_id: str,
    meeting: dict[str, Any],
    tenant: str = TENANT,
    at: datetime = NOW,
) -> MeetingSubmitted:
    """A system's request for `meeting` (a `POST /meetings` body, JSON-ready)."""
    return MeetingSubmitted.create(
        tenant=tenant,
        correlation_id=request_id,
        producer=system,
        occurred_at=at,
        request_id=request_id,
        system=system,
        meeting=meeting,
    )


def announced(
    meeting_id: str,
    start: datetime,
    *,
    producer: str = "e-office",
    tenant: str = TENANT,
    endpoints: tuple[str, ...] = ("TQ-SYT", "TQ-STTTT"),
    requested_by: str = "",
) -> MeetingRequested:
    """A meeting another system (an e-office) announces straight on the topic."""
    return MeetingRequested.create(
        tenant=tenant,
        correlation_id=meeting_id,
        producer=producer,
        meeting_id=meeting_id,
        title="Họp trực tuyến từ văn phòng điện tử",
        host_unit="SYT",
        chair="Giám đốc Sở Y tế",
        start=start,
        end=start + timedelta(hours=1),
        main_endpoint="TQ-SYT",
        endpoints=endpoints,
        requested_by=requested_by,
    )


async def publish(registration: Registration, *events: Event) -> None:
    """Put events on their topics as another service would."""
    producer = Producer(registration.bootstrap, client_id="test")
    await producer.start()
    try:
        await producer.send(
            [OutMessage(registration.topics.of(e), key_of(e), e.to_json()) for e in events]
        )
    finally:
        await producer.stop()


def outcomes(
    meeting: dict[str, Any],
) -> tuple[SlotAssigned, SlotRejected, CheckCompleted]:
    """What scheduling and inspection answer for a meeting registered 3 days ahead: a slot,
    a refusal (TQ-STTTT busy, one alternative) and a passed check."""
    start = NOW + timedelta(days=3)
    window = Window(start=start, end=start + timedelta(hours=2))
    common = {"tenant": "tuyen-quang", "correlation_id": meeting["id"], "producer": "scheduling"}
    assigned = SlotAssigned.create(
        meeting_id=meeting["id"],
        title=meeting["title"],
        host_unit="VP-UBND",
        main_endpoint="TQ-UBND",
        endpoints=tuple(meeting["endpoints"]),
        slot=Slot(
            bridge="MCU-TQ",
            virtual_room="VR-01",
            dial_in="sip:vr01@mcu.tuyenquang.gov.vn",
            meeting=window,
            reserved=Window(start=start - timedelta(hours=1), end=window.end),
        ),
        check_deadline=start - timedelta(hours=1),
        notice_deadline=start - timedelta(days=2),
        policy="tuyen-quang@2017-345",
        **common,
    )
    rejected = SlotRejected.create(
        meeting_id=meeting["id"],
        host_unit="VP-UBND",
        conflicts=(
            Conflict(
                kind=ConflictKind.ENDPOINT_BUSY,
                resource="TQ-STTTT",
                other_meeting_id="mtg-other",
                other_window=window,
                rule=RuleRef(rule="endpoint.one_meeting_at_a_time", source="HNTH Ops"),
                message="Điểm cầu TQ-STTTT bận",
            ),
        ),
        alternatives=(Window(start=window.end, end=window.end + timedelta(hours=2)),),
        **common,
    )
    check = CheckCompleted.create(
        meeting_id=meeting["id"],
        endpoint="TQ-STTTT",
        outcome=CheckOutcome.PASSED,
        due_at=start - timedelta(hours=1),
        on_time=True,
        # a second later: the timeline orders by time, stored to the millisecond
        occurred_at=assigned.occurred_at + timedelta(seconds=1),
        **{**common, "producer": "inspection"},
    )
    return assigned, rejected, check


@contextlib.asynccontextmanager
async def running(infra: Any, unique: str, **overrides: Any) -> AsyncIterator[Registration]:
    """Registration in-process on the real broker and database, with a hand-set clock."""
    settings = RegistrationSettings(
        kafka_bootstrap_servers=infra.bootstrap_servers,
        mongodb_url=infra.mongodb_url,
        database=f"registration_{unique}",
        topic_prefix=f"t{unique}.",
        signing_keys=TEST_SIGNING_KEYS,
        outbox_poll_seconds=0.1,
        **overrides,
    )
    clock = ManualClock(NOW)
    service = build(settings, clock=clock)
    await service.start()
    transport = httpx.ASGITransport(app=service.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://registration") as http:
        yield Registration(service, http, clock, settings.topics, infra.bootstrap_servers)
    await service.stop()
