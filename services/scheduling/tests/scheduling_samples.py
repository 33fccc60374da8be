"""Requests, changes, directory entries and policies the scheduling tests use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from hnth_contracts import (
    EndpointUpdated,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    UnitUpdated,
)
from hnth_contracts.policy import Bridge, Policy, load_policy
from hnth_kit.testing import TEST_JWKS, TEST_KEYS

POLICIES = Path(__file__).resolve().parents[3] / "policies"
TENANT = "tuyen-quang"
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 in Tuyên Quang
DAY = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # a meeting day, 08:00 local
_numbers = count(1)


def tuyen_quang() -> Policy:
    return load_policy(POLICIES, TENANT)


def small_bridges(policy: Policy, *ports: int) -> Policy:
    """The policy with bridges of the given port counts (MCU-1, MCU-2, ...)."""
    bridges = [
        Bridge(name=f"MCU-{n + 1}", ports=p, dial_in=f"sip:{{room}}@mcu{n + 1}.example")
        for n, p in enumerate(ports)
    ]
    return policy.model_copy(update={"bridge": bridges[0], "bridges": tuple(bridges[1:])})


def _details(
    meeting_id: str, start: datetime, hours: float, endpoints: tuple[str, ...]
) -> dict[str, Any]:
    return {
        "tenant": TENANT,
        "correlation_id": meeting_id,
        "producer": "test",
        "meeting_id": meeting_id,
        "title": f"Họp {meeting_id}",
        "host_unit": "VP-UBND",
        "chair": "Chủ tịch",
        "start": start,
        "end": start + timedelta(hours=hours),
        "main_endpoint": endpoints[0],
        "endpoints": endpoints,
    }


def requested(
    meeting_id: str | None = None,
    *,
    start: datetime = DAY,
    hours: float = 2,
    endpoints: tuple[str, ...] = ("TQ-UBND", "TQ-STTTT"),
    **extra: Any,
) -> MeetingRequested:
    meeting_id = meeting_id or f"m-{next(_numbers)}"
    return MeetingRequested.create(**{**_details(meeting_id, start, hours, endpoints), **extra})


def changed(
    meeting_id: str,
    revision: int,
    *,
    start: datetime = DAY,
    hours: float = 2,
    endpoints: tuple[str, ...] = ("TQ-UBND", "TQ-STTTT"),
    **extra: Any,
) -> MeetingChanged:
    details = _details(meeting_id, start, hours, endpoints)
    return MeetingChanged.create(**{**details, **extra}, revision=revision)


def cancelled(meeting_id: str, reason: str | None = None) -> MeetingCancelled:
    return MeetingCancelled.create(
        tenant=TENANT,
        correlation_id=meeting_id,
        producer="test",
        meeting_id=meeting_id,
        reason=reason,
    )


def endpoint(code: str, *, active: bool = True, at: datetime = NOW) -> EndpointUpdated:
    return EndpointUpdated.create(
        tenant=TENANT,
        correlation_id=code,
        producer="registration",
        code=code,
        name=f"Điểm cầu {code}",
        unit="STTTT",
        active=active,
        occurred_at=at,
    )


def unit(code: str, *, active: bool = True, at: datetime = NOW) -> UnitUpdated:
    return UnitUpdated.create(
        tenant=TENANT,
        correlation_id=code,
        producer="registration",
        code=code,
        name=f"Đơn vị {code}",
        active=active,
        occurred_at=at,
    )


def write_policy(folder: Path, **changes: Any) -> Path:
    """The province's policy file in `folder`, with top-level keys replaced and rules
    dropped (`drop=[...]`): a service started with `policy_dir=folder` reads it."""
    import yaml

    data = yaml.safe_load((POLICIES / f"{TENANT}.yaml").read_text(encoding="utf-8"))
    for rule in changes.pop("drop", ()):
        del data["rules"][rule]
    data.update(changes)
    (folder / f"{TENANT}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return folder


def events_of(decision: dict[str, Any]) -> list[Any]:
    """The events a decision document staged in its outbox, decoded."""
    from hnth_contracts import decode_event

    return [decode_event(entry["value"]) for entry in decision.get("_outbox", [])]


KEYS = TEST_KEYS  # registration signs with these; the services verify


def settings_for(infra: Any, unique: str, **extra: Any) -> Any:
    """Settings of an in-process scheduling service on the test's own topics and database."""
    from scheduling.app import SchedulingSettings

    fields: dict[str, Any] = {
        "kafka_bootstrap_servers": infra.bootstrap_servers,
        "mongodb_url": infra.mongodb_url,
        "database": f"scheduling_{unique}",
        "topic_prefix": f"t{unique}.",
        "auth_jwks": TEST_JWKS,
        "outbox_poll_seconds": 0.1,
        "timer_poll_seconds": 0.2,
    }
    return SchedulingSettings(**{**fields, **extra})


async def publish(producer: Any, topics: Any, *events: Any, scattered: bool = False) -> None:
    """Publish events as any producer on the network would (keyed like the contracts say).
    `scattered`: keyed by meeting instead, so one province's requests reach every replica
    at once, as they would an owner and its successor around a rebalance (the claims keep
    the calendar whole, not the ownership)."""
    from hnth_contracts import key_of
    from hnth_kit.kafka import OutMessage

    def key(event: Any) -> bytes:
        return event.meeting_id.encode() if scattered else key_of(event)

    await producer.send(
        [OutMessage(topic=topics.of(e), key=key(e), value=e.to_json()) for e in events]
    )


async def all_ids(db: Any, name: str) -> set[str]:
    """Every `_id` in all day partitions of `name` (claims or releases)."""
    ids: set[str] = set()
    for collection in await db.list_collection_names():
        if collection.startswith(f"{name}_"):
            ids |= {d["_id"] async for d in db[collection].find({}, {"_id": 1})}
    return ids
