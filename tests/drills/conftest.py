"""Failure drills: a burst of meetings, one fault injected mid-burst, then invariants checked
from the stores and topics. `HNTH_DRILL_SIZE` sets the burst (small in `make test`, large in
`make drill`); the table of results is printed at the end of the run."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from pymongo import AsyncMongoClient

from hnth_contracts import (
    Event,
    MeetingRequested,
    SlotAssigned,
    SlotRejected,
    SlotReleased,
    decode_event,
)
from hnth_kit.testing import eventually, read_all

RESULTS: list[dict[str, object]] = []
COLUMNS = ("drill", "events in", "events out", "duplicates", "lost", "dlq")


@pytest.fixture
def replicas() -> dict[str, int]:
    return {"registration": 1, "scheduling": 2, "notification": 2, "inspection": 1}


def pytest_terminal_summary(terminalreporter) -> None:
    if not RESULTS:
        return
    widths = [max(len(c), *(len(str(r[c])) for r in RESULTS)) for c in COLUMNS]
    terminalreporter.section("failure drills")
    line = "  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))
    terminalreporter.write_line(line)
    for row in RESULTS:
        cells = [str(row[c]).ljust(w) for c, w in zip(COLUMNS, widths, strict=True)]
        terminalreporter.write_line("  ".join(cells))


SIZE = int(os.environ.get("HNTH_DRILL_SIZE", "30"))
DIRECTORY = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "tuyen-quang.yaml").read_text(encoding="utf-8")
)
SERVICES = ("registration", "scheduling", "notification", "inspection")


class Drill:
    """Publishes a burst as other systems would, waits for quiescence, checks invariants."""

    def __init__(self, platform, unique: str, name: str) -> None:
        self.platform = platform
        self.unique = unique
        self.name = name
        self.requests: list[MeetingRequested] = []
        self.poison = 0
        # copies the drill itself put on the topics: not the services' duplicates
        self.replayed: Counter[str] = Counter()

    def burst(self, size: int = SIZE, seed: int = 7) -> list[MeetingRequested]:
        """Overlapping meetings over three days: many conflicts, some accepted."""
        rng = random.Random(seed)
        units = {e["unit"]: e["code"] for e in DIRECTORY["endpoints"]}
        codes = [e["code"] for e in DIRECTORY["endpoints"]]
        day = (datetime.now(UTC) + timedelta(days=3)).replace(
            hour=1, minute=0, second=0, microsecond=0
        )
        made = []
        for n in range(size):
            unit = rng.choice(sorted(units))
            start = day + timedelta(days=rng.randrange(3), hours=rng.randrange(9))
            meeting_id = f"drill-{self.unique}-{len(self.requests) + n}"
            made.append(
                MeetingRequested.create(
                    tenant="tuyen-quang",
                    correlation_id=meeting_id,
                    producer="e-office",
                    meeting_id=meeting_id,
                    title=f"Họp diễn tập {n}",
                    host_unit=unit,
                    chair="Lãnh đạo",
                    start=start,
                    end=start + timedelta(hours=rng.choice((1, 2))),
                    main_endpoint=units[unit],
                    endpoints=(units[unit], *rng.sample([c for c in codes if c != units[unit]], 2)),
                )
            )
        self.requests.extend(made)
        return made

    async def publish(self, events: list[Event]) -> None:
        await self.platform.publish(*events)

    async def slot_events(self) -> list[tuple[Event, object]]:
        records = await read_all(self.platform.bootstrap, [self.platform.topics.slots])
        decoded = []
        for record in records:
            with contextlib.suppress(ValidationError):  # the poison drill's messages
                decoded.append((decode_event(record.value), record))
        return decoded

    async def quiesce(self, timeout: float = 240) -> None:
        """Every request decided, and the mail flow stopped growing for a while."""
        wanted = {r.meeting_id for r in self.requests}
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            decided = {
                e.meeting_id
                for e, _ in await self.slot_events()
                if isinstance(e, SlotAssigned | SlotRejected)
            }
            if wanted <= decided:
                break
            assert asyncio.get_running_loop().time() < deadline, (
                f"undecided: {sorted(wanted - decided)[:5]}"
            )
            await asyncio.sleep(1)
        # every notice the decisions call for has reached the SMTP server: a notice claimed
        # just before a database outage waits out its sender's lease (60 s) before another
        # sender takes it over, so "no new mail for a few seconds" is not "all mail sent"
        expected = self.expected_mail(await self.slot_events())
        while len(self.mail_ids()) < expected:
            assert asyncio.get_running_loop().time() < deadline, (
                f"mail never arrived: {len(self.mail_ids())} of {expected}"
            )
            await asyncio.sleep(1)
        stable, last = 0, -1
        while stable < 4:  # and re-sends (same Message-ID) have stopped
            count = len(self.platform.smtp.inbox.messages)
            stable = stable + 1 if count == last else 0
            last = count
            assert asyncio.get_running_loop().time() < deadline, "mail never settled"
            await asyncio.sleep(1)

    @staticmethod
    def expected_mail(events: list[tuple[Event, object]]) -> int:
        """4 standing recipients plus one per endpoint for each assigned meeting (its
        latest slot), one rejection notice for each meeting never assigned."""
        assigned: dict[str, SlotAssigned] = {}
        decided: set[str] = set()
        for event, _ in events:
            if isinstance(event, SlotAssigned | SlotRejected) and event.revision == 0:
                decided.add(event.meeting_id)
            if isinstance(event, SlotAssigned):
                assigned[event.meeting_id] = event
        rejected = sum(1 for m in decided if m not in assigned)
        return sum(4 + len(a.endpoints) for a in assigned.values()) + rejected

    def mail_ids(self) -> Counter[str]:
        """The burst's e-mails by Message-ID (a re-send keeps its id)."""
        inbox = self.platform.smtp.inbox.messages
        return Counter(m["Message-ID"] for m in inbox if self.unique in m["X-HNTH-Notice"])

    async def check(self, *, expect_dlq: int = 0) -> dict[str, object]:
        """The invariants, from the topics and the stores; returns the drill's table row."""
        events = await self.slot_events()
        decisions: dict[str, set[str]] = defaultdict(set)
        seen = Counter(str(e.event_id) for e, _ in events)
        seen.subtract(self.replayed)
        assigned: dict[str, SlotAssigned] = {}
        released: set[str] = set()
        for event, _ in events:
            if isinstance(event, SlotAssigned | SlotRejected) and event.revision == 0:
                decisions[event.meeting_id].add(str(event.event_id))
            if isinstance(event, SlotAssigned):
                assigned[event.meeting_id] = event
            if isinstance(event, SlotReleased) and event.reason == "cancelled":
                released.add(event.meeting_id)
        lost = [r.meeting_id for r in self.requests if not decisions.get(r.meeting_id)]
        doubled = {m: ids for m, ids in decisions.items() if len(ids) > 1}
        assert not lost, f"requests without a decision: {lost[:5]}"
        assert not doubled, f"requests with two decisions: {list(doubled.items())[:3]}"
        _no_double_booking([a for m, a in assigned.items() if m not in released])

        expected_mail = self.expected_mail(events)
        ids = self.mail_ids()  # the burst's meetings only
        assert len(ids) == expected_mail, (len(ids), expected_mail)
        dlq = await read_all(
            self.platform.bootstrap, [t + ".dlq" for t in self.platform.topics.all()]
        )
        assert len(dlq) == expect_dlq, [(d.topic, d.headers.get("hnth-dlq-reason")) for d in dlq]
        # a batch's sent markers are written at its relay's next pass, within a second
        await eventually(self.unsent, until=lambda n: n == 0, timeout=120)
        row = {
            "drill": self.name,
            "events in": len(self.requests) + self.poison,
            "events out": sum(n for n in seen.values() if n > 0),
            "duplicates": sum(n - 1 for n in seen.values() if n > 1)
            + sum(n - 1 for n in ids.values()),
            "lost": len(lost) + expected_mail - len(ids),
            "dlq": len(dlq),
        }
        RESULTS.append(row)
        return row

    async def unsent(self) -> int:
        """Outbox entries staged in any service's database and never marked sent."""
        client: AsyncMongoClient = AsyncMongoClient(self.platform.env["HNTH_MONGODB_URL"])
        try:
            count = 0
            for service in SERVICES:
                db = client[f"{service}_{self.unique}"]
                sent = db["outbox_sent"]
                for name in await db.list_collection_names():
                    async for doc in db[name].find({"_outbox_n": {"$gt": 0}}, {"_outbox": 1}):
                        for entry in doc.get("_outbox") or []:
                            count += not await sent.count_documents(
                                {"_id": entry["event_id"]}, limit=1
                            )
            return count
        finally:
            await client.close()


