"""Sending queued notices (`Delivery.send_queued`) over the in-memory store, with fake
channels in place of SMTP and webhooks: no Kafka, no database, no network."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage, Message

import pytest
from notification_memory import MemoryStore, MemoryTimers
from notification_samples import (
    ADDRESSES,
    TENANT,
    access_link,
    assigned,
    directory,
    rejected,
)

from hnth_contracts import Conflict, ConflictKind, RuleRef
from hnth_contracts.policy import load_policy
from hnth_kit.clock import ManualClock
from hnth_kit.outbox import Staging
from hnth_kit.settings import REPO_ROOT
from notification import content
from notification.domain import attempts
from notification.domain.notices import Kind, Status, Webhooks
from notification.domain.signing import message_id
from notification.usecases import Delivery, DeliveryConfig, Notifications

POLICY = load_policy(REPO_ROOT / "policies", TENANT)
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
HOOK = "https://eoffice.example/hook"
POWER = ADDRESSES["power_company"]
CONFIG = DeliveryConfig(
    sender="hnth-ops@example.vn",
    public_base_url="https://notify.example.vn",
    ack_secret=b"ack",
    webhook_secret=b"hook",
    max_attempts=3,
    backoff=timedelta(seconds=5),
    max_backoff=timedelta(seconds=8),
    lease=timedelta(seconds=60),
)


class FakeChannels:
    """Both channels: records what is sent and answers from a script (delivered after it)."""

    def __init__(self) -> None:
        self.mail: list[EmailMessage] = []
        self.posts: list[tuple[str, bytes, dict[str, str]]] = []
        self.script: dict[str, list[attempts.Attempt]] = defaultdict(list)

    def _reply(self, to: str) -> attempts.Attempt:
        return self.script[to].pop(0) if self.script[to] else attempts.DELIVERED

    async def send(self, message: Message) -> attempts.Attempt:
        """Kept as a mail client reads it, from the bytes on the wire."""
        read = message_from_bytes(content.wire(message), policy=policy.default)
        assert isinstance(read, EmailMessage)
        self.mail.append(read)
        return self._reply(str(message["To"]))

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> attempts.Attempt:
        self.posts.append((url, body, headers))
        return self._reply(url)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.mail if m["To"] == address]


@dataclasses.dataclass
class World:
    store: MemoryStore
    clock: ManualClock
    channels: FakeChannels
    delivery: Delivery
    notifications: Notifications
    wakes: list[Sequence[str]]

    async def send_pass(self, owner: str = "replica-a") -> int:
        """One sender pass at the clock's time, as the runner makes it."""
        done = [await self.delivery.send_queued(i, owner) for i in await self.delivery.due()]
        return sum(d is not None for d in done)

    def notice_to(self, recipient: str, kind: Kind = Kind.MEETING_NOTICE) -> dict:
        [found] = [
            n
            for n in self.store.notices.values()
            if n["recipient"] == recipient and n["kind"] == kind
        ]
        return found


@pytest.fixture
async def world() -> World:
    store, clock, channels, wakes = MemoryStore(), ManualClock(NOW), FakeChannels(), []
    policy_for = lambda _: POLICY  # noqa: E731
    delivery = Delivery(store, clock, policy_for, channels, channels, CONFIG, wake=wakes.append)
    notifications = Notifications(
        store, MemoryTimers(), clock, policy_for, webhooks=Webhooks.of_setting([HOOK])
    )
    for snapshot in directory():
        await notifications.directory_changed(snapshot)
    return World(store, clock, channels, delivery, notifications, wakes)


