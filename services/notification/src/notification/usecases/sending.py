"""Sending one queued notice: claim it, re-read it, send it through its channel, record.

Which side of "sent but not recorded" we chose: AT-LEAST-ONCE. A sender claims a notice
by inserting `notice_claims/<id>` with a lease (an insert is atomic on FerretDB and
MongoDB; an update would not be, across replicas), re-reads the notice, sends, and
records `sent`. If it dies after the SMTP server or webhook accepted the message and
before the record, the lease runs out and another replica sends it again, with the SAME
Message-ID (e-mail) or `X-HNTH-Delivery` id (webhook), so the receiving side can drop
the copy. The opposite choice (record "sending" first, never resend) would lose the
notice that rule 2 requires in writing; a duplicate is an annoyance, a missing notice
to the power company is a blacked-out meeting.

A recipient the directory has no address for yet is retried like a refused delivery
(the directory may arrive later) and ends `failed` with reason "no address" once the
attempts run out; meanwhile it is visible as `pending` with `last_error`.

The channels (SMTP, webhooks) are adapters passed in (`notification.delivery`); the
polling loop that calls `send_many` is plumbing (`notification.dispatch`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from typing import Any, Protocol

from jinja2 import TemplateError

from hnth_contracts.policy import Policy
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from hnth_kit.outbox import Staging, staging
from notification import content, phones
from notification.domain import access, attempts, escalations, facts, signing, sms
from notification.domain.meetings import Meeting
from notification.domain.notices import Channel, Notice, Status

log = logging.getLogger(__name__)

NO_ADDRESS = "no address"
RENDER_ERRORS = (TemplateError, KeyError, ValueError, TypeError, AttributeError)


class DeliveryStore(Protocol):
    """What sending needs of `NotificationStore`."""

    async def due(self, now: datetime, limit: int) -> list[str]: ...
    async def claim_many(
        self, notice_ids: Sequence[str], owner: str, now: datetime, lease: timedelta
    ) -> list[str]: ...
    async def release_many(self, notice_ids: Sequence[str], owner: str) -> None: ...
    async def dequeue(self, notice_ids: Sequence[str]) -> None: ...
    async def notices_to_send(self, notice_ids: Sequence[str]) -> dict[str, Document]: ...
    async def settle_queue(
        self, notice_id: str, notice: Document | None, now: datetime
    ) -> None: ...
    async def contact(self, tenant: str, recipient: str) -> Document | None: ...
    async def entry(self, tenant: str, key: str) -> Document | None: ...
    async def meeting(self, tenant: str, meeting_id: str) -> Meeting | None: ...
    async def add_notices(self, notices: Sequence[Notice], now: datetime) -> list[str]: ...
    async def record(self, recorded: Sequence[attempts.Recorded]) -> None: ...


class Mail(Protocol):
    """The e-mail channel (`delivery.Mailer`)."""

    async def send(self, message: Message) -> attempts.Attempt: ...


class Webhooks(Protocol):
    """The webhook channel (`delivery.WebhookPoster`)."""

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> attempts.Attempt: ...


class Sms(Protocol):
    """The SMS channel (`delivery.SmsSender`): the attempt and the SMSC's message id."""

    async def send(self, phone: str, text: str) -> tuple[attempts.Attempt, str | None]: ...


@dataclass(frozen=True)
class DeliveryConfig:
    sender: str
    public_base_url: str
    ack_secret: bytes
    webhook_secret: bytes
    max_attempts: int = 10
    backoff: timedelta = timedelta(seconds=5)
    max_backoff: timedelta = timedelta(minutes=30)
    lease: timedelta = timedelta(seconds=60)
    poll_seconds: float = 1.0
    batch: int = 50
    group: int = 24
    """Notices claimed, read and recorded together (a handful of database commands for
    the lot: per notice they were most of its sending)."""
    concurrency: int = 8
    """Deliveries at once, within a group (and SMTP connections open at most)."""
    console_url: str = ""
    """Where people sign in to the console: a notice asking for work links there."""

    def ack_url(self, notice_id: str) -> str:
        token = signing.ack_token(self.ack_secret, notice_id)
        return f"{self.public_base_url.rstrip('/')}/ack/{token}"


@dataclass(frozen=True)
class Attempted:
    """What one attempt on a notice came to (for the sender's metrics)."""

    notice_id: str
    kind: str
    result: attempts.Next


@dataclass(frozen=True)
class _Outcome:
    attempt: attempts.Attempt
    address: str | None = None
    message_id: str | None = None


