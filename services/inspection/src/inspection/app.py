"""Composition root: settings -> store, broker, handlers, timers, HTTP app."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import Field

from hnth_contracts import CheckCompleted, ReportSubmitted
from hnth_kit.clock import Clock
from hnth_kit.errors import problem, wants_english
from hnth_kit.service import Outputs, Service
from hnth_kit.settings import ServiceSettings
from inspection.api import build_router
from inspection.api_feedback import build_feedback_router
from inspection.api_tasks import build_tasks_router
from inspection.handlers import build_handlers
from inspection.store import OUTBOX_COLLECTIONS, InspectionStore
from inspection.workflows import MISSED, PARKED, Inspection, Rejected


class InspectionSettings(ServiceSettings):
    service_name: str = "inspection"
    http_port: int = 8004
    park_grace_seconds: float = Field(default=600.0, gt=0)
    """How long a probe's result for a meeting not known yet waits for its SlotAssigned
    (another topic, may come later) before it is dead-lettered
    (`HNTH_PARK_GRACE_SECONDS`)."""


async def _rejected(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Rejected)
    if exc.status == 422:
        error = {"field": exc.field, "rule": exc.code, "source": exc.source}
        error["message"] = exc.en if wants_english(request) else exc.vi
        return JSONResponse({"errors": [error]}, status_code=422)
    return JSONResponse(problem(request, exc.code, exc.vi, exc.en), status_code=exc.status)


def build(settings: InspectionSettings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or InspectionSettings()  # type: ignore[call-arg]
    topics = settings.topics
    service = Service(
        settings,
        title="HNTH Ops: kiểm tra / inspection",
        description=(
            "Kiểm tra sẵn sàng điểm cầu trước T-1h, kiểm tra định kỳ, sự cố, báo cáo năm / "
            "endpoint readiness, periodic inspections, incidents, the year-end report"
        ),
        inputs=[topics.slots, topics.meetings, topics.checks, topics.reports, topics.directory],
        outputs=Outputs({topics.checks: (CheckCompleted,), topics.reports: (ReportSubmitted,)}),
        outbox_collections=list(OUTBOX_COLLECTIONS),
        timers=True,
        clock=clock,
    )
    store = InspectionStore(service.db, topics)
    inspection = Inspection(
        store,
        service.timers,
        service.clock,
        service.policy_for,
        dead_letter=service.consumer.dead_letter,
        park_grace=timedelta(seconds=settings.park_grace_seconds),
    )
    service.on_startup(store.setup)
    service.handle(build_handlers(inspection))
    service.on_timer({MISSED: inspection.fire_missed, PARKED: inspection.fire_parked})
    service.include(build_router(inspection, service.auth))
    service.include(build_tasks_router(inspection, service.auth))
    service.include(build_feedback_router(inspection, service.auth))
    service.api.add_exception_handler(Rejected, _rejected)
    return service
