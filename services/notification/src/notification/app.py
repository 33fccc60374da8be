"""Composition root: settings -> store, broker, handlers, HTTP app."""

from __future__ import annotations

from hnth_kit.service import Outputs, Service
from hnth_kit.settings import ServiceSettings
from notification.api import build_router
from notification.handlers import build_handlers
from notification.store import NotificationStore


class NotificationSettings(ServiceSettings):
    service_name: str = "notification"
    http_port: int = 8003
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025


def build(settings: NotificationSettings | None = None) -> Service:
    settings = settings or NotificationSettings()  # type: ignore[call-arg]
    topics = settings.topics
    service = Service(
        settings,
        title="HNTH Ops: thông báo / notification",
        description="Thông báo bằng văn bản cho các bên / written notices to every party",
        inputs=[topics.slots, topics.checks, topics.reports],
        outputs=Outputs(),
        outbox_collections=[],
    )
    store = NotificationStore(service.db)
    service.on_startup(store.setup)
    service.handle(build_handlers(store))
    service.include(build_router(store, service.auth))
    return service
