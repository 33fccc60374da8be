"""Consuming events: decode, dispatch, retry, dead-letter. Written once for every service.

At-least-once: the broker commits a message's offset only after `EventConsumer.process`
returns, and it returns only when the message was handled, deliberately ignored, or
written to its dead-letter topic. Handlers are idempotent (see `idempotency`).

- Undecodable, schema-invalid or unknown-type messages go straight to `<topic>.dlq`.
- A handler raising `Unprocessable` (e.g. an event for an unknown meeting) goes there too.
- Other handler errors are retried `attempts` times, then dead-lettered.
- A message whose `hnth-event-type` header (set by every service's outbox) names a type
  this service has no handler for is ignored without decoding: most events on a topic
  are for another service, and decoding them only to drop them cost as much as handling.
  A malformed one is dead-lettered by the service that handles its type.
- Infrastructure errors (database or broker unreachable) are not the message's fault:
  they are retried with backoff until the infrastructure is back, never dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError

from hnth_contracts import Event, dead_letter, decode_event
from hnth_kit.batch_writes import batch_writes
from hnth_kit.kafka import EVENT_TYPE_HEADER, OutMessage, Producer
from hnth_kit.logs import correlation_id
from hnth_kit.metrics import Metrics

log = logging.getLogger(__name__)

TRANSIENT = (
    ConnectionFailure,
    NetworkTimeout,
    ServerSelectionTimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
)
"""Errors of the infrastructure, not of the message: retried until they pass."""


class Unprocessable(Exception):
    """The message is valid but can never be processed here; it goes to the DLQ."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Outcome(StrEnum):
    HANDLED = "handled"
    IGNORED = "ignored"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class RawMessage:
    """What the broker delivered, before any decoding."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int | None = None
    """The record's timestamp (ms since the epoch): when its producer sent it."""


@dataclass(frozen=True)
class _Read:
    """A message as decoded: an `event` to handle, an `invalid` body, or neither (ignored)."""

    raw: RawMessage
    event_type: str
    event: Event | None = None
    invalid: ValidationError | None = None


Handler = Callable[[Any, RawMessage], Awaitable[None]]


