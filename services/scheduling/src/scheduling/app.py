"""Composition root: settings -> store, broker, handlers, HTTP app."""

from __future__ import annotations

from hnth_contracts import SlotAssigned, SlotRejected, SlotReleased
from hnth_kit.service import Outputs, Service
from hnth_kit.settings import ServiceSettings
from scheduling.handlers import build_handlers
from scheduling.store import DECISIONS, SchedulingStore


class SchedulingSettings(ServiceSettings):
    service_name: str = "scheduling"
    http_port: int = 8002


def build(settings: SchedulingSettings | None = None) -> Service:
    settings = settings or SchedulingSettings()  # type: ignore[call-arg]
    topics = settings.topics

    service = Service(
        settings,
        title="HNTH Ops: xếp lịch / scheduling",
        description="Xếp lịch họp trên cầu truyền hình / arranges meetings on the bridge",
        inputs=[topics.meetings],
        outputs=Outputs({topics.slots: (SlotAssigned, SlotRejected, SlotReleased)}),
        outbox_collections=[DECISIONS],
    )
    store = SchedulingStore(service.db, topics)
    service.handle(build_handlers(store, service.policy_for, service.clock))
    return service
