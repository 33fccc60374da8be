"""Composition root: settings -> store, use cases, handlers, timers, HTTP app."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from prometheus_client import Gauge
from pydantic import Field

from hnth_contracts import ReportDue, SlotAssigned, SlotHeld, SlotRejected, SlotReleased
from hnth_kit import batch_reads
from hnth_kit.clock import Clock
from hnth_kit.service import Outputs, Service
from hnth_kit.settings import ServiceSettings
from hnth_kit.tenants import DIRECTORY_COPY, REFERENCES, CodeFields
from scheduling.handlers import READ_MEETINGS, build_handlers, timer_handlers
from scheduling.http import availability
from scheduling.store import DECISIONS, SchedulingStore
from scheduling.usecases import Scheduling

log = logging.getLogger(__name__)


class SchedulingSettings(ServiceSettings):
    service_name: str = "scheduling"
    http_port: int = 8002
    alternative_reads: int = 2000
    """Database reads one rejection may spend looking for alternative windows."""
    claim_days_kept: int = Field(default=7, ge=1)
    """Past UTC days whose claim and release partitions stay; older ones are dropped."""
    retire_days_every_seconds: float = Field(default=3600, gt=0)


def build(settings: SchedulingSettings | None = None, *, clock: Clock | None = None) -> Service:
    settings = settings or SchedulingSettings()  # type: ignore[call-arg]
    topics = settings.topics

    service = Service(
        settings,
        title="HNTH Ops: xếp lịch / scheduling",
        description="Xếp lịch họp trên cầu truyền hình, hạn báo cáo / arranges meetings on "
        "the bridge and keeps the calendar of reports",
        inputs=[topics.meetings, topics.directory],
        outputs=Outputs(
            {
                topics.slots: (SlotAssigned, SlotRejected, SlotReleased, SlotHeld),
                topics.reports: (ReportDue,),
            }
        ),
        outbox_collections=[DECISIONS],
        timers=True,
        clock=clock,
    )
    store = SchedulingStore(service.db, topics)
    scheduling = Scheduling(
        store,
        service.policy_for,
        service.clock,
        service.timers,
        alternative_reads=settings.alternative_reads,
    )
    service.handle(build_handlers(scheduling))
    service.prefetch(batch_reads.by_meeting(READ_MEETINGS, store.prefetch_histories))
    service.on_timer(timer_handlers(scheduling))
    # what benches and tests reach the service through (and routes would, from app.state)
    service.api.state.store = store
    service.api.state.scheduling = scheduling
    service.include(availability.router)
    parked = Gauge(
        "hnth_scheduling_parked_requests",
        "Requests waiting for endpoints the directory has not named yet (at scrape time)",
        registry=service.metrics.registry,
    )

    async def refresh_parked() -> None:
        parked.set(await store.parked_count())

    service.metrics.refresh_on_scrape("parked", refresh_parked)

    async def retire_past_days() -> None:
        """Every replica, at start and then periodically: dropping is idempotent."""
        while True:
            kept_from = (service.clock.now() - timedelta(days=settings.claim_days_kept)).date()
            try:
                if retired := await store.retire_days(kept_from):
                    log.info("retired %d past day partitions, up to %s", len(retired), retired[-1])
            except Exception:
                log.exception("retiring past day partitions failed; trying again later")
            await asyncio.sleep(settings.retire_days_every_seconds)

    service.background("retire-days", retire_past_days)
    # a merged province's meetings, decisions, directory copy and reservations move under
    # the province it joined (`hnth_kit.tenants`); claims and releases are kept per day
    service.tenants.moves(
        {
            "meetings": CodeFields(),
            "decisions": REFERENCES,
            "directory": DIRECTORY_COPY,
            "parked": REFERENCES,
            "claims_*": REFERENCES,
            "releases_*": REFERENCES,
        }
    )
    return service
