"""Notification's use cases over an in-memory store: no Kafka, no database."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from notification_memory import MemoryStore, MemoryTimers
from notification_samples import ENDPOINTS, TENANT, assigned, cancelled

from hnth_contracts import Conflict, ConflictKind, SlotReleased
from hnth_contracts.policy import load_policy
from hnth_kit.auth import Principal, Role
from hnth_kit.batch_writes import batch_writes
from hnth_kit.clock import ManualClock
from hnth_kit.refusal import Refusal
from hnth_kit.settings import REPO_ROOT
from hnth_kit.timers import Timer
from notification import content
from notification.domain.notices import Channel, Kind, Notice, Recipient, Status, Webhooks
from notification.domain.signing import ack_token
from notification.domain.timers import TimerKind
from notification.usecases import Notifications

POLICY = load_policy(REPO_ROOT / "policies", TENANT)
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
HOOK = "https://eoffice.example/hook"
ACK_SECRET = b"ack-secret-for-unit-tests"
OPERATOR = Principal(subject="op", role=Role.OPERATOR, tenant=TENANT)


@dataclasses.dataclass
class World:
    store: MemoryStore
    timers: MemoryTimers
    clock: ManualClock
    notifications: Notifications
    wakes: list[Sequence[str]]


@pytest.fixture
def world() -> World:
    store, timers, clock, wakes = MemoryStore(), MemoryTimers(), ManualClock(NOW), []
    notifications = Notifications(
        store,
        timers,
        clock,
        lambda _: POLICY,
        webhooks=Webhooks.of_setting([HOOK]),
        wake=wakes.append,
        ack_secret=ACK_SECRET,
    )
    return World(store, timers, clock, notifications, wakes)


async def test_slot_assigned_plans_one_notice_per_recipient_and_channel(world: World) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    sent_to = [(n["recipient"], n["channel"]) for n in world.store.notices.values()]
    assert sorted(sent_to) == sorted(
        [
            ("it_department", Channel.EMAIL),
            ("line_provider", Channel.EMAIL),
            ("power_company", Channel.EMAIL),
            ("unit:VP-UBND", Channel.EMAIL),
            *((f"technician:{e}", Channel.EMAIL) for e in ENDPOINTS),
            (f"webhook:{HOOK}", Channel.WEBHOOK),
        ]
    )
    assert {n["kind"] for n in world.store.notices.values()} == {Kind.MEETING_NOTICE}
    assert {n["status"] for n in world.store.notices.values()} == {Status.PENDING}
    assert {kind for kind, *_ in world.timers.timers.values()} == {
        TimerKind.REMIND_MEETING,
        TimerKind.REMIND_CHECK,
        TimerKind.NOTICE_DEADLINE,
        TimerKind.ACK_DEADLINE,
    }
    assert world.wakes == [list(world.store.notices)], "the sender is handed every new notice"


async def test_a_provinces_subscribers_hear_only_its_own_meetings() -> None:
    """`HNTH_WEBHOOK_URLS` as province -> URLs: Tuyên Quang's meeting and its cancellation
    go to its own system and to the one listed for every province, never to Lào Cai's."""
    mine, theirs, everyone = (f"https://{who}.example/hook" for who in ("tq", "lc", "all"))
    webhooks = Webhooks.of_setting({TENANT: [mine], "lao-cai": [theirs], "*": [everyone]})
    store = MemoryStore()
    notifications = Notifications(
        store, MemoryTimers(), ManualClock(NOW), lambda _: POLICY, webhooks=webhooks
    )
    await notifications.slot_assigned(assigned("m-9", NOW + timedelta(days=10)))
    await notifications.cancel(TENANT, "m-9", "hoãn")

    hooked = {
        (n["recipient"], n["kind"]) for n in store.notices.values() if n["channel"] == "webhook"
    }
    assert hooked == {
        (f"webhook:{url}", kind)
        for url in (mine, everyone)
        for kind in (Kind.MEETING_NOTICE, Kind.MEETING_CANCELLED)
    }
    assert webhooks.of("lao-cai") == (everyone, theirs)
    assert not Webhooks.of_setting({"lao-cai": []}), "no URL: no secret needed"


