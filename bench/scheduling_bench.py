"""Scheduling decisions against a large history: decisions per second, p50/p99 latency.

    uv run python bench/scheduling_bench.py                      # quick: 2,000 / 10,000
    uv run python bench/scheduling_bench.py --endpoints 10000 --meetings 100000

1. decides `--decisions` requests on an empty database (baseline);
2. seeds the directory (`--endpoints`) and `--meetings` stored meetings (their decisions and
   every endpoint and port claim they held):
   spread over the three years before now (`--history past`, the issue's "past meetings":
   new decisions never share a day partition with them), or up to the end of the two weeks
   decided next (`--history busy`), with `--dense` of them on the 60 endpoints those
   decisions use, inside those two weeks (a crowded calendar, not history); through the
   store's seeding API, the decisions worded by the use cases' own `assigned`;
3. decides `--decisions` new overlapping requests in those two weeks through the real
   decision path (`Scheduling.decide`, from `build()`): they read day partitions full of history and meet
   conflicts with it. Prints decisions/s and p50/p99 latency for both phases.

It also proves the decision path uses only indexed lookups: a command listener records
every command the decisions send; all reads must be `find` by `_id` alone, equality or
`$in` (the `_id` index, the only one FerretDB 1.24 uses) and all writes inserts, and `explain` shows the
read plan. Uses `MONGODB_URL` (default mongodb://127.0.0.1:27017/); the database it
creates is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import national_scale  # type: ignore[import-not-found]  # bench/, beside this file
from pymongo import monitoring

from hnth_contracts import MeetingRequested, Window
from hnth_contracts.policy import Policy
from hnth_kit.auth import SigningKeys
from hnth_kit.clock import ManualClock
from hnth_kit.mongo import connect
from hnth_kit.service import Service
from scheduling import domain
from scheduling.app import SchedulingSettings, build
from scheduling.store import CLAIMS, SchedulingStore, endpoint_key, partition, port_key
from scheduling.usecases import Scheduling, assigned

TENANT = "tuyen-quang"
ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "policies"
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
BATCH = 5000


class Commands(monitoring.CommandListener):
    """Every command sent while recording: name and filter shape."""

    def __init__(self) -> None:
        self.recording = False
        self.seen: Counter[str] = Counter()
        self.unindexed: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.recording:
            return
        name = event.command_name
        if name == "find":
            flt = event.command.get("filter", {})
            by_id = list(flt) == ["_id"] and (
                not isinstance(flt["_id"], dict) or list(flt["_id"]) == ["$in"]
            )
            self.seen["find by _id" if by_id else "find (other)"] += 1
            if not by_id:
                self.unindexed.append(dict(event.command))
        else:
            self.seen[name] += 1
            # getMore continues a find's cursor (a `$in` of over 101 ids): that find was checked
            if name not in ("insert", "endSessions", "getMore"):
                self.unindexed.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def progress(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-9)
    print(f"\r  {label}: {done:,}/{total:,} ({rate:,.0f}/s)", end="", flush=True)
    if done >= total:
        print()


def request(n: int, rooms: list[str], start: datetime, rng: random.Random) -> MeetingRequested:
    endpoints = tuple(rng.sample(rooms, rng.choice((2, 3))))
    meeting_id = f"bench-{n}"
    return MeetingRequested.create(
        tenant=TENANT,
        correlation_id=meeting_id,
        producer="bench",
        meeting_id=meeting_id,
        title=f"Hội nghị {n}",
        host_unit="VP-UBND",
        chair="Chủ tịch UBND tỉnh",
        start=start,
        end=start + timedelta(hours=rng.choice((1, 2))),
        main_endpoint=endpoints[0],
        endpoints=endpoints,
    )


async def decide_many(
    scheduling: Scheduling, requests: list[MeetingRequested], label: str
) -> tuple[list[tuple[str, float]], Counter[str]]:
    latencies: list[tuple[str, float]] = []
    outcomes: Counter[str] = Counter()
    started = time.perf_counter()
    for n, event in enumerate(requests, 1):
        t0 = time.perf_counter()
        decision = await scheduling.decide(event)
        outcome = decision["outcome"] if decision else "ignored"
        latencies.append((outcome, time.perf_counter() - t0))
        outcomes[outcome] += 1
        if n % max(1, len(requests) // 10) == 0 or n == len(requests):
            progress(label, n, len(requests), started)
    return latencies, outcomes


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return round(statistics.median(ordered) * 1000, 1), round(p99 * 1000, 1)


def report(
    label: str, latencies: list[tuple[str, float]], outcomes: Counter[str]
) -> dict[str, Any]:
    spent = [t for _, t in latencies]
    p50, p99 = percentiles(spent)
    figures: dict[str, Any] = {
        "decisions_per_s": round(len(spent) / sum(spent), 1),
        "p50_ms": p50,
        "p99_ms": p99,
        "outcomes": dict(outcomes),
    }
    # a rejection also searches for alternatives (bounded): its latency is told apart
    by_outcome = {
        outcome: percentiles([t for o, t in latencies if o == outcome]) for outcome in outcomes
    }
    figures["p50_p99_ms_by_outcome"] = by_outcome
    print(
        f"{label}: {figures['decisions_per_s']:,} decisions/s, p50 {p50} ms, p99 {p99} ms "
        f"({figures['outcomes']}; p50/p99 by outcome {by_outcome})"
    )
    return figures


async def import_history(
    store: SchedulingStore,
    policy: Policy,
    rooms: list[str],
    meetings: int,
    window: Window,
    busy: list[str],
    dense: int,
    rng: random.Random,
    until: datetime,
) -> tuple[int, int]:
    """The directory and `meetings` stored meetings with their decisions and claims:
    `dense` of them on the `busy` endpoints inside `window` (the days the timed decisions
    fall in, so those decisions read day partitions full of history and meet conflicts),
    the rest spread over the three years up to the window's end (a candidate time that
    conflicts is skipped, so a few fewer may be stored). Returns how many were stored and
    how many of them in the window."""
    started = time.perf_counter()
    await store.seed_directory(TENANT, dict.fromkeys(rooms, "STTTT"), ["VP-UBND"], NOW)
    progress("directory", len(rooms), len(rooms), started)

    bridge = policy.bridge
    taken: set[tuple[str, int]] = set()
    ports: Counter[int] = Counter()
    decisions: list[dict[str, Any]] = []
    claims = 0
    span = 3 * 365 * 24 * 4  # three years of 15-minute buckets up to `until`
    in_window = (window.end - window.start) // domain.BUCKET
    started = time.perf_counter()
    # candidates oldest first, so that each batch goes to a few day partitions
    candidates = [
        (until - rng.randrange(1, span) * domain.BUCKET, False)
        for _ in range(2 * (meetings - dense))
    ]
    candidates += [
        (window.start + rng.randrange(0, in_window) * domain.BUCKET, True) for _ in range(4 * dense)
    ]
    candidates.sort()
    quota = {False: meetings - dense, True: dense}
    left = Counter(crowded for _, crowded in candidates)
    done = landed = 0
    for start, crowded in candidates:
        left[crowded] -= 1
        # pick each kind's quota evenly among its candidates (selection sampling): the
        # spread history then reaches the decided days instead of filling up early
        if not quota[crowded] or rng.random() * (left[crowded] + 1) >= quota[crowded]:
            continue
        end = start + timedelta(hours=1)
        spans = domain.buckets(domain.reserved_window(start, end, policy))
        chosen = rng.sample(busy if crowded else rooms, 2)
        if any((r, b) in taken for r in chosen for b in spans) or any(
            ports[b] + 2 > bridge.ports for b in spans
        ):
            continue  # history is conflict-free too
        quota[crowded] -= 1
        landed += window.start <= start < window.end
        held: list[str] = []
        for b in spans:
            for room in chosen:
                taken.add((room, b))
                held.append(f"{endpoint_key(TENANT, room, b)}#0")
            for _ in range(2):
                held.append(f"{port_key(TENANT, bridge.name, b, ports[b])}#0")
                ports[b] += 1
        past = domain.Request(
            tenant=TENANT,
            meeting_id=f"stored-{done}",
            revision=0,
            title=f"Hội nghị đã họp {done}",
            host_unit="VP-UBND",
            main_endpoint=chosen[0],
            endpoints=tuple(chosen),
            start=start,
            end=end,
        )
        share = domain.Share(bridge.name, past.rooms)
        decisions.append(assigned(past, [share], held, [], start - timedelta(days=3)))
        claims += len(held)
        done += 1
        if claims >= BATCH:
            await store.seed_history(decisions)
            decisions, claims = [], 0
            progress("stored meetings", done, meetings, started)
    await store.seed_history(decisions)
    progress("stored meetings", done, meetings, started)
    if done < meetings:
        print()
    return done, landed


async def explain(db: Any, key: str) -> None:
    """What the server says about the decision path's only read: a find by `_id`."""
    name = partition(CLAIMS, key)
    ids = {"$in": [f"{key}#0", f"{key}#1"]}
    plan = await db.command("explain", {"find": name, "filter": {"_id": ids}})
    if "filterPushdown" in plan:  # FerretDB: pushed down to the SQLite _id index
        sqlite = plan.get("queryPlanner", {}).get("Plan", [""])
        print(
            f"explain find-by-_id on claims: FerretDB filterPushdown={plan['filterPushdown']} "
            f"SQLite: {' / '.join(str(line).split('detail=')[-1] for line in sqlite)}"
        )
    else:
        stage = plan.get("queryPlanner", {}).get("winningPlan", {})
        print(f"explain find-by-_id on claims: MongoDB winning plan {stage.get('stage', stage)}")


