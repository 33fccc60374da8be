"""Each replica's picture of the calendar (`SchedulingStore.unclaimed`) on the real
database: a request whose endpoints it knows free is claimed with no read, and two replicas
deciding the same province at once (as after a rebalance, each sure of its own picture)
never double-book: the stale one loses cleanly on the claim's duplicate `_id`, learns, and
refuses nobody on a picture that is out of date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scheduling_samples import DAY, TENANT, cancelled, events_of, requested, tuyen_quang

from hnth_contracts import SlotRejected
from scheduling import domain
from scheduling.store import endpoint_key

pytestmark = pytest.mark.integration

ROOMS = ("TQ-UBND", "TQ-STTTT")


def endpoint_keys(start, hours: float = 2) -> list[str]:
    window = domain.reserved_window(start, start + timedelta(hours=hours), tuyen_quang())
    return [endpoint_key(TENANT, room, b) for room in ROOMS for b in domain.buckets(window)]


def outcome(decision) -> str | None:
    return decision["outcome"] if decision else None


def refused_for(decision) -> set[str | None]:
    """The meetings a rejection names as standing in the way."""
    [event] = events_of(decision)
    assert isinstance(event, SlotRejected)
    return {c.other_meeting_id for c in event.conflicts}


async def holders(store, keys: list[str]) -> set[str | None]:
    """Who holds these keys, read from the database (not from any replica's memory)."""
    states = await store.states(keys)
    return {s.holder["meeting_id"] if s.holder else None for s in states.values()}


async def test_two_owners_of_one_calendar_never_double_book_and_the_stale_one_loses_cleanly(
    make_scheduler,
) -> None:
    first, second = make_scheduler(), make_scheduler()
    keys = endpoint_keys(DAY)
    assert first.store.unclaimed(keys) == second.store.unclaimed(keys) == dict.fromkeys(keys, 0)

    won = await first.decide(requested("m-1", endpoints=ROOMS))
    assert outcome(won) == "assigned"
    assert first.store.unclaimed(keys) is None  # it knows it holds them now

    # the second replica has not seen m-1: it claims blind, loses on the duplicate `_id`
    assert second.store.unclaimed(keys) is not None
    clash = requested("m-2", start=DAY + timedelta(hours=1), endpoints=ROOMS)
    lost = await second.decide(clash)
    assert outcome(lost) == "rejected"
    assert refused_for(lost) == {"m-1"}
    assert await holders(make_scheduler().store, keys) == {"m-1"}
    assert lost["held"] == []
    # whatever it claimed on the way (the buckets past m-1's) is released again
    clash_keys = endpoint_keys(DAY + timedelta(hours=1), hours=2)
    assert await holders(make_scheduler().store, sorted(set(clash_keys) - set(keys))) == {None}
    assert second.store.unclaimed(keys) is None  # it learned who holds them

    # m-1 is cancelled on the first replica; the second still pictures it there, so it
    # reads before refusing anyone and gets the slot
    await first.cancel(cancelled("m-1"))
    again = await second.decide(requested("m-3", endpoints=ROOMS))
    assert outcome(again) == "assigned"
    assert await holders(make_scheduler().store, keys) == {"m-3"}

    # now the first replica's picture is the stale one (it saw m-1 released, not m-3)
    assert first.store.unclaimed(keys) is not None
    stale = await first.decide(requested("m-4", endpoints=ROOMS))
    assert outcome(stale) == "rejected"
    assert refused_for(stale) == {"m-3"}
    assert await holders(make_scheduler().store, keys) == {"m-3"}
