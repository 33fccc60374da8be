"""Events in awkward orders, on the real broker and database: a meeting moved away and
back, a probe's result before its meeting's slot, a scheduling release, a submission
racing a cancellation."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from inspection_samples import (
    T0,
    TENANT,
    board,
    by_endpoint,
    check_submitted,
    completed,
    envelope,
    handled,
    no_more,
    slot_assigned,
)

from hnth_contracts import CheckItem, ItemResult, RuleRef, SlotReleased, dead_letter
from hnth_kit.auth import Role
from hnth_kit.mongo import connect
from hnth_kit.refusal import Refusal
from hnth_kit.testing import eventually, headers_of, read_topic, signed_token
from hnth_kit.timers import QUEUE
from hnth_kit.topics_admin import ensure_topics
from inspection.domain import checklists, checks
from inspection.store import InspectionStore

pytestmark = pytest.mark.integration
START = T0 + timedelta(days=3)


async def test_a_meeting_moved_away_and_back_fires_missed_exactly_once(
    infra, service, http, publish, topics, clock
) -> None:
    away = START + timedelta(days=1)
    await publish(
        [
            slot_assigned("m-ab", START, ["TQ-A", "TQ-B"]),
            slot_assigned("m-ab", away, ["TQ-A", "TQ-B"], revision=1),
            slot_assigned("m-ab", START, ["TQ-A", "TQ-B"], revision=2),  # back to A
        ],
        topics,
    )
    await eventually(lambda: handled(service, topics.slots), until=lambda n: n == 3)
    pending = await service.db[QUEUE].find({}).to_list()
    assert [t["timer"] for t in pending] == [
        checklists.deadline_timer_id(
            checklists.meeting_key(TENANT, "m-ab"), 2, START - timedelta(hours=1)
        )
    ]

    clock.set(START - timedelta(minutes=59))  # A's deadline has passed
    missed = await board(http, "m-ab", until=lambda b: {i["state"] for i in b} == {"missed"})
    assert {i["due_at"] for i in missed} == {"2026-03-05T07:00:00+07:00"}
    await eventually(service.timers.pending, until=lambda n: n == 0)
    events = await completed(infra, topics, expect=2)
    assert sorted((e.endpoint, e.outcome.value) for e in events) == [
        ("TQ-A", "missed"),
        ("TQ-B", "missed"),
    ]
    clock.set(away)  # the cancelled timer of the day away stays cancelled
    await no_more(infra, topics.checks, 2)


async def test_two_provinces_numbering_a_meeting_alike_keep_their_own_checklists(
    service, http, publish, topics
) -> None:
    """Two provinces' e-office systems may number meetings alike: Lạng Sơn's meeting
    "VPDT-1" and its release close nothing of Tuyên Quang's "VPDT-1"."""
    other = "lang-son"
    theirs = slot_assigned("VPDT-1", START + timedelta(hours=4), ["LS-UBND"])
    theirs = theirs.model_copy(update={"tenant": other})
    released = SlotReleased.create(
        **{**envelope("VPDT-1"), "tenant": other}, meeting_id="VPDT-1", reason="cancelled"
    )
    await publish([slot_assigned("VPDT-1", START, ["TQ-A", "TQ-B"]), theirs, released], topics)
    ours = await board(http, "VPDT-1", until=lambda b: len(b) == 2)
    assert {i["endpoint"]: i["state"] for i in ours} == {"TQ-A": "pending", "TQ-B": "pending"}
    lang_son = {"Authorization": f"Bearer {signed_token(role=Role.VIEWER, tenant=other)}"}

    async def closed_there() -> list[dict]:
        answer = await http.get("/meetings/VPDT-1/readiness", headers=lang_son)
        return answer.json() if answer.status_code == 200 else []

    await eventually(closed_there, until=lambda b: [i["closed"] for i in b] == [True])
    again = by_endpoint(await board(http, "VPDT-1"))
    assert {code: item["closed"] for code, item in again.items()} == {"TQ-A": False, "TQ-B": False}


