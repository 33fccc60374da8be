"""A system's request on the bus is a person's `POST /meetings`, answered once per message:
the inbound use case over an in-memory store. No Kafka, no database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest
import registration_samples as samples
from pydantic import ValidationError
from registration_memory import MemoryStore
from unit.test_registration_usecases import NOW, POLICY, TENANT, body

from hnth_contracts import (
    Event,
    MeetingRequested,
    MeetingSubmitted,
    SubmissionAccepted,
    SubmissionRefused,
    decode_event,
)
from hnth_kit.clock import ManualClock
from hnth_kit.refusal import Refusal
from registration.usecases.inbound import Inbound
from registration.usecases.meetings import Meetings


class Registered:
    """The registry: `vpdt` filing for VP-UBND, `lich` for STTTT, `offline` disabled;
    `elsewhere` is Lào Cai's."""

    SYSTEMS: ClassVar[dict[str, dict[str, Any]]] = {
        "vpdt": {"tenant": TENANT, "unit": "VP-UBND", "name": "VPĐT", "disabled": False},
        "offline": {"tenant": TENANT, "unit": "VP-UBND", "name": "Cũ", "disabled": True},
        "lich": {"tenant": TENANT, "unit": "STTTT", "name": "Lịch công tác", "disabled": False},
        "elsewhere": {"tenant": "lao-cai", "unit": "VP", "name": "VPĐT", "disabled": False},
    }

    async def system(self, client_id: str) -> dict[str, Any] | None:
        return self.SYSTEMS.get(client_id)


class Answered:
    """The answers staged, by key; a marker seen again stages nothing."""

    def __init__(self) -> None:
        self.replies: dict[str, Event] = {}
        self.markers: set[str] = set()

    async def answer(self, key: str, marker: str, reply: Event) -> None:
        if marker not in self.markers:
            self.markers.add(marker)
            self.replies[key] = reply

    def replies_of(self, request_id: str) -> list[Any]:
        return [r for r in self.replies.values() if getattr(r, "request_id", None) == request_id]


@pytest.fixture
def answered() -> Answered:
    return Answered()


OLD_TOKEN = "old-for-vpdt"
"""vpdt's token of 45 to 30 minutes ago: expired now, valid when a queued request was sent."""


class Tokens:
    """Registration's tokens, as the verifier reads them: `token-for-<client>` names system
    <client> at any time, `OLD_TOKEN` names vpdt between 45 and 30 minutes ago; anything
    else is no token of registration's. Remembers when each was asked to be valid."""

    def __init__(self) -> None:
        self.asked_at: list[datetime] = []

    async def __call__(self, token: str, at: datetime) -> str | None:
        self.asked_at.append(at)
        if token == OLD_TOKEN:
            valid = NOW - timedelta(minutes=45) <= at <= NOW - timedelta(minutes=30)
            return "system:vpdt" if valid else None
        named = token.removeprefix("token-for-")
        return f"system:{named}" if named != token else None


@pytest.fixture
def tokens() -> Tokens:
    return Tokens()


@pytest.fixture
def inbound(store: MemoryStore, answered: Answered, tokens: Tokens) -> Inbound:
    clock = ManualClock(NOW)
    meetings = Meetings(store, lambda _: POLICY, clock)
    return Inbound(meetings, Registered(), answered, clock, tokens)


async def send(
    inbound: Inbound, event: MeetingSubmitted, bearer: str | None = None, sent_at: datetime = NOW
) -> None:
    """`event` on Tuyên Quang's topic, sent with the token of the system it names (or
    `bearer`, the header's whole value)."""
    header = bearer if bearer is not None else f"Bearer token-for-{event.system}"
    await inbound.submitted(event, TENANT, header, sent_at)


def submitted(
    request_id: str, tenant: str = TENANT, system: str = "vpdt", **changes: Any
) -> MeetingSubmitted:
    meeting = body(**changes).model_dump(mode="json")
    return samples.submitted(system, request_id, meeting, tenant, at=NOW)


