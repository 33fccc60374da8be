"""Composition root: settings -> store, broker, handlers, HTTP app."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from hnth_contracts import (
    ContactsUpdated,
    EndpointUpdated,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    ReportSubmitted,
    UnitUpdated,
)
from hnth_kit.clock import Clock
from hnth_kit.service import Outputs, Service
from hnth_kit.settings import REPO_ROOT, ServiceSettings
from registration.api import build_router
from registration.directory import load_if_empty, read_directories
from registration.directory_api import build_directory_router
from registration.handlers import build_handlers
from registration.materials_api import build_materials_router
from registration.migrations import tenant_keys
from registration.store import (
    DIRECTORY,
    MATERIALS,
    MEETINGS,
    RECORDS,
    MaterialsStore,
    RegistrationStore,
)


class RegistrationSettings(ServiceSettings):
    service_name: str = "registration"
    http_port: int = 8001
    directory_dir: Path = REPO_ROOT / "data"
    """Province directory files (`<tenant>.yaml`), loaded when a province has none yet."""
    max_body_bytes: int = 21 * 1024 * 1024
    """Meeting materials come in multipart uploads: room for the policies' largest
    `materials.max_bytes` (20 MiB) and the form around it; JSON bodies stay bounded by
    their fields' own limits."""


def build(settings: RegistrationSettings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or RegistrationSettings()  # type: ignore[call-arg]
    topics = settings.topics

    service = Service(
        settings,
        title="HNTH Ops: đăng ký / registration",
        description=(
            "Đăng ký sử dụng hệ thống HNTH, danh bạ điểm cầu / "
            "registers meetings on the network; the province's directory"
        ),
        inputs=[topics.meetings, topics.slots, topics.checks, topics.reports],
        outputs=Outputs(
            {
                topics.meetings: (MeetingRequested, MeetingChanged, MeetingCancelled),
                topics.directory: (UnitUpdated, EndpointUpdated, ContactsUpdated),
                topics.reports: (ReportSubmitted,),
            }
        ),
        outbox_collections=[MEETINGS, *DIRECTORY, RECORDS, MATERIALS],
        clock=clock,
    )
    store = RegistrationStore(service.db, topics)
    materials = MaterialsStore(service.db, topics)

    async def load_directory() -> None:
        files = await asyncio.to_thread(read_directories, settings.directory_dir)
        await load_if_empty(store, files, service.clock.now())

    service.on_startup(functools.partial(tenant_keys, service.db))  # earlier versions' data
    service.on_startup(store.setup)
    service.on_startup(materials.setup)
    service.on_startup(load_directory)
    service.handle(build_handlers(store, materials, service.clock))
    wake = service.relay.wake
    service.include(build_router(store, service.policy_for, service.clock, service.auth, wake))
    service.include(
        build_directory_router(store, service.policy_for, service.clock, service.auth, wake)
    )
    service.include(
        build_materials_router(
            store, materials, service.policy_for, service.clock, service.auth, wake
        )
    )
    return service
