"""The outbox relay against the real broker and database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from kit_samples import cancelled

from hnth_contracts import decode_event
from hnth_kit.idempotency import UnknownDocument, apply_once, insert_once
from hnth_kit.outbox import (
    LEASES,
    PENDING,
    SENT,
    OutboxRelay,
    announce,
    hand_over,
    published,
    staging,
    with_outbox,
)
from hnth_kit.testing import read_exactly, read_topic
from hnth_kit.topics_admin import ensure_topics

pytestmark = pytest.mark.integration


async def test_state_and_events_are_written_together_and_relayed_in_order(
    infra, db, producer, topics
) -> None:
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    meetings = db["meetings"]
    events = [cancelled("m-1", n) for n in range(3)]
    assert await insert_once(
        meetings, {"_id": "m-1", "status": "x"}, "cause-1", events=events[:1], topics=topics
    )
    assert await apply_once(
        meetings, "m-1", "cause-2", {"$set": {"status": "y"}}, events=events[1:], topics=topics
    )

    stored = await meetings.find_one({"_id": "m-1"})
    assert stored is not None
    assert stored["status"] == "y"
    assert len(stored["_outbox"]) == 3
    assert stored["_outbox_n"] == 3

    relay = OutboxRelay(db, ["meetings"], producer)
    assert await relay.drain() == 3
    assert await relay.drain() == 0
    assert await relay.unsent() == 0

    messages = await read_topic(infra.bootstrap_servers, topics.meetings, expect=3)
    assert [decode_event(m.value) for m in messages] == events
    assert {m.key for m in messages} == {b"tuyen-quang"}, "a province's requests share a key"


async def test_redelivered_message_changes_nothing_the_second_time(db, topics) -> None:
    meetings = db["meetings"]
    await insert_once(meetings, {"_id": "m-2", "n": 0}, "c0", topics=topics)
    assert await apply_once(
        meetings, "m-2", "c1", {"$inc": {"n": 1}}, events=[cancelled("m-2")], topics=topics
    )
    assert not await apply_once(
        meetings, "m-2", "c1", {"$inc": {"n": 1}}, events=[cancelled("m-2")], topics=topics
    )
    assert not await insert_once(meetings, {"_id": "m-2", "n": 0}, "c0", topics=topics)
    stored = await meetings.find_one({"_id": "m-2"})
    assert stored is not None
    assert stored["n"] == 1
    assert len(stored["_outbox"]) == 1


async def test_apply_to_unknown_document_is_reported(db, topics) -> None:
    with pytest.raises(UnknownDocument):
        await apply_once(db["meetings"], "nope", "c1", {"$set": {"a": 1}}, topics=topics)


async def test_events_appended_while_relaying_are_not_lost(infra, db, producer, topics) -> None:
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    meetings = db["meetings"]
    await insert_once(meetings, {"_id": "m-3"}, "c0", events=[cancelled("m-3", 0)], topics=topics)
    relay = OutboxRelay(db, ["meetings"], producer)

    async def append_more() -> None:
        for n in range(1, 21):
            await apply_once(
                meetings, "m-3", f"c{n}", {}, events=[cancelled("m-3", n)], topics=topics
            )

    async def relay_repeatedly() -> None:
        for _ in range(30):
            await relay.drain()

    await asyncio.gather(append_more(), relay_repeatedly())
    await relay.drain()
    assert await relay.unsent() == 0

    messages = await read_topic(infra.bootstrap_servers, topics.meetings, expect=21)
    reasons = [decode_event(m.value).reason for m in messages]  # type: ignore[attr-defined]
    assert sorted(set(reasons), key=lambda r: int(r.split()[1])) == [
        f"reason {n}" for n in range(21)
    ]
    assert reasons == sorted(reasons, key=lambda r: int(r.split()[1])), "order kept per key"


async def test_two_relays_share_the_work_without_losing_events(infra, db, producer, topics) -> None:
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    meetings = db["meetings"]
    for i in range(30):
        await insert_once(
            meetings, {"_id": f"m-{i}"}, "c", events=[cancelled(f"m-{i}")], topics=topics
        )
    a = OutboxRelay(db, ["meetings"], producer, owner="a")
    b = OutboxRelay(db, ["meetings"], producer, owner="b")
    sent = await asyncio.gather(a.drain(), b.drain())
    assert sum(sent) == 30, "one lease holder relays: nothing twice"
    assert await a.unsent() == 0
    messages = await read_topic(infra.bootstrap_servers, topics.meetings, expect=30)
    assert len(set(meeting_ids(messages))) == 30


async def test_announced_events_are_relayed_without_searching_the_collection(
    infra, db, producer, topics
) -> None:
    """After the start-up sweep the relay reads only the announcements (a small collection)
    and the documents they name by `_id`, whatever the state collections hold."""
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    meetings = db["meetings"]
    relay = OutboxRelay(db, ["meetings"], producer, sweep_seconds=3600)
    assert await relay.drain() == 0  # the start-up sweep: nothing staged yet
    await insert_once(meetings, {"_id": "m-a"}, "c0", events=[cancelled("m-a", 0)], topics=topics)
    await apply_once(meetings, "m-a", "c1", {}, events=[cancelled("m-a", 1)], topics=topics)
    assert await relay.backlog() == 2
    assert await relay.drain() == 2
    assert await db[PENDING].count_documents({}) == 0, "announcements of published events go"
    assert await relay.backlog() == 0

    # staged without an announcement (by older code, say): only the sweep finds it
    await meetings.insert_one(with_outbox({"_id": "m-b"}, [cancelled("m-b")], topics))
    assert await relay.drain() == 0
    assert await OutboxRelay(db, ["meetings"], producer).drain() == 1
    messages = await read_topic(infra.bootstrap_servers, topics.meetings, expect=3)
    assert meeting_ids(messages).count("m-a") == 2


async def test_an_announcement_whose_write_never_happened_is_dropped_when_old(
    db, producer, topics
) -> None:
    meetings = db["meetings"]
    await meetings.insert_one({"_id": "m-c"})
    await announce(meetings, "m-c", [cancelled("m-c")])  # ... and the writer died here
    relay = OutboxRelay(db, ["meetings"], producer, sweep_seconds=3600)
    assert await relay.drain() == 0
    assert await db[PENDING].count_documents({}) == 1, "the write may still be on its way"
    await db[PENDING].update_many({}, {"$set": {"at": datetime.now(UTC) - timedelta(minutes=15)}})
    assert await relay.drain() == 0
    assert await db[PENDING].count_documents({}) == 0


async def test_an_announcement_past_its_grace_is_read_only_at_the_slow_cadence(
    infra, db, producer, topics
) -> None:
    """A redelivery's announcement (its write found the change applied) would be read on
    every pass for ever: past 30 s it is read once per `sweep_seconds`, and a write that
    lands that late is still published then."""
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    meetings = db["meetings"]
    relay = OutboxRelay(db, ["meetings"], producer, sweep_seconds=3600)
    assert await relay.drain() == 0  # the start-up pass
    late = [cancelled("m-d")]
    await announce(meetings, "m-d", late)
    await db[PENDING].update_many({}, {"$set": {"at": datetime.now(UTC) - timedelta(minutes=2)}})
    await meetings.insert_one(with_outbox({"_id": "m-d"}, late, topics))  # a very slow writer
    assert await relay.drain() == 0, "past its grace: not read on every pass"
    assert await relay.backlog() == 0, "nor counted as backlog"
    relay._next_sweep = 0.0  # the slow cadence comes round
    assert await relay.drain() == 1
    assert await db[PENDING].count_documents({}) == 0
    messages = await read_topic(infra.bootstrap_servers, topics.meetings, expect=1)
    assert meeting_ids(messages) == ["m-d"]


async def test_a_pass_stops_when_its_bucket_ends_and_another_replica_holds_the_next(
    infra, db, producer, topics
) -> None:
    """A lease is per time bucket. A pass is one batch, sent whole; once its bucket has
    ended and another replica holds the next, this replica publishes nothing more (both
    would publish the same documents: copies), and the next holder carries on."""
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])

    async def write(*numbers: int) -> None:
        for i in numbers:
            await insert_once(
                db["meetings"], {"_id": f"m-{i}"}, "c", events=[cancelled(f"m-{i}")], topics=topics
            )

    await write(0, 1, 2)
    clock = [datetime.now(UTC)]
    next_bucket = int(clock[0].timestamp()) // 10 + 1
    await db[LEASES].insert_one({"_id": f"meetings:{next_bucket}", "owner": "b"})

    class EndsTheBucketAfterOneSend:
        """Publishes, then lets the bucket end (as a slow send would)."""

        async def send(self, messages) -> None:
            await producer.send(messages)
            clock[0] = datetime.fromtimestamp(next_bucket * 10 + 1, UTC)

    a = OutboxRelay(db, ["meetings"], EndsTheBucketAfterOneSend(), owner="a", now=lambda: clock[0])
    assert await a.drain() == 3, "the pass under way sends its batch whole"
    await write(3, 4)
    assert await a.drain() == 0, "the bucket is b's now"
    b = OutboxRelay(db, ["meetings"], producer, owner="b", now=lambda: clock[0])
    assert await b.drain() == 2, "the next bucket's holder carries on"
    messages = await read_exactly(infra.bootstrap_servers, topics.meetings, 5)
    assert len(set(meeting_ids(messages))) == 5, "each event once"


async def test_a_batch_publishes_its_new_documents_events_from_memory(
    infra, db, producer, topics
) -> None:
    """Events staged by inserting new documents in a batch go out when it ends, with no
    read of the announcements, documents or markers, and are settled (marked sent, their
    announcements dropped) at the relay's next pass; an update's events in the same batch
    are left to a pass, which publishes them after the insert's, and nothing twice."""
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    meetings = db["meetings"]
    at = bucket_start() + timedelta(seconds=1)
    relay = OutboxRelay(db, ["meetings"], producer, sweep_seconds=3600, now=lambda: at)
    assert await relay.drain() == 0  # the start-up sweep
    with staging() as staged:
        await insert_once(
            meetings, {"_id": "m-a"}, "c0", events=[cancelled("m-a", 0)], topics=topics
        )
        await insert_once(
            meetings, {"_id": "m-b"}, "c1", events=[cancelled("m-b", 0)], topics=topics
        )
    assert [s.doc_id for s in staged.fresh] == ["m-a", "m-b"]
    assert await relay.publish_staged(staged), "nothing left for a pass"
    assert relay.published == 2
    assert await db[PENDING].count_documents({}) == 2, "settled at the next pass"
    assert await db[SENT].count_documents({}) == 0
    assert await relay.backlog() == 0, "published: no backlog"
    assert await relay.drain() == 0, "the pass settles them and publishes nothing again"
    assert await db[PENDING].count_documents({}) == 0
    assert await relay.unsent() == 0

    with staging() as staged:
        await insert_once(
            meetings, {"_id": "m-c"}, "c2", events=[cancelled("m-c", 0)], topics=topics
        )
        await apply_once(meetings, "m-c", "c3", {}, events=[cancelled("m-c", 1)], topics=topics)
    assert not await relay.publish_staged(staged), "the update waits for a pass"
    assert await relay.drain() == 1
    assert await relay.unsent() == 0
    messages = await read_topic(infra.bootstrap_servers, topics.meetings, expect=4)
    events = [decode_event(m.value) for m in messages]
    in_order = [e for e in events if getattr(e, "meeting_id", None) == "m-c"]
    assert [getattr(e, "reason", None) for e in in_order] == ["reason 0", "reason 1"]


