"""Composition root: settings -> store, broker, handlers, HTTP app."""

from __future__ import annotations

from hnth_contracts import CheckCompleted
from hnth_kit.service import Outputs, Service
from hnth_kit.settings import ServiceSettings
from inspection.api import build_router
from inspection.handlers import build_handlers
from inspection.store import CHECKLISTS, InspectionStore


class InspectionSettings(ServiceSettings):
    service_name: str = "inspection"
    http_port: int = 8004


def build(settings: InspectionSettings | None = None) -> Service:
    settings = settings or InspectionSettings()  # type: ignore[call-arg]
    topics = settings.topics
    service = Service(
        settings,
        title="HNTH Ops: kiểm tra / inspection",
        description="Kiểm tra sẵn sàng điểm cầu, kiểm tra định kỳ, báo cáo năm / readiness",
        inputs=[topics.slots, topics.reports],
        outputs=Outputs({topics.checks: (CheckCompleted,)}),
        outbox_collections=[CHECKLISTS],
    )
    store = InspectionStore(service.db)
    service.on_startup(store.setup)
    service.handle(build_handlers(store, service.clock))
    service.include(build_router(store, service.auth))
    return service
