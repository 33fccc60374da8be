"""Requests from integrating systems on the bus (issue 21): one door, the same as a
person's. A `MeetingSubmitted` on `hnth.inbound.<tenant>` is registered by `Meetings.
register` exactly as `POST /meetings` is (the same rules and the same idempotency, by the
system's request id) and answered on the province's replies topic.

Who may write a province's inbound topic is the broker's ACLs' business (only that
province's systems). The request names its system (its client id, from the registry of
`POST /systems`): an unknown or disabled system, or one of another province, is refused.
A system files as a registrar of its unit, as its HTTP tokens do: never the IT
department's urgent path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from hnth_contracts import (
    BrokenRule,
    Event,
    MeetingSubmitted,
    SubmissionAccepted,
    SubmissionRefused,
)
from hnth_kit.auth import Principal, Role
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from hnth_kit.refusal import Refusal, schema_violations
from registration import PRODUCER
from registration.commands import MeetingIn
from registration.domain.systems import subject
from registration.usecases.meetings import Meetings


class Systems(Protocol):
    async def system(self, client_id: str) -> Document | None:
        """The registered system (`tenant`, `unit`, `name`, `disabled`), if any."""
        ...


class Answers(Protocol):
    async def answer(self, key: str, marker: str, reply: Event) -> None:
        """Stage `reply` once for message `marker` (its redelivery stages nothing)."""
        ...


class Inbound:
    def __init__(
        self, meetings: Meetings, systems: Systems, answers: Answers, clock: Clock
    ) -> None:
        self.meetings, self.systems, self.answers, self.clock = meetings, systems, answers, clock

    async def submitted(self, event: MeetingSubmitted, province: str) -> None:
        """Register the request sent on `province`'s inbound topic, then answer it."""
        try:
            shown = await self.meetings.register(
                await self._caller(event, province), _meeting(event.meeting), event.request_id
            )
            reply: Event = self._reply(
                SubmissionAccepted,
                event,
                province,
                meeting_id=shown.meeting["_id"],
                repeated=not shown.created,
            )
        except Refusal as refused:
            reply = self._reply(SubmissionRefused, event, province, **_refusal(refused))
        key = f"{province}:{event.system}:{event.request_id}:{event.event_id}"
        await self.answers.answer(key, str(event.event_id), reply)

    async def _caller(self, event: MeetingSubmitted, province: str) -> Principal:
        if event.tenant != province:
            raise Refusal(
                403,
                "wrong_province",
                f"Yêu cầu của tỉnh {event.tenant} gửi vào kênh của tỉnh {province}.",
                f"A request of province {event.tenant} was sent on {province}'s topic.",
            )
        system = await self.systems.system(event.system)
        if system is None or system["tenant"] != province or system.get("disabled"):
            raise Refusal(
                403,
                "unknown_system",
                f"Hệ thống {event.system} chưa được đăng ký với tỉnh hoặc đã bị khóa.",
                f"System {event.system} is not registered with the province, or is disabled.",
            )
        return Principal(
            subject=subject(event.system),
            role=Role.REGISTRAR,
            tenant=province,
            unit=system["unit"],
            name=system["name"],
        )

    def _reply(
        self, kind: type[Event], event: MeetingSubmitted, province: str, **fields: Any
    ) -> Event:
        return kind.create(
            cause=event,
            tenant=province,
            producer=PRODUCER,
            occurred_at=self.clock.now(),
            request_id=event.request_id,
            system=event.system,
            **fields,
        )


def _meeting(fields: Mapping[str, object]) -> MeetingIn:
    """The request's meeting as `POST /meetings` reads its body: a broken field is a 422."""
    try:
        return MeetingIn.model_validate(fields)
    except ValidationError as invalid:
        raise Refusal.broken(schema_violations(invalid.errors(include_url=False))) from None


def _refusal(refused: Refusal) -> dict[str, Any]:
    return {
        "status": refused.status,
        "code": refused.code,
        "message_vi": refused.vi,
        "message_en": refused.en,
        "errors": [
            BrokenRule(
                field=v.field,
                rule=v.rule,
                source=v.source,
                message_vi=v.message_vi,
                message_en=v.message_en,
            )
            for v in refused.violations
        ],
    }