async def test_a_request_is_registered_as_the_systems_unit_registrar(
    inbound: Inbound, store: MemoryStore, answered: Answered
) -> None:
    await send(inbound, submitted("r-1"))

    [requested] = store.outbox
    assert isinstance(requested, MeetingRequested)
    assert requested.requested_by == "system:vpdt"
    [reply] = answered.replies.values()
    assert isinstance(reply, SubmissionAccepted)
    assert (reply.meeting_id, reply.repeated, reply.tenant) == (requested.meeting_id, False, TENANT)


async def test_a_redelivered_message_is_answered_once_and_a_resent_request_again(
    inbound: Inbound, store: MemoryStore, answered: Answered
) -> None:
    first = submitted("r-2")
    await send(inbound, first)
    await send(inbound, first)  # the same message, delivered again
    await send(inbound, submitted("r-2"))  # the system sends it again

    assert len(store.outbox) == 1
    replies = list(answered.replies.values())
    assert [r.repeated for r in replies if isinstance(r, SubmissionAccepted)] == [False, True]


async def test_the_urgent_path_is_the_it_departments(
    inbound: Inbound, store: MemoryStore, answered: Answered
) -> None:
    await send(inbound, submitted("r-3", days_ahead=1, urgent_reason="Họp khẩn"))

    assert store.outbox == []
    [reply] = answered.replies.values()
    assert isinstance(reply, SubmissionRefused)
    assert (reply.status, reply.code) == (422, "notice.urgent_override")
    assert reply.errors[0].source == POLICY.ref("notice.urgent_override").source


async def test_a_request_for_another_province_is_refused(
    inbound: Inbound, store: MemoryStore, answered: Answered
) -> None:
    await send(inbound, submitted("r-4", tenant="lao-cai"))

    assert store.outbox == []
    [reply] = answered.replies.values()
    assert isinstance(reply, SubmissionRefused)
    assert (reply.status, reply.code, reply.tenant) == (403, "wrong_province", TENANT)


async def test_a_disabled_system_is_refused(
    inbound: Inbound, store: MemoryStore, answered: Answered
) -> None:
    await send(inbound, submitted("r-5", system="offline"))

    assert store.outbox == []
    [reply] = answered.replies.values()
    assert isinstance(reply, SubmissionRefused)
    assert (reply.status, reply.code, reply.system) == (403, "unknown_system", "offline")


@pytest.mark.parametrize("system", ["unknown", "elsewhere"])
async def test_a_request_naming_no_system_of_the_province_has_nobody_to_answer(
    inbound: Inbound, store: MemoryStore, answered: Answered, system: str
) -> None:
    """Each system reads only its own replies topic: one the province does not know has
    none, so the request is refused to the dead-letter topic (the handler's), not answered."""
    with pytest.raises(Refusal) as refused:
        await send(inbound, submitted("r-5", system=system))

    assert (refused.value.status, refused.value.code) == (403, "unknown_system")
    assert store.outbox == []
    assert answered.replies == {}


async def test_a_system_files_only_for_its_unit(
    inbound: Inbound, store: MemoryStore, answered: Answered
) -> None:
    await send(inbound, submitted("r-6", host_unit="SYT"))

    assert store.outbox == []
    [reply] = answered.replies.values()
    assert isinstance(reply, SubmissionRefused)
    assert [e.rule for e in reply.errors] == ["registration.own_unit"]


@pytest.mark.parametrize(
    "bearer",
    [
        "Bearer token-for-lich",  # another system of the province, claiming to be vpdt
        "",  # no header
        "Bearer forged",  # not registration's token
        "Basic token-for-vpdt",  # not a bearer token
    ],
)
async def test_a_request_without_its_systems_own_token_is_refused(
    inbound: Inbound, store: MemoryStore, answered: Answered, bearer: str
) -> None:
    await send(inbound, submitted("r-7"), bearer)

    assert store.outbox == []
    [reply] = answered.replies.values()
    assert isinstance(reply, SubmissionRefused)
    assert (reply.status, reply.code, reply.system) == (401, "unauthenticated_system", "vpdt")
    assert "authorization: Bearer" in reply.message_en