async def test_a_delivered_notice_is_marked_sent_once(world: World) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    total = len(world.store.notices)
    assert await world.send_pass() == total

    power = world.notice_to("power_company")
    assert (power["status"], power["attempts"], power["address"]) == ("sent", 1, POWER)
    assert power["sent_at"] == NOW
    assert power["message_id"] == message_id(power["_id"], "hnth-ops")
    [mail] = world.channels.to(POWER)
    assert mail["Message-ID"] == power["message_id"]
    [(url, _, headers)] = world.channels.posts
    assert (url, headers["X-HNTH-Delivery"]) == (HOOK, f"{power['cause']}|webhook:{HOOK}|webhook")
    assert {n["status"] for n in world.store.notices.values()} == {Status.SENT}
    assert world.store.queue == {}

    world.clock.advance(timedelta(hours=1))
    assert await world.send_pass() == 0
    assert await world.delivery.send_queued(power["_id"], "replica-b") is None
    assert len(world.channels.mail) + len(world.channels.posts) == total


async def test_a_notice_another_sender_holds_is_left_until_its_lease_runs_out(
    world: World,
) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    power = world.notice_to("power_company")
    assert await world.store.claim_many([power["_id"]], "replica-b", NOW, CONFIG.lease)

    assert await world.delivery.send_queued(power["_id"], "replica-a") is None
    assert world.channels.to(POWER) == []
    assert world.store.claims[power["_id"]][0] == "replica-b", "not released by a non-holder"

    world.clock.advance(CONFIG.lease + timedelta(seconds=1))  # replica-b died
    attempted = await world.delivery.send_queued(power["_id"], "replica-a")
    assert attempted is not None
    assert attempted.result.status is Status.SENT
    assert len(world.channels.to(POWER)) == 1
    assert power["_id"] not in world.store.claims


async def test_a_temporary_failure_is_retried_later(world: World) -> None:
    world.channels.script[POWER] = [attempts.smtp_reply(451, "try later")]
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    await world.send_pass()

    power = world.notice_to("power_company")
    assert (power["status"], power["attempts"]) == ("pending", 1)
    assert power["last_error"] == "451 try later"
    assert power["next_attempt_at"] == NOW + CONFIG.backoff
    assert await world.send_pass() == 0, "not due again yet"

    world.clock.advance(CONFIG.backoff)
    assert await world.send_pass() == 1
    assert (power["status"], power["attempts"], power["sent_at"]) == (
        "sent",
        2,
        NOW + CONFIG.backoff,
    )
    first, second = world.channels.to(POWER)
    assert first["Message-ID"] == second["Message-ID"], "the same message, sent again"
    assert world.wakes == [], "nothing escalated"


async def test_a_recipient_without_an_address_waits_for_the_directory(world: World) -> None:
    del world.store.contacts[(TENANT, "power_company")]
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    await world.send_pass()
    power = world.notice_to("power_company")
    assert (power["status"], power["last_error"], power["address"]) == (
        "pending",
        "no address",
        None,
    )
    assert world.channels.to(POWER) == []

    for snapshot in directory():
        await world.notifications.directory_changed(snapshot)
    world.clock.advance(CONFIG.backoff)
    await world.send_pass()
    assert (power["status"], power["address"]) == ("sent", POWER)


async def test_a_permanent_failure_of_a_formal_notice_escalates_once(world: World) -> None:
    world.channels.script[POWER] = [attempts.smtp_reply(550, "no such mailbox")]
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    await world.send_pass()

    power = world.notice_to("power_company")
    assert (power["status"], power["attempts"]) == ("failed", 1)
    assert power["failure_reason"] == "550 no such mailbox"
    escalation = world.store.notices[f"{power['_id']}|escalation|duty|email"]
    assert escalation["kind"] == Kind.ESCALATION
    assert escalation["data"]["recipients"] == ["power_company"]
    assert escalation["data"]["failure"] == "550 no such mailbox"
    assert world.wakes == [[escalation["_id"]]], "the sender is handed the escalation"

    await world.send_pass()
    await world.send_pass()
    [alert] = world.channels.to(ADDRESSES["duty"])
    assert "550 no such mailbox" in alert.get_body(("plain",)).get_content()
    assert len(world.channels.to(POWER)) == 1


