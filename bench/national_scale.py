"""The scheduling bench at national size (issue 18), `scheduling_bench.py --national`.

34 provinces of generated demo names (`P01`..`P34`), each with its provincial endpoints
(25) and its commune-level ones (about 3,300 over the country: 97 a province), every
province on a copy of Lạng Sơn's policy with its two bridges cut to 100 + 64 ports, so a
meeting to all of a province's endpoints (122) is CASCADED. Seeded through the store's
seeding API, never raw collections; decided through the real decision path (`build()`).

1. `--decisions` small meetings (2-3 endpoints) spread over the provinces and two weeks;
2. one meeting to every endpoint of each province (34 cascaded decisions, each claiming
   about 122 endpoints and 124 ports in every bucket of its reserved window);
3. the same 34 again, an hour later: every endpoint is still held by the first, so each is
   rejected naming the holders, after the bounded search for alternative windows.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from hnth_contracts import MeetingRequested

PROVINCES = 34
PROVINCIAL = 25
COMMUNES = 3300
TEMPLATE = "lang-son"
PORTS = (100, 64)
ISSUED = date(2026, 11, 1)
"""The official letters' date: before the bench's clock (1 December 2026)."""


def tenants() -> list[str]:
    return [f"bench-p{n:02d}" for n in range(1, PROVINCES + 1)]


def policies(source: Path) -> Path:
    """A folder of policy files, one per generated province: the template's rules with
    its bridges resized (`PORTS`). Returns the folder (a temporary one, left for the OS)."""
    template = yaml.safe_load((source / f"{TEMPLATE}.yaml").read_text(encoding="utf-8"))
    folder = Path(tempfile.mkdtemp(prefix="bench-policies-"))
    for tenant in tenants():
        policy = {**template, "tenant": tenant, "name": f"Tỉnh mẫu {tenant}"}
        policy["bridge"] = {**template["bridge"], "ports": PORTS[0]}
        policy["bridges"] = [{**template["bridges"][0], "ports": PORTS[1]}]
        (folder / f"{tenant}.yaml").write_text(yaml.safe_dump(policy, allow_unicode=True))
    return folder


def directory() -> dict[str, dict[str, str]]:
    """Each province's endpoints (code -> unit): provincial first, then communes."""
    per_province = COMMUNES // PROVINCES + 1  # 98: 34 x 97 = 3,298 communes, so 97 each
    found: dict[str, dict[str, str]] = {}
    for tenant in tenants():
        code = tenant.removeprefix("bench-").upper()
        endpoints = {f"{code}-UBND": "VP-UBND"}
        endpoints |= {f"{code}-S{n:02d}": f"S{n:02d}" for n in range(1, PROVINCIAL)}
        endpoints |= {f"{code}-X{n:03d}": f"X{n:03d}" for n in range(1, per_province)}
        found[tenant] = endpoints
    return found


def meeting(
    tenant: str, meeting_id: str, rooms: list[str], start: datetime, hours: float = 2
) -> MeetingRequested:
    return MeetingRequested.create(
        tenant=tenant,
        correlation_id=meeting_id,
        producer="bench",
        meeting_id=meeting_id,
        title=f"Hội nghị {meeting_id}",
        host_unit="VP-UBND",
        chair="Chủ tịch UBND tỉnh",
        start=start,
        end=start + timedelta(hours=hours),
        main_endpoint=rooms[0],
        endpoints=tuple(rooms),
        document_number="01/UBND",
        document_date=ISSUED,
    )


def small_meetings(
    endpoints: dict[str, dict[str, str]], count: int, day: datetime, rng: random.Random
) -> list[MeetingRequested]:
    """`count` meetings of 2-3 endpoints, a random province each, in working hours."""
    found = []
    for n in range(count):
        tenant = rng.choice(list(endpoints))
        rooms = rng.sample(list(endpoints[tenant]), rng.choice((2, 3)))
        start = day + timedelta(days=rng.randrange(14), minutes=15 * rng.randrange(24))
        found.append(meeting(tenant, f"small-{n}", rooms, start, hours=1))
    return found


def whole_province(
    endpoints: dict[str, dict[str, str]], start: datetime, label: str
) -> list[MeetingRequested]:
    """A meeting to every endpoint of each province (main endpoint: its People's Committee)."""
    return [meeting(t, f"{label}-{t}", list(codes), start) for t, codes in endpoints.items()]


def sizes(endpoints: dict[str, dict[str, str]]) -> dict[str, int]:
    communes = sum(1 for codes in endpoints.values() for c in codes if "-X" in c)
    total = sum(len(codes) for codes in endpoints.values())
    return {"provinces": len(endpoints), "commune_endpoints": communes, "endpoints": total}


Report = Callable[[str, list[tuple[str, float]], Counter[str]], dict[str, Any]]


async def decide_all(
    scheduling: Any, requests: list[MeetingRequested]
) -> tuple[list[tuple[str, float]], Counter[str], Counter[int]]:
    """Decide each request; latencies and outcomes, and how many bridges each took."""
    latencies: list[tuple[str, float]] = []
    outcomes: Counter[str] = Counter()
    bridges: Counter[int] = Counter()
    for event in requests:
        t0 = time.perf_counter()
        decision = await scheduling.decide(event)
        outcome = decision["outcome"] if decision else "ignored"
        latencies.append((outcome, time.perf_counter() - t0))
        outcomes[outcome] += 1
        if outcome == "assigned":
            bridges[max(1, len(decision.get("cascade", [])))] += 1
    return latencies, outcomes, bridges


async def run(
    scheduling: Any, store: Any, decisions: int, day: datetime, rng: random.Random, report: Report
) -> dict[str, Any]:
    """Seed the country, decide the three phases, print and return their figures."""
    endpoints = directory()
    started = time.perf_counter()
    for tenant, codes in endpoints.items():
        await store.seed_directory(tenant, codes, ["VP-UBND", *set(codes.values())], day)
    counts = sizes(endpoints)
    print(
        f"directory: {counts['endpoints']:,} endpoints ({counts['commune_endpoints']:,} of "
        f"communes) in {counts['provinces']} provinces, seeded in "
        f"{time.perf_counter() - started:.1f} s; bridges {PORTS[0]} + {PORTS[1]} ports each"
    )
    figures: dict[str, Any] = {"national": counts}
    start = day + timedelta(days=20)
    phases = [
        ("small meetings", small_meetings(endpoints, decisions, day, rng)),
        ("whole provinces", whole_province(endpoints, start, "all")),
        ("whole provinces again, 1 h later", whole_province(endpoints, start + HOUR, "again")),
    ]
    for label, requests in phases:
        latencies, outcomes, bridges = await decide_all(scheduling, requests)
        figures[label] = report(label, latencies, outcomes)
        figures[label]["assigned_over_bridges"] = {str(k): v for k, v in sorted(bridges.items())}
        print(f"  {label}: assigned over 1 / 2 bridges: {dict(sorted(bridges.items()))}")
    return figures


HOUR = timedelta(hours=1)
