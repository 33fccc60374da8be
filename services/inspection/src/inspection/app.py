"""Composition root: settings -> store, broker, handlers, timers, HTTP app."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from prometheus_client import Gauge
from pydantic import Field

from hnth_contracts import CheckCompleted, ReportSubmitted
from hnth_kit import batch_reads
from hnth_kit.clock import Clock
from hnth_kit.service import Outputs, Service
from hnth_kit.settings import CpuNice, ServiceSettings
from hnth_kit.tenants import REFERENCES, CodeFields
from inspection.handlers import READ_MEETINGS, build_handlers
from inspection.http import checks, feedback, incidents, inspections, reports
from inspection.store import OUTBOX_COLLECTIONS, InspectionStore
from inspection.usecases import MISSED, PARKED, Inspection


class InspectionSettings(ServiceSettings):
    service_name: str = "inspection"
    cpu_nice: CpuNice = 10
    """Its work can wait seconds (checklists open hours ahead): on a busy machine it yields
    the cores to scheduling's decisions (`bench/results/2026-12-05-e2e-rate50-nice*`)."""
    consume_fetch_min_bytes: int = Field(default=32 * 1024, ge=1)
    """Its fetches gather events for up to the fetch wait (100 ms) rather than answer
    with the first: fewer, bigger batches on a busy machine."""
    http_port: int = 8004
    park_grace_seconds: float = Field(default=600.0, gt=0)
    """How long a probe's result for a meeting not known yet waits for its SlotAssigned
    (another topic, may come later) before it is dead-lettered
    (`HNTH_PARK_GRACE_SECONDS`)."""
    notice_figures_seconds: float = Field(default=600.0, ge=0)
    """How often a scrape of `/metrics` recomputes rule 2's figures at most
    (`HNTH_NOTICE_FIGURES_SECONDS`): they are read from every notice fact of the year, a
    cost that grows with the year's notices (on FerretDB 1.2 s of database time for about
    10,000 facts in the e2e bench, at the cores' expense), so not on every scrape. A
    year's share moves slowly: ten minutes old is fresh enough for a dashboard."""


def build(settings: InspectionSettings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or InspectionSettings()
    topics = settings.topics
    service = Service(
        settings,
        title="HNTH Ops: kiểm tra / inspection",
        description=(
            "Kiểm tra sẵn sàng điểm cầu trước T-1h, kiểm tra định kỳ, sự cố, báo cáo năm / "
            "endpoint readiness, periodic inspections, incidents, the year-end report"
        ),
        inputs=[
            topics.slots,
            topics.meetings,
            topics.checks,
            topics.reports,
            topics.directory,
            topics.notices,
        ],
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
    service.prefetch(batch_reads.by_meeting(READ_MEETINGS, store.prefetch_meetings))
    service.on_timer({MISSED: inspection.fire_missed, PARKED: inspection.fire_parked})
    service.api.state.inspection = inspection
    for resource in (checks, incidents, inspections, reports, feedback):
        service.include(resource.router)
    _notice_gauges(service, inspection, settings.notice_figures_seconds)
    # a merged province's checklists, results, incidents, inspections, reports and
    # directory copy move under the province it joined (`hnth_kit.tenants`)
    service.tenants.moves(
        {
            name: REFERENCES
            for name in (
                "checklists",
                "incidents",
                "inspections",
                "annual_reports",
                "feedback",
                "parked_checks",
                "notice_facts",
                "closings",
                "cancellations",
                "meetings",
                "provincial_reports",
            )
        }
        | {
            # a result is keyed by its checklist's key: the reference moves with it, and
            # its marker (unique) is held aside while copy and original both exist
            "check_results": replace(REFERENCES, ids=("checklist_id",), unique=("marker",)),
            "endpoints": CodeFields(endpoints=("code",), units=("unit",), key="code"),
            "units": CodeFields(units=("code",), key="code"),
        }
    )
    return service


def _notice_gauges(service: Service, inspection: Inspection, every: float) -> None:
    """Rule 2's compliance this year per province, as Prometheus gauges (at a scrape, at
    most once in `every` seconds)."""
    registry = service.metrics.registry
    gauges = {
        "notices_lead_time_compliance": Gauge(
            "hnth_notices_lead_time_compliance",
            "Share of this year's written notices delivered at least the lead time ahead",
            ["tenant"],
            registry=registry,
        ),
        "notices_acknowledged_share": Gauge(
            "hnth_notices_acknowledged_share",
            "Share of this year's written notices their recipients acknowledged",
            ["tenant"],
            registry=registry,
        ),
    }

    async def refresh() -> None:
        for tenant, figures in (await inspection.notice_compliance()).items():
            for key, gauge in gauges.items():
                value = figures[key]
                gauge.labels(tenant=tenant).set(float("nan") if value is None else value)

    service.metrics.refresh_on_scrape("notices", refresh, every)
