"""Three scheduler replicas in one consumer group on real Kafka + the database, a few
hundred overlapping requests (some delivered twice, some re-sent under a new event id):
no endpoint double-booked, no bridge over capacity, exactly one decision per request."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from scheduling_samples import POLICIES, TENANT, all_ids, publish, requested, settings_for

from hnth_contracts import decode_event
from hnth_kit.kafka import Producer
from hnth_kit.testing import read_topic
from scheduling import domain
from scheduling.app import build
from scheduling.store import CLAIMS, DECISIONS, RELEASES

pytestmark = pytest.mark.integration

REQUESTS = 200
ROOMS = [f"R-{n:02d}" for n in range(24)]
BRIDGES = {"MCU-1": 6, "MCU-2": 4}


def tight_policy(folder) -> None:
    """The province's rules with two small bridges, so capacity is contested too."""
    data = yaml.safe_load((POLICIES / f"{TENANT}.yaml").read_text(encoding="utf-8"))
    data["bridge"] = {"name": "MCU-1", "ports": BRIDGES["MCU-1"], "dial_in": "sip:{room}@mcu1"}
    data["bridges"] = [{"name": "MCU-2", "ports": BRIDGES["MCU-2"], "dial_in": "sip:{room}@mcu2"}]
    (folder / f"{TENANT}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")


@pytest.mark.timeout(180)
async def test_three_replicas_never_double_book_and_decide_each_request_once(
    infra, unique, db, topics, tmp_path
) -> None:
    tight_policy(tmp_path)
    settings = settings_for(
        infra,
        unique,
        policy_dir=tmp_path,
        alternative_reads=60,  # the shared test database is slow: bound each rejection
        outbox_poll_seconds=0.5,
        timer_poll_seconds=2,
    )
    replicas = [build(settings) for _ in range(3)]
    await asyncio.gather(*(r.start() for r in replicas))
    producer = Producer(infra.bootstrap_servers, client_id="scheduling-replicas-test")
    await producer.start()
    try:
        rng = random.Random(5)
        base = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        events = [
            requested(
                f"r-{n}",
                start=base + rng.randrange(0, 5 * 24 * 4) * domain.BUCKET,
                hours=rng.choice((0.5, 1, 1.5)),
                endpoints=tuple(rng.sample(ROOMS, rng.choice((1, 2, 3)))),
            )
            for n in range(REQUESTS)
        ]
        twice = events[::8]  # the same message delivered again
        resent = [requested(e.meeting_id, start=base) for e in events[3::20]]  # new event id
        batch = events + twice + resent
        for n in range(0, len(batch), 50):
            await publish(producer, topics, *batch[n : n + 50])

        # wait on the topic, not by polling the (scan-only on FerretDB) decisions collection
        messages = await read_topic(
            infra.bootstrap_servers, topics.slots, expect=REQUESTS, timeout=150
        )
        decisions = [d async for d in db[DECISIONS].find({})]
    finally:
        await producer.stop()
        await asyncio.gather(*(r.stop() for r in replicas))

    assert sorted(d["meeting_id"] for d in decisions) == sorted(e.meeting_id for e in events)
    assert all(len(d["_applied"]) == 1 and d["_outbox_n"] == 1 for d in decisions)
    published = Counter(decode_event(m.value).meeting_id for m in messages)  # type: ignore[attr-defined]
    assert set(published.values()) == {1}, "one decision event per request"
    assert len(published) == REQUESTS

    assigned = [d for d in decisions if d["outcome"] == "assigned"]
    assert 0 < len(assigned) < REQUESTS, "the load really contends"
    policy = replicas[0].policy_for(TENANT)
    rooms: dict[tuple[str, int], str] = {}
    ports: Counter[tuple[str, int]] = Counter()
    for d in assigned:
        for bucket in domain.buckets(domain.reserved_window(d["start"], d["end"], policy)):
            for room in d["rooms"]:
                assert (room, bucket) not in rooms, f"{room} double-booked by {d['meeting_id']}"
                rooms[(room, bucket)] = d["meeting_id"]
            ports[(d["bridge"], bucket)] += len(d["rooms"])
    assert all(used <= BRIDGES[bridge] for (bridge, _), used in ports.items())

    live = await all_ids(db, CLAIMS) - await all_ids(db, RELEASES)
    held = {c for d in assigned for c in d["held"]}
    assert live == held, "every live claim belongs to a slot, every slot's claims are live"
