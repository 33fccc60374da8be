"""A crowded bridge costs a decision a bounded number of round trips: the database
commands are counted (on the real server), not timed."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pymongo import monitoring
from scheduling_samples import DAY, events_of, requested, small_bridges

from hnth_contracts import SlotRejected
from hnth_kit.mongo import connect
from hnth_kit.timers import Timers
from scheduling import domain
from scheduling import store as store_module
from scheduling.store import SchedulingStore
from scheduling.usecases import Scheduling

pytestmark = pytest.mark.integration

PORTS = 40


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.seen[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def counted(
    infra, db, topics, clock, policy, monkeypatch
) -> AsyncIterator[tuple[Scheduling, Commands]]:
    """A scheduler on the test's database whose commands are counted. Directory entries
    stay cached for the whole test, so a slow machine does not add a re-read to a count."""
    monkeypatch.setattr(store_module, "DIRECTORY_TTL", 3600.0)
    commands = Commands()
    client = connect(infra.mongodb_url, event_listeners=[commands])
    one_bridge = small_bridges(policy, PORTS)
    store = SchedulingStore(client[db.name], topics)
    yield (
        Scheduling(store, lambda _: one_bridge, clock, Timers(client[db.name], clock, topics)),
        commands,
    )
    await client.close()


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
