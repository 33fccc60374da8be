"""Fixtures for notification's tests: a real SMTP server (aiosmtpd), a real webhook
receiver, the service itself (one or more replicas) on the real broker and database."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from notification_samples import SECRET, WEBHOOK_SECRET

from hnth_contracts import Event, Topics, key_of
from hnth_kit.clock import Clock
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.mongo import Document
from hnth_kit.service import Service
from hnth_kit.testing import eventually
from infra.stack import free_port
from notification.app import NotificationSettings, build

# ---------------------------------------------------------------- SMTP


class Inbox:
    """aiosmtpd handler: keeps what it accepts; can refuse everything for a while (451)
    or some mailboxes for good (550)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusing = False
        self.refused = 0
        self.unknown: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.unknown:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusing:
            self.refused += 1
            return "451 4.3.0 Try again later"
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


# ---------------------------------------------------------------- webhooks


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """A minimal HTTP/1.1 server: records each POST and answers the next status in line."""

    port: int = 0
    received: list[Delivery] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/hnth"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")[1:]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = self.statuses.pop(0) if self.statuses else 200
                if status == 200:
                    self.received.append(Delivery(headers, body))
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode("latin-1"))
                await writer.drain()
        writer.close()


@pytest.fixture
async def webhook() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    server = await asyncio.start_server(receiver._serve, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
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
        cursor = self.db["notices"].find({"meeting_id": meeting_id})
        return [n async for n in cursor]

    async def all_notices(self) -> list[Document]:
        return [n async for n in self.db["notices"].find({})]


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
            "auth_secret": SECRET,
            "outbox_poll_seconds": 0.1,
            "timer_poll_seconds": 0.1,
            "delivery_poll_seconds": 0.1,
            "delivery_backoff_seconds": 0.2,
            "delivery_max_backoff_seconds": 0.5,
            "smtp_timeout_seconds": 3.0,
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
    if started:
        await started[0].client.drop_database(f"notification_{unique}")
    for service in started:
        await service.stop()
