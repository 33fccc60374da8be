"""Fixtures for notification's tests: a real SMTP server (aiosmtpd), a real webhook
receiver, the service itself (one or more replicas) on the real broker and database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from notification_samples import WEBHOOK_SECRET

from hnth_contracts import Event, Topics, key_of
from hnth_kit.clock import Clock
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.mongo import Document, connect
from hnth_kit.ports import free_port
from hnth_kit.service import Service
from hnth_kit.testing import (
    TEST_JWKS,
    SmtpServer,
    WebhookReceiver,
    eventually,
    start_webhook_receiver,
)
from infra.stack import SmppServer, start_smpp_server
from notification.app import NotificationSettings, build
from notification.store import NotificationStore


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smpp(tmp_path) -> Iterator[SmppServer]:
    """A real SMPP server (infra/smpp: go-smpp's smpptest) recording what it receives."""
    server = start_smpp_server(tmp_path / "smpp")
    yield server
    server.stop()


@pytest.fixture
async def webhook() -> AsyncIterator[WebhookReceiver]:
    receiver, server = await start_webhook_receiver()
    yield receiver
    server.close()


# ---------------------------------------------------------------- the service


@dataclass
class Harness:
    topics: Topics
    producer: Producer
    replicas: list[Service]
    http: httpx.AsyncClient

    @property
    def service(self) -> Service:
        return self.replicas[0]

    @property
    def db(self) -> Any:
        return self.service.db

    async def publish(self, *events: Event) -> None:
        await self.producer.send(
            [
                OutMessage(
                    topic=self.topics.of(e),
                    key=key_of(e),
                    value=e.to_json(),
                    headers=(("hnth-event-type", e.type),),
                )
                for e in events
            ]
        )

    async def publish_directory(self, entries: Sequence[Event]) -> None:
        """Publish directory snapshots and wait until this service keeps them all."""
        await self.publish(*entries)
        await eventually(
            lambda: self.db["directory"].count_documents({}), until=lambda n: n >= len(entries)
        )

    async def notices(self, meeting_id: str) -> list[Document]:
        """The meeting's notices as they stand (a finished one's state is its outcome's)."""
        found = await self.db["notices"].find({"meeting_id": meeting_id}).to_list()
        return await NotificationStore(self.db).as_they_stand(found)

    async def all_notices(self) -> list[Document]:
        found = await self.db["notices"].find({}).to_list()
        return await NotificationStore(self.db).as_they_stand(found)

    async def fire_timers(self) -> int:
        """One timer pass of our own at the clock's time, run to its end: what it did not
        fire was not due (an observation after a pass, not a guess after a sleep)."""
        return await self.service.fire_due_timers()


StartReplicas = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def notification(infra, unique) -> AsyncIterator[StartReplicas]:
    """`await notification(replicas=1, clock=None, **settings)` starts the service."""
    started: list[Service] = []
    producers: list[Producer] = []
    clients: list[httpx.AsyncClient] = []

    async def start(
        replicas: int = 1,
        clock: Clock | None = None,
        separate_groups: bool = False,
        **overrides: Any,
    ) -> Harness:
        values: dict[str, Any] = {
            "kafka_bootstrap_servers": infra.bootstrap_servers,
            "mongodb_url": infra.mongodb_url,
            "topic_prefix": f"t{unique}.",
            "database": f"notification_{unique}",
            "auth_jwks": TEST_JWKS,
            "link_secret": "notification-test-link-secret-0123456789",
            "outbox_poll_seconds": 0.1,
            "timer_poll_seconds": 0.1,
            "delivery_poll_seconds": 0.1,
            "delivery_backoff_seconds": 0.2,
            "delivery_max_backoff_seconds": 0.5,
            # a slow reply on a loaded machine is not a failure: its retry would send twice
            "smtp_timeout_seconds": 30.0,
            "delivery_lease_seconds": 120.0,  # longer than a group's 3 rounds of 30 s
            "webhook_secret": WEBHOOK_SECRET,
            **overrides,
        }
        services = []
        for n in range(replicas):
            group = {"consumer_group": f"notification-{unique}-{n}"} if separate_groups else {}
            service = build(NotificationSettings(**values, **group), clock=clock)
            await service.start()
            started.append(service)
            services.append(service)
        producer = Producer(infra.bootstrap_servers, client_id="notification-test")
        await producer.start()
        producers.append(producer)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=services[0].api), base_url="http://notification"
        )
        clients.append(http)
        return Harness(Topics(prefix=f"t{unique}."), producer, services, http)

    yield start
    for client in clients:
        await client.aclose()
    for producer in producers:
        await producer.stop()
    # stop every replica before dropping: FerretDB's SQLite backend deletes the database's
    # file, and a poller still reading it can crash the server (SIGBUS on the WAL index)
    for service in started:
        await service.stop()
    if started:
        client = connect(infra.mongodb_url)
        await client.drop_database(f"notification_{unique}")
        await client.close()
