"""A crowded bridge costs a decision a bounded number of round trips: the database
commands are counted (on the real server), not timed."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from pymongo import monitoring
from scheduling_samples import DAY, TENANT, events_of, requested, small_bridges

from hnth_contracts import SlotRejected
from hnth_kit.mongo import connect
from hnth_kit.timers import Timers
from scheduling import domain
from scheduling import store as store_module
from scheduling.store import SchedulingStore, endpoint_key
from scheduling.usecases import Scheduling

pytestmark = pytest.mark.integration

PORTS = 40


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.documents_read = 0
        self.ids_read: set[str] = set()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.seen[event.command_name] += 1
        wanted = event.command.get("filter", {}).get("_id")
        if event.command_name == "find" and isinstance(wanted, dict):
            self.ids_read.update(wanted.get("$in", ()))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        cursor = event.reply.get("cursor") or {}
        self.documents_read += len(cursor.get("firstBatch") or cursor.get("nextBatch") or ())

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def replicas(
    infra, db, topics, clock, policy, monkeypatch
) -> AsyncIterator[tuple[Callable[[], Scheduling], Commands]]:
    """Schedulers on the test's database (each with its own picture of the calendar),
    whose commands one listener counts. Directory entries stay cached for the whole test,
    so a slow machine does not add a re-read to a count."""
    monkeypatch.setattr(store_module, "DIRECTORY_TTL", 3600.0)
    commands = Commands()
    client = connect(infra.mongodb_url, event_listeners=[commands])
    one_bridge = small_bridges(policy, PORTS)

    def replica() -> Scheduling:
        store = SchedulingStore(client[db.name], topics)
        timers = Timers(client[db.name], clock, topics)
        return Scheduling(store, lambda _: one_bridge, clock, timers)

    yield replica, commands
    await client.close()


@pytest.fixture
def counted(replicas) -> tuple[Scheduling, Commands]:
    """One counted scheduler."""
    replica, commands = replicas
    return replica(), commands


async def commands_of(scheduler: Scheduling, commands: Commands, event: Any) -> tuple[Any, int]:
    commands.seen.clear()
    decision = await scheduler.decide(event)
    return decision, commands.seen.total()


def ports_of(decision: Any) -> set[int]:
    """The port numbers a decision holds (`tenant|port|bridge|bucket|port#gen`)."""
    return {int(c.split("|")[4].split("#")[0]) for c in decision["held"] if "|port|" in c}


async def test_a_crowded_bucket_is_claimed_in_a_bounded_number_of_round_trips(counted) -> None:
    scheduler, commands = counted
    # 38 of the bridge's 40 ports are taken in every bucket of the meeting's window
    for n, size in enumerate((18, 18, 2)):
        taken = await scheduler.decide(
            requested(f"full-{n}", endpoints=tuple(f"F{n}-{e}" for e in range(size)))
        )
        assert taken["outcome"] == "assigned"
    fill = [await scheduler.store.decision("tuyen-quang", f"full-{n}", 0) for n in range(3)]
    used = {port for d in fill if d for port in ports_of(d)}
    assert len(used) == PORTS - 2
    # a meeting whose first choices of port are both taken: it must look further
    meeting = next(
        f"late-{n}" for n in range(1000) if set(domain.port_order(f"late-{n}", PORTS)[:2]) <= used
    )

    quiet, quiet_cost = await commands_of(
        scheduler,
        commands,
        requested("quiet", start=DAY + timedelta(days=1), endpoints=("Q-1", "Q-2")),
    )
    crowded, crowded_cost = await commands_of(
        scheduler, commands, requested(meeting, endpoints=("L-1", "L-2"))
    )
    assert quiet["outcome"] == crowded["outcome"] == "assigned"
    assert ports_of(crowded) == set(range(PORTS)) - used, "the last two free ports"
    # round 1 (blind insert, its losses read together: 2 finds), the rest of the bucket
    # read in one walk (2 finds), one insert of what read free: 5 commands more at most,
    # whatever the number of ports taken (before: a round of inserts and reads per miss)
    assert crowded_cost <= quiet_cost + 5, (quiet_cost, crowded_cost)

    # a full bridge: the rejection's own reads are bounded the same way (the alternatives
    # search is bounded by its budget)
    scheduler.alternative_reads = 0
    full, full_cost = await commands_of(
        scheduler, commands, requested("over", endpoints=("O-1", "O-2"))
    )
    assert full["outcome"] == "rejected"
    assert full_cost <= quiet_cost + 5 + 1, (quiet_cost, full_cost)  # + releasing its claims


async def test_a_full_bridge_still_gets_its_alternatives_within_the_read_budget(counted) -> None:
    """Some 26 candidate windows overlap a full bridge's 2-hour window. A short bucket is
    read whole once and then known for every window sharing it, and a bridge known short
    in a bucket is not read again for that window: the 13 full buckets cost their ports
    once (about 520 reads), not once per window (some 1,600), so a budget of 1,000 still
    reaches the free windows."""
    scheduler, _ = counted
    scheduler.alternative_reads = 1000
    for n in range(2):  # the whole bridge in the request's window
        taken = await scheduler.decide(
            requested(f"full-{n}", endpoints=tuple(f"F{n}-{e}" for e in range(PORTS // 2)))
        )
        assert taken["outcome"] == "assigned"

    over = await scheduler.decide(requested("over", endpoints=("O-1", "O-2")))

    assert over["outcome"] == "rejected"
    [event] = events_of(over)
    assert isinstance(event, SlotRejected)
    assert len(event.alternatives) == domain.ALTERNATIVES, "budget spent before a free window"
    policy = scheduler.policy_for("tuyen-quang")
    taken = set(domain.buckets(domain.reserved_window(DAY, DAY + timedelta(hours=2), policy)))
    for alternative in event.alternatives:  # clear of the full bridge, buffers included
        reserved = domain.reserved_window(alternative.start, alternative.end, policy)
        assert not taken & set(domain.buckets(reserved))


async def test_alternatives_pass_over_the_windows_the_replica_knows_busy_unread(replicas) -> None:
    """The replica that booked a meeting knows its endpoints held: the windows they block
    are not read for alternatives. A replica that never saw it reads them and offers the
    same windows (its picture is a hint; the windows offered are read free either way)."""
    replica, commands = replicas
    owner, fresh = replica(), replica()
    # an evening's meetings: their alternatives may fall either side (no office hours)
    evening = DAY + timedelta(hours=10)
    held = await owner.decide(requested("held", start=evening, hours=3, endpoints=("H-1", "H-2")))
    assert held["outcome"] == "assigned"

    async def clash(scheduler: Scheduling, endpoints: tuple[str, str]) -> tuple[list[Any], int]:
        """A request an hour into the held meeting: its alternatives and documents read."""
        commands.documents_read, commands.ids_read = 0, set()
        meeting_id = f"clash-{endpoints[0]}"
        event = requested(meeting_id, start=evening + timedelta(hours=1), endpoints=endpoints)
        decision = await scheduler.decide(event)
        assert decision["outcome"] == "rejected"
        [rejected] = events_of(decision)
        assert isinstance(rejected, SlotRejected)
        return rejected.alternatives, commands.documents_read

    # each with an endpoint of its own beside the held one, so neither walks the other's
    unseen, fresh_read = await clash(fresh, ("H-1", "X-1"))
    known, owner_read = await clash(owner, ("H-2", "Y-1"))
    assert len(known) == domain.ALTERNATIVES
    assert known == unseen
    assert owner_read < fresh_read, (owner_read, fresh_read)
    # the owner read none of the held endpoint's buckets but those its request overlaps
    policy = owner.policy_for(TENANT)

    def spans(start: datetime, hours: int) -> set[int]:
        return set(
            domain.buckets(domain.reserved_window(start, start + timedelta(hours=hours), policy))
        )

    known_busy = spans(evening, 3) - spans(evening + timedelta(hours=1), 2)
    assert not {endpoint_key(TENANT, "H-2", b) + "#0" for b in known_busy} & commands.ids_read
