"""Decoding, dispatch, retries and dead-lettering against the real broker."""

from __future__ import annotations

import pytest
from kit_samples import cancelled
from pymongo.errors import ConnectionFailure

from hnth_contracts import MeetingCancelled, dead_letter
from hnth_kit.consumer import EventConsumer, Outcome, RawMessage, Unprocessable
from hnth_kit.testing import headers_of, read_topic
from hnth_kit.topics_admin import ensure_topics

pytestmark = pytest.mark.integration


def raw(topic: str, value: bytes, offset: int = 7, declared: str | None = None) -> RawMessage:
    """A delivered message; `declared`: the event type its `hnth-event-type` header names."""
    headers = (("hnth-event-type", declared.encode()),) if declared else ()
    return RawMessage(
        topic=topic, partition=0, offset=offset, key=b"m-1", value=value, headers=headers
    )


POISON = {
    "invalid_json": b"{not json",
    "unknown_type": b'{"type": "MeetingTeleported", "meeting_id": "m-1"}',
    "invalid_schema": b'{"type": "MeetingCancelled", "meeting_id": 42}',
}


async def test_poison_messages_go_to_the_dlq_with_their_reason(infra, producer, topics) -> None:
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    consumer = EventConsumer("kit-test", producer, {MeetingCancelled: _never_called})
    for n, body in enumerate(POISON.values()):
        assert await consumer.process(raw(topics.meetings, body, n)) is Outcome.DEAD_LETTERED

    dlq = await read_topic(infra.bootstrap_servers, dead_letter(topics.meetings), expect=3)
    assert [m.value for m in dlq] == list(POISON.values())
    for message, reason in zip(dlq, POISON, strict=True):
        headers = headers_of(message)
        assert headers["hnth-dlq-reason"] == reason
        assert headers["hnth-dlq-service"] == "kit-test"
        assert headers["hnth-original-topic"] == topics.meetings
        assert headers["hnth-dlq-error"]
    assert headers_of(dlq[0])["hnth-original-offset"] == "0"


async def _never_called(event: object, raw: RawMessage) -> None:
    raise AssertionError("a poison message reached a handler")


async def test_failing_handler_is_retried_then_dead_lettered(infra, producer, topics) -> None:
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    calls: list[str] = []

    async def flaky(event: MeetingCancelled, raw: RawMessage) -> None:
        calls.append(event.meeting_id)
        raise RuntimeError("boom")

    consumer = EventConsumer(
        "kit-test", producer, {MeetingCancelled: flaky}, attempts=3, backoff=0.01
    )
    outcome = await consumer.process(raw(topics.meetings, cancelled("m-1").to_json()))
    assert outcome is Outcome.DEAD_LETTERED
    assert len(calls) == 3
    [message] = await read_topic(infra.bootstrap_servers, dead_letter(topics.meetings), expect=1)
    assert headers_of(message)["hnth-dlq-reason"] == "handler_failed"
    assert "boom" in headers_of(message)["hnth-dlq-error"]


async def test_unprocessable_event_is_dead_lettered_at_once(infra, producer, topics) -> None:
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])

    async def unknown(event: MeetingCancelled, raw: RawMessage) -> None:
        raise Unprocessable("unknown_meeting", f"no meeting {event.meeting_id}")

    consumer = EventConsumer("kit-test", producer, {MeetingCancelled: unknown})
    outcome = await consumer.process(raw(topics.meetings, cancelled("m-9").to_json()))
    assert outcome is Outcome.DEAD_LETTERED
    [message] = await read_topic(infra.bootstrap_servers, dead_letter(topics.meetings), expect=1)
    assert headers_of(message)["hnth-dlq-reason"] == "unknown_meeting"


async def test_transient_failure_is_retried_not_dead_lettered(producer, topics) -> None:
    from pymongo.errors import AutoReconnect

    calls: list[int] = []

    async def recovers(event: MeetingCancelled, raw: RawMessage) -> None:
        calls.append(1)
        if len(calls) < 5:
            raise AutoReconnect("database restarting")

    consumer = EventConsumer(
        "kit-test", producer, {MeetingCancelled: recovers}, attempts=1, backoff=0.01
    )
    outcome = await consumer.process(raw(topics.meetings, cancelled("m-1").to_json()))
    assert outcome is Outcome.HANDLED
    assert len(calls) == 5


async def test_known_event_without_handler_is_ignored(producer, topics) -> None:
    consumer = EventConsumer("kit-test", producer, {})
    assert (
        await consumer.process(raw(topics.meetings, cancelled("m-1").to_json())) is Outcome.IGNORED
    )


async def test_an_event_declared_for_another_service_is_ignored_without_decoding(
    producer, topics
) -> None:
    consumer = EventConsumer("kit-test", producer, {MeetingCancelled: _never_called})
    message = raw(topics.meetings, b"{not even json", declared="SlotAssigned")
    assert await consumer.process(message) is Outcome.IGNORED


async def test_a_malformed_event_declared_for_this_service_is_dead_lettered(
    infra, producer, topics
) -> None:
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    consumer = EventConsumer("kit-test", producer, {MeetingCancelled: _never_called})
    message = raw(topics.meetings, POISON["invalid_schema"], declared="MeetingCancelled")
    assert await consumer.process(message) is Outcome.DEAD_LETTERED


async def test_a_batch_shows_prefetch_the_events_it_will_handle_before_handling_them(
    infra, producer, topics
) -> None:
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    seen: list[str] = []

    async def handle(event: MeetingCancelled, raw: RawMessage) -> None:
        seen.append(f"handled {event.meeting_id}")

    async def prefetch(events) -> None:
        seen.append("prefetch " + " ".join(e.meeting_id for e in events))

    consumer = EventConsumer("kit-test", producer, {MeetingCancelled: handle})
    consumer.prefetch = prefetch
    outcomes = await consumer.process_batch(
        [
            raw(topics.meetings, cancelled("m-1").to_json(), 1),
            raw(topics.meetings, b"{}", 2, declared="SlotAssigned"),  # another service's
            raw(topics.meetings, POISON["invalid_json"], 3),
            raw(topics.meetings, cancelled("m-2").to_json(), 4),
        ]
    )
    assert outcomes == [
        Outcome.HANDLED,
        Outcome.IGNORED,
        Outcome.DEAD_LETTERED,
        Outcome.HANDLED,
    ]
    assert seen == ["prefetch m-1 m-2", "handled m-1", "handled m-2"]


async def test_a_failing_prefetch_stops_no_message(producer, topics) -> None:
    """Each message then reads what it needs alone; a database outage still rewinds."""
    handled: list[str] = []

    async def handle(event: MeetingCancelled, raw: RawMessage) -> None:
        handled.append(event.meeting_id)

    async def broken(events) -> None:
        raise KeyError("a bug in a service's prefetch")

    consumer = EventConsumer("kit-test", producer, {MeetingCancelled: handle})
    consumer.prefetch = broken
    batch = [raw(topics.meetings, cancelled(m).to_json(), n) for n, m in enumerate(["a", "b"])]
    assert await consumer.process_batch(batch) == [Outcome.HANDLED, Outcome.HANDLED]
    assert handled == ["a", "b"]

    async def outage(events) -> None:
        raise ConnectionFailure("the database is down")

    consumer.prefetch = outage
    with pytest.raises(ConnectionFailure):
        await consumer.process_batch(batch)
    assert handled == ["a", "b"], "nothing handled before the batch is redelivered"
