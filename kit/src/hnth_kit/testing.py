"""Helpers for tests against the real broker and database (used by every service's tests)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

from hnth_kit.auth import Principal, SigningKeys, issue_token, public_key_set, verify_token
from hnth_kit.consumer import RawMessage
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.kafka_access import KafkaAccess, access_of

T = TypeVar("T")

TEST_KEYS = SigningKeys.generate()
"""Signing keys made for this test run: what registration would hold."""
TEST_JWKS = json.dumps(TEST_KEYS.public())
"""Their public half, as the other services' `auth_jwks` setting."""
TEST_SIGNING_KEYS = json.dumps(TEST_KEYS.private())
"""The private set, as registration's `signing_keys` setting."""


def read_token(token: str) -> Principal:
    """The principal of a token the test keys signed (InvalidToken otherwise)."""
    return verify_token(public_key_set(TEST_KEYS.public()), token)


def write_test_keys(folder: Path) -> Path:
    """The test keys as a signing keys file (what `HNTH_SIGNING_KEYS_FILE` names)."""
    path = folder / "signing-keys.json"
    path.write_text(TEST_SIGNING_KEYS, encoding="utf-8")
    return path


def signed_token(**claims: Any) -> str:
    """A token signed with the test keys, valid for a whole test run (a person's lasts
    15 minutes; a module's token is made when pytest collects it)."""
    claims.setdefault("ttl", timedelta(hours=12))
    return issue_token(TEST_KEYS, **claims)


async def read_topic(
    bootstrap_servers: KafkaAccess | str,
    topic: str,
    *,
    expect: int | None = None,
    timeout: float = 20.0,
    read_on: float = 0.0,
    until: Callable[[list[RawMessage]], bool] | None = None,
) -> list[RawMessage]:
    """Read a topic from the beginning until `expect` messages arrived (or what was read
    so far satisfies `until`, on a topic other tests write to as well) or `timeout` passed;
    with `read_on`, keep reading that long after the `expect`th (stopping at one more)."""
    if (expect is None) == (until is None):
        raise TypeError("read_topic needs exactly one of `expect` and `until`")
    consumer = AIOKafkaConsumer(
        **access_of(bootstrap_servers).aiokafka(),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic, timeout)
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        await consumer.seek_to_beginning()
        found: list[RawMessage] = []
        deadline = time.monotonic() + timeout
        reading_on_until: float | None = None
        while True:
            now = time.monotonic()
            if until is not None:
                if until(found) or now >= deadline:
                    break
            elif expect is not None:
                if reading_on_until is None and len(found) >= expect:
                    reading_on_until = now + read_on
                if len(found) > expect or now >= (reading_on_until or deadline):
                    break
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                found.extend(
                    RawMessage(
                        topic=r.topic,
                        partition=r.partition,
                        offset=r.offset,
                        key=r.key,
                        value=r.value or b"",
                        headers=tuple(r.headers),
                        timestamp_ms=r.timestamp,
                    )
                    for r in records
                )
        return found
    finally:
        await consumer.stop()


async def read_exactly(
    bootstrap_servers: KafkaAccess | str,
    topic: str,
    count: int,
    *,
    timeout: float = 30.0,
    read_on: float = 3.0,
) -> list[RawMessage]:
    """The topic's `count` messages (waiting up to `timeout`: a busy machine is slow to
    start a consumer), after reading on for `read_on` seconds and failing if one more
    comes (a duplicate, an event for something closed)."""
    found = await read_topic(
        bootstrap_servers, topic, expect=count, timeout=timeout, read_on=read_on
    )
    assert len(found) >= count, f"only {len(found)} of the {count} messages seen on {topic}"
    assert len(found) == count, f"{len(found) - count} more than the {count} expected on {topic}"
    return found


async def _partitions(consumer: AIOKafkaConsumer, topic: str, timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return set(partitions)
        await consumer._client.force_metadata_update()  # the topic may be brand new
        await asyncio.sleep(0.2)
    raise TimeoutError(f"topic {topic} never appeared")


async def eventually(
    probe: Callable[[], Awaitable[T]], *, until: Callable[[T], bool], timeout: float = 60.0
) -> T:
    """Poll `probe` until its value satisfies `until`; returns the last value or raises."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(0.1)


def headers_of(message: RawMessage) -> dict[str, str]:
    return {k: v.decode() for k, v in message.headers}


# ---------------------------------------------------------------- a real SMTP server


class Inbox:
    """aiosmtpd handler: keeps what it accepts; can refuse everything for a while (451)
    or some mailboxes for good (550)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusing = False
        self.refused = 0
        self.unknown: set[str] = set()
        self.peers: set[tuple[str, int]] = set()
        """The client ends that delivered mail: one per connection."""

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
        self.peers.add(tuple(session.peer))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def about(self, address: str, uid: str) -> list[EmailMessage]:
        """The mails to `address` about one meeting: a part carries its calendar `uid`
        (the address may get other meetings' mail, from other tests too)."""
        wanted = uid.encode()
        return [
            m
            for m in self.to(address)
            if any(wanted in (part.get_payload(decode=True) or b"") for part in m.walk())
        ]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller  # a test-only dependency

        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()
            self._controller = None


# ---------------------------------------------------------------- a real webhook receiver


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


async def start_webhook_receiver() -> tuple[WebhookReceiver, asyncio.Server]:
    """A webhook receiver listening on a free port of 127.0.0.1 (close the server after)."""
    receiver = WebhookReceiver()
    server = await asyncio.start_server(receiver._serve, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    return receiver, server


async def read_all(
    bootstrap_servers: KafkaAccess | str, topics: list[str], *, timeout: float = 10.0
) -> list[Any]:
    """Everything currently in `topics`, from the beginning to their end offsets (records with
    topic, partition, offset, key, value, headers)."""
    from hnth_kit.dlq import read_dead_letters  # reads any topic, not only dead letters

    return await read_dead_letters(bootstrap_servers, topics, timeout=timeout)


async def send_one(
    kafka: KafkaAccess | str, topic: str, value: bytes = b"{}", *, timeout: float = 60.0
) -> None:
    """Publish one message as `kafka`'s principal, raising what the broker answers (a
    refused sign-in: KafkaConnectionError; a topic not allowed: TopicAuthorizationFailed)."""
    producer = Producer(kafka, client_id="test-sender")
    await producer.start()
    try:
        await asyncio.wait_for(producer.send([OutMessage(topic, b"k", value)]), timeout)
    finally:
        await producer.stop()


async def stop_relay(service: Any) -> None:
    """Stop a running service's outbox relay and wait until it has stopped, so nothing the
    test writes afterwards is published by this process (a crash right after a write).

    Cancelling, not patching `drain`: a pass already under way would still publish."""
    relay = service.task("relay")
    if relay is None:
        return
    relay.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await relay