async def test_a_batch_leaves_its_events_to_the_pass_where_another_replica_relays(
    db, producer, topics
) -> None:
    at = datetime.now(UTC)  # one time bucket for both: the first relay holds its lease
    first = OutboxRelay(db, ["meetings"], producer, owner="first", now=lambda: at)
    second = OutboxRelay(db, ["meetings"], producer, owner="second", now=lambda: at)
    assert await first.drain() == 0
    with staging() as staged:
        await insert_once(
            db["meetings"], {"_id": "m-a"}, "c0", events=[cancelled("m-a")], topics=topics
        )
    assert not await second.publish_staged(staged)
    assert second.published == 0
    assert await db[PENDING].count_documents({}) == 1, "the announcement stays for the pass"


async def test_a_pass_leaves_a_running_batchs_new_documents_to_it(
    infra, db, producer, topics
) -> None:
    """A pass between a batch's insert and its end does not read back what the batch will
    publish from memory; once the batch has ended without publishing it (here a raise), a
    pass does."""
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    relay = OutboxRelay(db, ["meetings"], producer, sweep_seconds=3600)
    assert await relay.drain() == 0  # the start-up sweep

    async def batch_that_fails() -> None:
        with staging():
            await insert_once(
                db["meetings"], {"_id": "m-a"}, "c0", events=[cancelled("m-a")], topics=topics
            )
            assert await relay.drain() == 0, "left to the batch"
            raise RuntimeError("the batch fails before publishing")

    with pytest.raises(RuntimeError):
        await batch_that_fails()
    assert await relay.drain() == 1
    assert await relay.unsent() == 0


