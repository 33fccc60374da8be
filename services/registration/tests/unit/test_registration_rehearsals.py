"""Rehearsals (tổng duyệt): booked as meetings of their own on the meeting's endpoints,
linked to it; moving or cancelling the meeting asks what becomes of them. No Kafka, no
database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from registration_memory import MemoryStore
from unit.test_registration_usecases import NOW, OPERATOR, POLICY, REGISTRAR, body

from hnth_contracts import MeetingCancelled, MeetingChanged, MeetingRequested, rules
from hnth_kit.clock import ManualClock
from hnth_kit.refusal import Refusal
from registration.commands import CancelIn, MeetingPatch, MoveIn, RehearsalIn
from registration.domain import rehearsal
from registration.usecases.meetings import Meetings


@pytest.fixture
def meetings(store: MemoryStore) -> Meetings:
    return Meetings(store, lambda _: POLICY, ManualClock(NOW))


REGISTRAR_OF_HOST = REGISTRAR.model_copy(update={"unit": "VP-UBND"})


async def with_rehearsal(meetings: Meetings) -> tuple[str, str]:
    """A meeting four days ahead and its rehearsal the day before."""
    meeting = (await meetings.register(OPERATOR, body(days_ahead=4), None)).meeting
    start = meeting["start"] - timedelta(days=1)
    booked = await meetings.book_rehearsal(
        OPERATOR, meeting["_id"], RehearsalIn(start=start, end=start + timedelta(hours=1)), None
    )
    return str(meeting["_id"]), str(booked.meeting["_id"])


def rules_of(raised: pytest.ExceptionInfo[Refusal]) -> list[tuple[str, str]]:
    return [(v.field, v.rule) for v in raised.value.violations]


def test_the_policy_says_which_meetings_need_one() -> None:
    threshold = POLICY.value(rehearsal.MIN_ENDPOINTS)
    assert rehearsal.required(POLICY, threshold)
    assert not rehearsal.required(POLICY, threshold - 1)


async def test_a_rehearsal_is_a_meeting_on_the_same_endpoints_linked_to_it(meetings, store) -> None:
    meeting_id, rehearsal_id = await with_rehearsal(meetings)
    booked = store.stored[(OPERATOR.tenant, rehearsal_id)]
    meeting = store.stored[(OPERATOR.tenant, meeting_id)]
    assert booked["rehearsal_of"] == meeting_id
    assert booked["endpoints"] == meeting["endpoints"]
    assert booked["title"] == "Tổng duyệt: " + meeting["title"]
    requested = [e for e in store.outbox if isinstance(e, MeetingRequested)]
    assert [e.meeting_id for e in requested] == [meeting_id, rehearsal_id]
    shown = await meetings.read(OPERATOR, meeting_id)
    assert [(r["_id"], r["status"]) for r in shown.rehearsals or []] == [
        (rehearsal_id, "requested")
    ]
    # scheduling refused it: the meeting lists it so (a refused rehearsal is none)
    store.entries.append(
        {"_id": "e1", "meeting_id": rehearsal_id, "type": "SlotRejected", "revision": 0}
    )
    shown = await meetings.read(OPERATOR, meeting_id)
    assert [r["status"] for r in shown.rehearsals or []] == ["rejected"]


async def test_booking_the_same_rehearsal_twice_books_it_once(meetings, store) -> None:
    meeting_id, rehearsal_id = await with_rehearsal(meetings)
    meeting = store.stored[(OPERATOR.tenant, meeting_id)]
    start = meeting["start"] - timedelta(days=1)
    again = await meetings.book_rehearsal(
        OPERATOR, meeting_id, RehearsalIn(start=start, end=start + timedelta(hours=1)), None
    )
    assert again.meeting["_id"] == rehearsal_id
    assert not again.created


async def test_a_rehearsal_ending_inside_the_lead_time_is_refused_with_its_rule(
    meetings, store
) -> None:
    meeting = (await meetings.register(OPERATOR, body(days_ahead=4), None)).meeting
    start = meeting["start"] - timedelta(hours=2)
    with pytest.raises(Refusal) as raised:
        await meetings.book_rehearsal(
            OPERATOR, meeting["_id"], RehearsalIn(start=start, end=start + timedelta(hours=1)), None
        )
    assert rules_of(raised) == [("end", rehearsal.LEAD_TIME)]
    assert raised.value.violations[0].source == POLICY.ref(rehearsal.LEAD_TIME).source
    assert len(store.stored) == 1


async def test_a_rehearsal_is_checked_as_any_meeting_is(meetings, store) -> None:
    # the notice lead time applies to a rehearsal too: the line provider must be told
    meeting = (await meetings.register(OPERATOR, body(days_ahead=4), None)).meeting
    start = NOW + timedelta(hours=3)
    with pytest.raises(Refusal) as raised:
        await meetings.book_rehearsal(
            REGISTRAR_OF_HOST,
            meeting["_id"],
            RehearsalIn(start=start, end=start + timedelta(hours=1)),
            None,
        )
    assert ("start", "notice.lead_time") in rules_of(raised)


async def test_a_rehearsal_of_a_rehearsal_is_refused(meetings) -> None:
    _, rehearsal_id = await with_rehearsal(meetings)
    booked = await meetings.read(OPERATOR, rehearsal_id)
    start = booked.meeting["start"] - timedelta(days=1)
    with pytest.raises(Refusal) as raised:
        await meetings.book_rehearsal(
            OPERATOR, rehearsal_id, RehearsalIn(start=start, end=start + timedelta(hours=1)), None
        )
    assert rules_of(raised) == [("meeting_id", rehearsal.MIN_ENDPOINTS)]


async def test_cancelling_asks_what_becomes_of_the_rehearsal(meetings, store) -> None:
    meeting_id, rehearsal_id = await with_rehearsal(meetings)
    with pytest.raises(Refusal) as raised:
        await meetings.cancel(OPERATOR, meeting_id, CancelIn(reason="Hoãn"))
    assert rules_of(raised) == [("rehearsals", rehearsal.MIN_ENDPOINTS)]
    assert not store.stored[(OPERATOR.tenant, meeting_id)]["cancelled"]
    await meetings.cancel(OPERATOR, meeting_id, CancelIn(reason="Hoãn", rehearsals="cancel"))
    cancelled = [e.meeting_id for e in store.outbox if isinstance(e, MeetingCancelled)]
    assert cancelled == [rehearsal_id, meeting_id]


async def test_keeping_the_rehearsal_when_cancelling_leaves_it_booked(meetings, store) -> None:
    meeting_id, rehearsal_id = await with_rehearsal(meetings)
    await meetings.cancel(OPERATOR, meeting_id, CancelIn(rehearsals="keep"))
    assert not store.stored[(OPERATOR.tenant, rehearsal_id)]["cancelled"]
    assert store.stored[(OPERATOR.tenant, meeting_id)]["cancelled"]


async def test_moving_keeps_a_rehearsal_only_while_it_still_comes_first(meetings, store) -> None:
    meeting_id, rehearsal_id = await with_rehearsal(meetings)
    meeting = store.stored[(OPERATOR.tenant, meeting_id)]
    earlier = meeting["start"] - timedelta(days=1, hours=-1)  # an hour after the rehearsal
    move = MoveIn(start=earlier, end=earlier + timedelta(hours=2), reason="Lãnh đạo bận")
    with pytest.raises(Refusal) as raised:
        await meetings.move(OPERATOR, meeting_id, move)
    assert rules_of(raised) == [("rehearsals", rehearsal.MIN_ENDPOINTS)]
    with pytest.raises(Refusal) as raised:
        await meetings.move(OPERATOR, meeting_id, move.model_copy(update={"rehearsals": "keep"}))
    assert rules_of(raised) == [("rehearsals", rehearsal.LEAD_TIME)]
    await meetings.move(OPERATOR, meeting_id, move.model_copy(update={"rehearsals": "cancel"}))
    assert store.stored[(OPERATOR.tenant, rehearsal_id)]["cancelled"]
    assert [e.meeting_id for e in store.outbox if isinstance(e, MeetingChanged)] == [meeting_id]


async def test_a_change_that_keeps_the_times_does_not_ask(meetings, store) -> None:
    meeting_id, _ = await with_rehearsal(meetings)
    await meetings.change(OPERATOR, meeting_id, MeetingPatch(title="Giao ban tháng 12"))
    assert store.stored[(OPERATOR.tenant, meeting_id)]["title"] == "Giao ban tháng 12"


async def test_a_rehearsal_goes_under_the_meetings_official_letter(store) -> None:
    """Where the province asks every registration for its letter (Lạng Sơn), the rehearsal
    form has none of its own: the rehearsal takes the meeting's."""
    letter = POLICY.rules[rules.LETTER_RULE].model_copy(update={"value": True})
    asking = POLICY.model_copy(update={"rules": {**POLICY.rules, rules.LETTER_RULE: letter}})
    meetings = Meetings(store, lambda _: asking, ManualClock(NOW))
    dated = body(days_ahead=4, document_number="125/UBND-KGVX", document_date=NOW.date())
    meeting = (await meetings.register(OPERATOR, dated, None)).meeting
    start = meeting["start"] - timedelta(days=1)
    booked = await meetings.book_rehearsal(
        OPERATOR, meeting["_id"], RehearsalIn(start=start, end=start + timedelta(hours=1)), None
    )
    assert booked.meeting["document_number"] == "125/UBND-KGVX"
    assert booked.meeting["document_date"] == NOW.date().isoformat()
    assert booked.meeting["agenda"].startswith('Tổng duyệt kỹ thuật cho cuộc họp "Hội nghị')


def test_a_meeting_its_groups_take_to_many_endpoints_needs_a_rehearsal() -> None:
    """ "All communes" names no endpoint: the endpoints its groups reached count."""
    from registration.http.render import public

    meeting = {
        "_id": "m1",
        "cancelled": False,
        "revision": 0,
        "endpoints": ["TQ-UBND"],
        "reached": [f"TQ-X-{n}" for n in range(30)],
    }
    assert public(meeting, [], POLICY)["rehearsal_required"]
    assert not public({**meeting, "reached": []}, [], POLICY)["rehearsal_required"]