def _no_double_booking(slots: list[SlotAssigned]) -> None:
    """No endpoint in two meetings at once, the bridge within its ports. Each meeting counts
    with its latest slot once: a relay that died before its sent marker publishes the same
    event again (at-least-once), and that copy is not a second booking."""
    current: dict[str, SlotAssigned] = {}
    for slot in slots:
        held = current.get(slot.meeting_id)
        if held is None or slot.revision > held.revision:
            current[slot.meeting_id] = slot
        elif slot.revision == held.revision:
            assert slot.slot == held.slot, f"{slot.meeting_id}: two slots in one revision"
    slots = list(current.values())
    by_endpoint: dict[str, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for slot in slots:
        for code in set(slot.endpoints):
            by_endpoint[code].append(
                (slot.slot.reserved.start, slot.slot.reserved.end, slot.meeting_id)
            )
    for code, windows in by_endpoint.items():
        windows.sort()
        for (_, end, first), (start, _, second) in itertools.pairwise(windows):
            assert start >= end, f"{code} double-booked: {first} and {second}"
    moments = sorted({s.slot.reserved.start for s in slots})
    for moment in moments:
        ports = sum(
            len(s.endpoints) for s in slots if s.slot.reserved.start <= moment < s.slot.reserved.end
        )
        assert ports <= 40, f"bridge over capacity at {moment}: {ports} ports"


@pytest.fixture
def drill(platform, unique, request):
    return Drill(platform, unique, request.node.name.removeprefix("test_drill_"))