async def test_redelivered_slot_assigned_adds_nothing(world: World) -> None:
    event = assigned("m-1", NOW + timedelta(days=10))
    await world.notifications.slot_assigned(event)
    notices, timers = dict(world.store.notices), dict(world.timers.timers)
    world.clock.advance(timedelta(minutes=5))
    await world.notifications.slot_assigned(event)
    assert world.store.notices == notices
    assert world.timers.timers == timers
    assert len(world.wakes) == 1, "nothing is handed to the sender twice"


async def test_a_consumer_batch_stores_its_notices_together_when_it_ends(world: World) -> None:
    """Two meetings and a redelivery in one batch: nothing stored until the batch ends,
    then every notice once, in one store call, handed to the sender in one go."""
    calls: list[int] = []
    add_notices = world.store.add_notices

    async def counted(notices: Sequence[Notice], now: datetime) -> list[str]:
        calls.append(len(notices))
        return await add_notices(notices, now)

    world.store.add_notices = counted  # type: ignore[method-assign]
    first = assigned("m-1", NOW + timedelta(days=10))
    async with batch_writes():
        await world.notifications.slot_assigned(first)
        await world.notifications.slot_assigned(first)  # redelivered within the batch
        await world.notifications.slot_assigned(assigned("m-2", NOW + timedelta(days=11)))
        assert world.store.notices == {}, "held until the batch ends"
    assert len(calls) == 1
    assert {n["meeting_id"] for n in world.store.notices.values()} == {"m-1", "m-2"}
    assert world.wakes == [list(world.store.notices)], "every new notice handed over, once"


async def test_stale_revision_plans_nothing(world: World) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10), revision=2))
    before = dict(world.store.notices)
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=9), revision=1))
    assert world.store.notices == before


async def test_cancellation_overtaking_the_assignment_tells_nobody(world: World) -> None:
    event = cancelled("m-1")
    await world.notifications.cancel(event.tenant, event.meeting_id, event.reason)
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    assert world.store.notices == {}
    assert world.timers.timers == {}


async def test_a_cancellations_release_arriving_first_carries_its_reason(world: World) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    release = SlotReleased.create(
        tenant=TENANT,
        correlation_id="m-1",
        producer="scheduling",
        meeting_id="m-1",
        reason="cancelled",
        cancel_reason="hoãn",
    )
    await world.notifications.slot_released(release)
    await world.notifications.cancel(TENANT, "m-1", "hoãn")  # MeetingCancelled, later
    cancels = [n for n in world.store.notices.values() if n["kind"] == Kind.MEETING_CANCELLED]
    assert len(cancels) == len(ENDPOINTS) + 5
    assert {n["data"]["reason"] for n in cancels} == {"hoãn"}


async def test_cancel_sends_one_cancellation_per_recipient(world: World) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    await world.notifications.cancel(TENANT, "m-1", "hoãn")
    await world.notifications.cancel(TENANT, "m-1", None)  # SlotReleased says it again
    cancels = [n for n in world.store.notices.values() if n["kind"] == Kind.MEETING_CANCELLED]
    assert len(cancels) == len(ENDPOINTS) + 5
    assert {n["data"]["reason"] for n in cancels} == {"hoãn"}


async def test_resend_is_refused_while_the_notice_is_pending(world: World) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    original = next(iter(world.store.notices))
    before = dict(world.store.notices)
    with pytest.raises(Refusal) as refused:
        await world.notifications.resend(OPERATOR, original, "key-00000001")
    assert (refused.value.status, refused.value.code) == (409, "still_pending")
    assert world.store.notices == before


async def test_resend_of_a_cancelled_meetings_invitation_is_refused(world: World) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    original = next(iter(world.store.notices))
    world.store.notices[original]["status"] = Status.SENT.value
    await world.notifications.cancel(TENANT, "m-1", None)
    with pytest.raises(Refusal) as refused:
        await world.notifications.resend(OPERATOR, original, "key-00000001")
    assert (refused.value.status, refused.value.code) == (409, "meeting_cancelled")


