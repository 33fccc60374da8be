"""The runtime every service is built on: one place that wires broker, database,
outbox relay, timers, consumer and HTTP app from settings. Nothing connects at import.

A service's `app.py` creates a `Service` with its handlers, outbox collections, timer
handlers and HTTP routers; `__main__` serves `service.api` with uvicorn, whose lifespan
starts and stops everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypedDict

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import TopicAuthorizationFailedError
from fastapi import APIRouter, Depends, FastAPI
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage, Topic
from faststream.message import AckStatus, StreamMessage
from faststream.specification import AsyncAPI
from pydantic import ValidationError
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from hnth_contracts import Event, TenantMerged, TenantRenamed, TokensRevoked
from hnth_contracts.policy import Policy, load_policy
from hnth_kit.auth import Authenticator, PublicKeys, RemoteKeys, Role, StaticKeys, only
from hnth_kit.batch_reads import batch_reads, forget_all
from hnth_kit.batch_writes import flush_in_batch
from hnth_kit.clock import Clock, SystemClock
from hnth_kit.commits import Commits
from hnth_kit.consumer import EventConsumer, Handler, RawMessage
from hnth_kit.docs import serve_docs
from hnth_kit.health import health_router
from hnth_kit.http import install_http_guards, refuse_unknown_query
from hnth_kit.kafka import Producer
from hnth_kit.kafka_accounts import Grants, service_grants
from hnth_kit.metrics import DbCommandTimer, Metrics
from hnth_kit.mongo import Document, connect, ping
from hnth_kit.outbox import OutboxRelay, Staging, hand_over, in_staging, published, staging
from hnth_kit.revocation import RevocationList
from hnth_kit.settings import ServiceSettings
from hnth_kit.tenants import TenantMover
from hnth_kit.timers import FIRED, TimerHandler, Timers
from hnth_kit.topics_admin import ensure_topics

log = logging.getLogger(__name__)


def _public_keys(settings: ServiceSettings) -> PublicKeys:
    """Inline keys when given (tests, offline installs), else registration's JWKS URL."""
    if settings.auth_jwks is not None:
        return StaticKeys(json.loads(settings.auth_jwks))
    if settings.auth_jwks_url is None:
        raise ValueError("set HNTH_AUTH_JWKS_URL (registration's /.well-known/jwks.json)")
    return RemoteKeys(settings.auth_jwks_url)


class ConsumerOptions(TypedDict):
    """How the service's consumer polls and fetches (FastStream's subscriber keywords)."""

    max_records: int
    batch_timeout_ms: int
    fetch_max_wait_ms: int
    fetch_min_bytes: int


def consumer_options(settings: ServiceSettings, *, prompt: bool = False) -> ConsumerOptions:
    """The settings' options; a `prompt` consumer's fetches answer with the first message."""
    return ConsumerOptions(
        max_records=settings.consume_batch_max,
        batch_timeout_ms=settings.consume_batch_wait_ms,
        fetch_max_wait_ms=settings.consume_fetch_wait_ms,
        fetch_min_bytes=1 if prompt else settings.consume_fetch_min_bytes,
    )


@dataclass
class Lane:
    """One of a service's consumers: its topics, its group, and its offsets committed
    behind its batches. Every service has one for its inputs, fetched as its settings
    say; one whose `prompt_inputs` someone waits on (an integrating system's submissions)
    has a second, fetched at once, so that its other inputs can gather their fetches
    (`HNTH_CONSUME_FETCH_MIN_BYTES`). The lanes' batches run side by side, as the HTTP
    routes do beside the consumer."""

    name: str
    topics: list[str]
    group: str
    commits: Commits
    prompt: bool = False
    subscriber: Any = None

    def consumer(self) -> AIOKafkaConsumer | None:
        """The running consumer (none before start, nor under the in-memory test broker)."""
        consumer = getattr(self.subscriber, "consumer", None)
        return consumer if isinstance(consumer, AIOKafkaConsumer) else None


