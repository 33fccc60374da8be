"""End-to-end throughput and latency on the real stack, next to the broker's and a bare
Python relay's ceilings. Starts its own native stack and services; leaves nothing running.

    uv run python bench/e2e_bench.py                 # quick: 60 meetings a scenario, 1 replica
    uv run python bench/e2e_bench.py --meetings 300 --rate 5 50 --replicas 1 2

Scenarios, each on its own days so none collides with an earlier one's meetings: the
realistic mix (nine disjoint endpoint groups in 2-hour slots, so most requests fit; every
tenth asks for the slot of the one before, so one in ten conflicts) at each `--rate` and
flat out, then the conflict-heavy mix flat out (every request holds TQ-UBND, 30 minutes
apart: about three in four refused), reported apart. Meetings are published as an external
system would (straight onto `hnth.meetings`).

Figures per scenario: meetings/s until every one is decided; p50/p95/p99 publish ->
`SlotAssigned` (broker timestamp, assigned meetings only); fully processed meetings/s
(every notice due sent to the SMTP sink, a checklist open for each assigned meeting, the
platform quiet: no consumer lag, no outbox backlog) and p50/p95/p99 publish -> the meeting's
last notice sent; platform events/s (every event a service instance handled,
`hnth_events_consumed`) beside the bare relay's msgs/s of the same run; CPU per process
(/proc; the SMTP sink and the bench itself too, as they share the cores); database
commands per meeting (each service's pymongo command listener, `hnth_db_command_seconds`)
and Kafka requests per meeting by API (the broker's own `RequestMetrics` over JMX). Load
average at start and end, and before each run the machine's speed (`machine_speed`) and
during it the CPU the hypervisor stole: the machine may be shared.
Baselines on the same broker: Kafka's `ProducerPerformance` (the broker's ceiling) and a
bare aiokafka consume->produce relay with no database (a Python service's ceiling).
Results go to `bench/results/<date>-e2e.json`; `bench/readme_table.py` renders the table.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from pathlib import Path
from typing import Any

import httpx
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient

from hnth_contracts import (
    MeetingRequested,
    SlotAssigned,
    SlotRejected,
    Topics,
    decode_event,
    key_of,
)
from hnth_contracts.policy import load_policy
from hnth_kit.auth import Role, SigningKeys, issue_token
from hnth_kit.clock import ManualClock
from hnth_kit.mongo import connect
from hnth_kit.timers import Timers
from hnth_kit.topics_admin import ensure_topics
from infra import stack
from notification.app import NotificationSettings
from notification.store import NotificationStore
from scheduling import domain as scheduling_domain
from scheduling.store import SchedulingStore, endpoint_key
from scheduling.usecases import assigned

ROOT = Path(__file__).resolve().parents[1]

SERVICES = ("registration", "scheduling", "notification", "inspection")
BACK_OFFICE = ("notification", "inspection")
"""The services whose work can wait seconds (`--back-office-db`)."""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


ENDPOINTS = (
    "TQ-TU", "TQ-HDND", "TQ-UBND", "TQ-SNV", "TQ-STP", "TQ-SKHDT", "TQ-STC", "TQ-SCT",
    "TQ-SNNPTNT", "TQ-SGTVT", "TQ-SXD", "TQ-STNMT", "TQ-STTTT", "TQ-SLDTBXH", "TQ-SVHTTDL",
    "TQ-SKHCN", "TQ-SGDDT", "TQ-SYT", "TQ-TTT", "TQ-BDT", "TQ-BQLKCN", "TQ-TP-TUYENQUANG",
    "TQ-H-LAMBINH", "TQ-H-NAHANG", "TQ-H-CHIEMHOA", "TQ-H-HAMYEN", "TQ-H-YENSON",
)  # fmt: skip
# nine disjoint groups of three endpoints: meetings of different groups never collide
GROUPS = [ENDPOINTS[n : n + 3] for n in range(0, len(ENDPOINTS), 3)]


def groups_of(tenant: str) -> list[tuple[str, ...]]:
    """Nine disjoint groups of three of the province's endpoints (its demo directory's
    first 27, as registration loads them at start)."""
    if tenant == "tuyen-quang":
        return GROUPS
    directory = yaml.safe_load((ROOT / "data" / f"{tenant}.yaml").read_text(encoding="utf-8"))
    codes = [e["code"] for e in directory["endpoints"]][: len(ENDPOINTS)]
    return [tuple(codes[n : n + 3]) for n in range(0, len(codes), 3)]


CONFLICT_HEAVY_STEP = timedelta(minutes=30)
HANDED = timedelta(seconds=NotificationSettings.model_fields["delivery_handed_seconds"].default)
"""How long a notice just stored waits in its sender's hands before its queue entry is due."""
SLOT = timedelta(hours=2)  # 30 min meeting + 1 h setup + 15 min teardown (Tuyên Quang) fit


def _meeting(
    prefix: str, n: int, start: datetime, endpoints: tuple[str, ...], tenant: str = "tuyen-quang"
) -> MeetingRequested:
    return MeetingRequested.create(
        tenant=tenant,
        correlation_id=f"{prefix}-{n}",
        producer="bench",
        meeting_id=f"{prefix}-{n}",
        title=f"Bench {n}",
        host_unit="VP-UBND",
        chair="Bench",
        start=start,
        end=start + timedelta(minutes=30),
        main_endpoint=endpoints[0],
        endpoints=endpoints,
        # Lạng Sơn registers a meeting with its host unit's official letter
        document_number=f"{n}/UBND-BENCH",
        document_date=datetime.now(UTC).date() - timedelta(days=1),  # never in the future
    )