async def test_a_notice_a_later_one_replaces_is_neither_resent_nor_acknowledged(
    world: World,
) -> None:
    """The meeting moved (revision 1): the invitation at revision 0 would announce the old
    time as news. It is not resent; its link leads to the change notice, which is the one
    acknowledged; the meeting's notices say which replaces which."""
    start = NOW + timedelta(days=10)
    await world.notifications.slot_assigned(assigned("m-1", start))
    for notice in world.store.notices.values():
        notice["status"] = Status.SENT.value
    await world.notifications.slot_assigned(assigned("m-1", start + timedelta(days=1), revision=1))
    mine = f"technician:{ENDPOINTS[0]}"

    def to(recipient: str, kind: Kind) -> str:
        return next(
            k for k, n in world.store.notices.items()
            if (n["recipient"], n["kind"]) == (recipient, kind)
        )  # fmt: skip

    old, new = to("line_provider", Kind.MEETING_NOTICE), to("line_provider", Kind.MEETING_CHANGED)
    with pytest.raises(Refusal) as refused:
        await world.notifications.resend(OPERATOR, old, "key-00000001")
    assert (refused.value.status, refused.value.code) == (409, "replaced")

    page = await world.notifications.acknowledgement(ack_token(ACK_SECRET, old), record=True)
    assert page["newer_token"] == ack_token(ACK_SECRET, new)
    assert world.store.notices[old].get("acknowledged_at") is None  # not recorded
    me = Principal(subject="kt", role=Role.TECHNICIAN, tenant=TENANT, endpoints=(ENDPOINTS[0],))
    with pytest.raises(Refusal) as refused:
        await world.notifications.acknowledge_as(me, to(mine, Kind.MEETING_NOTICE))
    assert (refused.value.status, refused.value.code) == (409, "replaced")
    assert (await world.notifications.acknowledge_as(me, to(mine, Kind.MEETING_CHANGED)))[
        "acknowledged_by"
    ] == "kt"

    listed = {n["_id"]: n for n in await world.notifications.meeting_notices(OPERATOR, "m-1")}
    assert listed[old]["replaced_by"] == new
    assert listed[new]["replaced_by"] is None
    # once cancelled, the cancellation replaces the change notice in turn
    await world.notifications.cancel(TENANT, "m-1", "hoãn")
    listed = {n["_id"]: n for n in await world.notifications.meeting_notices(OPERATOR, "m-1")}
    assert listed[new]["replaced_by"] == to("line_provider", Kind.MEETING_CANCELLED)
    assert listed[old]["replaced_by"] == to("line_provider", Kind.MEETING_CANCELLED)


async def test_resend_is_inserted_once_per_request_key(world: World) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    original = next(iter(world.store.notices))
    world.store.notices[original]["status"] = Status.SENT.value
    first = await world.notifications.resend(OPERATOR, original, "key-00000001")
    again = await world.notifications.resend(OPERATOR, original, "key-00000001")
    other = await world.notifications.resend(OPERATOR, original, "key-00000002")
    assert first["_id"] == again["_id"] != other["_id"]
    assert first["resend_of"] == original
    assert first["status"] == Status.PENDING
    assert first["resent_by"] == "op"


async def test_resend_needs_a_key_and_a_notice_of_the_callers_province(world: World) -> None:
    with pytest.raises(Refusal) as refused:
        await world.notifications.resend(OPERATOR, "n", "short")
    assert (refused.value.status, refused.value.code) == (400, "idempotency_key_required")
    with pytest.raises(Refusal) as refused:
        await world.notifications.resend(OPERATOR, "n", "key-00000001")
    assert (refused.value.status, refused.value.code) == (404, "unknown_notice")


