"""Hot-path reads against a long history: does their cost grow with the stored past?

    uv run python bench/history_bench.py                    # 100,000 past meetings
    uv run python bench/history_bench.py --meetings 10000   # quicker

Starts its own FerretDB (and Kafka, unused) unless `--mongodb-url` is given, and measures,
first on an empty database and then after seeding `--meetings` past meetings through the
stores' seeding APIs (notification's notices as `plan_assignment` plans them, its endpoint
checks, and each meeting's fired timers), the reads a service makes on the hot path:

- notification `for_cause` (the deadline escalation's lookup) and `checked_endpoints`
  (the check reminder's) - now, and in the shape they had before (a search by fields);
- the notice sender's and the timer poller's polls of their queues;
- an outbox relay pass (announcements, read by `_id`) and the whole-collection sweep that
  used to run every 60 s (now only at start).

A read whose cost does not grow keeps its time; the old shapes show what history did to
them. Results go to `bench/results/<date>-history.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hnth_contracts import Slot, SlotAssigned, Topics, Window
from hnth_contracts.policy import Policy, load_policy
from hnth_kit.clock import ManualClock
from hnth_kit.mongo import connect
from hnth_kit.outbox import OutboxRelay
from hnth_kit.timers import FIRED, Timer, Timers
from infra import stack
from notification.domain.meetings import Meeting, assignment_cause, meeting_from_slot
from notification.domain.planning import plan_assignment
from notification.store import ACKS, NOTICES, OUTCOMES, NotificationStore

ROOT = Path(__file__).resolve().parents[1]
TENANT = "tuyen-quang"
NOW = datetime.now(UTC).replace(microsecond=0)
ENDPOINTS = ("TQ-UBND", "TQ-SNV", "TQ-STP", "TQ-SKHDT", "TQ-STC", "TQ-SCT", "TQ-SYT", "TQ-TTT")
BATCH = 2000


class NoProducer:
    """The relay's producer: nothing is staged here, so nothing is ever sent."""

    async def send(self, messages: Sequence[Any]) -> None:
        raise AssertionError("nothing to publish in this bench")


def meeting(n: int, start: datetime) -> Meeting:
    endpoints = (ENDPOINTS[n % 8], ENDPOINTS[(n + 3) % 8], ENDPOINTS[(n + 5) % 8])
    end = start + timedelta(hours=1)
    event = SlotAssigned.create(
        tenant=TENANT,
        correlation_id=f"h-{n}",
        producer="bench",
        meeting_id=f"h-{n}",
        revision=0,
        title=f"Họp {n}",
        host_unit="VP-UBND",
        main_endpoint=endpoints[0],
        endpoints=endpoints,
        slot=Slot(
            bridge="MCU-TQ",
            virtual_room="VR-01",
            dial_in="sip:VR-01@mcu.tuyenquang.gov.vn",
            meeting=Window(start=start, end=end),
            reserved=Window(start=start - timedelta(hours=1), end=end + timedelta(minutes=15)),
        ),
        check_deadline=start - timedelta(hours=1),
        notice_deadline=start - timedelta(days=2),
        late_notice=False,
        policy="tuyen-quang@2017-345",
    )
    return meeting_from_slot(event, None)


def timers_of(m: Meeting) -> list[Timer]:
    """The timers a meeting sets in notification (reminder, check reminder, deadline)."""
    return [
        Timer(f"{kind}:{m.tenant}:{m.meeting_id}:0", kind, due, m.tenant, {"m": m.meeting_id})
        for kind, due in (
            ("remind_meeting", m.start - timedelta(days=1)),
            ("remind_check", m.start - timedelta(hours=2)),
            ("notice_deadline", m.start - timedelta(days=2)),
        )
    ]


async def timed(call: Callable[[], Awaitable[Any]], times: int) -> dict[str, float]:
    """Median and worst of `times` calls, in ms."""
    taken = []
    for _ in range(times):
        started = time.perf_counter()
        await call()
        taken.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(taken), 2), "max_ms": round(max(taken), 2)}