async def test_a_formal_notice_out_of_attempts_fails_and_escalates(world: World) -> None:
    world.channels.script[POWER] = [attempts.retry("timeout")] * CONFIG.max_attempts
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    for _ in range(CONFIG.max_attempts):
        await world.send_pass()
        world.clock.advance(CONFIG.max_backoff)
    power = world.notice_to("power_company")
    assert (power["status"], power["attempts"]) == ("failed", CONFIG.max_attempts)
    assert f"{power['_id']}|escalation|duty|email" in world.store.notices


async def test_a_failed_cancellation_is_not_escalated(world: World) -> None:
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    await world.send_pass()
    world.channels.script[POWER] = [attempts.smtp_reply(550, "gone")]
    await world.notifications.cancel(TENANT, "m-1", "hoãn")
    await world.send_pass()
    cancel = world.notice_to("power_company", Kind.MEETING_CANCELLED)
    assert cancel["status"] == Status.FAILED
    assert not any(n["kind"] == Kind.ESCALATION for n in world.store.notices.values())


async def test_an_access_link_goes_once_to_the_address_the_event_names(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    event = access_link(language="en")
    await world.notifications.access_link_issued(event)
    await world.notifications.access_link_issued(event)  # redelivered
    caplog.set_level("DEBUG")
    assert await world.send_pass() == 1
    [notice] = world.store.notices.values()
    assert (notice["kind"], notice["meeting_id"], notice["status"]) == ("access_link", None, "sent")
    assert notice["address"] == event.email
    [mail] = world.channels.to(event.email)
    assert mail["Subject"] == "HNTH: set the password of your account"
    assert event.link not in caplog.text, "the link is a credential: never logged"
    assert await world.send_pass() == 0
    assert len(world.channels.mail) == 1


async def test_a_group_where_one_delivery_raises_records_the_others_before_releasing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One delivery raising (a bug, an adapter's surprise) leaves that notice pending and
    claimed until every other attempt of its group has ended and been recorded; then the
    claims are released and the error reaches the sender loop, which logs it and tries
    again."""
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    power = world.notice_to("power_company")
    send = world.channels.send

    async def fails_for_power(message: EmailMessage) -> attempts.Attempt:
        if message["To"] == POWER:
            raise ConnectionError("the adapter broke")
        return await send(message)

    monkeypatch.setattr(world.channels, "send", fails_for_power)
    due = await world.delivery.due()
    assert len(due) <= CONFIG.group, "one group"
    with pytest.raises(ConnectionError):
        await world.delivery.send_many(due, "replica-a")

    others = [n for n in world.store.notices.values() if n["_id"] != power["_id"]]
    assert {n["status"] for n in others} == {Status.SENT}
    assert power["status"] == Status.PENDING
    assert list(world.store.queue) == [power["_id"]], "only the failed one stays queued"
    assert world.store.claims == {}, "every claim released after the group"


async def test_a_group_is_claimed_and_recorded_once_and_sent_concurrency_at_a_time(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two meetings' notices make one group: one claim, one read and one record for them
    all, while no more than `concurrency` deliveries are under way at any moment."""
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    await world.notifications.slot_assigned(assigned("m-2", NOW + timedelta(days=11)))
    due = await world.delivery.due()
    config = dataclasses.replace(CONFIG, group=len(due), concurrency=2)
    delivery = Delivery(
        world.store, world.clock, lambda _: POLICY, world.channels, world.channels, config
    )
    store_calls: list[str] = []
    for name in ("claim_many", "notices_to_send", "record"):
        counted = getattr(world.store, name)

        async def count(*args: object, _name: str = name, _call: object = counted) -> object:
            store_calls.append(_name)
            return await _call(*args)  # type: ignore[operator]

        monkeypatch.setattr(world.store, name, count)
    under_way, most = 0, 0

    def gauged(deliver: Callable[..., Awaitable[attempts.Attempt]]) -> object:
        async def deliver_gauged(*args: object) -> attempts.Attempt:
            nonlocal under_way, most
            under_way += 1
            most = max(most, under_way)
            await asyncio.sleep(0)  # let the group's other attempts start, if they may
            under_way -= 1
            return await deliver(*args)

        return deliver_gauged

    monkeypatch.setattr(world.channels, "send", gauged(world.channels.send))
    monkeypatch.setattr(world.channels, "post", gauged(world.channels.post))
    attempted = await delivery.send_many(due, "replica-a")

    assert len(attempted) == len(due) > 2 * config.concurrency
    assert {n["status"] for n in world.store.notices.values()} == {Status.SENT}
    assert most == config.concurrency
    assert store_calls == ["claim_many", "notices_to_send", "record"]


async def test_each_groups_recorded_facts_are_published_right_after_it(world: World) -> None:
    """Group by group, so the relay's pass does not read back what a later group's wait
    would leave unpublished meanwhile."""
    await world.notifications.slot_assigned(assigned("m-1", NOW + timedelta(days=10)))
    due = await world.delivery.due()
    published: list[tuple[int, list[object]]] = []

    async def publish(staged: Staging) -> None:
        sent = sum(n["status"] == Status.SENT for n in world.store.notices.values())
        published.append((sent, [f.doc_id for f in staged.fresh]))

    config = dataclasses.replace(CONFIG, group=2)
    delivery = Delivery(
        world.store,
        world.clock,
        lambda _: POLICY,
        world.channels,
        world.channels,
        config,
        publish=publish,
    )
    await delivery.send_many(due, "replica-a")
    groups = [due[first : first + 2] for first in range(0, len(due), 2)]
    assert len(groups) > 1
    assert [sent for sent, _ in published] == [
        min(2 * n, len(due)) for n in range(1, 1 + len(groups))
    ]
    for (_, facts), group in zip(published, groups, strict=True):
        assert set(facts) <= set(group), "after each group, its own facts"
    assert sum(len(facts) for _, facts in published) == len(world.store.published) > 0


async def test_a_refusal_names_its_own_units_meeting_in_the_way_and_not_another_units(
    world: World,
) -> None:
    """Scheduling names the meetings in the way by id: the host unit's e-mail gives its own
    meeting's title and calls another unit's just that (the console says the same)."""
    own, theirs = "mtg-00000000000a", "mtg-00000000000b"
    await world.notifications.slot_assigned(
        assigned(own, NOW + timedelta(days=10)).model_copy(update={"title": "Giao ban tuần"})
    )
    await world.notifications.slot_assigned(
        assigned(theirs, NOW + timedelta(days=10)).model_copy(update={"host_unit": "SYT"})
    )
    in_the_way = [
        Conflict(
            kind=ConflictKind.ENDPOINT_BUSY,
            resource=room,
            other_meeting_id=other,
            message=f"Điểm cầu {room} đã được xếp cho cuộc họp {other} (08:00 - 10:00 11/12/2026)",
            rule=RuleRef(rule="slot.endpoint_exclusive", source="QĐ 345/QĐ-UBND 2017 (seeds/001)"),
        )
        for room, other in (("TQ-UBND", own), ("TQ-STTTT", theirs))
    ]
    refusal = rejected("mtg-00000000000c").model_copy(update={"conflicts": tuple(in_the_way)})
    await world.notifications.slot_rejected(refusal)
    await world.send_pass()
    [mail] = [
        m
        for m in world.channels.to(ADDRESSES["unit:VP-UBND"])
        if str(m["Subject"]).startswith("Chưa xếp được lịch")
    ]
    text = mail.get_body(("plain",)).get_content()
    assert 'TQ-UBND đã được xếp cho cuộc họp "Giao ban tuần" (08:00' in text
    assert "TQ-STTTT đã được xếp cho cuộc họp của đơn vị khác (08:00" in text
    assert "(theo QĐ 345/QĐ-UBND 2017)" in text  # its source, as a reader quotes it
    assert theirs not in text
    assert (
        "(quy định slot.endpoint_exclusive" not in text
    )  # the code only as the footer's reference
    assert "(mã quy định slot.endpoint_exclusive)" in text
