"""The Kafka producer every service shares: idempotent, `acks=all`, ordered per key."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer

from hnth_kit.kafka_access import KafkaAccess, access_of

EVENT_TYPE_HEADER = "hnth-event-type"
"""The header naming a published event's type: consumers skip other services' events by it."""


@dataclass(frozen=True)
class OutMessage:
    """One message to publish: topic, key and body bytes, optional string headers."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, str], ...] = field(default=())


class Producer:
    """An idempotent producer (`enable_idempotence`, `acks=all`).

    Messages sent in one `send` call to the same partition keep their order; `send`
    returns only once the broker has acknowledged all of them.
    """

    def __init__(self, kafka: KafkaAccess | str, client_id: str) -> None:
        self._kafka = access_of(kafka)
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Connect (aiokafka needs a running loop, so nothing happens at construction)."""
        self._producer = AIOKafkaProducer(
            **self._kafka.aiokafka(),
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            request_timeout_ms=15000,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    @property
    def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise ConnectionError("the Kafka producer is not started")
        return self._producer

    async def ping(self) -> None:
        """Raise unless the cluster answers a metadata request."""
        ok = await self._started.client.fetch_all_metadata()
        if ok is None:
            raise ConnectionError("Kafka metadata request failed")

    async def send(self, messages: Sequence[OutMessage]) -> None:
        futures = [
            await self._started.send(
                m.topic,
                value=m.value,
                key=m.key,
                headers=[(k, v.encode()) for k, v in m.headers],
            )
            for m in messages
        ]
        await asyncio.gather(*futures)
