"""Events and requests the inspection tests send (importable from the test modules)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hnth_contracts import (
    CheckCompleted,
    CheckSubmitted,
    EndpointUpdated,
    ItemResult,
    MeetingCancelled,
    ReportDue,
    ReportKind,
    RuleRef,
    Slot,
    SlotAssigned,
    Window,
    decode_event,
)
from hnth_kit.auth import Role
from hnth_kit.consumer import Outcome
from hnth_kit.testing import eventually, read_exactly, read_topic, signed_token

TENANT = "tuyen-quang"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ITEMS_OK = {name: {"ok": True} for name in ("line", "audio", "video", "content", "power")}


def auth(role: Role = Role.OPERATOR, **who: str) -> dict[str, str]:
    token = signed_token(role=role, tenant=TENANT, **who)
    return {"Authorization": f"Bearer {token}"}


async def events_on(infra, topic: str, expect: int, timeout: float = 20.0) -> list[Any]:
    return [
        decode_event(m.value)
        for m in await read_topic(infra.bootstrap_servers, topic, expect=expect, timeout=timeout)
    ]


def envelope(correlation: str, at: datetime | None = None) -> dict[str, Any]:
    return {
        "tenant": TENANT,
        "correlation_id": correlation,
        "producer": "test",
        "occurred_at": at or T0,
    }


def slot_assigned(
    meeting_id: str, start: datetime, endpoints: Sequence[str], revision: int = 0
) -> SlotAssigned:
    end = start + timedelta(hours=2)
    return SlotAssigned.create(
        **envelope(meeting_id),
        meeting_id=meeting_id,
        revision=revision,
        title="Hội nghị giao ban",
        host_unit="VP-UBND",
        main_endpoint=endpoints[0],
        endpoints=tuple(endpoints),
        slot=Slot(
            bridge="MCU-TQ",
            virtual_room=meeting_id,
            dial_in=f"sip:{meeting_id}@mcu",
            meeting=Window(start=start, end=end),
            reserved=Window(start=start - timedelta(hours=1), end=end + timedelta(minutes=15)),
        ),
        check_deadline=start - timedelta(hours=1),
        notice_deadline=start - timedelta(days=2),
        policy="tuyen-quang@2017-345",
    )


def check_submitted(
    meeting_id: str, endpoint: str, at: datetime, failing: Sequence[str] = (), by: str = "mcu-probe"
) -> CheckSubmitted:
    return CheckSubmitted.create(
        **envelope(meeting_id, at),
        meeting_id=meeting_id,
        endpoint=endpoint,
        items={
            name: ItemResult(ok=name not in failing, note="lỗi" if name in failing else None)
            for name in ITEMS_OK
        },
        submitted_by=by,
        submitted_at=at,
    )


def cancelled(meeting_id: str) -> MeetingCancelled:
    return MeetingCancelled.create(**envelope(meeting_id), meeting_id=meeting_id, reason="hoãn")


def report_due(
    kind: ReportKind, endpoint: str, unit: str, period: str, due_at: datetime
) -> ReportDue:
    report_id = f"{kind.value}:{TENANT}:{endpoint}:{period}"
    return ReportDue.create(
        **envelope(report_id),
        report_id=report_id,
        kind=kind,
        endpoint=endpoint,
        unit=unit,
        period=period,
        due_at=due_at,
        rule=RuleRef(rule="inspection.period_months", source="seeds/001"),
    )


def endpoint_updated(code: str, unit: str, name: str) -> EndpointUpdated:
    return EndpointUpdated.create(**envelope(code), code=code, unit=unit, name=name)


def body(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return json.loads(response.text)


async def handled(service, topic: str) -> int:
    """Messages of `topic` the service has handled (in memory: no database scans)."""
    return service.consumer.counts.get((topic, Outcome.HANDLED), 0)


async def board(http, meeting_id: str, *, until=lambda b: True) -> list[dict]:
    async def probe() -> list[dict]:
        response = await http.get(f"/meetings/{meeting_id}/readiness", headers=auth(Role.VIEWER))
        return response.json() if response.status_code == 200 else []

    return await eventually(probe, until=until)


def by_endpoint(items: list[dict]) -> dict[str, dict]:
    return {item["endpoint"]: item for item in items}


async def completed(infra, topics, expect: int, timeout: float = 20.0) -> list[CheckCompleted]:
    found = await events_on(infra, topics.checks, expect=expect, timeout=timeout)
    return [e for e in found if isinstance(e, CheckCompleted)]


async def no_more(infra, topic: str, count: int) -> None:
    """Read on briefly past the `count` messages already seen: one more (a duplicate, an
    event for something closed) would show up here."""
    await read_exactly(infra.bootstrap_servers, topic, count)


def with_rule(cases: Any, key: str, value: object) -> Any:
    """The same use cases under a policy where `key` is `value` (a province's knob)."""
    from dataclasses import replace

    from hnth_contracts.policy import Rule

    shipped = cases.policy_for(TENANT)
    rules = {**shipped.rules, key: Rule(value=value, source=shipped.rules[key].source)}
    policy = shipped.model_copy(update={"rules": rules})
    return replace(cases, policy_for=lambda _tenant: policy)
