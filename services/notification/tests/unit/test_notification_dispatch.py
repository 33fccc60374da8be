"""The sender loop's hand-over: notices just stored are sent without a read of the queue."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from notification.dispatch import Dispatcher, Doorbell
from notification.usecases import DeliveryConfig
from notification.usecases.sending import Attempted


class FakeDelivery:
    """Records what the loop asks of `Delivery`."""

    config = DeliveryConfig("hnth@example.vn", "https://x", b"a", b"w", batch=3, poll_seconds=3600)
    """A poll an hour: within a test, only the first pass and an asked-for look poll."""

    def __init__(self, queue: Sequence[str] = ()) -> None:
        self.queue = list(queue)
        self.polls = 0
        self.sent: list[list[str]] = []
        self.passes: asyncio.Queue[list[str]] = asyncio.Queue()

    async def due(self) -> list[str]:
        self.polls += 1
        self.passes.put_nowait(["(poll)"])
        return list(self.queue)

    async def send_many(self, notice_ids: Sequence[str], owner: str) -> list[Attempted]:
        self.sent.append(list(notice_ids))
        self.passes.put_nowait(list(notice_ids))
        return []


def dispatcher(delivery: FakeDelivery, doorbell: Doorbell) -> Dispatcher:
    async def close() -> None:
        pass

    return Dispatcher(delivery, doorbell, close)  # type: ignore[arg-type]


async def test_handed_notices_are_sent_without_polling_the_queue() -> None:
    delivery, doorbell = FakeDelivery(queue=["old"]), Doorbell()
    doorbell.ring(["n1", "n2"])
    doorbell.ring(["n2", "n3", "n4"])  # a redelivery hands n2 again: once is enough
    await dispatcher(delivery, doorbell).send_due(poll=False)
    await dispatcher(delivery, doorbell).send_due(poll=False)
    assert delivery.sent == [["n1", "n2", "n3"], ["n4"]], "a batch at a time, oldest first"
    assert delivery.polls == 0


async def test_a_poll_adds_the_queue_and_takes_its_finds_off_the_hand_over() -> None:
    delivery, doorbell = FakeDelivery(queue=["old", "n2"]), Doorbell()
    doorbell.ring(["n1"])
    await dispatcher(delivery, doorbell).send_due(poll=True)
    assert delivery.sent == [["n1", "old", "n2"]]
    doorbell.ring(["n2"])
    delivery.queue = ["n3"]
    await dispatcher(delivery, doorbell).send_due(poll=True)
    assert delivery.sent[-1] == ["n2", "n3"]
    assert doorbell.take(10) == [], "what a poll found is not handed again"


async def test_a_ring_without_ids_asks_for_a_look_at_the_queue() -> None:
    doorbell = Doorbell()
    assert not doorbell.look_asked()
    doorbell.ring(())
    await asyncio.wait_for(doorbell.wait(timeout=60), timeout=5)  # returns at once
    assert doorbell.look_asked()
    assert not doorbell.look_asked(), "asked once, answered once"


async def test_the_loop_sends_what_is_rung_while_it_waits() -> None:
    delivery, doorbell = FakeDelivery(), Doorbell()
    loop = asyncio.create_task(dispatcher(delivery, doorbell).run())
    try:
        async with asyncio.timeout(5):
            assert await delivery.passes.get() == ["(poll)"], "the first pass polls the queue"
            doorbell.ring(["n1"])
            assert await delivery.passes.get() == ["n1"]
        assert delivery.polls == 1, "rung ids go without a poll inside `poll_seconds`"
    finally:
        loop.cancel()
