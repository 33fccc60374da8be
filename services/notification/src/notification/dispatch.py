"""The sender loop: claims due notices, resolves the address, renders, sends, records.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jinja2 import TemplateError
from prometheus_client import Counter

from hnth_contracts.policy import Policy
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from notification import content
from notification.delivery import Mailer, WebhookPoster
from notification.domain import attempts, escalations, signing
from notification.domain.notices import FORMAL_KINDS, Calendar, Channel, Status
from notification.store import NotificationStore

log = logging.getLogger(__name__)

NO_ADDRESS = "no address"
UNKNOWN_IT_CONTACT = {"name": "Sở TT&TT", "person": None, "phone": None, "email": None}
RENDER_ERRORS = (TemplateError, KeyError, ValueError, TypeError, AttributeError)


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
    concurrency: int = 8

    def ack_url(self, notice_id: str) -> str:
        token = signing.ack_token(self.ack_secret, notice_id)
        return f"{self.public_base_url.rstrip('/')}/ack/{token}"


@dataclass(frozen=True)
class _Outcome:
    attempt: attempts.Attempt
    address: str | None = None
    message_id: str | None = None


class Dispatcher:
    def __init__(
        self,
        store: NotificationStore,
        clock: Clock,
        policy_for: Callable[[str], Policy],
        mailer: Mailer,
        poster: WebhookPoster,
        config: DeliveryConfig,
        attempts: Counter | None = None,
    ) -> None:
        self._store = store
        self._attempts = attempts
        """Prometheus counter of delivery attempts by notice kind and resulting status."""
        self._clock = clock
        self._policy_for = policy_for
        self._mailer = mailer
        self._poster = poster
        self._config = config
        self._owner = uuid.uuid4().hex
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(config.concurrency)
        self.attempted = 0

    def wake(self) -> None:
        """New notices were stored: look now instead of at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        try:
            while True:
                self._wakeup.clear()
                try:
                    await self.send_due()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("delivery pass failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self._config.poll_seconds)
        finally:
            await self._poster.close()

    async def send_due(self) -> int:
        """One pass over the notices due now; returns how many this replica attempted."""
        due = await self._store.due(self._clock.now(), self._config.batch)
        results = await asyncio.gather(*(self._attempt(notice_id) for notice_id in due))
        done = sum(results)
        self.attempted += done
        return done

    async def _attempt(self, notice_id: str) -> bool:
        async with self._slots:
            now = self._clock.now()
            if not await self._store.claim(notice_id, self._owner, now, self._config.lease):
                return False  # another replica is on it
            try:
                notice = await self._store.notice(notice_id)
                # re-read under the claim: another replica may have finished it meanwhile
                if (
                    notice is None
                    or notice["status"] != Status.PENDING.value
                    or notice["next_attempt_at"] > now
                ):
                    await self._store.settle_queue(notice_id, notice, now)
                    return False
                outcome = await self._deliver(notice, now)
                await self._record(notice, outcome)
                return True
            finally:
                await self._store.release(notice_id, self._owner)

    async def _record(self, notice: Document, outcome: _Outcome) -> None:
        c = self._config
        now = self._clock.now()
        result = attempts.after_attempt(
            outcome.attempt,
            int(notice.get("attempts") or 0),
            now,
            max_attempts=c.max_attempts,
            backoff=c.backoff,
            max_backoff=c.max_backoff,
        )
        if result.status is Status.FAILED and notice["kind"] in FORMAL_KINDS:
            # escalate BEFORE recording `failed`: recording drops the notice from the queue,
            # so a crash between the two would lose the escalation for good. This way a crash
            # leaves the notice pending, it is tried again, and the escalation (its id
            # derived from the notice's) is inserted once however often that happens.
            escalation = escalations.plan_failure_escalation(
                notice["_id"],
                notice["tenant"],
                notice.get("data") or {},
                notice["recipient"],
                result.reason or "",
                self._policy_for(notice["tenant"]),
            )
            await self._store.add_notices(escalation, now)
            self.wake()
        await self._store.record(notice["_id"], result, now, outcome.address, outcome.message_id)
        if self._attempts is not None:
            self._attempts.labels(notice["kind"], result.status.value).inc()
        if result.status is Status.SENT:
            log.info("notice %s sent to %s", notice["_id"], outcome.address)
        elif result.status is Status.FAILED:
            log.warning("notice %s failed: %s", notice["_id"], result.reason)

    async def _deliver(self, notice: Document, now: datetime) -> _Outcome:
        tenant, recipient = notice["tenant"], notice["recipient"]
        if notice["channel"] == Channel.WEBHOOK.value:
            url = recipient.removeprefix("webhook:")
            return _Outcome(await self._post(notice, url, now), url)
        contact = await self._store.contact(tenant, recipient)
        address = (contact or {}).get("email")
        if not address:
            return _Outcome(attempts.retry(NO_ADDRESS))
        try:
            message = await self._email(notice, contact or {}, address, now)
        except RENDER_ERRORS as exc:
            return _Outcome(attempts.give_up(f"render: {type(exc).__name__}: {exc}"), address)
        mid = str(message["Message-ID"])
        return _Outcome(await self._mailer.send(message), address, mid)

    async def _context(self, notice: Document, contact: Document) -> dict[str, Any]:
        policy = self._policy_for(notice["tenant"])
        it_contact = await self._store.contact(notice["tenant"], "it_department")
        return {
            "data": notice.get("data") or {},
            "recipient_name": contact.get("person") or contact.get("name") or notice["recipient"],
            "it_contact": it_contact or UNKNOWN_IT_CONTACT,
            "ack_url": self._config.ack_url(notice["_id"]),
            "rule": notice["rule"],
            "province": policy.name,
            "tz": policy.timezone,
        }

    async def _email(self, notice: Document, contact: Document, address: str, now: datetime) -> Any:
        context = await self._context(notice, contact)
        rendered = content.render(notice["kind"], content.language_of(contact), context)
        calendar = None
        if notice.get("calendar"):
            entry = Calendar(**notice["calendar"])
            body = content.ics(
                entry,
                notice["data"],
                organizer=self._config.sender,
                attendee=address,
                now=now,
                description=rendered.text,
            )
            calendar = (entry, body)
        return content.email_message(
            sender=self._config.sender,
            to=address,
            rendered=rendered,
            message_id=signing.message_id(notice["_id"], "hnth-ops"),
            now=now,
            calendar=calendar,
            notice_id=notice["_id"],
        )

    async def _post(self, notice: Document, url: str, now: datetime) -> attempts.Attempt:
        ics_text = None
        if notice.get("calendar"):
            entry = Calendar(**notice["calendar"])
            ics_text = content.ics(
                entry,
                notice["data"],
                organizer=self._config.sender,
                attendee=None,
                now=now,
                description=str(notice["data"].get("title", "")),
            ).decode()
        body = content.webhook_body(notice, self._config.ack_url(notice["_id"]), ics_text)
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-HNTH-Delivery": notice["_id"],
            "X-HNTH-Kind": notice["kind"],
            "X-HNTH-Timestamp": str(timestamp),
            "X-HNTH-Signature": signing.webhook_signature(
                self._config.webhook_secret, timestamp, body
            ),
        }
        return await self._poster.post(url, body, headers)
