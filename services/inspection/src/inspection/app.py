"""Composition root: settings -> store, broker, handlers, timers, HTTP app."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from hnth_contracts import CheckCompleted, ReportSubmitted
from hnth_kit.clock import Clock
from hnth_kit.errors import problem
from hnth_kit.service import Outputs, Service
from hnth_kit.settings import ServiceSettings
from inspection.api import build_router
from inspection.api_feedback import build_feedback_router
from inspection.api_tasks import build_tasks_router
from inspection.handlers import build_handlers
from inspection.store import OUTBOX_COLLECTIONS, InspectionStore
from inspection.workflows import MISSED, Inspection, Rejected


class InspectionSettings(ServiceSettings):
    service_name: str = "inspection"
    http_port: int = 8004


async def _rejected(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Rejected)
    if exc.status == 422:
        english = request.headers.get("accept-language", "").lower().startswith("en")
        error = {"field": exc.field, "rule": exc.code, "source": "HNTH Ops"}
        error["message"] = exc.en if english else exc.vi
        return JSONResponse({"errors": [error]}, status_code=422)
    return JSONResponse(
        {"detail": problem(request, exc.code, exc.vi, exc.en)}, status_code=exc.status
    )


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
    inspection = Inspection(store, service.timers, service.clock, service.policy_for)
    service.on_startup(store.setup)
    service.handle(build_handlers(inspection))
    service.on_timer({MISSED: inspection.fire_missed})
    service.include(build_router(inspection, service.auth))
    service.include(build_tasks_router(inspection, service.auth))
    service.include(build_feedback_router(inspection, service.auth))
    service.api.add_exception_handler(Rejected, _rejected)
    return service