async def test_a_meeting_stored_before_keys_named_the_province_is_read_and_changed_in_place(
    infra, unique, services, publish, topics
) -> None:
    """Meetings and checklists written keyed by the meeting id alone stay where they are:
    the board reads them, and the next revision changes them (no second copy)."""
    slot = slot_assigned("m-old", START, ["TQ-A", "TQ-B"])
    rule = RuleRef(rule=checklists.CHECK_RULE, source="seeds/001")
    opened = checklists.plan_checklists(slot, [], T0, rule, key="m-old").open
    record = checklists.meeting_record(slot, ["TQ-A", "TQ-B"], key="m-old")
    del record["meeting_id"]  # as it was written then
    client = connect(infra.mongodb_url)
    db = client[f"inspection_{unique}"]
    await db["meetings"].insert_one(record)
    await db["checklists"].insert_many(opened)
    await client.close()

    service = await services()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.api), base_url="http://inspection"
    ) as http:
        assert len(await board(http, "m-old", until=lambda b: len(b) == 2)) == 2
        await publish([slot_assigned("m-old", START, ["TQ-A"], revision=1)], topics)  # B leaves
        items = by_endpoint(await board(http, "m-old", until=lambda b: b[1]["closed"]))
    assert (items["TQ-A"]["closed"], items["TQ-B"]["closed_reason"]) == (False, "changed")
    assert [m["_id"] async for m in service.db["meetings"].find({})] == ["m-old"]
    assert await service.db["checklists"].count_documents({}) == 2


async def test_a_probe_result_before_its_slot_waits_and_then_counts(
    infra, service, http, publish, topics
) -> None:
    probe = check_submitted("m-early", "TQ-A", T0 + timedelta(hours=1))
    await publish([probe, probe], topics)  # before SlotAssigned, and delivered twice
    await eventually(lambda: handled(service, topics.checks), until=lambda n: n == 2)
    assert await service.db["parked_checks"].count_documents({}) == 1
    assert await service.db["check_results"].count_documents({}) == 0

    await publish([slot_assigned("m-early", START, ["TQ-A", "TQ-B"])], topics)
    items = by_endpoint(
        await board(http, "m-early", until=lambda b: len(b) == 2 and b[0]["state"] == "passed")
    )
    assert (items["TQ-A"]["checked_by"], items["TQ-A"]["on_time"]) == ("mcu-probe", True)
    assert items["TQ-B"]["state"] == "pending"
    assert await service.db["parked_checks"].count_documents({}) == 0
    events = await completed(infra, topics, expect=3)  # 2 CheckSubmitted + 1 CheckCompleted
    assert [(e.endpoint, e.outcome.value) for e in events] == [("TQ-A", "passed")]
    pending = await service.db[QUEUE].find({}).to_list()
    assert [t["kind"] for t in pending] == ["check_missed"], "the give-up timer is cancelled"


async def test_a_parked_result_whose_meeting_never_comes_is_dead_lettered_after_the_grace(
    infra, service, http, publish, topics, clock
) -> None:
    await publish([check_submitted("m-never", "TQ-A", T0)], topics)
    await eventually(
        lambda: service.db["parked_checks"].count_documents({}), until=lambda n: n == 1
    )
    clock.advance(timedelta(minutes=9))  # within the grace (10 min by default)
    assert (
        await read_topic(infra.bootstrap_servers, dead_letter(topics.checks), expect=1, timeout=2)
        == []
    )
    clock.advance(timedelta(minutes=2))
    [dead] = await read_topic(infra.bootstrap_servers, dead_letter(topics.checks), expect=1)
    headers = headers_of(dead)
    assert (headers["hnth-dlq-reason"], headers["hnth-original-topic"]) == (
        "unknown_endpoint",
        topics.checks,
    )
    assert b"m-never" in dead.value
    await eventually(
        lambda: service.db["parked_checks"].count_documents({}), until=lambda n: n == 0
    )


