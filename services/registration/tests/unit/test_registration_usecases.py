"""The meeting use cases over an in-memory store: register, change, cancel, with the
refusals they raise. No Kafka, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from registration_memory import MemoryStore

from hnth_contracts import MeetingCancelled, MeetingChanged, MeetingRequested
from hnth_contracts.policy import Policy, load_policy
from hnth_kit.auth import Principal, Role
from hnth_kit.clock import ManualClock
from hnth_kit.refusal import Refusal
from hnth_kit.settings import REPO_ROOT
from registration.commands import CancelIn, MeetingIn, MeetingPatch
from registration.usecases.meetings import Meetings

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
TENANT = "tuyen-quang"
POLICY = load_policy(REPO_ROOT / "policies", TENANT)
OPERATOR = Principal(subject="op-1", role=Role.OPERATOR, tenant=TENANT)
REGISTRAR = Principal(subject="reg-1", role=Role.REGISTRAR, tenant=TENANT, unit="SYT")


def body(days_ahead: float = 3, hours: float = 2, **changes: Any) -> MeetingIn:
    start = NOW + timedelta(days=days_ahead)
    fields: dict[str, Any] = {
        "title": "Hội nghị giao ban trực tuyến",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start,
        "end": start + timedelta(hours=hours),
        "main_endpoint": "TQ-UBND",
        "endpoints": ["TQ-STTTT", "TQ-SYT"],
    }
    return MeetingIn(**(fields | changes))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(
        units={"VP-UBND": True, "SYT": True},
        endpoints={"TQ-UBND": True, "TQ-STTTT": True, "TQ-SYT": True, "TQ-OLD": False},
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def meetings(store: MemoryStore, clock: ManualClock) -> Meetings:
    def policy_for(tenant: str) -> Policy:
        return POLICY

    return Meetings(store, policy_for, clock)


def refusal_of(raised: pytest.ExceptionInfo[Refusal]) -> list[tuple[str, str, str]]:
    return [(v.field, v.rule, v.source) for v in raised.value.violations]


async def test_register_stores_the_meeting_with_its_request(meetings, store) -> None:
    shown = await meetings.register(OPERATOR, body(), None)
    assert shown.created
    assert shown.meeting["revision"] == 0
    assert shown.meeting["source"] == "registration"
    [event] = store.outbox
    assert isinstance(event, MeetingRequested)
    assert event.meeting_id == shown.meeting["_id"]
    assert not event.late_notice
    assert list(event.endpoints) == ["TQ-UBND", "TQ-STTTT", "TQ-SYT"]


async def test_register_refuses_a_broken_rule_naming_field_rule_and_source(meetings, store) -> None:
    with pytest.raises(Refusal) as raised:
        await meetings.register(OPERATOR, body(days_ahead=1), None)  # inside 2 days' notice
    assert raised.value.status == 422
    assert refusal_of(raised) == [
        ("start", "notice.lead_time", POLICY.ref("notice.lead_time").source)
    ]
    assert raised.value.violations[0].message_en.endswith(".")
    assert store.outbox == []


async def test_register_cites_platform_invariants_for_yes_no_rules(meetings) -> None:
    late = body(endpoints=["TQ-OLD"], host_unit="NOWHERE")
    with pytest.raises(Refusal) as raised:
        await meetings.register(REGISTRAR, late, None)
    assert refusal_of(raised) == [
        ("host_unit", "directory.unit_active", POLICY.ref("directory.unit_active").source),
        (
            "endpoints[0]",  # the index in the request's own list (the main one is not in it)
            "directory.endpoint_active",
            POLICY.ref("directory.endpoint_active").source,
        ),
    ]
    main_unknown = body(main_endpoint="TQ-OLD", endpoints=["TQ-SYT"])
    with pytest.raises(Refusal) as raised:
        await meetings.register(OPERATOR, main_unknown, None)
    assert [field for field, _, _ in refusal_of(raised)] == ["main_endpoint"]


async def test_urgent_meeting_inside_the_lead_time_needs_an_allowed_role(meetings) -> None:
    urgent = body(days_ahead=1, urgent_reason="Họp khẩn", host_unit="SYT")
    with pytest.raises(Refusal) as raised:
        await meetings.register(REGISTRAR, urgent, None)
    assert [rule for _, rule, _ in refusal_of(raised)] == ["notice.urgent_override"]
    shown = await meetings.register(OPERATOR, urgent, None)
    assert shown.meeting["late_notice"] is True


async def test_a_retry_with_the_same_key_returns_the_stored_meeting(meetings, store, clock) -> None:
    first = await meetings.register(OPERATOR, body(), "key-1")
    clock.set(NOW + timedelta(days=2))  # the lead time has passed since: the retry still answers
    again = await meetings.register(OPERATOR, body(), "key-1")
    assert not again.created
    assert again.meeting["_id"] == first.meeting["_id"]
    assert len(store.outbox) == 1


async def test_a_retry_spelled_differently_is_the_same_request(meetings, store) -> None:
    """The same instant in another zone, the endpoints in another order: the same request."""
    first = await meetings.register(OPERATOR, body(), "key-2")
    as_asked = body()
    local = ZoneInfo("Asia/Ho_Chi_Minh")
    respelled = body(
        start=as_asked.start.astimezone(local),
        end=as_asked.end.astimezone(local),
        endpoints=list(reversed(as_asked.endpoints)),
    )
    again = await meetings.register(OPERATOR, respelled, "key-2")
    assert (again.created, again.meeting["_id"]) == (False, first.meeting["_id"])
    assert len(store.outbox) == 1


async def test_the_same_key_for_a_different_body_is_a_409(meetings) -> None:
    await meetings.register(OPERATOR, body(), "key-1")
    with pytest.raises(Refusal) as raised:
        await meetings.register(OPERATOR, body(title="Another"), "key-1")
    assert (raised.value.status, raised.value.code) == (409, "idempotency_key_reused")


async def test_change_writes_the_next_revision_with_its_event(meetings, store) -> None:
    created = await meetings.register(OPERATOR, body(), None)
    meeting_id = created.meeting["_id"]
    changed = await meetings.change(OPERATOR, meeting_id, MeetingPatch(title="Giao ban quý"))
    assert (changed.meeting["revision"], changed.meeting["title"]) == (1, "Giao ban quý")
    event = store.outbox[-1]
    assert isinstance(event, MeetingChanged)
    assert event.revision == 1


async def test_change_rechecks_the_rules_only_when_it_moves_the_meeting(meetings, clock) -> None:
    created = await meetings.register(OPERATOR, body(), None)
    meeting_id = created.meeting["_id"]
    clock.set(NOW + timedelta(days=2))  # now inside the lead time: a title may still change
    await meetings.change(OPERATOR, meeting_id, MeetingPatch(title="Giao ban"))
    moved = MeetingPatch(start=created.meeting["start"] + timedelta(minutes=30))
    with pytest.raises(Refusal) as raised:
        await meetings.change(OPERATOR, meeting_id, moved)
    assert [rule for _, rule, _ in refusal_of(raised)] == ["notice.lead_time"]


async def test_an_empty_change_is_refused(meetings) -> None:
    created = await meetings.register(OPERATOR, body(), None)
    with pytest.raises(Refusal) as raised:
        await meetings.change(OPERATOR, created.meeting["_id"], MeetingPatch())
    assert [rule for _, rule, _ in refusal_of(raised)] == ["schema.empty_change"]


async def test_cancel_marks_the_meeting_once(meetings, store) -> None:
    created = await meetings.register(OPERATOR, body(), None)
    meeting_id = created.meeting["_id"]
    cancelled = await meetings.cancel(OPERATOR, meeting_id, CancelIn(reason="Hoãn"))
    assert cancelled.meeting["cancelled"]
    assert cancelled.meeting["cancel_reason"] == "Hoãn"
    again = await meetings.cancel(OPERATOR, meeting_id, None)
    assert again.meeting["cancelled"]
    assert [type(e) for e in store.outbox] == [MeetingRequested, MeetingCancelled]
    with pytest.raises(Refusal) as raised:
        await meetings.change(OPERATOR, meeting_id, MeetingPatch(title="x"))
    assert (raised.value.status, raised.value.code) == (409, "cancelled")


async def test_a_started_meeting_can_no_longer_be_cancelled(meetings, clock) -> None:
    created = await meetings.register(OPERATOR, body(), None)
    clock.set(created.meeting["start"])
    with pytest.raises(Refusal) as raised:
        await meetings.cancel(OPERATOR, created.meeting["_id"], None)
    assert refusal_of(raised) == [
        ("start", "meeting.not_in_past", POLICY.ref("meeting.not_in_past").source)
    ]


async def test_a_registrar_may_not_change_another_units_meeting(meetings) -> None:
    created = await meetings.register(OPERATOR, body(), None)
    with pytest.raises(Refusal) as raised:
        await meetings.change(REGISTRAR, created.meeting["_id"], MeetingPatch(title="x"))
    assert (raised.value.status, raised.value.code) == (403, "forbidden")


async def test_an_unknown_meeting_is_a_404(meetings) -> None:
    with pytest.raises(Refusal) as raised:
        await meetings.cancel(OPERATOR, "mtg-none", None)
    assert raised.value.status == 404


GOVERNMENT = "Văn phòng Chính phủ"


async def test_the_it_department_names_or_clears_the_central_host_on_a_change(
    meetings, store
) -> None:
    created = await meetings.register(OPERATOR, body(host_unit="SYT"), None)
    meeting_id = created.meeting["_id"]
    named = await meetings.change(OPERATOR, meeting_id, MeetingPatch(external_host=GOVERNMENT))
    assert named.meeting["external_host"] == GOVERNMENT
    assert store.outbox[-1].external_host == GOVERNMENT
    cleared = await meetings.change(OPERATOR, meeting_id, MeetingPatch(external_host=None))
    assert cleared.meeting["external_host"] is None
    assert isinstance(store.outbox[-1], MeetingChanged)
    assert store.outbox[-1].external_host is None
    # a change that leaves it alone keeps it
    await meetings.change(OPERATOR, meeting_id, MeetingPatch(external_host=GOVERNMENT))
    kept = await meetings.change(OPERATOR, meeting_id, MeetingPatch(title="Giao ban quý"))
    assert kept.meeting["external_host"] == GOVERNMENT


async def test_only_the_it_department_names_or_clears_the_central_host(meetings, store) -> None:
    created = await meetings.register(OPERATOR, body(host_unit="SYT"), None)
    meeting_id = created.meeting["_id"]
    with pytest.raises(Refusal) as raised:
        await meetings.change(REGISTRAR, meeting_id, MeetingPatch(external_host=GOVERNMENT))
    assert [(f, r) for f, r, _ in refusal_of(raised)] == [
        ("external_host", "registration.own_unit")
    ]
    await meetings.change(OPERATOR, meeting_id, MeetingPatch(external_host=GOVERNMENT))
    written = len(store.outbox)
    with pytest.raises(Refusal) as raised:
        await meetings.change(REGISTRAR, meeting_id, MeetingPatch(external_host=None))
    assert [(f, r) for f, r, _ in refusal_of(raised)] == [
        ("external_host", "registration.own_unit")
    ]
    assert len(store.outbox) == written, "a refused change writes nothing"
    assert (await meetings.visible(OPERATOR, meeting_id))["external_host"] == GOVERNMENT


async def test_the_central_host_changes_which_lead_time_applies(meetings, clock) -> None:
    """Inside the ordinary notice lead time, naming the central host is allowed (its own
    lead time is shorter) and the meeting stays flagged; clearing it again is refused."""
    created = await meetings.register(OPERATOR, body(), None)
    meeting_id = created.meeting["_id"]
    clock.set(NOW + timedelta(days=2))  # inside the 2 days' notice now
    named = await meetings.change(OPERATOR, meeting_id, MeetingPatch(external_host=GOVERNMENT))
    assert named.meeting["late_notice"] is True
    with pytest.raises(Refusal) as raised:
        await meetings.change(OPERATOR, meeting_id, MeetingPatch(external_host=None))
    assert [rule for _, rule, _ in refusal_of(raised)] == ["notice.lead_time"]


def test_an_empty_central_host_is_refused_by_the_schema() -> None:
    with pytest.raises(ValueError, match="external_host"):
        MeetingPatch(external_host="")