async def test_what_a_batch_hands_over_stays_in_flight_until_its_task_is_done(
    infra, db, producer, topics
) -> None:
    """A batch hands its events to a task that publishes them while the consumer goes on
    (`Service.publish_behind`): a pass after the batch's end still leaves them to that
    task, and reads them once the task is done without publishing them."""
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    relay = OutboxRelay(db, ["meetings"], producer, sweep_seconds=3600)
    assert await relay.drain() == 0  # the start-up sweep
    with staging() as staged:
        await insert_once(
            db["meetings"], {"_id": "m-a"}, "c0", events=[cancelled("m-a")], topics=topics
        )
        taken = hand_over(staged)
    assert (staged.fresh, staged.announced) == ([], 0), "the batch goes on afresh"
    assert [s.doc_id for s in taken.fresh] == ["m-a"]
    assert await relay.drain() == 0, "in flight after the batch: left to the task"
    published(taken)  # the task is done; say its lease was lost, so it published nothing
    assert await relay.drain() == 1
    assert await relay.unsent() == 0


async def test_a_batch_near_its_buckets_end_is_settled_at_once(infra, db, producer, topics) -> None:
    """In the last seconds of its lease's time bucket a relay settles a batch at once: the
    next bucket's holder, maybe another replica, would otherwise find the announcements
    and publish their events again."""
    at = bucket_start() + timedelta(seconds=9)
    relay = await published_from_memory(infra, db, producer, topics, at)
    assert await db[PENDING].count_documents({}) == 0
    assert await relay.unsent() == 0
    at += timedelta(seconds=2)  # the next bucket, held by another replica
    other = OutboxRelay(db, ["meetings"], producer, owner="other", now=lambda: at)
    assert await other.drain() == 0, "nothing published twice"