async def test_a_technician_sees_only_its_endpoints_meetings(world: World) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    own = Principal(subject="t", role=Role.TECHNICIAN, tenant=TENANT, endpoints=(ENDPOINTS[0],))
    other = Principal(subject="t", role=Role.TECHNICIAN, tenant=TENANT, endpoints=("TQ-OTHER",))
    assert len(await world.notifications.meeting_notices(own, "m-1")) == len(ENDPOINTS) + 5
    with pytest.raises(Refusal) as refused:
        await world.notifications.meeting_notices(other, "m-1")
    assert (refused.value.status, refused.value.code) == (403, "forbidden")


async def test_a_clerk_of_a_unit_taking_part_sees_who_was_told(world: World) -> None:
    """Registration shows a commune's clerk the meetings held at its endpoint: notification
    shows them who was told (it said "none" to them)."""
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    world.store.directory[f"{TENANT}:endpoint:{ENDPOINTS[0]}"] = {"unit": "X-COMMUNE"}
    commune = Principal(subject="c", role=Role.REGISTRAR, tenant=TENANT, unit="X-COMMUNE")
    assert len(await world.notifications.meeting_notices(commune, "m-1")) == len(ENDPOINTS) + 5
    elsewhere = Principal(subject="e", role=Role.REGISTRAR, tenant=TENANT, unit="X-OTHER")
    with pytest.raises(Refusal) as refused:
        await world.notifications.meeting_notices(elsewhere, "m-1")
    assert (refused.value.status, refused.value.code) == (403, "forbidden")


async def test_acknowledgement_keeps_the_first_time(world: World) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    notice = next(iter(world.store.notices))
    token = ack_token(ACK_SECRET, notice)
    assert (await world.notifications.acknowledgement(token, record=False))[
        "acknowledged_at"
    ] is None
    await world.notifications.acknowledgement(token, record=True)
    world.clock.advance(timedelta(hours=1))
    again = await world.notifications.acknowledgement(token, record=True)
    assert again["acknowledged_at"] == NOW
    with pytest.raises(Refusal) as refused:
        await world.notifications.acknowledgement(ack_token(b"not ours", notice), record=True)
    assert (refused.value.status, refused.value.code) == (404, "unknown_acknowledgement")


async def test_a_signed_in_recipient_acknowledges_only_their_own_notice(world: World) -> None:
    """A technician signed in as themselves acknowledges the notice to their endpoint, as
    its e-mailed link does; the host unit's, another endpoint's or province's is not theirs."""
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    mine = f"technician:{ENDPOINTS[0]}"
    notice = next(k for k, n in world.store.notices.items() if n["recipient"] == mine)
    host = next(k for k, n in world.store.notices.items() if n["recipient"] == "unit:VP-UBND")
    me = Principal(subject="kt", role=Role.TECHNICIAN, tenant=TENANT, endpoints=(ENDPOINTS[0],))
    elsewhere = me.model_copy(update={"tenant": "lao-cai"})

    done = await world.notifications.acknowledge_as(me, notice)
    assert (done["acknowledged_at"], done["acknowledged_by"]) == (NOW, "kt")
    for who, which, status in ((me, host, 403), (elsewhere, notice, 404), (OPERATOR, notice, 403)):
        with pytest.raises(Refusal) as refused:
            await world.notifications.acknowledge_as(who, which)
        assert refused.value.status == status
    clerk = Principal(subject="vt", role=Role.REGISTRAR, tenant=TENANT, unit="VP-UBND")
    assert (await world.notifications.acknowledge_as(clerk, host))["acknowledged_by"] == "vt"


async def test_notice_deadline_escalates_the_undelivered_formal_notices(world: World) -> None:
    event = assigned("m-1", NOW + timedelta(days=10))
    await world.notifications.slot_assigned(event)
    for n in world.store.notices.values():
        if n["recipient"] != "power_company":
            n["status"] = Status.SENT.value
    timer_id = next(t for t, (kind, *_) in world.timers.timers.items() if kind == "notice_deadline")
    kind, due, tenant, payload = world.timers.timers[timer_id]
    await world.notifications.notice_deadline(Timer(timer_id, kind, due, tenant, payload))
    escalation = world.store.notices[f"{timer_id}|escalation|duty|email"]
    assert escalation["kind"] == Kind.ESCALATION
    assert escalation["data"]["recipients"] == ["power_company"]