class Delivery:
    """One use case, `send_many` (`send_queued` for one), and the queue's due notices for the
    loop that calls it."""

    def __init__(
        self,
        store: DeliveryStore,
        clock: Clock,
        policy_for: Callable[[str], Policy],
        mail: Mail,
        webhooks: Webhooks,
        config: DeliveryConfig,
        wake: Callable[[Sequence[str]], None] = lambda _: None,
        sms: Sms | None = None,
        publish: Callable[[Staging], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy_for = policy_for
        self._mail = mail
        self._webhooks = webhooks
        self.config = config
        self._wake = wake
        """Hand the sender new notices (an escalation's), due now."""
        self._sms = sms
        """None: SMS is off (no SMPP server configured); no SMS notice is planned then."""
        self._publish = publish
        """Publishes from memory the facts a group's record staged (`Service.publish_staged`),
        right after the group, before the relay's next pass would read them back; None:
        the relay's pass does."""

    async def due(self) -> list[str]:
        """The queued notices due now, oldest first, at most a batch."""
        return await self._store.due(self._clock.now(), self.config.batch)

    async def send_queued(self, notice_id: str, owner: str) -> Attempted | None:
        """Attempt one queued notice unless another sender holds it or it is no longer due."""
        attempted = await self.send_many([notice_id], owner)
        return attempted[0] if attempted else None

    async def send_many(self, notice_ids: Sequence[str], owner: str) -> list[Attempted]:
        """Attempt the queued notices no other sender holds, a `group` at a time. A
        group's notices are claimed and read in one write and one read and sent,
        `concurrency` at once; when all are sent, their outcomes are recorded together
        (escalating a formal notice that gave up, first), the finished ones leave the queue,
        the claims are released and the facts recorded are published. A group lasts a few
        deliveries' time, inside the claims' lease (the settings check it against the
        channels' timeouts); a crash before its record sends its notices again (at least
        once, same ids)."""
        size = self.config.group
        attempted: list[Attempted] = []
        for first in range(0, len(notice_ids), size):
            attempted += await self._send_group(notice_ids[first : first + size], owner)
        return attempted

    async def _send_group(self, notice_ids: Sequence[str], owner: str) -> list[Attempted]:
        with staging() as staged:
            try:
                return await self._send_claimed(notice_ids, owner)
            finally:  # what was recorded before a raise, too
                if self._publish is not None:
                    await self._publish(staged)

    async def _send_claimed(self, notice_ids: Sequence[str], owner: str) -> list[Attempted]:
        store, now = self._store, self._clock.now()
        claimed = await store.claim_many(notice_ids, owner, now, self.config.lease)
        if not claimed:
            return []  # other replicas are on them
        try:
            notices = await store.notices_to_send(claimed)
            gate = asyncio.Semaphore(self.config.concurrency)

            async def attempt(notice_id: str) -> tuple[Document, _Outcome] | None:
                async with gate:
                    return await self._attempt(notice_id, notices.get(notice_id), now)

            # every attempt runs to its end before the claims are released, even when one
            # raises (its notice stays pending): a released notice may be taken at once
            done = await asyncio.gather(*map(attempt, claimed), return_exceptions=True)
            attempted = await self._record([d for d in done if isinstance(d, tuple)])
            await store.dequeue(
                [a.notice_id for a in attempted if a.result.status is not Status.PENDING]
            )
        finally:
            await store.release_many(claimed, owner)
        for failure in done:
            if isinstance(failure, BaseException):
                raise failure
        return attempted

    async def _attempt(
        self, notice_id: str, notice: Document | None, now: datetime
    ) -> tuple[Document, _Outcome] | None:
        if notice is None or not attempts.is_due(notice, now):
            await self._store.settle_queue(notice_id, notice, now)
            return None
        return notice, await self._deliver(notice, now)

    async def _record(self, outcomes: Sequence[tuple[Document, _Outcome]]) -> list[Attempted]:
        c, now = self.config, self._clock.now()
        recorded, attempted = [], []
        for notice, outcome in outcomes:
            result = attempts.after_attempt(
                outcome.attempt,
                int(notice.get("attempts") or 0),
                now,
                max_attempts=c.max_attempts,
                backoff=c.backoff,
                max_backoff=c.max_backoff,
            )
            if escalations.escalates_failure(notice["kind"], result.status, notice["channel"]):
                await self._escalate(notice, result, now)
            sent = result.status is Status.SENT
            events = facts.delivered(notice, now) if sent else []
            recorded.append(
                attempts.Recorded(
                    notice["_id"], result, now, outcome.address, outcome.message_id, events
                )
            )
            attempted.append(Attempted(notice["_id"], notice["kind"], result))
            if sent:
                log.info("notice %s sent to %s", notice["_id"], outcome.address)
            elif result.status is Status.FAILED:
                log.warning("notice %s failed: %s", notice["_id"], result.reason)
        await self._store.record(recorded)
        return attempted

    async def _escalate(self, notice: Document, result: attempts.Next, now: datetime) -> None:
        """Escalate BEFORE recording `failed`: recording drops the notice from the queue, so
        a crash between the two would lose the escalation for good. This way a crash leaves
        the notice pending, it is tried again, and the escalation (its id derived from the
        notice's) is inserted once however often that happens."""
        escalation = escalations.plan_failure_escalation(
            notice["_id"],
            notice["tenant"],
            notice.get("data") or {},
            notice["recipient"],
            result.reason or "",
            self._policy_for(notice["tenant"]),
        )
        if self._sms is not None:
            escalation = sms.with_sms(escalation, self._policy_for, now)
        if stored := await self._store.add_notices(escalation, now):
            self._wake(stored)

    async def _deliver(self, notice: Document, now: datetime) -> _Outcome:
        tenant, recipient = notice["tenant"], notice["recipient"]
        if notice["channel"] == Channel.WEBHOOK.value:
            url = recipient.removeprefix("webhook:")
            body, headers = content.webhook(
                notice,
                ack_url=self.config.ack_url(notice["_id"]),
                sender=self.config.sender,
                secret=self.config.webhook_secret,
                now=now,
            )
            return _Outcome(await self._webhooks.post(url, body, headers), url)
        if notice["channel"] == Channel.SMS.value:
            return await self._text_message(notice)
        contact = access.own_contact(notice["kind"], notice.get("data") or {})
        contact = contact or await self._store.contact(tenant, recipient)
        address = (contact or {}).get("email")
        if not address:
            return _Outcome(attempts.retry(NO_ADDRESS))
        try:
            message = await self._email(notice, contact or {}, address, now)
        except RENDER_ERRORS as exc:
            return _Outcome(attempts.give_up(f"render: {type(exc).__name__}: {exc}"), address)
        mid = str(message["Message-ID"])
        return _Outcome(await self._mail.send(message), address, mid)

    async def _with_places(self, notice: Document) -> Document:
        """A meeting's notice with its host unit and endpoints by name, where each is and
        who its technician is (the directory now): a power company acts on places, not
        codes. A refusal with the meetings in its way, each its title when its host is
        the refused meeting's (another unit's stays unnamed, as on the console)."""
        data = notice.get("data") or {}
        if notice["kind"] == "meeting_rejected":
            return {**notice, "data": {**data, "others": await self._others(notice)}}
        tenant = notice["tenant"]
        if notice["kind"] == "check_alert" and data.get("endpoint"):  # whom to ring
            room = await self._store.entry(tenant, f"endpoint:{data['endpoint']}") or {}
            contact = room.get("contact") or {}
            found = {
                "endpoint_name": room.get("name"),
                "technician": contact.get("person") or contact.get("name"),
                "technician_phone": contact.get("phone"),
            }
            return {**notice, "data": {**data, **found}}
        if notice["kind"] in content.REPORT_KINDS:  # its endpoint and unit by name
            names = {
                f"{kind}_name": ((await self._store.entry(tenant, f"{kind}:{code}")) or {}).get(
                    "name"
                )
                for kind, code in (("endpoint", data.get("endpoint")), ("unit", data.get("unit")))
                if code
            }
            return {**notice, "data": {**data, **names}}
        if notice["kind"] not in content.PLACE_KINDS or not data.get("endpoints"):
            return notice
        host = await self._store.entry(tenant, f"unit:{data.get('host_unit')}")
        rooms = [await self._store.entry(tenant, f"endpoint:{c}") for c in data["endpoints"]]
        return {**notice, "data": {**data, **content.places(data, host, rooms)}}

    async def _others(self, notice: Document) -> dict[str, dict[str, Any]]:
        data = notice.get("data") or {}
        others: dict[str, dict[str, Any]] = {}
        for conflict in data.get("conflicts") or []:
            other_id = conflict.get("other_meeting_id")
            if other_id and other_id not in others:
                other = await self._store.meeting(notice["tenant"], other_id)
                own = other is not None and other.host_unit == data.get("host_unit")
                others[other_id] = {"title": other.title if other else "", "own": own}
        return others

    async def _text_message(self, notice: Document) -> _Outcome:
        if self._sms is None:
            return _Outcome(attempts.give_up("SMS is off (no SMPP server configured)"))
        contact = await self._store.contact(notice["tenant"], notice["recipient"]) or {}
        phone = phones.e164(contact.get("phone"))
        if phone is None:
            return _Outcome(attempts.retry(NO_ADDRESS))
        policy = self._policy_for(notice["tenant"])
        try:
            text = content.sms(notice, content.language_of(contact), policy.timezone)
        except RENDER_ERRORS as exc:
            return _Outcome(attempts.give_up(f"render: {type(exc).__name__}: {exc}"), phone)
        attempt, message_id = await self._sms.send(phone, text)
        return _Outcome(attempt, phone, message_id)

    async def _email(
        self, notice: Document, contact: Document, address: str, now: datetime
    ) -> Message:
        it_contact = await self._store.contact(notice["tenant"], "it_department")
        return content.email(
            await self._with_places(notice),
            contact=contact,
            address=address,
            it_contact=it_contact,
            policy=self._policy_for(notice["tenant"]),
            ack_url=self.config.ack_url(notice["_id"]),
            sender=self.config.sender,
            now=now,
            console_url=self.config.console_url,
        )
