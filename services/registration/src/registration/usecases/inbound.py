"""Requests from integrating systems on the bus (issue 21): one door, the same as a
person's. A `MeetingSubmitted` on `hnth.inbound.<tenant>` is registered by `Meetings.
register` exactly as `POST /meetings` is (the same rules and the same idempotency, by the
system's request id) and answered on the system's own replies topic.

Who may write a province's inbound topic is the broker's ACLs' business (only that
province's systems). Which of them sent a request is not: Kafka does not tell a consumer
who produced a record, so the request carries the system's own access token (client
credentials, `POST /auth/token`) in its `authorization` header, and is refused unless that
token is registration's, was valid when the request was sent and names the system the
request claims to be (its client id, from the registry of `POST /systems`). An unknown or
disabled system, or one of another province, is refused. A system files as a registrar of
its unit, as its HTTP tokens do: never the IT department's urgent path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeGuard

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
from hnth_kit.refusal import SCHEMA_SOURCE, Refusal, Violation, schema_violations
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


AUTHORIZATION = "authorization"
"""The request's header with `Bearer <the system's access token>`."""

QUEUED_AT_MOST = timedelta(days=1)
"""How long before its handling a request's sending is taken as its time for the token's
validity: the sending time is the producer's to state, so a token is never good for
longer than a day after it expired."""

Verify = Callable[[str, datetime], Awaitable[str | None]]
"""A token -> the subject it names, if it is registration's and was valid at the time
given (the request's sending); None otherwise."""


class Inbound:
    def __init__(
        self, meetings: Meetings, systems: Systems, answers: Answers, clock: Clock, verify: Verify
    ) -> None:
        self.meetings, self.systems, self.answers, self.clock = meetings, systems, answers, clock
        self.verify = verify

    async def submitted(
        self,
        event: MeetingSubmitted,
        province: str,
        authorization: str | None = None,
        sent_at: datetime | None = None,
    ) -> None:
        """Register the request sent on `province`'s inbound topic at `sent_at` with the
        `authorization` header, then answer it on its system's own replies topic. A request
        naming no system of the province has no topic to be answered on: refused, which
        dead-letters it with the reason."""
        system = await self._of_province(event.system, province)
        try:
            await self._authenticated(event.system, authorization, sent_at)
            shown = await self.meetings.register(
                _caller(event, province, system), _meeting(event.meeting), event.request_id
            )
            reply: Event = self._reply(
                SubmissionAccepted,
                province,
                event.request_id,
                event.system,
                cause=event,
                meeting_id=shown.meeting["_id"],
                repeated=not shown.created,
            )
        except Refusal as refused:
            said = _refusal(refused)
            reply = self._reply(
                SubmissionRefused, province, event.request_id, event.system, event, **said
            )
        key = f"{province}:{event.system}:{event.request_id}:{event.event_id}"
        await self.answers.answer(key, str(event.event_id), reply)

    async def unreadable(
        self,
        body: bytes,
        invalid: ValidationError,
        province: str,
        authorization: str | None = None,
        sent_at: datetime | None = None,
    ) -> None:
        """A request that does not decode (it goes to the dead-letter topic all the same),
        answered with what is broken when its system can be told: its `request_id` and
        `system` still read, and its token names that system. A system cannot read the
        dead-letter topic, and would wait for an answer that never comes."""
        try:
            fields = json.loads(body)
        except ValueError:
            return
        if not isinstance(fields, dict):
            return
        request_id, system = fields.get("request_id"), fields.get("system")
        if not (_printable(request_id) and _printable(system)):
            return
        try:
            await self._of_province(system, province)
            await self._authenticated(system, authorization, sent_at)
        except Refusal:
            return  # whoever sent it is not that system: nobody to tell
        broken = _envelope_violations(fields, invalid)
        refused = _refusal(Refusal.broken(broken))
        reply = self._reply(
            SubmissionRefused, province, request_id, system, correlation_id=request_id, **refused
        )
        marker = f"unreadable:{hashlib.sha256(body).hexdigest()}"  # a redelivery: once
        await self.answers.answer(f"{province}:{system}:{request_id}:{marker}", marker, reply)

    async def _authenticated(
        self, system: str, authorization: str | None, sent_at: datetime | None
    ) -> None:
        """The request's token names the system it claims to be (else 401): valid now, or
        when the request was sent (a request queued while registration was down), a day
        back at most (`QUEUED_AT_MOST`). Now first: the sender's clock may run behind."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            named = None
        else:
            now = self.clock.now()
            named = await self.verify(token, now)
            if named is None and sent_at is not None:
                named = await self.verify(token, max(sent_at, now - QUEUED_AT_MOST))
        if named != subject(system):
            raise Refusal(
                401,
                "unauthenticated_system",
                f"Yêu cầu không kèm mã xác thực hợp lệ của hệ thống {system} (header "
                "authorization: Bearer <access token của hệ thống, lấy ở POST /auth/token>).",
                f"The request carries no valid access token of system {system} (header "
                "authorization: Bearer <the system's access token, from POST /auth/token>).",
            )

    async def _of_province(self, client_id: str, province: str) -> Document:
        """The registered system `client_id` of `province` (disabled or not), else 403."""
        system = await self.systems.system(client_id)
        if system is None or system["tenant"] != province:
            raise Refusal(
                403,
                "unknown_system",
                f"Hệ thống {client_id} chưa được đăng ký với tỉnh {province}.",
                f"System {client_id} is not registered with province {province}.",
            )
        return system

    def _reply(
        self,
        kind: type[Event],
        province: str,
        request_id: str,
        system: str,
        cause: Event | None = None,
        **fields: Any,
    ) -> Event:
        """The answer to `system`'s request `request_id` (correlated with the request it
        answers, or as `fields` say when no request decoded)."""
        return kind.create(
            cause=cause,
            tenant=province,
            producer=PRODUCER,
            occurred_at=self.clock.now(),
            request_id=request_id,
            system=system,
            **fields,
        )


def _caller(event: MeetingSubmitted, province: str, system: Document) -> Principal:
    """Who files the request: a registrar of the system's unit, in the province whose topic
    carried it (a request saying another province is refused; so is a disabled system)."""
    if event.tenant != province:
        raise Refusal(
            403,
            "wrong_province",
            f"Yêu cầu của tỉnh {event.tenant} gửi vào kênh của tỉnh {province}.",
            f"A request of province {event.tenant} was sent on {province}'s topic.",
        )
    if system.get("disabled"):
        raise Refusal(
            403,
            "unknown_system",
            f"Hệ thống {event.system} đã bị khóa.",
            f"System {event.system} is disabled.",
        )
    return Principal(
        subject=subject(event.system),
        role=Role.REGISTRAR,
        tenant=province,
        unit=system["unit"],
        name=system["name"],
    )


def _envelope_violations(fields: Mapping[str, object], invalid: ValidationError) -> list[Violation]:
    """What is broken in a request's envelope, by its own field names (pydantic puts the
    event type first in each location); anything but a MeetingSubmitted is refused as
    such, not by the other event's fields."""
    if fields.get("type") != MeetingSubmitted.__name__:
        return [
            Violation(
                "type",
                "schema.literal_error",
                SCHEMA_SOURCE,
                "Yêu cầu gửi vào kênh này phải có type MeetingSubmitted.",
                "A request on this topic has the type MeetingSubmitted.",
            )
        ]
    errors = invalid.errors(include_url=False)
    return schema_violations([{**e, "loc": tuple(e["loc"])[1:]} for e in errors])


def _printable(value: object) -> TypeGuard[str]:
    """A request id or client id as the envelope would take it (printable ASCII)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 128
        and value.isascii()
        and value.isprintable()
        and " " not in value
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
