"""Meeting use cases: register, change, cancel, read, list and the calendar feed.

Each loads what it needs, asks the domain (with `now`), and makes one write: the meeting
document with its event in its outbox. A refusal is kit's `Refusal`, rendered by kit."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel

from hnth_contracts import (
    BackupSwitch,
    Event,
    HoldDecided,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
)
from hnth_contracts.groups import BUILT_IN
from hnth_contracts.policy import Policy
from hnth_contracts.priority import PRIORITIES
from hnth_contracts.rules import local_text
from hnth_kit.auth import Principal, Role
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from hnth_kit.refusal import SCHEMA_SOURCE, Refusal, Violation
from registration import PRODUCER, domain
from registration.commands import (
    CancelIn,
    MeetingIn,
    MeetingPatch,
    MoveIn,
    PreemptIn,
    RehearsalIn,
    RejectIn,
    SwitchBackupIn,
)
from registration.domain import backup as backups
from registration.domain import rehearsal
from registration.store import (
    DECISIONS,
    DETAIL_FIELDS,
    MeetingQuery,
    StaleWrite,
    endpoints_of,
    meeting_fields,
)

FEED_PAST = timedelta(days=90)
"""A calendar feed shows meetings from 90 days ago onward: clients keep older ones."""
FEED_LIMIT = 5000
"""At most this many meetings in a feed, the latest kept."""


class DirectoryReader(Protocol):
    async def active(self, tenant: str, codes: Sequence[str]) -> dict[str, bool]: ...

    async def list(self, tenant: str, filters: Document) -> list[Document]: ...

    async def units_of(self, tenant: str, codes: Sequence[str]) -> set[str]: ...

    async def get(self, tenant: str, code: str) -> Document | None: ...


class MeetingStore(Protocol):
    """What the meeting use cases need of the store (`RegistrationStore` implements it)."""

    @property
    def units(self) -> DirectoryReader: ...

    @property
    def endpoints(self) -> DirectoryReader: ...

    @property
    def groups(self) -> DirectoryReader: ...

    async def meeting(self, tenant: str, meeting_id: str) -> Document | None: ...

    async def create_meeting(self, meeting: Document, event: Event) -> tuple[Document, bool]: ...

    async def update_meeting(
        self, tenant: str, meeting_id: str, revision: int, fields: Document, events: Sequence[Event]
    ) -> Document: ...

    async def decide_hold(
        self, tenant: str, meeting_id: str, revision: int, fields: Document, events: Sequence[Event]
    ) -> bool: ...

    async def timeline(self, tenant: str, meeting_id: str) -> list[Document]: ...

    async def rehearsals(self, tenant: str, meeting_id: str) -> list[Document]: ...

    async def decisions(
        self, tenant: str, meeting_ids: Sequence[str]
    ) -> dict[str, list[Document]]: ...

    async def meetings(
        self, query: MeetingQuery, limit: int, *, newest_first: bool = False
    ) -> list[Document]: ...


@dataclass(frozen=True)
class Shown:
    """A meeting and its timeline, for the route to render; `created` False for a retry."""

    meeting: Document
    timeline: list[Document]
    created: bool = True
    rehearsals: list[Document] | None = None


@dataclass(frozen=True)
class Listed:
    """One page of meetings, with each one's status and slot."""

    meetings: list[Document]
    statuses: dict[str, str]
    slots: dict[str, Document | None]
    after: tuple[datetime, str] | None
    more: bool


@dataclass(frozen=True)
class Feed:
    """The meetings of a calendar feed, oldest first, each with its status."""

    meetings: list[Document]
    now: datetime
    at: tuple[str, ...] = ()
    """The endpoints the calendar is of (an endpoint's, or a unit's own): where its reader
    takes part, which each event names as its place."""


def forbidden(vi: str, en: str) -> Refusal:
    return Refusal(403, "forbidden", vi, en)


def not_held(policy: Policy, status: str) -> Refusal:
    source = policy.ref(domain.APPROVAL).source
    return Refusal(
        409,
        "not_held",
        f"Cuộc họp không chờ duyệt (trạng thái: {status}); quy tắc schedule.approval: {source}",
        f"The meeting is not waiting for approval (status: {status}); rule "
        f"schedule.approval: {source}",
    )


