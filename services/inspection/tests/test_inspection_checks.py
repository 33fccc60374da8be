"""Readiness checks on the real broker and database: checklists open on SlotAssigned,
submissions (HTTP and Kafka) emit CheckCompleted, the deadline timer emits `missed`
once even with two replicas, late submissions supersede, changes and cancellations
update or close the checklists, bad submissions change nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from inspection_samples import (
    ITEMS_OK,
    T0,
    auth,
    board,
    body,
    by_endpoint,
    cancelled,
    check_submitted,
    completed,
    handled,
    no_more,
    slot_assigned,
)

from hnth_contracts import dead_letter
from hnth_kit.auth import Role
from hnth_kit.testing import eventually, headers_of, read_topic
from hnth_kit.timers import QUEUE

pytestmark = pytest.mark.integration
START = T0 + timedelta(days=3)


async def test_checklists_open_and_submissions_emit_check_completed(
    infra, service, http, publish, topics
) -> None:
    await publish([slot_assigned("m-1", START, ["TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG"])], topics)
    opened = await board(http, "m-1", until=lambda b: len(b) == 3)
    assert {i["state"] for i in opened} == {"pending"}
    assert {i["due_at"] for i in opened} == {"2026-03-05T07:00:00+07:00"}  # T-1h, local time
    assert set(opened[0]) >= {"endpoint", "state", "due_at", "checked_by", "checked_at", "items"}

    tech = auth(Role.TECHNICIAN, endpoint="TQ-UBND", subject="ky-thuat-ubnd")
    passed = await http.post("/meetings/m-1/checks/TQ-UBND", json={"items": ITEMS_OK}, headers=tech)
    assert passed.status_code == 201, passed.text
    assert (passed.json()["state"], passed.json()["checked_by"]) == ("passed", "ky-thuat-ubnd")
    audio = {**ITEMS_OK, "audio": {"ok": False, "note": "micro rè"}}
    failed = await http.post("/meetings/m-1/checks/TQ-STTTT", json={"items": audio}, headers=auth())
    assert body(failed)["state"] == "failed"
    assert body(failed)["items"]["audio"] == {"ok": False, "note": "micro rè"}
    # an MCU probe reports over Kafka: the same logic
    probe = check_submitted("m-1", "TQ-H-SONDUONG", T0 + timedelta(hours=1))
    await publish([probe, probe], topics)  # a duplicate delivery changes nothing

    final = by_endpoint(
        await board(http, "m-1", until=lambda b: "pending" not in {i["state"] for i in b})
    )
    assert final["TQ-H-SONDUONG"]["state"] == "passed"
    assert final["TQ-H-SONDUONG"]["checked_by"] == "mcu-probe"
    assert final["TQ-STTTT"]["failed_items"] == ["audio"]
    events = await completed(infra, topics, expect=5)  # 2 CheckSubmitted + 3 CheckCompleted
    # read on: a second CheckCompleted for the duplicate delivery would be a 6th message
    await no_more(infra, topics.checks, 5)
    assert sorted((e.endpoint, e.outcome.value, e.on_time) for e in events) == [
        ("TQ-H-SONDUONG", "passed", True),
        ("TQ-STTTT", "failed", True),
        ("TQ-UBND", "passed", True),
    ]
    assert next(e for e in events if e.endpoint == "TQ-STTTT").failed_items == ("audio",)
    assert all(e.supersedes is None and e.causation_id is None for e in events)


async def test_missed_fires_once_across_two_replicas_and_a_late_submission_supersedes(
    infra, services, publish, topics, clock
) -> None:
    replicas = [await services(), await services()]
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=replicas[1].api), base_url="http://i"
    )
    meetings = {f"m-2{x}": [f"TQ-{x}{n}" for n in range(3)] for x in "abcd"}
    await publish([slot_assigned(m, START, eps) for m, eps in meetings.items()], topics)
    for meeting in meetings:
        await board(http, meeting, until=lambda b: len(b) == 3)
    await eventually(replicas[0].timers.pending, until=lambda n: n == 4)  # one per deadline

    clock.set(START - timedelta(minutes=59))  # the deadlines (T-1h) have passed
    # both replicas' timer loops (every 50 ms) race for the four timers
    await eventually(replicas[0].timers.pending, until=lambda n: n == 0)
    for meeting in meetings:
        await board(http, meeting, until=lambda b: {i["state"] for i in b} == {"missed"})
    assert sum(r.timers.fired for r in replicas) == 4
    assert await replicas[0].db["timer_fired"].count_documents({}) == 4
    for replica in replicas:
        await eventually(replica.relay.unsent, until=lambda n: n == 0)
    everyone = sorted(e for eps in meetings.values() for e in eps)
    events = await completed(infra, topics, expect=len(everyone))
    await no_more(infra, topics.checks, len(everyone))
    assert sorted(e.endpoint for e in events) == everyone, "missed exactly once per endpoint"
    assert {e.outcome for e in events} == {"missed"}

    clock.advance(timedelta(minutes=20))
    tech = auth(Role.TECHNICIAN, endpoint="TQ-a0")
    late = await http.post("/meetings/m-2a/checks/TQ-a0", json={"items": ITEMS_OK}, headers=tech)
    assert (body(late)["state"], body(late)["on_time"]) == ("passed", False)
    events = await completed(infra, topics, expect=13)
    await no_more(infra, topics.checks, 13)  # the late pass once, no second `missed`
    [missed_0] = [e for e in events if e.endpoint == "TQ-a0" and e.outcome == "missed"]
    [passed_0] = [e for e in events if e.outcome == "passed"]
    assert passed_0.supersedes == str(missed_0.event_id)
    assert (passed_0.on_time, passed_0.checked_at) == (False, clock.now())
    await http.aclose()


async def test_changed_meeting_moves_adds_and_closes_checklists(
    infra, service, http, publish, topics, clock
) -> None:
    await publish([slot_assigned("m-3", START, ["TQ-A", "TQ-B"])], topics)
    await board(http, "m-3", until=lambda b: len(b) == 2)
    ok = await http.post("/meetings/m-3/checks/TQ-A", json={"items": ITEMS_OK}, headers=auth())
    assert body(ok)["state"] == "passed"

    moved = START + timedelta(days=1)
    await publish([slot_assigned("m-3", moved, ["TQ-A", "TQ-C"], revision=1)], topics)
    changed = by_endpoint(await board(http, "m-3", until=lambda b: len(b) == 3))
    assert changed["TQ-A"]["state"] == "pending", "a check for the old time says nothing now"
    assert changed["TQ-A"]["due_at"] == "2026-03-06T07:00:00+07:00"
    assert (changed["TQ-C"]["state"], changed["TQ-C"]["closed"]) == ("pending", False)
    assert (changed["TQ-B"]["closed"], changed["TQ-B"]["closed_reason"]) == (True, "changed")

    await publish([slot_assigned("m-3", START, ["TQ-A", "TQ-B"])], topics)  # stale revision
    await eventually(lambda: handled(service, topics.slots), until=lambda n: n == 3)
    pending = await service.db[QUEUE].find({}).to_list()
    assert [(t["payload"]["meeting_id"], t["due_at"]) for t in pending] == [
        ("m-3", moved - timedelta(hours=1))
    ], "the old deadline's timer is cancelled"
    refused = await http.post("/meetings/m-3/checks/TQ-B", json={"items": ITEMS_OK}, headers=auth())
    assert refused.status_code == 409
    assert refused.json()["code"] == "checklist_closed"
    clock.set(moved)
    after = by_endpoint(
        await board(http, "m-3", until=lambda b: {i["state"] for i in b} == {"missed", "pending"})
    )
    assert (after["TQ-A"]["state"], after["TQ-C"]["state"]) == ("missed", "missed")
    assert after["TQ-B"]["closed"] is True
    events = await completed(infra, topics, expect=3)
    await no_more(infra, topics.checks, 3)  # nothing for the closed TQ-B, nothing twice
    assert sorted((e.endpoint, e.outcome.value) for e in events) == [
        ("TQ-A", "missed"),
        ("TQ-A", "passed"),
        ("TQ-C", "missed"),
    ]


async def test_cancellation_closes_checklists_and_their_timers(
    infra, service, http, publish, topics, clock
) -> None:
    await publish([slot_assigned("m-4", START, ["TQ-A", "TQ-B"])], topics)
    await board(http, "m-4", until=lambda b: len(b) == 2)
    await publish([cancelled("m-4")], topics)
    closed = await board(http, "m-4", until=lambda b: all(i["closed"] for i in b))
    assert {i["closed_reason"] for i in closed} == {"cancelled"}
    assert await service.timers.pending() == 0
    refused = await http.post(
        "/meetings/m-4/checks/TQ-A",
        json={"items": ITEMS_OK},
        headers={**auth(), "Accept-Language": "en"},
    )
    assert refused.status_code == 409
    assert "closed" in refused.json()["message"]
    # a cancellation that overtakes its slot (another topic) still wins
    await publish([cancelled("m-5")], topics)
    await eventually(
        lambda: service.db["cancellations"].count_documents({}), until=lambda n: n == 2
    )
    await publish([slot_assigned("m-5", START, ["TQ-A"])], topics)
    late_slot = await board(http, "m-5", until=lambda b: len(b) == 1 and b[0]["closed"])
    assert late_slot[0]["closed_reason"] == "cancelled"
    assert await service.timers.pending() == 0


async def test_bad_submissions_get_a_clear_4xx_and_change_nothing(
    infra, service, http, publish, topics
) -> None:
    await publish([slot_assigned("m-6", START, ["TQ-A", "TQ-B"])], topics)
    await board(http, "m-6", until=lambda b: len(b) == 2)
    other_tech = auth(Role.TECHNICIAN, endpoint="TQ-B")
    cases = [
        ("/meetings/m-6/checks/TQ-X", {"items": ITEMS_OK}, auth(), 404),
        ("/meetings/nope/checks/TQ-A", {"items": ITEMS_OK}, auth(), 404),
        ("/meetings/m-6/checks/TQ-A", {"items": ITEMS_OK}, other_tech, 403),
        ("/meetings/m-6/checks/TQ-A", {"items": ITEMS_OK}, auth(Role.VIEWER), 403),
        ("/meetings/m-6/checks/TQ-A", {"items": ITEMS_OK}, {}, 401),
        ("/meetings/m-6/checks/TQ-A", {"items": {"line": {"ok": True}}}, auth(), 422),
    ]
    for path, payload, headers, expected in cases:
        response = await http.post(path, json=payload, headers=headers)
        assert response.status_code == expected, (path, headers, response.text)
    unknown = await http.post("/meetings/m-6/checks/TQ-X", json={"items": ITEMS_OK}, headers=auth())
    assert "TQ-X" in unknown.json()["message"]
    # the same over Kafka: a probe's result for an endpoint not in the meeting is dead-lettered
    await publish([check_submitted("m-6", "TQ-X", T0)], topics)
    [dead] = await read_topic(infra.bootstrap_servers, dead_letter(topics.checks), expect=1)
    assert headers_of(dead)["hnth-dlq-reason"] == "unknown_endpoint"
    assert {i["state"] for i in await board(http, "m-6")} == {"pending"}
    assert await service.db["check_results"].count_documents({}) == 0