async def test_a_stop_settles_what_batches_published(infra, db, producer, topics) -> None:
    relay = await published_from_memory(infra, db, producer, topics, bucket_start())
    assert await db[PENDING].count_documents({}) == 1, "left to the next pass"
    await relay.settle()
    assert await db[PENDING].count_documents({}) == 0
    assert await relay.unsent() == 0


async def published_from_memory(infra, db, producer, topics, at: datetime) -> OutboxRelay:
    """A relay whose clock stands at `at`, having published a batch's one new document's
    event from memory."""
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    relay = OutboxRelay(db, ["meetings"], producer, sweep_seconds=3600, now=lambda: at)
    assert await relay.drain() == 0  # the start-up sweep
    with staging() as staged:
        await insert_once(
            db["meetings"], {"_id": "m-a"}, "c0", events=[cancelled("m-a")], topics=topics
        )
    assert await relay.publish_staged(staged)
    assert relay.published == 1
    return relay


def bucket_start() -> datetime:
    """The start of the current 10-second lease bucket (relays' default)."""
    now = int(datetime.now(UTC).timestamp())
    return datetime.fromtimestamp(now - now % 10, UTC)


def meeting_ids(messages) -> list[str]:
    """The meetings the relayed events are about, in order (a province's requests all
    share its key, so the key does not tell them apart)."""
    return [decode_event(m.value).meeting_id for m in messages]  # type: ignore[attr-defined]