async def national(service: Service, args: argparse.Namespace, rng: random.Random) -> int:
    """`--national`: the country's size (bench/national_scale.py), its figures written."""
    state = service.api.state
    day = NOW + timedelta(days=30)
    figures = await national_scale.run(
        state.scheduling, state.store, args.decisions, day, rng, report
    )
    results = {"date": datetime.now(UTC).isoformat(), "machine": f"{os.cpu_count()} cores"}
    out = ROOT / "bench" / "results" / f"{datetime.now(UTC).date()}-scheduling-national.json"
    out.write_text(json.dumps(results | figures, indent=2) + "\n", encoding="utf-8")
    print(f"written to {out}")
    return 0


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=2000)
    parser.add_argument("--meetings", type=int, default=10000)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument(
        "--history",
        choices=["past", "busy"],
        default="past",
        help="past: stored meetings all before now (the issue's scenario); busy: they reach "
        "into the two weeks decided, plus --dense on the busy endpoints",
    )
    parser.add_argument(
        "--dense",
        type=int,
        default=400,
        help="with --history busy: stored meetings on the busy endpoints in the two weeks "
        "decided (conflicts)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--national",
        action="store_true",
        help="34 generated provinces, about 3,300 commune endpoints and the provincial ones; "
        "meetings to a whole province are cascaded over two bridges (bench/national_scale.py)",
    )
    args = parser.parse_args()
    url = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
    commands = Commands()
    monitoring.register(commands)  # every client made from now on: the service's too
    settings = SchedulingSettings(  # type: ignore[call-arg]
        mongodb_url=url,
        database=f"bench_scheduling_{uuid.uuid4().hex[:8]}",
        topic_prefix="bench.",
        policy_dir=national_scale.policies(POLICIES) if args.national else POLICIES,
        auth_jwks=json.dumps(SigningKeys.generate().public()),  # no HTTP here: any keys
    )
    rng = random.Random(args.seed)
    clock = ManualClock(NOW)

    def fresh() -> Service:  # a replica of its own: no cache from an earlier phase
        return build(settings, clock=clock)

    service = fresh()
    client = connect(url)  # the bench's own: explain and drop
    db = client[settings.database_name]
    if args.national:
        try:
            return await national(service, args, rng)
        finally:
            await client.drop_database(db.name)
            await client.close()
            await service.client.close()
    policy = service.policy_for(TENANT)
    print(f"database {db.name} on {url}")
    try:
        day = NOW + timedelta(days=30)
        small = [f"BASE-{n:02d}" for n in range(40)]
        baseline = [
            request(n, small, day + rng.randrange(0, 14 * 96) * domain.BUCKET, rng)
            for n in range(args.decisions)
        ]
        before = await decide_many(
            service.api.state.scheduling, baseline, "baseline decisions (empty history)"
        )
        # the history overlaps the baseline's days: start it on an empty database again
        await client.drop_database(db.name)
        await service.client.close()
        service = fresh()
        store: SchedulingStore = service.api.state.store

        # the timed decisions: the same endpoints over and over in two weeks, in days the
        # stored history fills too, so they read full day partitions and meet conflicts
        rooms = [f"EP-{n:05d}" for n in range(args.endpoints)]
        busy = rng.sample(rooms, 60)
        later = day + timedelta(days=60)
        window = Window(start=later, end=later + timedelta(days=14))
        busy_calendar = args.history == "busy"
        dense = min(args.dense, args.meetings) if busy_calendar else 0
        until = window.end if busy_calendar else NOW
        stored, landed = await import_history(
            store, policy, rooms, args.meetings, window, busy, dense, rng, until
        )
        claims, days = await store.claims_stored()
        print(
            f"history: {stored:,} stored meetings, {claims:,} claims in {days:,} day "
            f"partitions, {args.endpoints:,} endpoints; {landed:,} of the meetings in the "
            f"two weeks decided next (up to {dense:,} of them on its 60 busiest endpoints)"
        )
        requests = [
            request(
                args.decisions + n, busy, later + rng.randrange(0, 14 * 96) * domain.BUCKET, rng
            )
            for n in range(args.decisions)
        ]
        commands.recording = True
        after = await decide_many(service.api.state.scheduling, requests, "decisions with history")
        commands.recording = False

        results = {
            "date": datetime.now(UTC).isoformat(),
            "machine": f"{os.cpu_count()} cores",
            "endpoints": args.endpoints,
            "stored_meetings": stored,
            "history": args.history,
            "in_decided_days": landed,
            "claims": claims,
            "empty_history": report("baseline (empty history)", *before),
            "with_history": report(f"with {stored:,} stored meetings", *after),
        }
        full = (args.endpoints, args.meetings) == (10000, 100000)
        size = "" if full else f"-{args.endpoints}x{args.meetings}"  # never over a full run
        size += "" if args.history == "past" else f"-{args.history}"
        out = ROOT / "bench" / "results" / f"{datetime.now(UTC).date()}-scheduling{size}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"written to {out}")
        print("decision path commands:", dict(commands.seen))
        first = requests[0]
        await explain(db, endpoint_key(TENANT, first.main_endpoint, domain.bucket_of(first.start)))
        if commands.unindexed:
            print("NOT indexed:", commands.unindexed[:3])
            return 1
        print("every read was a find by _id alone, every write an insert: indexed lookups only")
        return 0
    finally:
        await client.drop_database(db.name)
        await client.close()
        await service.client.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