async def commit_batch(commits: Commits, message: KafkaMessage, records: Sequence[Any]) -> None:
    """Note the batch's partitions for commit (`Commits`), and only those: FastStream's
    acknowledgement commits every assigned partition's position, 132 offsets a batch for
    registration, one record each in `__consumer_offsets`, most unchanged. The message is
    marked acknowledged so that FastStream commits nothing more; a raise before this
    leaves it to FastStream's rewind (`nack`). Under the in-memory test broker, FastStream
    does it (its consumer has no partitions)."""
    consumer = message.consumer
    if not isinstance(consumer, AIOKafkaConsumer):
        return
    await commits.handled(consumer, records)
    message.committed = AckStatus.ACKED


async def _raw_body(message: StreamMessage[Any]) -> list[bytes]:
    """Hand the handler a batch's bodies as delivered: decoding and dead-lettering are ours."""
    return list(message.body)


@dataclass
class Outputs:
    """What a service publishes, for the AsyncAPI document: topic -> event models."""

    topics: dict[str, tuple[type[Event], ...]] = field(default_factory=dict)
    per_system: dict[str, tuple[type[Event], ...]] = field(default_factory=dict)
    """Topics of one integrating system each, named `<prefix><client id>` and created the
    first time one is needed (the service may create topics under these prefixes only)."""


