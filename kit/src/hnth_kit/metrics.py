"""Prometheus metrics of one service instance, served at `/metrics` to the IT department.

The route needs an operator's bearer token like every other route (only health and docs
are open): the figures describe the whole platform. Prometheus sends a long-lived one
(`authorization.credentials_file` in infra/prometheus/prometheus.yml).

Every `Service` owns its own `CollectorRegistry`: tests run several replicas in one
process, and the global default registry would mix (or refuse) their series. Counters
move where things happen (consumer, relay, timers, senders); gauges that need a query
(outbox backlog, timers pending, consumer lag) are refreshed when Prometheus scrapes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pymongo import monitoring

log = logging.getLogger(__name__)

Refresh = Callable[[], Awaitable[None]]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class _Refresher:
    name: str
    refresh: Refresh
    every: float
    done_at: float = float("-inf")


class Metrics:
    """The series every service exposes; a service may add its own on `registry`."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        r = self.registry
        self.consumed = Counter(
            "hnth_events_consumed",
            "Events taken from Kafka, by topic, event type and outcome",
            ["topic", "type", "outcome"],
            registry=r,
        )
        self.handler_seconds = Histogram(
            "hnth_handler_seconds",
            "Time to process one consumed message (decode, handle, retries, dead-lettering)",
            ["topic", "type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.produced = Counter(
            "hnth_events_produced",
            "Events published by the outbox relay, by topic",
            ["topic"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "hnth_dead_letters",
            "Messages written to a dead-letter topic, by original topic and reason",
            ["topic", "reason"],
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "hnth_outbox_backlog",
            "Events staged in the outbox and not yet published (at scrape time)",
            registry=r,
        )
        self.timers_pending = Gauge(
            "hnth_timers_pending",
            "Durable timers waiting to fire (counted at most every HNTH_TIMERS_GAUGE_SECONDS)",
            registry=r,
        )
        self.timers_fired = Counter(
            "hnth_timers_fired",
            "Durable timers fired by this instance, by kind",
            ["kind"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "hnth_consumer_lag",
            "Messages behind the high watermark on this instance's assigned partitions",
            ["topic", "partition"],
            registry=r,
        )
        self.db_seconds = Histogram(
            "hnth_db_command_seconds",
            "Time the database took per command, by command and collection",
            ["command", "collection"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.db_documents = Counter(
            "hnth_db_documents_returned",
            "Documents the database returned (find, getMore), by command and collection",
            ["command", "collection"],
            registry=r,
        )
        self._refreshers: list[_Refresher] = []

    def refresh_on_scrape(self, name: str, refresh: Refresh, every: float = 0.0) -> None:
        """Run `refresh` (which sets gauges) before a scrape, at most once in `every`
        seconds (the gauges keep their values between); a failure only logs."""
        self._refreshers.append(_Refresher(name, refresh, every))

    def observe_consumed(self, topic: str, event_type: str, outcome: str, seconds: float) -> None:
        self.handler_seconds.labels(topic, event_type).observe(seconds)
        self.consumed.labels(topic, event_type, outcome).inc()

    async def render(self, timeout: float = 3.0) -> bytes:
        """The exposition text, after refreshing the query-backed gauges."""
        for refresher in self._refreshers:
            if time.monotonic() < refresher.done_at + refresher.every:
                continue
            try:
                await asyncio.wait_for(refresher.refresh(), timeout)
                refresher.done_at = time.monotonic()
            except Exception as exc:  # noqa: BLE001 - a slow gauge must not fail the scrape
                log.warning("metrics refresh %s failed: %s", refresher.name, exc)
        return generate_latest(self.registry)

    def router(self, guard: Callable[..., Awaitable[object]]) -> APIRouter:
        """`/metrics`, behind `guard` (a FastAPI dependency that refuses who may not read it)."""
        router = APIRouter(tags=["metrics"], dependencies=[Depends(guard)])

        @router.get(
            "/metrics",
            summary="Số liệu Prometheus / Prometheus metrics",
            response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
        )
        async def metrics() -> Response:
            return Response(await self.render(), media_type=CONTENT_TYPE_LATEST)

        return router


class DbCommandTimer(monitoring.CommandListener):
    """Feeds `hnth_db_command_seconds` and `hnth_db_documents_returned` from PyMongo's
    command monitoring: a read whose cost grows with history shows as documents per call."""

    def __init__(self, metrics: Metrics) -> None:
        self._histogram = metrics.db_seconds
        self._documents = metrics.db_documents
        self._started: dict[int, tuple[str, str]] = {}
        self._timers: dict[tuple[str, str], Histogram] = {}
        """Each (command, collection)'s child, looked up once: this runs for every command."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        if event.command_name == "getMore":  # names its cursor; the collection is apart
            target = event.command.get("collection")
        collection = target if isinstance(target, str) else ""
        self._started[event.request_id] = (event.command_name, collection)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        labels = self._finish(event.request_id, event.duration_micros)
        cursor = event.reply.get("cursor")
        if labels is not None and isinstance(cursor, Mapping):
            batch = cursor.get("firstBatch", cursor.get("nextBatch"))
            if isinstance(batch, list):
                self._documents.labels(*labels).inc(len(batch))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._finish(event.request_id, event.duration_micros)

    def _finish(self, request_id: int, micros: int) -> tuple[str, str] | None:
        labels = self._started.pop(request_id, None)
        if labels is not None:
            timer = self._timers.get(labels)
            if timer is None:
                timer = self._timers[labels] = self._histogram.labels(*labels)
            timer.observe(micros / 1e6)
        return labels
