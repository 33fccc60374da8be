"""Composition root: settings -> store, broker, handlers, HTTP app."""

from __future__ import annotations

import asyncio
import functools
import re
from pathlib import Path

from pydantic import Field
from starlette.types import ASGIApp, Receive, Scope, Send

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
from hnth_kit.http import MAX_BODY_BYTES, BodyLimit
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
    """The materials upload's limit (multipart): room for the policies' largest
    `materials.max_bytes` (20 MiB) and the form around it. Only that route gets it."""
    max_json_bytes: int = Field(default=MAX_BODY_BYTES, ge=1024)
    """Every other route (JSON bodies): the kit's small limit."""


UPLOAD = re.compile(r"^/meetings/[^/]+/materials/?$")


class JsonBodyLimit:
    """ASGI middleware: bodies of every route but the materials upload are held to
    `max_bytes` (413), so a JSON route never reads megabytes; the upload keeps the
    service-wide limit the kit applies inside."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.limited = BodyLimit(app, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        upload = (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and UPLOAD.match(scope["path"]) is not None
        )
        await (self.app if upload else self.limited)(scope, receive, send)


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
    service.api.add_middleware(JsonBodyLimit, max_bytes=settings.max_json_bytes)
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