class EventConsumer:
    """Dispatches decoded events to the handler registered for their type."""

    def __init__(
        self,
        service: str,
        producer: Producer,
        handlers: Mapping[type[Event], Handler] | None = None,
        *,
        attempts: int = 3,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        transient_budget: float = 60.0,
        metrics: Metrics | None = None,
    ) -> None:
        self.service = service
        self._producer = producer
        self._handlers: dict[type[Event], Handler] = {}
        self._handled_names: frozenset[str] = frozenset()
        self.register(handlers or {})
        self._attempts = attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._transient_budget = transient_budget
        self.counts: dict[tuple[str, Outcome], int] = {}
        self.metrics = metrics
        self.translate: Callable[[Event], Event] = lambda event: event
        """What an event means now (a merged province's events become the new one's)."""
        self.prefetch: Callable[[Sequence[Event]], Awaitable[None]] | None = None
        """Shown a batch's events before they are handled (`Service.prefetch`)."""
        self.on_invalid: Callable[[RawMessage, ValidationError], Awaitable[None]] | None = None
        """Told of a message that does not decode, before it is dead-lettered
        (`Service.on_invalid`): a sender waiting for an answer can be given one."""

    @property
    def handled_types(self) -> tuple[type[Event], ...]:
        """The event types this service acts on (others are acknowledged and ignored)."""
        return tuple(self._handlers)

    def register(self, handlers: Mapping[type[Event], Handler]) -> None:
        """Add handlers by event type (a service wires them after building its store)."""
        self._handlers.update(handlers)
        self._handled_names = frozenset(_type_name(t) for t in self._handlers)

    async def process(self, raw: RawMessage) -> Outcome:
        """One message alone (see `process_batch`)."""
        (outcome,) = await self.process_batch([raw])
        return outcome

    async def process_batch(
        self,
        raws: Sequence[RawMessage],
        *,
        part_seconds: float | None = None,
        between_parts: Callable[[], Awaitable[None]] | None = None,
    ) -> list[Outcome]:
        """Each message in order, as if alone, the inserts they hold written at the end
        (`batch_writes`). The events to handle are decoded first and shown to `prefetch`,
        so the service reads what they look up once for the batch. Messages are counted
        handled once their writes are in: a count never runs ahead of the database.

        A batch that has run `part_seconds` with messages left ends a part there: its
        writes are made and `between_parts` is awaited (the service publishes the part's
        events) before the next message. A big batch's first decisions then go out in
        tens of milliseconds, not when its last is done (a batch of 90 held its first
        for a second); the reads stay one for the batch."""
        read = [self._read(raw) for raw in raws]
        wanted = [r.event for r in read if r.event is not None]
        if wanted and self.prefetch is not None:
            try:
                await self.prefetch([self.translate(e) for e in wanted])
            except TRANSIENT:
                raise  # as a handler's would: the batch is redelivered once it is back
            except Exception:  # no message may stop the consumer: each then reads alone
                log.exception("prefetch failed for a batch of %d events", len(wanted))
        outcomes: list[Outcome] = []
        left = list(read)
        while left:
            if outcomes and between_parts is not None:
                await between_parts()
            part = await self._process_part(left, part_seconds)
            outcomes += part
            left = left[len(part) :]
        return outcomes

    async def _process_part(self, read: Sequence[_Read], seconds: float | None) -> list[Outcome]:
        """From the first message on, until `seconds` have passed (None: to the end); the
        part's held writes are made before its messages are counted."""
        done: list[tuple[_Read, Outcome, float]] = []
        began = time.perf_counter()
        async with batch_writes():
            for each in read:
                started = time.perf_counter()
                outcome = await self._finish(each)
                done.append((each, outcome, time.perf_counter() - started))
                if seconds is not None and time.perf_counter() - began >= seconds:
                    break
        for each, outcome, seconds_taken in done:
            key = (each.raw.topic, outcome)
            self.counts[key] = self.counts.get(key, 0) + 1
            if self.metrics is not None:
                self.metrics.observe_consumed(
                    each.raw.topic, each.event_type, outcome.value, seconds_taken
                )
        return [outcome for _, outcome, _ in done]

    def _read(self, raw: RawMessage) -> _Read:
        """What the message is: an event to handle, one to ignore, or an undecodable body."""
        declared = _declared_type(raw)
        if declared is not None and declared not in self._handled_names:
            return _Read(raw, declared)
        try:
            event = decode_event(raw.value)
        except ValidationError as exc:
            return _Read(raw, "undecodable", invalid=exc)
        if type(event) not in self._handlers:
            return _Read(raw, event.type)  # a known event this service has no business with
        return _Read(raw, event.type, event=event)

    async def _finish(self, read: _Read) -> Outcome:
        if read.invalid is not None:
            reason, detail = _classify(read.invalid)
            if self.on_invalid is not None:
                try:
                    await self.on_invalid(read.raw, read.invalid)
                except TRANSIENT:
                    raise  # redelivered once the store is back, and told again
                except Exception:  # the letter goes to the dead-letter topic all the same
                    log.exception("on_invalid failed for %s", read.raw.topic)
            await self.dead_letter(read.raw, reason, detail)
            return Outcome.DEAD_LETTERED
        if read.event is None:
            return Outcome.IGNORED
        event = self.translate(read.event)
        token = correlation_id.set(event.correlation_id)
        try:
            return await self._handle(self._handlers[type(read.event)], event, read.raw)
        finally:
            correlation_id.reset(token)

    async def _handle(self, handler: Handler, event: Event, raw: RawMessage) -> Outcome:
        failures = 0
        delay = self._backoff
        waited = 0.0
        while True:
            try:
                await handler(event, raw)
                return Outcome.HANDLED
            except Unprocessable as exc:
                await self.dead_letter(raw, exc.reason, str(exc))
                return Outcome.DEAD_LETTERED
            except TRANSIENT as exc:
                log.warning("infrastructure unavailable (%s); retrying %s", exc, event.type)
                if waited > self._transient_budget:
                    raise  # the broker seeks back and redelivers; the poll loop stays alive
            except Exception as exc:
                failures += 1
                log.exception("handler for %s failed (%d/%d)", event.type, failures, self._attempts)
                if failures >= self._attempts:
                    await self.dead_letter(raw, "handler_failed", f"{type(exc).__name__}: {exc}")
                    return Outcome.DEAD_LETTERED
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def dead_letter(self, raw: RawMessage, reason: str, detail: str) -> None:
        """Write a message to its topic's DLQ with the reason and where it came from; also
        for a message a service parked and later gave up on."""
        log.warning("dead-lettering %s@%d/%d: %s", raw.topic, raw.partition, raw.offset, reason)
        if self.metrics is not None:
            self.metrics.dead_lettered.labels(raw.topic, reason).inc()
        headers = (
            ("hnth-dlq-reason", reason),
            ("hnth-dlq-error", detail[:2000]),
            ("hnth-dlq-service", self.service),
            ("hnth-dlq-at", datetime.now(UTC).isoformat()),
            ("hnth-original-topic", raw.topic),
            ("hnth-original-partition", str(raw.partition)),
            ("hnth-original-offset", str(raw.offset)),
        )
        message = OutMessage(
            topic=dead_letter(raw.topic), key=raw.key or b"", value=raw.value, headers=headers
        )
        delay = self._backoff
        while True:  # losing a poison message is not an option: wait for the broker
            try:
                await self._producer.send([message])
                return
            except TRANSIENT as exc:
                log.warning("cannot reach the DLQ (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)


def _type_name(event_type: type[Event]) -> str:
    """The `type` an event model carries (its discriminator's default)."""
    return str(event_type.model_fields["type"].default)


def _declared_type(raw: RawMessage) -> str | None:
    """The event type the producer declared in the header, if any (and readable)."""
    for name, value in raw.headers:
        if name == EVENT_TYPE_HEADER:
            try:
                return value.decode()
            except UnicodeDecodeError:
                return None
    return None


def _classify(exc: ValidationError) -> tuple[str, str]:
    """Why a body did not decode: invalid JSON, unknown event type, or a schema violation."""
    errors = exc.errors(include_url=False)
    kinds = {e["type"] for e in errors}
    if "json_invalid" in kinds or "json_type" in kinds:
        return "invalid_json", str(errors[0]["msg"])
    if kinds & {"union_tag_invalid", "union_tag_not_found"}:
        return "unknown_type", str(errors[0]["msg"])
    detail = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'][1:]) or '(body)'}: {e['msg']}" for e in errors[:10]
    )
    return "invalid_schema", detail
