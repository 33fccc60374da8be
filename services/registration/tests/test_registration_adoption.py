"""Meetings other systems announce on the topic are adopted a consumer batch at a time:
one read and one insert for the batch, each once per event, and a key another meeting
takes between the batch's read and its insert hands the batch back. Real database."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from pymongo import monitoring
from registration_samples import announced as announced_at

from hnth_contracts import MeetingRequested, Topics
from hnth_kit.batch_reads import batch_reads
from hnth_kit.batch_writes import batch_writes
from hnth_kit.mongo import connect
from registration.store import MeetingTaken, RegistrationStore
from registration.usecases.timeline import adopted

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)


def announced(meeting_id: str, producer: str = "e-office") -> MeetingRequested:
    return announced_at(meeting_id, START, producer=producer)


T = TypeVar("T")


async def elsewhere(call: Callable[[], Awaitable[T]]) -> T:
    """Run outside the batch (another lane's task, an HTTP request): writes at once."""
    return await asyncio.create_task(call(), context=contextvars.Context())  # type: ignore[arg-type]


class Commands(monitoring.CommandListener):
    """The commands sent to the meetings collection, by name."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command.get(event.command_name) == "meetings":
            self.seen.append(event.command_name)

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


async def adopt(store: RegistrationStore, events: list[MeetingRequested]) -> list[bool]:
    """What the consumer does with a batch of other systems' requests."""
    with batch_reads():
        async with batch_writes():
            await store.prefetch_meetings([(e.tenant, e.meeting_id) for e in events])
            return [await store.adopt_meeting(adopted(e), e) for e in events]


async def test_a_batch_adopts_its_meetings_with_one_read_and_one_insert(
    infra, unique, database
) -> None:
    database(f"registration_{unique}")  # dropped at the end
    commands = Commands()
    client = connect(infra.mongodb_url, event_listeners=[commands])
    store = RegistrationStore(client[f"registration_{unique}"], Topics(f"t{unique}."))
    try:
        first, second = announced("eoffice-1"), announced("eoffice-2")
        assert await adopt(store, [first, second, first]) == [True, True, True]
        assert commands.seen == ["find", "insert"], "one read, one insert for the batch"
        # redelivered: adopted already by these very events; another source's is refused
        taken = announced("eoffice-2", producer="work-calendar")
        assert await adopt(store, [first, second, taken]) == [True, True, False]
        meeting = await store.meeting("tuyen-quang", "eoffice-2")
        assert meeting is not None
        assert meeting["source"] == "e-office"
    finally:
        await client.close()


async def test_a_key_taken_after_the_batch_read_hands_the_batch_back(
    infra, unique, database
) -> None:
    db = database(f"registration_{unique}")
    store = RegistrationStore(db, Topics(f"t{unique}."))
    event = announced("eoffice-3")
    other = announced("eoffice-3", producer="work-calendar")

    async def raced() -> None:
        with batch_reads():
            async with batch_writes():
                await store.prefetch_meetings([("tuyen-quang", "eoffice-3")])
                assert await store.adopt_meeting(adopted(event), event)
                # the other system's meeting lands first (another replica, the HTTP API)
                assert await elsewhere(lambda: store.adopt_meeting(adopted(other), other))

    with pytest.raises(MeetingTaken):
        await raced()
    # the batch is redelivered: its read now finds the other meeting, and refuses
    assert await adopt(store, [event]) == [False]
    meeting = await store.meeting("tuyen-quang", "eoffice-3")
    assert meeting is not None
    assert meeting["source"] == "work-calendar"


async def test_a_key_taken_by_the_same_event_meanwhile_is_adopted(infra, unique, database) -> None:
    """An earlier delivery of the same event (a replica the partition moved from)."""
    db = database(f"registration_{unique}")
    store = RegistrationStore(db, Topics(f"t{unique}."))
    event = announced("eoffice-4")
    with batch_reads():
        async with batch_writes():
            await store.prefetch_meetings([("tuyen-quang", "eoffice-4")])
            assert await store.adopt_meeting(adopted(event), event)
            assert await elsewhere(lambda: store.adopt_meeting(adopted(event), event))
    assert await adopt(store, [event]) == [True]