class Service:
    """A running HNTH service: Kafka consumer + outbox relay + timers + FastAPI app."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        title: str,
        description: str,
        inputs: Sequence[str],
        prompt_inputs: Sequence[str] = (),
        outputs: Outputs,
        outbox_collections: Sequence[str],
        timers: bool = False,
        clock: Clock | None = None,
        verify_with: PublicKeys | None = None,
        error_responses: Mapping[int | str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.service_name
        self.clock = clock or SystemClock(timedelta(seconds=settings.clock_offset_seconds))
        self.topics = settings.topics
        self.metrics = Metrics(self.name)
        self.client: AsyncMongoClient[Document] = connect(
            settings.mongodb_url, event_listeners=[DbCommandTimer(self.metrics)]
        )
        self.db: AsyncDatabase[Document] = self.client[settings.database_name]
        self.producer = Producer(settings.kafka, client_id=f"hnth-{self.name}")
        self.revocations = RevocationList(self.db, self.clock, settings.revocation_refresh_seconds)
        self.auth = Authenticator(verify_with or _public_keys(settings), self.revocations)
        self.timers = Timers(self.db, self.clock, self.topics, metrics=self.metrics)
        self._timer_handlers: dict[str, TimerHandler] = {}
        collections = list(outbox_collections) + ([FIRED] if timers else [])
        self.relay = OutboxRelay(
            self.db,
            collections,
            self.producer,
            poll_seconds=settings.outbox_poll_seconds,
            idle_poll_seconds=settings.outbox_idle_poll_seconds,
            sweep_seconds=settings.outbox_sweep_seconds,
            owner=f"{self.name}-{id(self):x}",
            metrics=self.metrics,
        )
        self.consumer = EventConsumer(
            self.name, self.producer, attempts=settings.handler_attempts, metrics=self.metrics
        )
        # every service refuses revoked sign-ins, so every service reads the access topic;
        # and every service moves its own documents when provinces merge or rename
        gathered = list(dict.fromkeys([*inputs, self.topics.access, self.topics.tenants]))
        prompt = [topic for topic in dict.fromkeys(prompt_inputs) if topic not in gathered]
        self._inputs = gathered + prompt
        every = settings.consume_commit_ms / 1000
        self.lanes = [Lane(f"{self.name}:consume", gathered, settings.group_id, Commits(every))]
        if prompt:
            # a group of its own: rewinding the service's group (`hnth replay`) to rebuild
            # its read models replays its events, not requests already answered
            self.lanes.append(
                Lane(
                    f"{self.name}:consume-prompt",
                    prompt,
                    f"{settings.group_id}-prompt",
                    Commits(every),
                    prompt=True,
                )
            )
        self.tenants = TenantMover(self.db, self.name)
        self.consumer.translate = self.tenants.translate
        self.auth.current = self.tenants.current
        self._outputs = outputs
        self._startup: list[Callable[[], Awaitable[None]]] = [self.tenants.refresh]
        self._background: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._behind: asyncio.Task[None] | None = None
        """The last of the publishing tasks `publish_behind` started."""
        self.broker = self._build_broker(title, description)
        self.api = FastAPI(
            title=title,
            description=description,
            version="0.1.0",
            lifespan=self._lifespan,
            docs_url=None,  # served offline by `serve_docs`
            redoc_url=None,  # a CDN's page: blank without the internet
            swagger_ui_oauth2_redirect_url=None,
            dependencies=[Depends(refuse_unknown_query)],
        )
        serve_docs(self.api)
        self.api.state.auth = self.auth  # for `hnth_kit.auth.caller` in module-level routers
        self.api.include_router(
            health_router({"mongodb": lambda: ping(self.db), "kafka": self.producer.ping})
        )
        self.api.include_router(self.metrics.router(only(Role.OPERATOR)))
        self.metrics.refresh_on_scrape("outbox", self._refresh_backlog)
        self.metrics.refresh_on_scrape("lag", self._refresh_lag)
        if timers:
            self.metrics.refresh_on_scrape(
                "timers", self._refresh_timers, settings.timers_gauge_seconds
            )
        install_http_guards(self.api, settings.max_body_bytes)
        self.handle({TokensRevoked: self._revoke})
        self.handle({TenantMerged: self._move_tenant, TenantRenamed: self._move_tenant})
        self.background("revocations", self.revocations.run)
        self.background("tenant-changes", self.tenants.keep_fresh)
        self.api.include_router(self.tenants.router(error_responses))

    @functools.cache  # noqa: B019 - one Service per process; policies are read once
    def policy_for(self, tenant: str) -> Policy:
        """The province's policy file (`<policy_dir>/<tenant>.yaml`), read once."""
        return load_policy(self.settings.policy_dir, tenant)

    def handle(self, handlers: Mapping[type[Event], Handler]) -> None:
        """Register event handlers; the relay is woken right after each one."""
        self.consumer.register(self._waking(handlers))

    def prefetch(self, read: Callable[[Sequence[Event]], Awaitable[None]]) -> None:
        """Before a consumer batch is handled, `read` is shown its events, to read what they
        will look up in one query per collection (`batch_reads.prefetch`)."""
        self.consumer.prefetch = read

    def on_invalid(self, told: Callable[[RawMessage, ValidationError], Awaitable[None]]) -> None:
        """`told` of each consumed message that does not decode, before it goes to the
        dead-letter topic (registration answers a system's broken request)."""
        self.consumer.on_invalid = told

    async def _revoke(self, event: TokensRevoked, _: RawMessage) -> None:
        await self.revocations.record(event)

    async def _move_tenant(self, event: TenantMerged, _: RawMessage) -> None:
        await flush_in_batch()  # the batch's earlier facts are moved with the rest
        forget_all()  # and what it read is read again under the new keys
        await self.tenants.run(await self.tenants.record(event, self.clock.now()))

    def on_startup(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run `hook` at start, before consuming (e.g. creating the store's indexes)."""
        self._startup.append(hook)

    def background(self, name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `run()` as a task from start until stop (e.g. a sender loop); cancelled at stop."""
        self._background.append((name, run))

    def on_timer(self, handlers: Mapping[str, TimerHandler]) -> None:
        self._timer_handlers.update(handlers)

    def kafka_grants(self) -> Grants:
        """The ACLs this service's own principal needs, from what it declares: read its
        inputs, write its outputs and its inputs' dead letters, its consumer groups."""
        groups = [lane.group for lane in self.lanes]
        return service_grants(
            self._inputs, self._outputs.topics, groups, creates=self._outputs.per_system
        )

    def include(self, router: APIRouter) -> None:
        self.api.include_router(router)

    def asyncapi(self) -> AsyncAPI:
        return AsyncAPI(
            self.broker,
            title=f"HNTH Ops: {self.name}",
            version="0.1.0",
            description=self.api.description,
        )

    async def _refresh_backlog(self) -> None:
        self.metrics.outbox_backlog.set(await self.relay.backlog())

    async def _refresh_timers(self) -> None:
        self.metrics.timers_pending.set(await self.timers.pending())

    def consumers(self) -> list[AIOKafkaConsumer]:
        """The running consumers, one a lane."""
        return [c for lane in self.lanes if (c := lane.consumer()) is not None]

    def assignment(self) -> dict[str, set[int]]:
        """The input partitions this replica consumes now, by topic: for scheduling, whose
        requests are keyed by province, which provinces' calendars it owns."""
        held: dict[str, set[int]] = {}
        for consumer in self.consumers():
            for tp in consumer.assignment():
                held.setdefault(tp.topic, set()).add(tp.partition)
        return held

    async def _refresh_lag(self) -> None:
        """Lag from what the consumers already know (high watermark of the last fetch minus
        the position): no request to the broker per scrape."""
        for consumer in self.consumers():
            for tp in consumer.assignment():
                high = consumer.highwater(tp)
                if high is not None:
                    behind = max(0, high - await consumer.position(tp))
                    self.metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(behind)

    async def publish_staged(self, staged: Staging) -> None:
        """A batch is written: its new documents' events go out now, from memory. On
        failure they are announced and durable, so the relay's pass publishes them."""
        try:
            done = await self.relay.publish_staged(staged)
        except Exception:
            log.warning(
                "publishing a batch's events from memory failed; the relay will", exc_info=True
            )
            done = False
        if not done:
            self.relay.wake()

    def publish_behind(self, staged: Staging) -> None:
        """Publish what `staged` holds so far in a task of its own, after those handed over
        before (a key's events keep their order), while the consumer goes on with its next
        part or batch: the producer's acknowledgement, the sent markers and the
        announcements' delete took 5-20 ms a batch at 50 meetings/s, as long as handling a
        small batch."""
        if not staged.fresh:  # nothing to publish from memory: updates wait for a pass
            if staged.announced:
                self.relay.wake()
            staged.clear()
            return
        taken = hand_over(staged)
        before = self._behind

        async def publish() -> None:
            try:
                if before is not None:
                    await before
                await self.publish_staged(taken)
            finally:
                published(taken)

        # outside the batch's context: its reads and stagings end before the task may
        self._behind = asyncio.create_task(
            publish(), name=f"{self.name}-publish", context=contextvars.Context()
        )

    async def published_behind(self) -> None:
        """Wait for what `publish_behind` was handed."""
        if self._behind is not None:
            await self._behind

    def _waking(self, handlers: Mapping[type[Event], Handler]) -> dict[type[Event], Handler]:
        """Wrap handlers so the relay looks at the outbox right after each one."""

        def wrap(handler: Handler) -> Handler:
            async def handle(event: Any, raw: RawMessage) -> None:
                await handler(event, raw)
                if not in_staging():  # a consumer batch publishes or wakes at its end
                    self.relay.wake()

            return handle

        return {event_type: wrap(h) for event_type, h in handlers.items()}

    def _build_broker(self, title: str, description: str) -> KafkaBroker:
        broker = KafkaBroker(
            self.settings.kafka_bootstrap_servers,
            security=self.settings.kafka.faststream(),
            client_id=f"hnth-{self.name}",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            description=description,
            graceful_timeout=10.0,
            log_level=logging.DEBUG,  # per-message lines off; errors still logged
        )
        for lane in self.lanes:
            self._subscribe(broker, lane, title)
        documented = self._outputs.topics | {
            f"{prefix}{{system}}": models for prefix, models in self._outputs.per_system.items()
        }
        for topic, models in documented.items():
            for model in models:
                broker.publisher(
                    Topic(topic, declare=False),
                    title=f"{topic}:{model.__name__}",
                    description=(model.__doc__ or model.__name__).strip().splitlines()[0],
                    schema=model,
                )
        return broker

    def _subscribe(self, broker: KafkaBroker, lane: Lane, title: str) -> None:
        """The lane's consumer: batches of raw messages, each handled as alone."""
        subscriber = broker.subscriber(
            *(Topic(name, declare=False) for name in lane.topics),
            group_id=lane.group,
            auto_offset_reset="earliest",
            batch=True,
            **consumer_options(self.settings, prompt=lane.prompt),
            listener=lane.commits.listener(),
            decoder=_raw_body,
            title=lane.name,
            description=f"{title}: consumes " + ", ".join(lane.topics),
        )
        lane.subscriber = subscriber

        @subscriber
        async def on_batch(bodies: list[bytes], message: KafkaMessage) -> None:
            """Each message in order, as alone; the batch's partitions are committed once
            when all are done. A raise (infrastructure down past its budget) rewinds
            every partition to the batch's start: the redelivered ones are idempotent."""
            records = message.raw_message
            assert isinstance(records, tuple), "the subscriber consumes batches"
            part_ms = self.settings.consume_part_ms
            with staging() as staged, batch_reads():

                async def publish_part() -> None:
                    self.publish_behind(staged)

                try:  # its deferred inserts are written before the commit
                    await self.consumer.process_batch(
                        [
                            RawMessage(
                                topic=record.topic,
                                partition=record.partition,
                                offset=record.offset,
                                key=record.key,
                                value=body,
                                headers=tuple(record.headers or ()),
                                timestamp_ms=record.timestamp,
                            )
                            for record, body in zip(records, bodies, strict=True)
                        ],
                        part_seconds=part_ms / 1000 if part_ms else None,
                        between_parts=publish_part,
                    )
                except BaseException:
                    self.relay.wake()  # what was written before the raise
                    raise
                self.publish_behind(staged)  # in flight from the staging on
            await commit_batch(lane.commits, message, records)

    async def start(self) -> None:
        """Create topics and indexes, then start producer, consumer, relay and timers."""
        try:
            await ensure_topics(self.settings.kafka, [*self._inputs, *self._outputs.topics])
        except TopicAuthorizationFailedError as exc:
            # its own principal may create no topic: the admin made them (kafka-provision)
            log.info("%s creates no topics (%s): the admin provisions them", self.name, exc)
        for hook in self._startup:
            await hook()
        await self.producer.start()
        await self.relay.ensure_indexes()
        self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.name}-relay"))
        for lane in self.lanes:
            if lane.commits.every:
                commits = lane.commits.run()
                self._tasks.append(asyncio.create_task(commits, name=f"{lane.name}-commits"))
        if self._timer_handlers:
            timers = self.timers.run(self._timer_handlers, self.settings.timer_poll_seconds)
            self._tasks.append(asyncio.create_task(timers, name=f"{self.name}-timers"))
        for name, run in self._background:
            self._tasks.append(asyncio.create_task(run(), name=f"{self.name}-{name}"))
        await self.broker.start()
        log.info("%s started", self.name)

    def task(self, part: str) -> asyncio.Task[None] | None:
        """The running task of one part (`relay`, `timers`, or a `background` name)."""
        wanted = f"{self.name}-{part}"
        return next((t for t in self._tasks if t.get_name() == wanted), None)

    async def fire_due_timers(self) -> int:
        """One timer pass now, run to its end; returns how many timers fired."""
        return await self.timers.fire_due(self._timer_handlers)

    async def stop(self) -> None:
        for lane in self.lanes:
            lane.commits.closing = True  # a batch still running commits as it ends
            await lane.commits.flush()
        await self.broker.stop()
        await self.published_behind()
        try:
            await self.relay.settle()
        except Exception:  # their events are published: the next holder's pass sends them again
            log.warning("settling the published batches' outbox failed at stop", exc_info=True)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.producer.stop()
        await self.client.close()

    @contextlib.asynccontextmanager
    async def _lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()