async def test_an_expired_token_counts_as_of_the_sending_a_day_back_at_most(
    inbound: Inbound, answered: Answered, tokens: Tokens
) -> None:
    """A request queued while registration was down keeps its sender; a token valid now
    is taken whatever the record's time says (the sender's clock may run behind)."""
    old = f"Bearer {OLD_TOKEN}"
    await send(inbound, submitted("r-8"), old, sent_at=NOW - timedelta(minutes=40))
    await send(inbound, submitted("r-9"), old, sent_at=NOW - timedelta(days=3))
    await send(inbound, submitted("r-10"), sent_at=NOW - timedelta(days=3))

    assert tokens.asked_at == [
        NOW,
        NOW - timedelta(minutes=40),  # expired now: as of its sending
        NOW,
        NOW - timedelta(days=1),  # sent three days ago: a day back at most
        NOW,  # valid now
    ]
    codes = {k.split(":")[2]: getattr(r, "code", None) for k, r in answered.replies.items()}
    assert codes == {"r-8": None, "r-9": "unauthenticated_system", "r-10": None}


def broken(**fields: Any) -> tuple[bytes, ValidationError]:
    """A request's body that does not decode, and why."""
    body = json.dumps(fields).encode()
    try:
        decode_event(body)
    except ValidationError as invalid:
        return body, invalid
    raise AssertionError("it decodes")


async def test_a_request_that_does_not_decode_is_answered_to_its_system(
    inbound: Inbound, answered: Answered
) -> None:
    good = json.loads(submitted("r-10").to_json())
    body, invalid = broken(**{**good, "occurred_at": "2026-12-01T08:00:00"})  # no zone
    await inbound.unreadable(body, invalid, TENANT, "Bearer token-for-vpdt", NOW)
    await inbound.unreadable(body, invalid, TENANT, "Bearer token-for-vpdt", NOW)  # again

    [reply] = answered.replies.values()
    assert isinstance(reply, SubmissionRefused)
    assert (reply.status, reply.request_id, reply.system) == (422, "r-10", "vpdt")
    assert [(e.field, e.rule) for e in reply.errors] == [("occurred_at", "schema.timezone_aware")]
    # another event type on the inbound topic: refused as such
    body, invalid = broken(**{**good, "type": "MeetingRequested", "request_id": "r-11"})
    await inbound.unreadable(body, invalid, TENANT, "Bearer token-for-vpdt", NOW)
    assert [(e.field, e.rule) for e in answered.replies_of("r-11")[0].errors] == [
        ("type", "schema.literal_error")
    ]


@pytest.mark.parametrize(
    ("fields", "bearer"),
    [
        ({"request_id": "r-12", "system": "vpdt"}, "Bearer token-for-lich"),  # not vpdt's token
        ({"request_id": 7, "system": "vpdt"}, "Bearer token-for-vpdt"),  # no request id to answer
        ({"request_id": "r-13"}, "Bearer token-for-vpdt"),  # no system to answer
        ({"request_id": "r-14", "system": "elsewhere"}, "Bearer token-for-elsewhere"),  # Lào Cai's
    ],
)
async def test_an_unreadable_request_nobody_can_be_told_of_is_only_dead_lettered(
    inbound: Inbound, answered: Answered, fields: dict[str, Any], bearer: str
) -> None:
    body, invalid = broken(type="MeetingSubmitted", **fields)
    await inbound.unreadable(body, invalid, TENANT, bearer, NOW)
    await inbound.unreadable(b"not json", invalid, TENANT, bearer, NOW)
    assert answered.replies == {}