async def test_a_day_ahead_the_parties_who_have_not_acknowledged_go_to_the_duty_officer(
    world: World,
) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    for n in world.store.notices.values():
        n["status"] = Status.SENT.value
        if n["recipient"] != "power_company" and n["recipient"] != f"technician:{ENDPOINTS[0]}":
            n["acknowledged_at"] = NOW  # the others acknowledged
    timer_id = next(t for t, (kind, *_) in world.timers.timers.items() if kind == "ack_deadline")
    kind, due, tenant, payload = world.timers.timers[timer_id]
    await world.notifications.ack_deadline(Timer(timer_id, kind, due, tenant, payload))
    escalation = world.store.notices[f"{timer_id}|escalation|duty|email"]
    assert escalation["data"]["recipients"] == ["power_company", f"technician:{ENDPOINTS[0]}"]
    assert escalation["rule"]["rule"] == "notice.acknowledge_before"
    notice = Notice(
        escalation["cause"], Kind.ESCALATION, Recipient("duty", "duty"), TENANT,
        POLICY.ref("notice.acknowledge_before"), "m-1", escalation["data"],
    )  # fmt: skip
    text = content.render(notice.kind, "vi", {
        "data": notice.data, "recipient_name": "Trực", "recipient_endpoint": None,
        "it_contact": {"name": "Sở", "person": None, "phone": None, "email": None},
        "ack_url": None, "rule": notice.rule.model_dump(), "province": "TQ",
        "tz": POLICY.timezone,
    }).text  # fmt: skip
    assert f"chưa xác nhận đã nhận thông báo bằng văn bản: Điện lực, kỹ thuật {ENDPOINTS[0]}" in (
        text
    )


def preempted(meeting_id: str, revision: int = 0) -> SlotReleased:
    why = Conflict(
        kind=ConflictKind.POLICY,
        resource="meeting.priorities",
        other_meeting_id="m-flood",
        rule=POLICY.ref("schedule.preempt_automatic"),
        message="Cuộc họp được ưu tiên hơn (phòng chống thiên tai) cần điểm cầu",
        message_en="A meeting of higher priority (disaster response) needs the endpoints",
    )
    return SlotReleased.create(
        tenant=TENANT,
        correlation_id=meeting_id,
        producer="scheduling",
        meeting_id=meeting_id,
        revision=revision,
        reason="preempted",
        why=why,
    )


async def test_a_displaced_meeting_tells_every_party_once_with_rule_and_reason(
    world: World,
) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    told = {(n["recipient"], n["channel"]) for n in world.store.notices.values()}
    await world.notifications.slot_released(preempted("m-1"))
    await world.notifications.slot_released(preempted("m-1"))  # delivered twice
    off = [n for n in world.store.notices.values() if n["cause"].startswith("preempted:")]
    assert {(n["recipient"], n["channel"]) for n in off} == told
    assert len(off) == len(told)
    assert {n["kind"] for n in off} == {Kind.MEETING_CANCELLED}
    assert {n["rule"]["rule"] for n in off} == {"schedule.preempt_automatic"}
    assert all("thiên tai" in n["data"]["reason"] for n in off)
    assert all("disaster" in n["data"]["reason_en"] for n in off)
    meeting = await world.store.meeting(TENANT, "m-1")
    assert meeting is not None
    assert meeting.released  # its reminders no longer fire


async def test_a_release_for_a_change_or_a_hold_tells_nobody(world: World) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    before = dict(world.store.notices)
    for reason in ("changed", "hold_rejected"):
        event = SlotReleased.create(
            tenant=TENANT, correlation_id="m-1", producer="s", meeting_id="m-1", reason=reason
        )
        await world.notifications.slot_released(event)
    assert world.store.notices == before