def days_needed(count: int) -> int:
    """Whole days one scenario's meetings span: the realistic mix's 2-hour slots, or the
    conflict-heavy mix's requests 30 minutes apart (longer past 108 meetings)."""
    realistic_days = (count // len(GROUPS) + 1) * SLOT // timedelta(days=1)
    conflict_heavy_days = count * CONFLICT_HEAVY_STEP // timedelta(days=1)
    return 1 + max(realistic_days, conflict_heavy_days)


def realistic(
    count: int,
    prefix: str,
    first: datetime,
    conflict_every: int = 10,
    tenants: tuple[str, ...] = ("tuyen-quang",),
) -> list[MeetingRequested]:
    """Most requests fit: each takes the next free 2-hour slot of one of nine disjoint
    endpoint groups. Every `conflict_every`-th asks for exactly the slot and endpoints of
    the request just before it, so one of the two is refused (one in ten conflicts).
    With several `tenants`, each province gets this mix and their requests alternate."""
    per_tenant = [
        _realistic(
            count // len(tenants) + (k < count % len(tenants)),
            f"{prefix}{k}" if len(tenants) > 1 else prefix,
            first,
            tenant,
            conflict_every,
        )
        for k, tenant in enumerate(tenants)
    ]
    return [m for round_ in zip_longest(*per_tenant) for m in round_ if m is not None]


def _realistic(
    count: int, prefix: str, first: datetime, tenant: str, conflict_every: int = 10
) -> list[MeetingRequested]:
    groups = groups_of(tenant)
    made: list[MeetingRequested] = []
    fitting = 0
    for n in range(count):
        if n % conflict_every == conflict_every - 1 and made:
            before = made[-1]
            made.append(_meeting(prefix, n, before.start, before.endpoints, tenant))
            continue
        group = groups[fitting % len(groups)]
        start = first + SLOT * (fitting // len(groups))
        made.append(_meeting(prefix, n, start, group, tenant))
        fitting += 1
    return made


async def seed_past(
    mongo_url: str,
    prefix: str,
    count: int,
    *,
    retire: bool = True,
    back_office_url: str | None = None,
) -> float:
    """`count` past meetings over the three years before now (Tuyên Quang), written into
    the running platform's databases as deciding and notifying them left them: scheduling's
    decisions and their endpoint claims (in past days' partitions), notification's sent
    notices, endpoint checks and fired timers (`history_bench`'s seeding). Registration's and
    inspection's stores are not seeded. `retire`: then drop the past days' claim partitions,
    as scheduling's hourly pass would (`--keep-past-days` keeps them). Returns the seconds."""
    import history_bench

    started = time.monotonic()
    client = connect(mongo_url)
    back_office = connect(back_office_url) if back_office_url else client
    topics = Topics(prefix)
    try:
        notification = back_office[f"bench_{prefix[:-1]}_notification"]
        store = NotificationStore(notification, topics)
        timers = Timers(notification, ManualClock(history_bench.NOW), topics)
        policy = load_policy(ROOT / "policies", history_bench.TENANT)
        await history_bench.seed(store, timers, policy, count)
        scheduling = SchedulingStore(client[f"bench_{prefix[:-1]}_scheduling"], topics)
        first = history_bench.NOW - timedelta(days=3 * 365)
        claimed: set[str] = set()
        for batch in range(0, count, history_bench.BATCH):
            decisions = []
            for n in range(batch, min(count, batch + history_bench.BATCH)):
                past = history_bench.meeting(n, first + timedelta(minutes=15 * n))
                request = scheduling_domain.Request(
                    tenant=past.tenant,
                    meeting_id=past.meeting_id,
                    revision=0,
                    title=past.title,
                    host_unit="VP-UBND",
                    main_endpoint=past.endpoints[0],
                    endpoints=tuple(past.endpoints),
                    start=past.start,
                    end=past.end,
                )
                spans = scheduling_domain.buckets(
                    scheduling_domain.reserved_window(past.start, past.end, policy)
                )
                # meetings 15 minutes apart share endpoints: a key is the first one's
                keys = {endpoint_key(past.tenant, r, b) for r in request.rooms for b in spans}
                held = [f"{key}#0" for key in sorted(keys - claimed)]
                claimed |= keys
                share = scheduling_domain.Share("MCU-TQ", request.rooms)
                decisions.append(
                    assigned(request, [share], held, [], past.start - timedelta(days=3))
                )
            await scheduling.seed_history(decisions)
        if retire:  # what scheduling's hourly pass leaves of those days (`retire_days`)
            await scheduling.retire_days((history_bench.NOW - timedelta(days=7)).date())
    finally:
        await client.close()
        if back_office is not client:
            await back_office.close()
    return time.monotonic() - started


def conflict_heavy(count: int, prefix: str, first: datetime) -> list[MeetingRequested]:
    """Every request holds TQ-UBND, 30 minutes after the one before: with the setup and
    teardown buffers about three in four are refused (and searched for alternatives)."""
    rng = random.Random(1)
    others = [e for e in ENDPOINTS if e != "TQ-UBND"]
    return [
        _meeting(prefix, n, first + CONFLICT_HEAVY_STEP * n, ("TQ-UBND", *rng.sample(others, 2)))
        for n in range(count)
    ]


def requests(count: int, prefix: str) -> list[MeetingRequested]:
    """A realistic mix five days ahead (the relay baseline's message body)."""
    first = (datetime.now(UTC) + timedelta(days=5)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return realistic(count, prefix, first)


def cpu_ticks(stat: str) -> int:
    """User plus system clock ticks from a process's or thread's `/proc/.../stat` line,
    read after the name in parentheses (a thread's name may hold spaces)."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


class Platform:
    def __init__(
        self,
        state: stack.StackState,
        replicas: int,
        prefix: str,
        back_office: tuple[str, int] | None = None,
    ) -> None:
        self.replicas = replicas
        self.back_office_url = back_office[0] if back_office else None
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.ports: dict[str, int] = {}
        # the SMTP sink and this process (publisher and watcher) share the two cores too:
        # counted apart from the platform, so what the platform itself gets is known
        self.infra = {name: state.pids[name] for name in ("ferretdb", "kafka", "smtp-sink")}
        self.infra["bench"] = os.getpid()
        if back_office is not None:
            self.infra["ferretdb-back-office"] = back_office[1]
        registration_port = stack.free_port()
        envs = stack.service_env(state, f"http://127.0.0.1:{registration_port}")
        self.keys = SigningKeys.load(stack.signing_keys_file(Path(state.run_dir)))
        for service in SERVICES:
            for n in range(replicas if service in ("scheduling", "notification") else 1):
                port = registration_port if service == "registration" else stack.free_port()
                penv = {
                    **os.environ,
                    **envs[service],
                    "HNTH_TOPIC_PREFIX": prefix,
                    "HNTH_HTTP_PORT": str(port),
                    "HNTH_DATABASE": f"bench_{prefix[:-1]}_{service}",
                }
                if back_office is not None and service in BACK_OFFICE:
                    penv["HNTH_MONGODB_URL"] = back_office[0]
                log = open(Path(state.run_dir) / f"{prefix}{service}-{n}.log", "wb")  # noqa: SIM115
                proc = subprocess.Popen(
                    [sys.executable, "-m", service], env=penv, stdout=log, stderr=log
                )
                self.procs.append((f"{service}-{n}", proc))
                self.ports[f"{service}-{n}"] = port
                self._wait(port)

    @staticmethod
    def _wait(port: int) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"service on {port} never ready")

    def usage(self) -> dict[str, dict[str, float]]:
        """CPU seconds so far and resident memory of every service, FerretDB, Kafka, the
        SMTP sink and the bench itself."""
        found = {}
        pids = [(name, proc.pid) for name, proc in self.procs]
        pids += [(name, pid) for name, pid in self.infra.items()]
        for name, pid in pids:
            ticks = cpu_ticks(Path(f"/proc/{pid}/stat").read_text())
            rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf(
                "SC_PAGE_SIZE"
            )
            found[name] = {"cpu_s": ticks / os.sysconf("SC_CLK_TCK"), "rss_mb": rss / 2**20}
        return found

    def compiler_ticks(self) -> dict[str, int]:
        """Clock ticks so far of each of the broker's JIT compiler threads (HotSpot's `C1
        CompilerThread`s and `C2 CompilerThread`s), by thread id: a fresh broker spends much
        of its CPU compiling, which a long-running one has done already. HotSpot may end an
        idle compiler thread; one that ended between two readings is not counted."""
        ticks = {}
        for task in Path(f"/proc/{self.infra['kafka']}/task").iterdir():
            try:
                name = (task / "comm").read_text()
                stat = (task / "stat").read_text()
            except OSError:  # the thread ended meanwhile
                continue
            if "CompilerThre" in name:
                ticks[task.name] = cpu_ticks(stat)
        return ticks

    def scrape(self) -> dict[str, dict[str, float]]:
        """From every instance's /metrics: database calls, seconds and documents returned per
        (instance, command, collection) (a pymongo command listener in each service counts
        them),
        events handled per instance (`hnth_events_consumed`, every outcome) and events
        still queued (consumer lag plus outbox backlog)."""
        found: dict[str, dict[str, float]] = {}
        token = issue_token(self.keys, role=Role.OPERATOR, tenant="tuyen-quang", subject="bench")
        for name, port in self.ports.items():  # a fresh token: a long run outlives one
            got = httpx.get(
                f"http://127.0.0.1:{port}/metrics",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            text = got.raise_for_status().text
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if family.name == "hnth_events_consumed" and sample.name.endswith("_total"):
                        found.setdefault(f"{name} events", {}).setdefault("handled", 0.0)
                        found[f"{name} events"]["handled"] += sample.value
                    if family.name in ("hnth_consumer_lag", "hnth_outbox_backlog"):
                        found.setdefault(f"{name} events", {}).setdefault("queued", 0.0)
                        found[f"{name} events"]["queued"] += sample.value
                    if family.name == "hnth_db_command_seconds" and sample.name.endswith(
                        ("_sum", "_count")
                    ):
                        what = f"{name} {sample.labels['command']} {sample.labels['collection']}"
                        kind = "seconds" if sample.name.endswith("_sum") else "calls"
                        found.setdefault(what, {})[kind] = sample.value
                    if sample.name == "hnth_db_documents_returned_total":
                        what = f"{name} {sample.labels['command']} {sample.labels['collection']}"
                        found.setdefault(what, {})["documents"] = sample.value
        return found

    def activity(self) -> tuple[float, float]:
        """(events handled so far, events queued now) over every instance."""
        found = self.scrape()
        return (
            sum(v.get("handled", 0.0) for v in found.values()),
            sum(v.get("queued", 0.0) for v in found.values()),
        )

    def settle(self, looks: int = 3, timeout: float = 300) -> None:
        """Wait until the services have taken in the demo directory that registration
        publishes at its start (events handled, then nothing queued and nothing handled for
        `looks` looks a second apart): the first scenario measures meetings, not the start."""
        deadline = time.monotonic() + timeout
        last, still = -1.0, 0
        while still < looks:
            if time.monotonic() > deadline:
                raise RuntimeError("the platform never settled after its start")
            time.sleep(1)
            handled, queued = self.activity()
            still = still + 1 if handled > 0 and queued == 0 and handled == last else 0
            last = handled

    def stop(self) -> None:
        for _, proc in self.procs:
            proc.terminate()
        for _, proc in self.procs:
            proc.wait(timeout=20)


async def run_load(
    bootstrap: str, topics: Topics, meetings: list[MeetingRequested], rate: float | None
) -> tuple[dict[str, float], set[str], dict[str, Any]]:
    """Publish, then wait for every decision; latency from publish to the decision's
    broker timestamp, of assigned meetings (the refused are counted apart)."""
    # the decisions' times are the records' (set by scheduling's producer), not when this
    # watcher reads them: it gathers its fetches (a fetch a decision at 50/s was a fifth of
    # the broker's requests, measurement rather than platform) without moving a latency
    consumer = AIOKafkaConsumer(
        topics.slots,
        bootstrap_servers=bootstrap,
        auto_offset_reset="latest",
        group_id=None,
        fetch_min_bytes=256 * 1024,
        fetch_max_wait_ms=500,
    )
    await consumer.start()
    await consumer.seek_to_end()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    sent: dict[str, float] = {}
    decided: dict[str, tuple[float, bool]] = {}
    refusals: dict[str, int] = {}
    started = time.time()

    async def publish() -> None:
        for n, meeting in enumerate(meetings):
            if rate:
                await asyncio.sleep(max(0.0, started + n / rate - time.time()))
            sent[meeting.meeting_id] = time.time()
            await producer.send(topics.meetings, meeting.to_json(), key=key_of(meeting))
        await producer.flush()

    async def collect() -> None:
        while len(decided) < len(meetings):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    event = decode_event(record.value)
                    if isinstance(event, SlotRejected) and event.meeting_id not in decided:
                        for conflict in event.conflicts:  # why, by rule or kind
                            why = conflict.rule.rule if conflict.rule else conflict.kind.value
                            refusals[why] = refusals.get(why, 0) + 1
                    if isinstance(event, SlotAssigned | SlotRejected) and event.meeting_id in sent:
                        decided.setdefault(
                            event.meeting_id,
                            (record.timestamp / 1000, isinstance(event, SlotAssigned)),
                        )

    try:
        await asyncio.wait_for(asyncio.gather(publish(), collect()), timeout=900)
    finally:
        await producer.stop()
        await consumer.stop()
    latencies = [(at - sent[m]) * 1000 for m, (at, ok) in decided.items() if ok]
    elapsed = max(at for at, _ in decided.values()) - started
    return (
        sent,
        {m for m, (_, ok) in decided.items() if ok},
        {
            "meetings": len(meetings),
            "rate": rate or "flat out",
            "assigned": len(latencies),
            "refused_for": refusals,
            "rejected": len(decided) - len(latencies),
            "decided_per_s": round(len(meetings) / elapsed, 1),
            "assigned_p50_ms": round(percentile(latencies, 0.50), 1),
            "assigned_p95_ms": round(percentile(latencies, 0.95), 1),
            "assigned_p99_ms": round(percentile(latencies, 0.99), 1),
            # whether the decisions fall behind during the run, or lag by the same from the start
            "decided_ms_every_tenth": [
                round((decided[m.meeting_id][0] - sent[m.meeting_id]) * 1000)
                for m in meetings[::10]
                if m.meeting_id in decided
            ],
        },
    )


async def by_ids(
    collection: Any, ids: list[str], projection: dict[str, int] | None = None
) -> AsyncIterator[dict[str, Any]]:
    """The documents with these ids, a reply per thousand (no `getMore` past 101
    documents, no reply near the 16 MB limit); no read for no ids (FerretDB 1.24 scans
    the whole collection for an empty `$in`: with 100,000 past meetings, a look once
    everything was finished took minutes)."""
    for first in range(0, len(ids), 1000):
        part = ids[first : first + 1000]
        async for doc in collection.find(
            {"_id": {"$in": part}}, projection, batch_size=len(part) + 1
        ):
            yield doc


async def completion(
    mongo_url: str,
    prefix: str,
    sent: dict[str, float],
    meetings: list[MeetingRequested],
    assigned: set[str],
    activity: Callable[[], tuple[float, float]],
    timeout: float = 900,
    back_office_url: str | None = None,
) -> dict[str, Any]:
    """Wait until every meeting is fully processed: each notice due by now sent (or given
    up), a checklist open for each assigned meeting, and the platform quiet (nothing in
    any consumer's lag or outbox, no event handled since the last look). Returns meetings/s
    fully processed and the latency from publish to the meeting's last notice sent.

    Everything is read by `_id` (the notices listed under each meeting's assignment or
    rejection, checklists), as the services read: a look must not scan the collections,
    or with a long history the bench would measure its own reads; what is known is not
    read again (the decisions, from the events `run_load` saw, which also name each
    meeting's one cause; a cause, once found, lists its notices for good:
    `notice_causes` is insert-only). A look
    asks notification's queue (pending notices only, small entries), not its notices: a
    notice is queued before it is listed under its cause and leaves the queue when sent
    or given up, so the listed ones off the queue are finished. The notices themselves,
    a few kilobytes each, are read once, at the end (reading the unfinished ones at every
    look was about a quarter of FerretDB's CPU in a flat-out scenario: a profile labelled
    by command and collection).
    """
    seen = (-1.0, -1.0)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    back_office: AsyncMongoClient[dict[str, Any]] = (
        AsyncMongoClient(back_office_url, tz_aware=True) if back_office_url else client
    )
    notification = back_office[f"bench_{prefix[:-1]}_notification"]
    checklists = back_office[f"bench_{prefix[:-1]}_inspection"]["checklists"]
    causes = [
        f"{'assigned' if m.meeting_id in assigned else 'rejected'}:{m.tenant}:{m.meeting_id}:0"
        for m in meetings
    ]
    deadline = time.monotonic() + timeout
    listed: list[str] = []
    """The notices of the causes found so far."""
    unfound = list(causes)
    finished: set[str] = set()
    """Notices off the queue (sent or given up): not looked for again."""
    opened: set[str] = set()
    try:
        while True:
            now = datetime.now(UTC)
            found = [c async for c in by_ids(notification["notice_causes"], unfound)]
            listed += [i for c in found for i in c.get("notices", [])]
            unfound = sorted(set(unfound) - {c["_id"] for c in found})
            ids = [i for i in listed if i not in finished]
            wanted = set(ids)
            entries = notification["notice_queue"].find({}, {"notice": 1, "due": 1})
            queued = {q["notice"]: q["due"] async for q in entries if q["notice"] in wanted}
            finished |= {i for i in ids if i not in queued}
            # due by now, or just stored and in its sender's hands (not a later retry)
            waiting = [i for i, due in queued.items() if due <= now + HANDED]
            expected = [
                f"{m.meeting_id}:{e}"
                for m in meetings
                if m.meeting_id in assigned and m.meeting_id not in opened
                for e in m.endpoints
            ]
            opened |= {
                c["meeting_id"] async for c in by_ids(checklists, expected, {"meeting_id": 1})
            }
            handled, queued = activity()
            quiet = queued == 0 and handled == seen[0]
            seen = (handled, queued)
            done = quiet and not waiting and opened >= assigned
            if done or time.monotonic() > deadline:
                break
            await asyncio.sleep(2)
        ended = {o["_id"]: o async for o in by_ids(notification["notice_outcomes"], listed)}
        mine = [
            n | ended.get(n["_id"], {})  # a finished notice's state is its outcome row's
            async for n in by_ids(notification["notices"], listed, {"data": 0})
        ]
    finally:
        await client.close()
        if back_office is not client:
            await back_office.close()
    last: dict[str, float] = {}
    for n in mine:
        if n.get("sent_at") is not None:
            at = n["sent_at"].timestamp()
            last[n["meeting_id"]] = max(last.get(n["meeting_id"], 0.0), at)
    latencies = [(last[m] - sent[m]) * 1000 for m in last]
    return {
        "complete": done,
        "processed_s": round(max(last.values()) - min(sent.values()), 2) if last else None,
        "fully_processed_per_s": round(len(sent) / (max(last.values()) - min(sent.values())), 1)
        if last
        else 0.0,
        "notices_sent": sum(1 for n in mine if n["status"] == "sent"),
        "last_notice_p50_ms": round(percentile(latencies, 0.50), 1),
        "last_notice_p95_ms": round(percentile(latencies, 0.95), 1),
        "last_notice_p99_ms": round(percentile(latencies, 0.99), 1),
    }


async def bare_relay(bootstrap: str, count: int) -> float:
    """A consume->produce loop with no database: messages/s."""
    source, sink = f"bench-relay-in-{time.time_ns()}", f"bench-relay-out-{time.time_ns()}"
    await ensure_topics(bootstrap, [source, sink], partitions=4)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    body = requests(1, "relay")[0].to_json()
    for n in range(count):
        await producer.send(source, body, key=str(n).encode())
    await producer.flush()
    consumer = AIOKafkaConsumer(
        source, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id="bench-relay"
    )
    await consumer.start()
    done, started = 0, time.time()
    while done < count:
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            for record in records:
                decode_event(record.value)
                await producer.send(sink, record.value, key=record.key)
                done += 1
    await producer.flush()
    elapsed = time.time() - started
    await consumer.stop()
    await producer.stop()
    return count / elapsed


def producer_performance(bootstrap: str, count: int) -> float:
    """Kafka's own ProducerPerformance with acks=all and 1 KiB records: records/s."""
    libs = stack.kafka_libs()
    topic = f"bench-perf-{time.time_ns()}"
    asyncio.run(ensure_topics(bootstrap, [topic], partitions=4))
    out = subprocess.run(
        stack._java_cmd(
            libs, "org.apache.kafka.tools.ProducerPerformance", "--topic", topic, "--num-records", str(count),
            "--record-size", "1024", "--throughput", "-1", "--producer-props", f"bootstrap.servers={bootstrap}", "acks=all",
            heap="512m",
        ),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = [line for line in out.stdout.splitlines() if "records sent" in line][-1]
    return float(summary.split("(")[0].split(",")[1].split()[0])


# the KRaft controller's own traffic with the broker (same process), not the platform's
# and FetchConsumer / FetchFollower, which break `Fetch` down (counted twice otherwise)
INTERNAL_APIS = (
    "Broker", "Controller", "Vote", "BeginQuorum", "EndQuorum", "DescribeQuorum", "FetchConsumer",
    "FetchFollower",
)  # fmt: skip
JMX_OBJECTS = "kafka.network:type=RequestMetrics,name=RequestsPerSec,request=*,version=*"


class BrokerRequests:
    """Requests the broker served, by API (Produce, Fetch, OffsetCommit, ...), read over
    JMX with Kafka's own JmxTool: the broker's count, not an estimate from the code."""

    def __init__(self, port: int) -> None:
        self.url = f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{port}/jmxrmi"

    @staticmethod
    def java_options(port: int) -> str:
        return (
            f"-Dcom.sun.management.jmxremote.port={port} -Dcom.sun.management.jmxremote.rmi.port={port}"
            " -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false"
            " -Djava.rmi.server.hostname=127.0.0.1"
        )

    def counts(self) -> dict[str, float]:
        env = {k: v for k, v in os.environ.items() if k != "JAVA_TOOL_OPTIONS"}
        out = subprocess.run(
            stack._java_cmd(
                stack.kafka_libs(), "org.apache.kafka.tools.JmxTool", "--jmx-url", self.url,
                "--object-name", JMX_OBJECTS, "--attributes", "Count", "--one-time", "true",
                "--report-format", "csv", heap="128m",
            ),
            capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        # one line per MBean: `kafka.network:...,request=Produce,version=11:Count,"42"`
        found: dict[str, float] = {}
        for line in out.stdout.splitlines():
            if "request=" not in line:
                continue
            api = line.split("request=")[1].split(",")[0]
            if api.startswith(INTERNAL_APIS):
                continue
            found[api] = found.get(api, 0.0) + float(line.rsplit(",", 1)[1].strip('"'))
        return found


def per_meeting(
    before: dict[str, float], after: dict[str, float], meetings: int
) -> dict[str, float]:
    return {
        k: round((after[k] - before.get(k, 0.0)) / meetings, 2)
        for k in sorted(after)
        if after[k] - before.get(k, 0.0) > 0
    }


def machine_speed(repeats: int = 5) -> float:
    """This process's CPU ms for a fixed piece of work (the least of `repeats`), taken
    while the platform is quiet: the machine's speed at the moment. The same code's CPU a
    meeting moves by up to a quarter between runs minutes apart (the SMTP sink's, the
    same work in every run, too); this tells whether the machine's speed moved with it."""
    payload = json.dumps({"numbers": list(range(2000))}).encode()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(500):
            hashlib.sha256(payload).digest()
            json.loads(payload)
        best = min(best, time.process_time() - start)
    return round(1000 * best, 1)


def steal_s() -> float:
    """CPU time the hypervisor gave other guests so far, all cores (`/proc/stat`)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


def measure(
    state: stack.StackState,
    platform: Platform,
    broker: BrokerRequests | None,
    topics: Topics,
    meetings: list[MeetingRequested],
    rate: float | None,
    mix: str,
) -> dict[str, Any]:
    """One scenario: load, wait until fully processed, and what it cost."""
    print(f"  {mix} mix, rate={rate or 'flat out'}: {len(meetings)} meetings ...", flush=True)
    speed, stolen = machine_speed(), steal_s()
    cpu_before, scraped_before = platform.usage(), platform.scrape()
    jit_before = platform.compiler_ticks()
    kafka_before = broker.counts() if broker else {}
    sent, assigned, run = asyncio.run(run_load(state.bootstrap_servers, topics, meetings, rate))
    run |= asyncio.run(
        completion(
            state.mongodb_url,
            topics.prefix,
            sent,
            meetings,
            assigned,
            platform.activity,
            back_office_url=platform.back_office_url,
        )
    )
    cpu_after, scraped_after = platform.usage(), platform.scrape()
    jit_after = platform.compiler_ticks()
    kafka_after = broker.counts() if broker else {}
    count = len(meetings)
    handled = sum(
        v.get("handled", 0.0) - scraped_before.get(k, {}).get("handled", 0.0)
        for k, v in scraped_after.items()
    )
    db_before = {k: v.get("calls", 0.0) for k, v in scraped_before.items() if "calls" in v}
    db_after = {k: v.get("calls", 0.0) for k, v in scraped_after.items() if "calls" in v}
    docs_before = {k: v["documents"] for k, v in scraped_before.items() if "documents" in v}
    docs_after = {k: v["documents"] for k, v in scraped_after.items() if "documents" in v}
    by_service: dict[str, float] = {}
    for what, calls in per_meeting(db_before, db_after, count).items():
        service = what.split()[0].rsplit("-", 1)[0]
        by_service[service] = round(by_service.get(service, 0.0) + calls, 2)
    run |= {
        "mix": mix,
        "replicas": platform.replicas,
        "events_handled": int(handled),
        "events_per_s": round(handled / run["processed_s"], 1) if run["processed_s"] else 0.0,
        "db_calls_per_meeting": round(sum(by_service.values()), 1),
        "db_calls_per_meeting_by_service": by_service,
        "db_calls_per_meeting_by_command": per_meeting(db_before, db_after, count),
        "db_documents_read_per_meeting_by_command": per_meeting(docs_before, docs_after, count),
        "kafka_requests_per_meeting": round(
            sum(per_meeting(kafka_before, kafka_after, count).values()), 1
        )
        if broker
        else None,
        "kafka_requests_per_meeting_by_api": per_meeting(kafka_before, kafka_after, count),
        "cpu_s": {k: round(cpu_after[k]["cpu_s"] - cpu_before[k]["cpu_s"], 1) for k in cpu_after},
        "cpu_ms_per_meeting": {
            k: round(1000 * (cpu_after[k]["cpu_s"] - cpu_before[k]["cpu_s"]) / count, 1)
            for k in cpu_after
        },
        "kafka_jit_ms_per_meeting": round(
            1000
            * sum(t - jit_before.get(tid, 0) for tid, t in jit_after.items())
            / os.sysconf("SC_CLK_TCK")
            / count,
            1,
        ),
        "rss_mb": {k: round(v["rss_mb"]) for k, v in cpu_after.items()},
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "machine_speed_ms": speed,
        "steal_s": round(steal_s() - stolen, 1),
    }
    return run


def print_db_time(found: dict[str, dict[str, float]], top: int = 12) -> None:
    """Where the database time went: the costliest commands of the replica count's runs."""
    print(f"  {'database time (s)':>18} {'calls':>8} {'ms/call':>8}  instance command collection")
    ranked = sorted(found.items(), key=lambda item: -item[1].get("seconds", 0.0))
    for what, figures in ranked[:top]:
        seconds, calls = figures.get("seconds", 0.0), figures.get("calls", 0.0)
        print(f"  {seconds:>18.1f} {calls:>8.0f} {1000 * seconds / max(calls, 1):>8.1f}  {what}")


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    """A bench stopped with `kill` unwinds like one stopped with Ctrl-C: the `finally`
    blocks stop the services and the stack (a plain SIGTERM left the four services
    running, reconnecting to a broker that was gone, and loading the next run)."""
    raise SystemExit(128 + signum)


def main() -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=60, help="meetings per scenario")
    parser.add_argument(
        "--flat-out-meetings",
        type=int,
        help="meetings of each flat-out run (default: --meetings): every run books days of "
        "its own ahead, so the calendars grow by a run's meetings each time, and the runs "
        "with and without history should not differ by much more than that",
    )
    parser.add_argument(
        "--rate", type=float, nargs="+", default=[50.0], help="meetings/s of the fixed-rate runs"
    )
    parser.add_argument("--replicas", type=int, nargs="+", default=[1])
    parser.add_argument(
        "--no-conflict-heavy", action="store_true", help="skip the conflict-heavy mix"
    )
    parser.add_argument(
        "--provinces",
        nargs="+",
        default=["tuyen-quang"],
        help="provinces the realistic mix is spread over (alternating requests)",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="then seed this many past meetings and run the realistic mix flat out again",
    )
    parser.add_argument(
        "--keep-past-days",
        action="store_true",
        help="leave the seeded history's day partitions (as before they were retired)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="flat-out runs of each history size (the history ratio compares their medians)",
    )
    parser.add_argument(
        "--warm-up",
        type=int,
        default=1500,
        help="meetings of a run before the measured ones, at the highest --rate, kept "
        "apart (0: none): a fresh broker's JVM is still compiling what "
        "that load runs, and the first run at 50/s paid about 3 ms of Kafka CPU a meeting "
        "for it (the next one 1 ms, the third 0.2), as no long-running broker does",
    )
    parser.add_argument(
        "--back-office-db",
        type=int,
        metavar="NICE",
        help="give notification and inspection a database server of their own, a second "
        "FerretDB running at this CPU niceness (0-19)",
    )
    parser.add_argument(
        "--keep-stack", action="store_true", help="leave the stack's folder (logs, data) after"
    )
    parser.add_argument("--out", type=Path, help="results file (default bench/results/<date>.json)")
    args = parser.parse_args()
    flat_out_meetings = args.flat_out_meetings or args.meetings
    run_dir = Path(tempfile.mkdtemp(prefix="hnth-bench-"))
    print(f"starting a native stack in {run_dir} ...", flush=True)
    jmx_port = stack.free_port()
    os.environ["JAVA_TOOL_OPTIONS"] = BrokerRequests.java_options(jmx_port)
    try:
        state = stack.up(run_dir)
    finally:
        del os.environ["JAVA_TOOL_OPTIONS"]
    state.smtp_port = stack.free_port()  # notices really go out, to the stack's sink
    os.environ["HNTH_SMTP_WEB_PORT"] = str(stack.free_port())
    stack.start_smtp_sink(state)
    back_office: tuple[str, int] | None = None
    if args.back_office_db is not None:
        port = stack.free_port()
        pid = stack.spawn_ferretdb(
            port,
            run_dir / "back-office-data",
            run_dir / "ferretdb-back-office.log",
            stack.FERRETDB_SQLITE_QUERY,
        )
        os.setpriority(os.PRIO_PROCESS, pid, args.back_office_db)
        state.pids["ferretdb-back-office"] = pid
        back_office = (f"mongodb://127.0.0.1:{port}/", pid)
        results_note = {"back_office_db_nice": args.back_office_db}
    else:
        results_note = {}
    stack.save_state(state)  # so that `down` stops the sink (and the second database) too
    broker: BrokerRequests | None = BrokerRequests(jmx_port)
    try:
        assert broker is not None
        broker.counts()
    except (subprocess.CalledProcessError, IndexError, ValueError) as exc:
        print(f"broker request counts unavailable over JMX ({exc}); Kafka ops not measured")
        broker = None
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(),
        "machine": f"{os.cpu_count()} cores, shared with other work (see loadavg)",
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "meetings_per_scenario": args.meetings,
        "meetings_per_flat_out_run": flat_out_meetings,
        **results_note,
        "runs": [],
    }
    # every scenario books its own days, so none collides with an earlier one's meetings
    first_day = (datetime.now(UTC) + timedelta(days=5)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    span = timedelta(days=days_needed(max(args.meetings, args.warm_up, flat_out_meetings)))
    try:
        print("baseline: Kafka ProducerPerformance ...", flush=True)
        results["kafka_producer_perf_per_s"] = round(
            producer_performance(state.bootstrap_servers, 50_000)
        )
        print("baseline: bare aiokafka relay ...", flush=True)
        results["bare_relay_per_s"] = round(asyncio.run(bare_relay(state.bootstrap_servers, 5_000)))
        scenario = 0
        for replicas in args.replicas:
            prefix = f"b{replicas}x{int(time.time())}."
            platform = Platform(state, replicas, prefix, back_office)
            print(f"replicas={replicas}", flush=True)
            try:
                platform.settle()
                plan: list[tuple[str, float | None]] = []
                if args.warm_up:
                    plan.append(("warm-up", max(args.rate)))
                plan += [("realistic", r) for r in args.rate]
                plan += [("realistic", None)] * args.repeat
                if not args.no_conflict_heavy:
                    plan.append(("conflict-heavy", None))
                if args.history:  # the later runs keep the seeded history
                    plan += [("history", None)] + [("realistic", None)] * (args.repeat - 1)
                past = 0
                for mix, rate in plan:
                    if mix == "history":
                        print(f"  seeding {args.history:,} past meetings ...", flush=True)
                        took = asyncio.run(
                            seed_past(
                                state.mongodb_url,
                                prefix,
                                args.history,
                                retire=not args.keep_past_days,
                                back_office_url=platform.back_office_url,
                            )
                        )
                        results.setdefault("history_seed_s", round(took))
                        results.setdefault("past_days_retired", not args.keep_past_days)
                        # the seed's GBs reach the disk now, not under the runs after it
                        # (SQLite syncs only at checkpoints: `stack.FERRETDB_SQLITE_QUERY`)
                        synced = time.monotonic()
                        os.sync()
                        results.setdefault("history_sync_s", round(time.monotonic() - synced, 1))
                        platform.settle()
                        mix, past = "realistic", args.history
                    first = first_day + span * scenario
                    name = f"{prefix}{scenario}"
                    if mix == "warm-up":
                        count = args.warm_up
                    else:
                        count = args.meetings if rate else flat_out_meetings
                    heavy = mix == "conflict-heavy"
                    made = (
                        conflict_heavy(count, name, first)
                        if heavy
                        else realistic(count, name, first, tenants=tuple(args.provinces))
                    )
                    scenario += 1
                    run = measure(state, platform, broker, Topics(prefix), made, rate, mix)
                    run |= {"provinces": ["tuyen-quang"] if heavy else args.provinces}
                    run |= {"past_meetings": past}
                    if mix == "warm-up":
                        results.setdefault("warm_up", []).append(run)
                    else:
                        results["runs"].append(run)
                print_db_time(platform.scrape())
            finally:
                platform.stop()
    finally:
        stack.down(run_dir)
        if not args.keep_stack:  # 100,000 past meetings leave GBs in FerretDB's files
            shutil.rmtree(run_dir, ignore_errors=True)
    results["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.history:
        results["history_ratio"] = history_ratio(results["runs"], args.history)
    out = args.out or ROOT / "bench" / "results" / f"{datetime.now(UTC).date()}-e2e.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    report(results)
    print(f"\nwritten to {out}")
    return 0


def history_ratio(runs: list[dict[str, Any]], past: int) -> dict[str, Any]:
    """The realistic mix flat out with `past` meetings of history against without, by
    replica count: the medians of the runs of each (same code, same run; a single run
    of either can be off by a third on this machine)."""
    ratios: dict[str, Any] = {}
    for replicas in sorted({run["replicas"] for run in runs}):
        flat = [
            run
            for run in runs
            if run["mix"] == "realistic"
            and run["rate"] == "flat out"
            and run["replicas"] == replicas
        ]
        empty = [run for run in flat if run.get("past_meetings", 0) == 0]
        full = [run for run in flat if run.get("past_meetings", 0) == past]
        if not empty or not full:
            continue
        ratios[str(replicas)] = {"runs_each": [len(empty), len(full)]} | {
            what: {
                "empty": statistics.median(run[what] for run in empty),
                "history": statistics.median(run[what] for run in full),
                "ratio": round(
                    statistics.median(run[what] for run in full)
                    / max(statistics.median(run[what] for run in empty), 1e-9),
                    3,
                ),
            }
            for what in ("fully_processed_per_s", "decided_per_s")
        }
    return ratios


def report(results: dict[str, Any]) -> None:
    print()
    print(
        f"broker ceiling (ProducerPerformance, 1 KiB, acks=all): {results['kafka_producer_perf_per_s']}/s"
    )
    relay = results["bare_relay_per_s"]
    print(f"Python relay ceiling (bare aiokafka consume->produce): {relay}/s")
    print(f"load average at start {results['loadavg_start']}, at end {results['loadavg_end']}")
    for run in results.get("warm_up", []):
        offered = "flat out" if run["rate"] == "flat out" else f"at {run['rate']:g}/s"
        print(
            f"warm-up, not counted: {run['meetings']} meetings {offered}, "
            f"{run['fully_processed_per_s']} fully processed/s, {run['decided_per_s']} decided/s"
        )
    print("publish -> SlotAssigned (assigned only)          publish -> last notice sent")
    print(
        f"{'mix':>14} {'prov':>4} {'past':>7} {'repl':>4} {'rate':>8} {'ok/no':>7} {'decided/s':>9} {'p50':>6} {'p95':>6} {'p99':>6}"
        f"  {'done/s':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'events/s':>8} {'vs relay':>8}"
        f" {'db/mtg':>6} {'kafka/mtg':>9}"
    )
    for run in results["runs"]:
        print(
            f"{run['mix']:>14} {len(run.get('provinces', [1])):>4} {run.get('past_meetings', 0):>7} "
            f"{run['replicas']:>4} {run['rate']!s:>8} "
            f"{run['assigned']:>3}/{run['rejected']:<3} {run['decided_per_s']:>9} "
            f"{run['assigned_p50_ms']:>6.0f} {run['assigned_p95_ms']:>6.0f} {run['assigned_p99_ms']:>6.0f}"
            f"  {run['fully_processed_per_s']:>6} {run['last_notice_p50_ms']:>6.0f} "
            f"{run['last_notice_p95_ms']:>6.0f} {run['last_notice_p99_ms']:>6.0f} "
            f"{run['events_per_s']:>8} {run['events_per_s'] / relay:>8.4f} "
            f"{run['db_calls_per_meeting']:>6} {run['kafka_requests_per_meeting']!s:>9}"
            + ("" if run["complete"] else "  INCOMPLETE")
        )
    print("(latencies in ms; db/mtg: database commands per meeting, all services;")
    print(" kafka/mtg: requests the broker served per meeting, all APIs, incl. fetch polls)")
    for replicas, ratio in results.get("history_ratio", {}).items():
        print(
            f"history ratio, {replicas} replica(s), medians of {ratio['runs_each'][0]} flat-out "
            f"runs without and {ratio['runs_each'][1]} with: "
            + ", ".join(
                f"{what.removesuffix('_per_s').replace('_', ' ')} {ratio[what]['history']}/s"
                f" vs {ratio[what]['empty']}/s = {ratio[what]['ratio']:.0%}"
                for what in ("fully_processed_per_s", "decided_per_s")
            )
        )
    for run in results["runs"]:
        print(f"{run['mix']} replicas={run['replicas']} rate={run['rate']}:")
        print(
            "  CPU ms/meeting: "
            + ", ".join(f"{k} {v}" for k, v in run["cpu_ms_per_meeting"].items())
            + f" (Kafka's JIT compiler threads {run['kafka_jit_ms_per_meeting']})"
        )
        print(
            f"  machine before it: {run['machine_speed_ms']} ms for the fixed work "
            f"(`machine_speed`); CPU stolen by the hypervisor during it: {run['steal_s']} s"
        )
        print("  refused for: " + ", ".join(f"{k} {v}" for k, v in run["refused_for"].items()))
        print(
            "  db calls/meeting: "
            + ", ".join(f"{k} {v}" for k, v in run["db_calls_per_meeting_by_service"].items())
        )
        print(
            "  kafka requests/meeting: "
            + ", ".join(f"{k} {v}" for k, v in run["kafka_requests_per_meeting_by_api"].items())
        )
        read = run.get("db_documents_read_per_meeting_by_command", {})
        most = sorted(read.items(), key=lambda kv: -kv[1])[:8]
        print("  documents read/meeting (most): " + ", ".join(f"{k} {v}" for k, v in most))


if __name__ == "__main__":
    raise SystemExit(main())