def not_preemptible(policy: Policy, status: str) -> Refusal:
    source = policy.ref(PRIORITIES).source
    return Refusal(
        409,
        "not_preemptible",
        f"Cuộc họp không bị từ chối chỉ vì các cuộc họp ưu tiên thấp hơn (trạng thái: {status}); "
        f"quy tắc {PRIORITIES}: {source}",
        f"The meeting was not refused only by lower-priority meetings (status: {status}); "
        f"rule {PRIORITIES}: {source}",
    )


def not_found() -> Refusal:
    return Refusal(404, "not_found", "Không tìm thấy cuộc họp.", "No such meeting.")


class Meetings:
    def __init__(
        self,
        store: MeetingStore,
        policy_for: Callable[[str], Policy],
        clock: Clock,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store, self.policy_for, self.clock, self.wake = store, policy_for, clock, wake

    # ------------------------------------------------------------ register

    async def register(
        self,
        who: Principal,
        body: MeetingIn,
        idempotency_key: str | None,
        *,
        rehearsal_of: str | None = None,
    ) -> Shown:
        key = f"{who.tenant}:{who.subject}:{idempotency_key}" if idempotency_key else None
        meeting_id = meeting_id_for(key)
        # A retry answers with what was stored, before any rule is checked again: the
        # lead time may have passed or an endpoint been deactivated since.
        if key and (stored := await self.store.meeting(who.tenant, meeting_id)) is not None:
            if stored.get("idempotency_key") == key:
                return await self._retried(stored, body)
            meeting_id = meeting_id_for(None)  # another key's meeting has this id (a collision)
        now = self.clock.now()
        endpoints = domain.participants(body.main_endpoint, body.endpoints)
        draft = domain.Draft(
            body.host_unit,
            body.start,
            body.end,
            body.main_endpoint,
            endpoints,
            body.urgent_reason,
            body.document_number,
            body.document_date,
            groups=draft_groups(body.groups),
            external_host=body.external_host,
            priority=body.priority,
            listed=body.endpoints,
        )
        await self._validate(who, draft, now)
        document, event = self._requested(who, body, meeting_id, endpoints, now)
        if key:
            document |= {"idempotency_key": key, "request_hash": request_hash(body)}
        if rehearsal_of:
            document["rehearsal_of"] = rehearsal_of
        stored, created = await self.store.create_meeting(document, event)
        if not created:  # a concurrent retry stored it first
            return await self._retried(stored, body)
        self.wake()
        return Shown(stored, [])

    def _requested(
        self,
        who: Principal,
        body: MeetingIn,
        meeting_id: str,
        endpoints: tuple[str, ...],
        now: datetime,
    ) -> tuple[Document, MeetingRequested]:
        policy = self.policy_for(who.tenant)
        event = MeetingRequested.create(
            tenant=who.tenant,
            correlation_id=meeting_id,
            producer=PRODUCER,
            occurred_at=now,
            meeting_id=meeting_id,
            requested_by=who.subject,
            late_notice=domain.is_late_notice(body.start, policy, now),
            **{**body.model_dump(), "endpoints": endpoints, "groups": draft_groups(body.groups)},
        )
        document = {
            "_id": meeting_id,
            "tenant": who.tenant,
            "source": PRODUCER,
            "revision": 0,
            "cancelled": False,
            "registered_at": now,
            "registered_by": who.subject,
            "urgent_reason": body.urgent_reason,
            **meeting_fields(event),
        }
        return document, event

    async def _retried(self, stored: Document, body: MeetingIn) -> Shown:
        """The answer to a retry: the meeting as it is now, or 409 if the key was used for
        a different request (Stripe's and the IETF idempotency-key draft's convention)."""
        if stored.get("request_hash") not in (request_hash(body), _verbatim_hash(body)):
            raise Refusal(
                409,
                "idempotency_key_reused",
                "Mã yêu cầu (Idempotency-Key, request_id) này đã dùng cho một yêu cầu khác.",
                "This request id (Idempotency-Key, request_id) was used for a different request.",
            )
        timeline = await self.store.timeline(stored["tenant"], stored["_id"])
        return Shown(stored, timeline, created=False)

    async def _validate(self, who: Principal, draft: domain.Draft, now: datetime) -> None:
        """422 naming every rule the draft breaks."""
        directory = domain.Directory(
            units=await self.store.units.active(who.tenant, [draft.host_unit]),
            endpoints=await self.store.endpoints.active(who.tenant, draft.endpoints),
            groups=await self._groups(who.tenant, draft.groups),
        )
        caller = domain.Caller(role=who.role.value, unit=who.unit)
        policy = self.policy_for(who.tenant)
        violations = domain.check_meeting(
            draft, policy=policy, directory=directory, caller=caller, now=now
        )
        if violations:
            raise Refusal.broken(violations)

    async def _groups(self, tenant: str, codes: Sequence[str]) -> dict[str, bool]:
        """code -> active for the groups named: built-in ones, then the province's own."""
        found = {c: True for c in codes if c in BUILT_IN}
        kept = [c for c in codes if c not in found]
        return found | (await self.store.groups.active(tenant, kept) if kept else {})

    # ------------------------------------------------------------ read

    async def visible(self, who: Principal, meeting_id: str) -> Document:
        meeting = await self.store.meeting(who.tenant, meeting_id)
        if meeting is None:
            raise not_found()
        if not may_see(who, meeting) and not await self._takes_part(who, meeting):
            raise forbidden("Bạn không được xem cuộc họp này.", "You may not see this meeting.")
        return meeting

    async def _takes_part(self, who: Principal, meeting: Document) -> bool:
        """A clerk's unit takes part in another unit's meeting at one of its endpoints."""
        if who.role is not Role.REGISTRAR or not who.unit:
            return False
        return who.unit in await self.store.endpoints.units_of(who.tenant, endpoints_of(meeting))

    async def query(
        self,
        who: Principal,
        unit: str | None,
        endpoint: str | None,
        start_from: datetime | None = None,
        start_to: datetime | None = None,
        after: tuple[datetime, str] | None = None,
    ) -> MeetingQuery:
        """The meetings asked for, narrowed to what `who` may see (`scope`): a clerk's are
        their unit's and those held at its endpoints; a clerk's or a technician's leave out
        the other units' requests that were refused (they never reached them)."""
        unit, endpoints = scope(who, unit, endpoint)
        own = await self._endpoints_of(who.tenant, who.unit) if who.role is Role.REGISTRAR else ()
        told = who.role in (Role.REGISTRAR, Role.TECHNICIAN)
        return MeetingQuery(
            who.tenant, unit, endpoints, start_from, start_to, after, own, others_refused=not told
        )

    async def _endpoints_of(self, tenant: str, unit: str | None) -> tuple[str, ...]:
        if not unit:
            return ()
        return tuple(e["code"] for e in await self.store.endpoints.list(tenant, {"unit": unit}))

    async def read(self, who: Principal, meeting_id: str) -> Shown:
        meeting = await self.visible(who, meeting_id)
        timeline = await self.store.timeline(who.tenant, meeting_id)
        rehearsals = await self.store.rehearsals(who.tenant, meeting_id)
        statuses, _ = await self._statuses_and_slots(who.tenant, rehearsals)
        # each with its state: a refused rehearsal is no rehearsal
        rehearsals = [{**r, "status": statuses[r["_id"]]} for r in rehearsals]
        return Shown(meeting, timeline, rehearsals=rehearsals)

    # ------------------------------------------------------------ rehearsals

    async def book_rehearsal(
        self, who: Principal, meeting_id: str, body: RehearsalIn, idempotency_key: str | None
    ) -> Shown:
        """A rehearsal of the meeting on its endpoints: a meeting of its own, registered
        and decided as any other (lead time, directory, free slot), linked to this one.
        Without a key, the same meeting and start is the same rehearsal (a double click)."""
        now = self.clock.now()
        meeting = await self._changeable(who, meeting_id, now)
        policy = self.policy_for(who.tenant)
        if broken := rehearsal.booking_violations(
            policy,
            meeting_start=meeting["start"],
            meeting_cancelled=meeting["cancelled"],
            of_a_rehearsal=bool(meeting.get("rehearsal_of")),
            end=body.end,
        ):
            raise Refusal.broken(broken)
        details = MeetingIn(
            title=rehearsal.title(meeting["title"]),
            host_unit=meeting["host_unit"],
            chair=meeting["chair"],
            start=body.start,
            end=body.end,
            main_endpoint=meeting["main_endpoint"],
            endpoints=list(meeting["endpoints"]),
            groups=list(meeting.get("groups") or ()),
            agenda=f'Tổng duyệt kỹ thuật cho cuộc họp "{meeting["title"]}" '
            f"({local_text(meeting['start'], policy)})",
            urgent_reason=body.urgent_reason,
            # under the meeting's official letter: a province that asks for one asks it of
            # the rehearsal too, and the rehearsal form has no letter of its own
            document_number=meeting.get("document_number"),
            document_date=_as_date(meeting.get("document_date")),
        )
        key = idempotency_key or f"rehearsal:{meeting_id}:{body.start.isoformat()}"
        return await self.register(who, details, key, rehearsal_of=meeting_id)

    async def _rehearsals_follow(
        self,
        who: Principal,
        meeting: Document,
        choice: rehearsal.Choice | None,
        *,
        new_start: datetime | None,
        reason: str,
        now: datetime,
    ) -> None:
        """Before a meeting is cancelled (`new_start` None) or moved: its rehearsals still
        to come are kept or cancelled as the caller chose; without a choice, a refusal.
        A kept rehearsal must still end before the moved meeting, by the lead time."""
        coming = [
            r
            for r in await self.store.rehearsals(who.tenant, meeting["_id"])
            if not r["cancelled"] and r["start"] > now
        ]
        if not coming:
            return
        policy = self.policy_for(who.tenant)
        if choice is None:
            raise Refusal.broken([rehearsal.choice_missing(policy, len(coming))])
        if choice == "keep":
            if new_start is not None:
                for r in coming:
                    if broken := rehearsal.booking_violations(
                        policy,
                        meeting_start=new_start,
                        meeting_cancelled=False,
                        of_a_rehearsal=False,
                        end=r["end"],
                    ):
                        raise Refusal.broken([replace(v, field="rehearsals") for v in broken])
            return
        for r in coming:
            await self.cancel(who, r["_id"], CancelIn(reason=reason))

    # ------------------------------------------------------------ change, cancel

    async def _changeable(self, who: Principal, meeting_id: str, now: datetime) -> Document:
        meeting = await self.visible(who, meeting_id)
        if who.role is Role.REGISTRAR and meeting["host_unit"] != who.unit:
            raise forbidden(
                "Chỉ đơn vị chủ trì hoặc Sở KH&CN được thay đổi cuộc họp.",
                "Only the host unit or the IT department may change the meeting.",
            )
        if meeting.get("source", PRODUCER) != PRODUCER:
            raise Refusal(
                409,
                "managed_elsewhere",
                f"Cuộc họp do hệ thống {meeting['source']} quản lý; hãy thay đổi tại đó.",
                f"The meeting is managed by {meeting['source']}; change it there.",
            )
        if domain.frozen_since_start(meeting["start"], now):
            policy = self.policy_for(who.tenant)
            raise Refusal.rule(
                policy,
                "meeting.not_in_past",
                "start",
                "Cuộc họp đã bắt đầu hoặc đã diễn ra, không thể thay đổi.",
                "The meeting has started or is over and cannot be changed.",
            )
        return meeting

    async def move(self, who: Principal, meeting_id: str, body: MoveIn) -> Shown:
        """The IT department moves the meeting: a change of its times with the reason,
        re-validated and decided like any change (notices and calendar updates follow)."""
        patch = MeetingPatch(
            start=body.start,
            end=body.end,
            urgent_reason=body.urgent_reason,
            rehearsals=body.rehearsals,
        )
        return await self.change(who, meeting_id, patch, reason=body.reason)

    async def preempt(self, who: Principal, meeting_id: str, body: PreemptIn) -> Shown:
        """The IT department lets the meeting, refused only by lower-priority meetings,
        displace them: the same details again as a new revision carrying the order (and
        why), which scheduling decides like any change. Asking again returns the meeting."""
        meeting = await self._changeable(who, meeting_id, self.clock.now())
        ordered = meeting.get("preempt") or {}
        if ordered.get("revision") == meeting["revision"]:
            return Shown(meeting, await self.store.timeline(who.tenant, meeting_id))
        timeline = await self.store.timeline(who.tenant, meeting_id)
        status = domain.status_of(meeting["cancelled"], meeting["revision"], decided(timeline))
        if status != "rejected" or not domain.preemptible(timeline, meeting["revision"]):
            raise not_preemptible(self.policy_for(who.tenant), status)
        return await self.change(who, meeting_id, MeetingPatch(), preempt_reason=body.reason)

    async def switch_backup(self, who: Principal, meeting_id: str, body: SwitchBackupIn) -> Shown:
        """The IT department puts the backup the directory names for a failing endpoint in
        its place, in the meeting's last hour (`backup.switch_window`): a change of the
        meeting's rooms, re-validated and decided like any change (scheduling decides
        whether the backup is free); the reason stands as the urgent reason the last hour
        needs."""
        if who.role is not Role.OPERATOR:
            raise forbidden(
                "Chỉ Sở KH&CN chuyển sang điểm cầu dự phòng.",
                "Only the IT department switches to a backup endpoint.",
            )
        now = self.clock.now()
        meeting = await self._changeable(who, meeting_id, now)
        policy = self.policy_for(who.tenant)
        entry = await self.store.endpoints.get(who.tenant, body.endpoint)
        backup = backups.backup_of(entry)
        timeline = await self.store.timeline(who.tenant, meeting_id)
        if broken := backups.switch_violations(
            start=meeting["start"],
            endpoints=meeting["endpoints"],
            replaced=body.endpoint,
            backup=backup,
            policy=policy,
            now=now,
            reached=backups.reached_by_groups(timeline),
        ):
            raise Refusal.broken(broken, 409)
        assert backup is not None  # switch_violations refuses a switch without one
        rooms = backups.switched(
            meeting["main_endpoint"],
            meeting["endpoints"],
            body.endpoint,
            backup,
            meeting.get("excluded") or (),
        )
        patch = MeetingPatch(
            main_endpoint=rooms.main_endpoint,
            endpoints=list(rooms.endpoints),
            urgent_reason=body.reason,
        )
        switch = BackupSwitch(
            replaced=body.endpoint,
            backup=backup,
            reason=body.reason,
            rule=policy.ref(backups.SWITCH_WINDOW),
        )
        return await self.change(
            who, meeting_id, patch, reason=body.reason, backup=switch, excluded=rooms.excluded
        )

    async def change(
        self,
        who: Principal,
        meeting_id: str,
        body: MeetingPatch,
        *,
        reason: str | None = None,
        preempt_reason: str | None = None,
        backup: BackupSwitch | None = None,
        excluded: Sequence[str] | None = None,
    ) -> Shown:
        """Change the meeting's details; `excluded`: the endpoints its groups reach that it
        now leaves out (a backup switch; None: as they were)."""
        now = self.clock.now()
        meeting = await self._changeable(who, meeting_id, now)
        changes = body.model_dump(exclude_unset=True)
        choice = changes.pop("rehearsals", None)
        said = changes.pop("reason", None)  # why, in the host's words, if given
        reason = reason or said
        if not changes and preempt_reason is None:
            raise Refusal.broken([EMPTY_CHANGE])
        if meeting["cancelled"]:
            raise Refusal(409, "cancelled", "Cuộc họp đã bị hủy.", "The meeting is cancelled.")
        merged = {**{f: meeting.get(f) for f in DETAIL_FIELDS}, **changes}
        merged["groups"] = draft_groups(merged.get("groups") or ())  # none before groups
        merged["record"] = bool(merged.get("record"))  # none before recordings
        merged["excluded"] = list(merged.get("excluded") or () if excluded is None else excluded)
        merged["document_date"] = _as_date(merged["document_date"])
        endpoints = domain.participants(merged["main_endpoint"], merged["endpoints"])
        urgent_reason = changes.get("urgent_reason")
        after = domain.Draft(
            meeting["host_unit"], merged["start"], merged["end"], merged["main_endpoint"],
            endpoints, urgent_reason, merged.get("document_number"), merged.get("document_date"),
            merged["groups"], merged.get("external_host"), listed=merged["endpoints"],
        )  # fmt: skip
        caller = domain.Caller(role=who.role.value, unit=who.unit)
        before = _as_draft(meeting)
        if broken := domain.host_change_violations(
            before, after, caller, self.policy_for(who.tenant)
        ):
            raise Refusal.broken(broken)
        late_notice = bool(meeting.get("late_notice"))
        if domain.reschedules(before, after):
            await self._validate(who, after, now)
            late_notice = domain.is_late_notice(after.start, self.policy_for(who.tenant), now)
            if after.start != before.start:
                why = reason or "Cuộc họp chính đã dời giờ / the meeting was moved"
                await self._rehearsals_follow(
                    who, meeting, choice, new_start=after.start, reason=why, now=now
                )
        revision = meeting["revision"] + 1
        event = MeetingChanged.create(
            tenant=who.tenant,
            correlation_id=meeting_id,
            producer=PRODUCER,
            occurred_at=now,
            meeting_id=meeting_id,
            revision=revision,
            changed_by=who.subject,
            late_notice=late_notice,
            urgent_reason=urgent_reason,
            reason=reason,
            preempt_reason=preempt_reason,
            backup=backup,
            **{**{f: merged[f] for f in DETAIL_FIELDS}, "endpoints": endpoints},
        )
        fields = {**meeting_fields(event), "revision": revision, "changed_at": now}
        if preempt_reason is not None:
            fields["preempt"] = {"revision": revision, "by": who.subject, "at": now,
                                 "reason": preempt_reason}  # fmt: skip
        if "urgent_reason" in changes:  # the reason a move into the lead time was allowed
            fields["urgent_reason"] = urgent_reason
        return await self._write(meeting, fields, event)

    async def cancel(self, who: Principal, meeting_id: str, body: CancelIn | None) -> Shown:
        now = self.clock.now()
        meeting = await self._changeable(who, meeting_id, now)
        if meeting["cancelled"]:
            return Shown(meeting, await self.store.timeline(who.tenant, meeting_id))
        reason = body.reason if body else None
        why = "Cuộc họp chính đã hủy / the meeting was cancelled" + (
            f": {reason}" if reason else ""
        )
        choice = body.rehearsals if body else None
        await self._rehearsals_follow(who, meeting, choice, new_start=None, reason=why, now=now)
        event = MeetingCancelled.create(
            tenant=who.tenant,
            correlation_id=meeting_id,
            producer=PRODUCER,
            occurred_at=now,
            meeting_id=meeting_id,
            reason=reason,
            cancelled_by=who.subject,
        )
        fields = {"cancelled": True, "cancel_reason": reason, "cancelled_at": now}
        return await self._write(meeting, fields, event)

    # ------------------------------------------------------------ approval

    async def decide_hold(self, who: Principal, meeting_id: str, reject: RejectIn | None) -> Shown:
        """An operator approves (`reject` None) or rejects the meeting's held revision
        (`schedule.approval: operator`): a `HoldDecided` scheduling acts on. The first
        decision of a revision stands: the same one again returns the meeting as it is,
        the other one is a 409."""
        now = self.clock.now()
        meeting = await self._changeable(who, meeting_id, now)
        if meeting["cancelled"]:
            raise Refusal(409, "cancelled", "Cuộc họp đã bị hủy.", "The meeting is cancelled.")
        approved, revision = reject is None, meeting["revision"]
        timeline = await self.store.timeline(who.tenant, meeting_id)
        if not (held := domain.hold_decision(meeting, revision)):
            status = domain.status_of(False, revision, decided(timeline))
            if status != "held":
                raise not_held(self.policy_for(who.tenant), status)
            event = HoldDecided.create(
                tenant=who.tenant,
                correlation_id=meeting_id,
                producer=PRODUCER,
                occurred_at=now,
                meeting_id=meeting_id,
                revision=revision,
                approved=approved,
                reason=reject.reason if reject else None,
                decided_by=who.subject,
                rule=self.policy_for(who.tenant).ref(domain.APPROVAL),
            )
            fields = {"hold": {"revision": revision, "approved": approved, "by": who.subject,
                               "at": now, "reason": event.reason}}  # fmt: skip
            await self.store.decide_hold(who.tenant, meeting_id, revision, fields, [event])
            self.wake()
            meeting = await self.visible(who, meeting_id)
            held = domain.hold_decision(meeting, revision)
        if held is None or held["approved"] != approved:
            raise Refusal(
                409,
                "hold_decided",
                "Cuộc họp đã được quyết định khác (duyệt hoặc từ chối) ở lần sửa này.",
                "The meeting's hold was already decided the other way for this revision.",
            )
        return Shown(meeting, await self.store.timeline(who.tenant, meeting_id))

    async def _write(self, meeting: Document, fields: Document, event: Event) -> Shown:
        tenant, meeting_id = meeting["tenant"], meeting["_id"]
        try:
            stored = await self.store.update_meeting(
                tenant, meeting_id, meeting["revision"], fields, [event]
            )
        except StaleWrite:
            raise Refusal(
                409,
                "concurrent_change",
                "Cuộc họp vừa được thay đổi bởi người khác; hãy tải lại.",
                "The meeting was just changed by someone else; reload it.",
            ) from None
        self.wake()
        return Shown(stored, await self.store.timeline(tenant, meeting_id))

    # ------------------------------------------------------------ lists and feeds

    async def page(self, query: MeetingQuery, status: str | None, limit: int) -> Listed:
        """One page of meetings matching `query` (already scoped) and `status`.

        A status is not a stored field (it comes from the timeline): scan in index order."""
        found: list[Document] = []
        statuses: dict[str, str] = {}
        slots: dict[str, Document | None] = {}
        after, more = query.after, True
        while len(found) < limit and more:
            batch = await self.store.meetings(replace(query, after=after), limit * 2)
            more = len(batch) == limit * 2
            batch_statuses, batch_slots = await self._statuses_and_slots(query.tenant, batch)
            for i, meeting in enumerate(batch):
                after = (meeting["start"], meeting["_id"])
                known = batch_statuses[meeting["_id"]], batch_slots[meeting["_id"]]
                if _not_theirs(query, meeting, *known):
                    continue
                if status is None or batch_statuses[meeting["_id"]] == status:
                    found.append(meeting)
                    statuses[meeting["_id"]] = batch_statuses[meeting["_id"]]
                    slots[meeting["_id"]] = batch_slots[meeting["_id"]]
                if len(found) == limit:
                    more = more or i < len(batch) - 1
                    break
        return Listed(found, statuses, slots, after, more)

    async def feed(self, who: Principal, kind: str, code: str) -> Feed:
        """A unit's or an endpoint's calendar: the latest meetings from 90 days ago on (a
        new meeting is never crowded out), oldest first."""
        unit, endpoint = (code, None) if kind == "units" else (None, code)
        unit, endpoints = scope(who, unit, endpoint)
        entries = self.store.units if kind == "units" else self.store.endpoints
        if await entries.get(who.tenant, code) is None:
            raise Refusal(404, "not_found", f"Không có mã {code}.", f"No {kind[:-1]} {code}.")
        now = self.clock.now()
        # a unit's calendar holds the meetings at its endpoints too
        own = await self._endpoints_of(who.tenant, unit)
        query = MeetingQuery(
            who.tenant,
            unit,
            endpoints,
            start_from=now - FEED_PAST,
            taking_part=own,
            others_refused=False,  # a calendar app shows what is (or was) to be held
        )
        meetings = await self.store.meetings(query, FEED_LIMIT, newest_first=True)
        meetings.reverse()
        statuses, slots = await self._statuses_and_slots(who.tenant, meetings)
        shown = [
            m for m in meetings if not _not_theirs(query, m, statuses[m["_id"]], slots[m["_id"]])
        ]
        at = endpoints or own
        return Feed([{**m, "status": statuses[m["_id"]]} for m in shown], now, at)

    async def _statuses_and_slots(
        self, tenant: str, meetings: list[Document]
    ) -> tuple[dict[str, str], dict[str, Document | None]]:
        """Each meeting's status, and the slot (bridge, virtual room, dial-in) of its latest
        assignment, from one read of the decisions."""
        decisions = await self.store.decisions(tenant, [m["_id"] for m in meetings])
        statuses = {
            m["_id"]: domain.status_of(m["cancelled"], m["revision"], decided(decisions[m["_id"]]))
            for m in meetings
        }
        slots = {m["_id"]: _latest_slot(decisions[m["_id"]]) for m in meetings}
        return statuses, slots


EMPTY_CHANGE = Violation(
    "body",
    "schema.empty_change",
    SCHEMA_SOURCE,
    "Không có gì để thay đổi: hãy gửi ít nhất một trường.",
    "Nothing to change: send at least one field.",
)


def draft_groups(codes: Sequence[str]) -> tuple[str, ...]:
    """The groups named, each once, in the order given."""
    return tuple(dict.fromkeys(codes))


def _not_theirs(query: MeetingQuery, meeting: Document, status: str, slot: Any) -> bool:
    """Another unit's request refused before it ever held these endpoints (no slot): it
    never reached them (no notice went to them), so their list leaves it out. One that
    held a slot and lost it (displaced) was told of, and stays."""
    return (
        not query.others_refused
        and status == "rejected"
        and slot is None
        and meeting["host_unit"] != query.host_unit
    )


def _as_date(stored: date | str | None) -> date | None:
    """A letter's date as stored (ISO text: a date alone is no BSON type) or as given."""
    return date.fromisoformat(stored) if isinstance(stored, str) else stored


def _as_draft(meeting: Document) -> domain.Draft:
    return domain.Draft(
        meeting["host_unit"],
        meeting["start"],
        meeting["end"],
        meeting["main_endpoint"],
        meeting["endpoints"],
        groups=meeting.get("groups") or (),
        external_host=meeting.get("external_host"),
    )


def _latest_slot(entries: list[Document]) -> Any:
    return next((e.get("slot") for e in reversed(entries) if e["type"] == "SlotAssigned"), None)


def may_see(who: Principal, meeting: Document) -> bool:
    if who.role is Role.REGISTRAR:
        return bool(meeting["host_unit"] == who.unit)
    if who.role is Role.TECHNICIAN:
        return any(who.serves(e) for e in endpoints_of(meeting))
    return True


def scope(
    who: Principal, unit: str | None, endpoint: str | None
) -> tuple[str | None, tuple[str, ...]]:
    """Narrow list filters to what the caller may see (a unit, any of some endpoints);
    asking for more is a 403."""
    others = forbidden(
        "Bạn chỉ được xem cuộc họp của đơn vị/điểm cầu mình.",
        "You may only see your own unit's or endpoint's meetings.",
    )
    if who.role is Role.REGISTRAR:
        if unit not in (None, who.unit):
            raise others
        return who.unit, _only(endpoint)
    if who.role is Role.TECHNICIAN:
        if (endpoint is not None and not who.serves(endpoint)) or unit is not None:
            raise others
        return None, _only(endpoint) or who.endpoints
    return unit, _only(endpoint)


def _only(endpoint: str | None) -> tuple[str, ...]:
    return (endpoint,) if endpoint else ()


def decided(entries: list[Document]) -> list[domain.Decision]:
    """Scheduling's decisions among the timeline's entries (requests, checks, materials and
    record requests are on it too and decide nothing)."""
    return [
        domain.Decision(e["type"], e.get("revision", 0), e.get("reason") == "changed")
        for e in entries
        if e["type"] in DECISIONS
    ]


def meeting_id_for(key: str | None) -> str:
    """A new meeting's id; with an idempotency key, derived from it, so that a retry finds
    its meeting by `_id` (an indexed lookup) before anything else."""
    if key is None:
        return f"mtg-{uuid.uuid4().hex[:12]}"
    return f"mtg-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def request_hash(body: BaseModel) -> str:
    """What a request asks, whatever its spelling: times as UTC instants (`…01:00:00Z` and
    `…08:00:00+07:00` are one start), the endpoints and groups as sets (their order means
    nothing; the main endpoint is its own field)."""
    fields = body.model_dump(mode="python")
    canonical = {
        name: (
            value.astimezone(UTC).isoformat()
            if isinstance(value, datetime)
            else sorted(value)
            if name in ("endpoints", "groups") and isinstance(value, list)
            else value
        )
        for name, value in fields.items()
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, default=str).encode()).hexdigest()


def _verbatim_hash(body: BaseModel) -> str:
    """How requests were hashed before `request_hash` (meetings stored before then)."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()