async def measure(
    store: NotificationStore,
    timers: Timers,
    relay: OutboxRelay,
    db: Any,
    live: list[Meeting],
    times: int,
    old_shapes: bool = True,
) -> dict[str, dict[str, float]]:
    cause = assignment_cause(live[0])
    m = live[0]
    old = max(3, times // 10)  # the old shapes are slow on a long history: fewer calls
    now = {
        "for_cause": await timed(lambda: store.for_cause(cause), times),
        "checked_endpoints": await timed(
            lambda: store.checked_endpoints(m.tenant, m.meeting_id, m.endpoints), times
        ),
        "notice queue poll (due)": await timed(lambda: store.due(NOW, 100), times),
        "timer queue poll (fire_due)": await timed(lambda: timers.fire_due({}), times),
        "outbox relay pass (announcements)": await timed(relay.drain, times),
    }
    if not old_shapes:
        return now
    return now | {
        "for_cause, old shape (search by cause)": await timed(
            lambda: db[NOTICES].find({"cause": cause}, {"data": 0}).to_list(), old
        ),
        "checked_endpoints, old shape (search by meeting)": await timed(
            lambda: db["checks"].find({"tenant": m.tenant, "meeting_id": m.meeting_id}).to_list(),
            old,
        ),
        "outbox sweep of notices, was every 60 s (now at start only)": await timed(
            lambda: relay._drain_collection(NOTICES), old
        ),
    }


async def seed(store: NotificationStore, timers: Timers, policy: Policy, count: int) -> None:
    """`count` past meetings over the three years before now, in batches."""
    started = time.monotonic()
    for first in range(0, count, BATCH):
        meetings = [
            meeting(n, NOW - timedelta(days=3 * 365) + timedelta(minutes=15 * n))
            for n in range(first, min(count, first + BATCH))
        ]
        notices = [n for m in meetings for n in plan_assignment(m, policy, [], NOW)]
        checks = [(m.tenant, m.meeting_id, e, "ok") for m in meetings for e in m.endpoints]
        await store.seed_history(notices, NOW, checks)
        await timers.seed_history([t for m in meetings for t in timers_of(m)], NOW)
        done = first + len(meetings)
        rate = done / (time.monotonic() - started)
        print(f"  seeded {done:,} / {count:,} past meetings ({rate:,.0f}/s)", flush=True)


async def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    client = connect(url)
    name = f"history_bench_{int(time.time())}"
    db = client[name]
    try:
        policy = load_policy(ROOT / "policies", TENANT)
        clock = ManualClock(NOW)
        store = NotificationStore(db, Topics())
        await store.setup()
        timers = Timers(db, clock, Topics())
        await timers.ensure_indexes()
        relay = OutboxRelay(db, [NOTICES, ACKS, FIRED], NoProducer(), sweep_seconds=3600)
        await relay.drain()  # the start-up sweep
        # live meetings next week: their notices, checks and pending timers
        live = [meeting(10**7 + n, NOW + timedelta(days=7, hours=n)) for n in range(20)]
        for m in live:
            await store.add_notices(plan_assignment(m, policy, [], NOW), NOW)
            for e in m.endpoints[:2]:
                await store.record_check(m.tenant, m.meeting_id, e, "ok")
            for t in timers_of(m):
                await timers.schedule(t.id, t.kind, t.due_at, t.tenant, t.payload)
        print("empty history ...", flush=True)
        empty = await measure(store, timers, relay, db, live, args.times, not args.no_old_shapes)
        print(f"seeding {args.meetings:,} past meetings ...", flush=True)
        await seed(store, timers, policy, args.meetings)
        print("long history ...", flush=True)
        full = await measure(store, timers, relay, db, live, args.times, not args.no_old_shapes)
        counts = {
            c: await db[c].estimated_document_count()
            for c in (NOTICES, OUTCOMES, "notice_causes", "checks", FIRED, "notice_queue")
        }
        counts["timer_queue"] = await timers.pending()
        return {"empty": empty, "history": full, "documents": counts}
    finally:
        await client.drop_database(name)
        await client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=100_000)
    parser.add_argument("--times", type=int, default=50, help="calls per read measured")
    parser.add_argument("--mongodb-url", help="an existing database (default: start one)")
    parser.add_argument(
        "--no-old-shapes",
        action="store_true",
        help="skip the old read shapes (minutes a call on 100,000 meetings)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    load_start = [round(x, 2) for x in os.getloadavg()]
    run_dir = None
    url = args.mongodb_url
    if url is None:
        run_dir = Path(tempfile.mkdtemp(prefix="hnth-history-"))
        print(f"starting a native stack in {run_dir} ...", flush=True)
        url = stack.up(run_dir).mongodb_url
    try:
        found = asyncio.run(run(url, args))
    finally:
        if run_dir is not None:
            stack.down(run_dir)
    results = {
        "date": datetime.now(UTC).isoformat(),
        "machine": f"{os.cpu_count()} cores, shared with other work (see loadavg)",
        "database": "FerretDB 1.24 (SQLite), patched _id index" if run_dir else url,
        "past_meetings": args.meetings,
        "loadavg_start": load_start,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        **found,
    }
    print(f"\n{'read':<62} {'empty ms':>9} {'history ms':>11} {'ratio':>7}")
    for what, before in found["empty"].items():
        after = found["history"][what]
        ratio = after["median_ms"] / max(before["median_ms"], 0.001)
        print(f"{what:<62} {before['median_ms']:>9} {after['median_ms']:>11} {ratio:>7.2f}")
    print(f"documents: {found['documents']}; load average {load_start} -> {results['loadavg_end']}")
    out = args.out or ROOT / "bench" / "results" / f"{datetime.now(UTC).date()}-history.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
