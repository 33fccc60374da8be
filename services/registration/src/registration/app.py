"""Composition root: settings -> store, broker, handlers, HTTP app."""

from __future__ import annotations

from hnth_contracts import MeetingCancelled, MeetingChanged, MeetingRequested
from hnth_kit.service import Outputs, Service
from hnth_kit.settings import ServiceSettings
from registration.api import build_router
from registration.handlers import build_handlers
from registration.store import MEETINGS, RegistrationStore


class RegistrationSettings(ServiceSettings):
    service_name: str = "registration"
    http_port: int = 8001


def build(settings: RegistrationSettings | None = None) -> Service:
    settings = settings or RegistrationSettings()  # type: ignore[call-arg]
    topics = settings.topics

    service = Service(
        settings,
        title="HNTH Ops: đăng ký / registration",
        description="Đăng ký sử dụng hệ thống HNTH / registers meetings on the network",
        inputs=[topics.slots, topics.checks],
        outputs=Outputs({topics.meetings: (MeetingRequested, MeetingChanged, MeetingCancelled)}),
        outbox_collections=[MEETINGS],
    )
    store = RegistrationStore(service.db, topics)
    service.on_startup(store.setup)
    service.handle(build_handlers(store))
    service.include(
        build_router(store, service.policy_for, service.clock, service.auth, service.relay.wake)
    )
    return service