async def test_a_release_for_cancellation_closes_checklists_and_a_change_does_not(
    infra, service, http, publish, topics
) -> None:
    await publish(
        [slot_assigned("m-rel", START, ["TQ-A", "TQ-B"]), slot_assigned("m-chg", START, ["TQ-A"])],
        topics,
    )
    await board(http, "m-rel", until=lambda b: len(b) == 2)
    await board(http, "m-chg", until=lambda b: len(b) == 1)

    def released(meeting_id: str, reason: str) -> SlotReleased:
        return SlotReleased.create(**envelope(meeting_id), meeting_id=meeting_id, reason=reason)

    await publish([released("m-chg", "changed"), released("m-rel", "cancelled")], topics)
    closed = await board(http, "m-rel", until=lambda b: all(i["closed"] for i in b))
    assert {i["closed_reason"] for i in closed} == {"cancelled"}
    await eventually(lambda: handled(service, topics.slots), until=lambda n: n == 4)
    [kept] = await board(http, "m-chg")
    assert kept["closed"] is False, "a change is followed by its new SlotAssigned"
    pending = await service.db[QUEUE].find({}).to_list()
    assert [t["payload"]["meeting_id"] for t in pending] == ["m-chg"]


async def test_a_submission_that_read_the_checklist_before_its_cancellation_adds_nothing(
    service, http, publish, topics
) -> None:
    await publish([slot_assigned("m-race", START, ["TQ-A"])], topics)
    await board(http, "m-race", until=lambda b: len(b) == 1)
    store = InspectionStore(service.db, topics)
    seen_open = await store.checklist(
        checklists.checklist_id(checklists.meeting_key(TENANT, "m-race"), "TQ-A")
    )
    assert seen_open is not None
    assert not seen_open["closed"]
    await publish(
        [SlotReleased.create(**envelope("m-race"), meeting_id="m-race", reason="cancelled")], topics
    )
    await board(http, "m-race", until=lambda b: b[0]["closed"])

    ok = {item: ItemResult(ok=True) for item in CheckItem}
    refused: list[str] = []

    def decide(current, results):
        if current["closed"]:
            refused.append(current["closed_reason"])
            raise Refusal(409, "checklist_closed", "đã đóng", "closed")
        return checks.submission_result(current, results, ok, "kt", T0, "late-writer")

    with pytest.raises(Refusal):
        await store.append_result(seen_open, "late-writer", decide)  # holds the open copy
    assert refused == ["cancelled"], "append_result decided on the checklist as it is now"
    assert await service.db["check_results"].count_documents({}) == 0


async def test_a_meeting_its_probe_result_and_its_next_revision_in_one_batch(
    infra, services, publish, topics
) -> None:
    """All on the broker before the service starts, so its first batch brings them
    together: the meeting and its checklists are saved at the batch's end, and what the
    batch's later messages read or change of them is found all the same."""
    await ensure_topics(infra.bootstrap_servers, [topics.slots, topics.checks, topics.meetings])
    await publish(
        [
            slot_assigned("m-one", START, ["TQ-A", "TQ-B"]),
            check_submitted("m-one", "TQ-A", T0 + timedelta(hours=1)),
            slot_assigned("m-one", START, ["TQ-A", "TQ-C"], revision=1),  # TQ-B leaves
        ],
        topics,
    )
    service = await services()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.api), base_url="http://inspection"
    ) as http:
        items = by_endpoint(
            await board(
                http,
                "m-one",
                until=lambda b: len(b) == 3 and by_endpoint(b)["TQ-A"]["state"] == "passed",
            )
        )
    assert (items["TQ-B"]["closed"], items["TQ-B"]["closed_reason"]) == (True, "changed")
    assert (items["TQ-C"]["state"], items["TQ-C"]["closed"]) == ("pending", False)
    key = checklists.meeting_key(TENANT, "m-one")
    assert await service.db["meetings"].find_one({"_id": key}, {"revision": 1}) == {
        "_id": key,
        "revision": 1,
    }
