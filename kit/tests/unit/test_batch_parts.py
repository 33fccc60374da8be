"""A consumer batch in parts (`process_batch(part_seconds=...)`): each part's held writes
are made, then the service publishes what it staged, before the next part begins; the
batch's events are prefetched once."""

from __future__ import annotations

from typing import Any

from kit_samples import cancelled

from hnth_contracts import MeetingCancelled
from hnth_kit.batch_writes import held_in_batch
from hnth_kit.consumer import EventConsumer, Outcome, RawMessage


def _message(meeting_id: str, offset: int) -> RawMessage:
    return RawMessage(
        topic="hnth.meetings",
        partition=0,
        offset=offset,
        key=b"k",
        value=cancelled(meeting_id).to_json(),
    )


class Held:
    def __init__(self, log: list[str]) -> None:
        self.items: list[str] = []
        self._log = log

    async def flush(self) -> None:
        self._log.append("write " + " ".join(self.items))


def _consumer(log: list[str]) -> EventConsumer:
    async def handle(event: MeetingCancelled, raw: RawMessage) -> None:
        log.append(f"handle {event.meeting_id}")
        held = held_in_batch("rows", lambda: Held(log))
        assert held is not None
        held.items.append(event.meeting_id)

    async def prefetch(events: Any) -> None:
        log.append("prefetch " + " ".join(e.meeting_id for e in events))

    consumer = EventConsumer("kit-test", None, {MeetingCancelled: handle})  # type: ignore[arg-type]
    consumer.prefetch = prefetch
    return consumer


BATCH = [_message(m, n) for n, m in enumerate(["m-1", "m-2", "m-3"])]


async def test_a_part_is_written_and_published_before_the_next_begins() -> None:
    log: list[str] = []

    async def publish() -> None:
        log.append("publish")

    consumer = _consumer(log)
    # no time at all: every message is a part of its own
    outcomes = await consumer.process_batch(BATCH, part_seconds=0, between_parts=publish)
    assert outcomes == [Outcome.HANDLED] * 3
    assert log == [
        "prefetch m-1 m-2 m-3",
        "handle m-1",
        "write m-1",
        "publish",
        "handle m-2",
        "write m-2",
        "publish",
        "handle m-3",
        "write m-3",
    ], "the last part is published by the batch's end, as before"
    assert consumer.counts == {("hnth.meetings", Outcome.HANDLED): 3}


async def test_without_a_part_time_the_batch_is_one_part() -> None:
    log: list[str] = []

    async def publish() -> None:
        log.append("publish")

    outcomes = await _consumer(log).process_batch(BATCH, between_parts=publish)
    assert outcomes == [Outcome.HANDLED] * 3
    assert log == [
        "prefetch m-1 m-2 m-3",
        "handle m-1",
        "handle m-2",
        "handle m-3",
        "write m-1 m-2 m-3",
    ]
