"""Meeting materials and records (rule 8; seeds/003 mục I.4: managed centrally, given to
other agencies on request): upload, list, download, access requests and decisions.

Who may do what is `domain.material_right`; every upload, download, request, grant and
refusal goes on the meeting's timeline (who, what, when): an upload, a request and a
decision carry their timeline entry in their own document, so neither is ever stored
without the other."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from hnth_contracts.policy import Policy
from hnth_kit.auth import Principal, Role
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from hnth_kit.refusal import Refusal
from registration import domain, records
from registration.store import (
    CorruptMaterial,
    MaterialQuery,
    MaterialsStore,
    RegistrationStore,
    describe,
    endpoints_of,
    timeline_entry,
)


@dataclass(frozen=True)
class Upload:
    """A file as it came: its declared type and name, its bytes."""

    kind: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class Stored:
    document: Document
    created: bool = True


@dataclass(frozen=True)
class Listing:
    items: list[Document]
    record_missing: bool
    access: domain.MaterialRight


@dataclass(frozen=True)
class Page:
    items: list[Document]
    after: tuple[datetime, str] | None
    more: bool


def refused() -> Refusal:
    return Refusal(
        403,
        "forbidden",
        "Bạn không có quyền với tài liệu cuộc họp này; hãy đề nghị Sở KH&CN cung cấp "
        "(POST /meetings/{id}/access-requests).",
        "You may not use this meeting's materials; ask the IT department for access "
        "(POST /meetings/{id}/access-requests).",
    )


class Materials:
    def __init__(
        self,
        store: RegistrationStore,
        materials: MaterialsStore,
        policy_for: Callable[[str], Policy],
        clock: Clock,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store, self.materials = store, materials
        self.policy_for, self.clock, self.wake = policy_for, clock, wake

    async def meeting_of(self, who: Principal, meeting_id: str) -> Document:
        meeting = await self.store.meeting(who.tenant, meeting_id)
        if meeting is None:
            raise Refusal(404, "not_found", "Không tìm thấy cuộc họp.", "No such meeting.")
        return meeting

    async def right_of(
        self, who: Principal, meeting: Document, granted: set[str] | None = None
    ) -> domain.MaterialRight:
        """What `who` may do with the meeting's materials; `granted` (the meetings granted
        to them) when the caller has it already."""
        reader = _reader(who)
        held_at = endpoints_of(meeting)  # those its groups reached take part too
        units = await self.store.endpoints.units_of(who.tenant, held_at)
        if granted is None:
            granted = await self.materials.granted(who.tenant, reader.grantee, meeting["_id"])
        return domain.material_right(
            reader,
            host_unit=meeting["host_unit"],
            endpoints=held_at,
            participating_units=sorted(units),
            granted=meeting["_id"] in granted,
        )

    # ------------------------------------------------------------ materials

    async def upload(
        self, who: Principal, meeting_id: str, file: Upload, idempotency_key: str | None
    ) -> Stored:
        meeting = await self.meeting_of(who, meeting_id)
        if await self.right_of(who, meeting) is not domain.MaterialRight.UPLOAD:
            raise Refusal(
                403,
                "forbidden",
                "Chỉ đơn vị chủ trì hoặc Sở KH&CN được đính kèm tài liệu.",
                "Only the host unit or the IT department may attach materials.",
            )
        policy, now = self.policy_for(who.tenant), self.clock.now()
        if file.kind == domain.RECORDING and (
            refused := domain.recording_refused(
                record=bool(meeting.get("record")), ended=meeting["end"] <= now, policy=policy
            )
        ):
            raise Refusal.broken([refused], status=409)
        content_type = checked_type(file, policy)
        data = file.data
        material = _material(who, meeting_id, file, content_type, idempotency_key, now)
        minutes = file.kind == domain.MINUTES
        due = await self.store.record_due(who.tenant, meeting_id) if minutes else None
        # minutes asked for already: the announcement goes in the material's own insert
        events = [records.submitted(due, who.tenant, who.subject, now)] if due else []
        material["reports"] = [due["report_id"]] if due else []
        material["audit"] = _entry(material, "MaterialUploaded", now, _summary(material, who))
        stored, created = await self.materials.save(material, data, events)
        if not created:
            if stored["sha256"] != material["sha256"] or stored["meeting_id"] != meeting_id:
                raise Refusal(
                    409,
                    "idempotency_key_reused",
                    "Idempotency-Key này đã dùng cho một tệp khác.",
                    "This Idempotency-Key was used for a different file.",
                )
            return Stored(stored, created=False)
        if minutes and due is None and (due := await self.store.record_due(who.tenant, meeting_id)):
            # the ReportDue came while we stored: it may have missed these minutes
            await records.announce_record(self.materials, due, who.tenant, who.subject, now)
        self.wake()
        return Stored(stored)

    async def listing(self, who: Principal, meeting_id: str) -> Listing:
        meeting = await self.meeting_of(who, meeting_id)
        right = await self.right_of(who, meeting)
        if right is domain.MaterialRight.NONE:
            raise refused()
        items = await self.materials.of_meeting(who.tenant, meeting_id)
        timeline = await self.store.timeline(who.tenant, meeting_id)
        return Listing(items, records.missing(timeline), right)

    async def download(
        self, who: Principal, meeting_id: str, material_id: str
    ) -> tuple[Document, bytes]:
        meeting = await self.meeting_of(who, meeting_id)
        if await self.right_of(who, meeting) is domain.MaterialRight.NONE:
            raise refused()
        material = await self.materials.get(who.tenant, material_id)
        if material is None or material["meeting_id"] != meeting_id:
            raise Refusal(404, "not_found", "Không có tài liệu này.", "No such material.")
        try:
            data = await self.materials.content(material)
        except CorruptMaterial:
            raise Refusal(
                500,
                "corrupt_material",
                "Tài liệu lưu trữ bị hỏng (sai mã kiểm tra); hãy báo Sở KH&CN.",
                "The stored file fails its checksum; tell the IT department.",
            ) from None
        summary = _summary(material, who)
        await self.store.audit(
            who.tenant, meeting_id, "MaterialDownloaded", self.clock.now(), summary
        )
        return material, data

    async def page(self, who: Principal, query: MaterialQuery, limit: int) -> Page:
        """Materials of every meeting the caller may read; what a non-operator may read
        depends on each meeting: filter page by page."""
        readable = _Readable(self, who)
        items: list[Document] = []
        after, more = query.after, True
        while len(items) < limit and more:
            batch = await self.materials.find(replace(query, after=after), limit * 2)
            more = len(batch) == limit * 2
            allowed = await readable.of(m["meeting_id"] for m in batch)
            for i, material in enumerate(batch):
                after = (material["uploaded_at"], material["_id"])
                if material["meeting_id"] in allowed:
                    items.append(material)
                if len(items) == limit:
                    more = more or i < len(batch) - 1
                    break
        return Page(items, after, more)

    # ------------------------------------------------------------ access requests

    async def ask(self, who: Principal, meeting_id: str, reason: str) -> Document:
        meeting = await self.meeting_of(who, meeting_id)
        if await self.right_of(who, meeting) is not domain.MaterialRight.NONE:
            raise Refusal(
                409,
                "has_access",
                "Bạn đã có quyền xem tài liệu cuộc họp này.",
                "You already have access to this meeting's materials.",
            )
        now = self.clock.now()
        grantee = _reader(who).grantee
        asked: Document = {
            "_id": f"req-{uuid.uuid4().hex[:16]}",
            "kind": "request",
            "tenant": who.tenant,
            "meeting_id": meeting_id,
            "grantee": grantee,
            "requested_by": who.subject,
            "reason": reason,
            "at": now,
        }
        summary = {"by": who.subject, "request_id": asked["_id"], "grantee": grantee}
        asked["audit"] = _entry(asked, "MaterialAccessRequested", now, summary)
        await self.materials.add_request(asked)
        return asked

    async def requests(self, who: Principal, meeting_id: str) -> list[Document]:
        await self.meeting_of(who, meeting_id)
        return await self.materials.requests(who.tenant, meeting_id)

    async def decide(
        self, who: Principal, meeting_id: str, request_id: str, granted: bool, note: str | None
    ) -> Document:
        await self.meeting_of(who, meeting_id)
        asked = await self.materials.request(who.tenant, request_id)
        if asked is None or asked["meeting_id"] != meeting_id:
            raise Refusal(404, "not_found", "Không có đề nghị này.", "No such request.")
        now = self.clock.now()
        decision: Document = {
            "_id": f"decision:{request_id}",
            "kind": "decision",
            "tenant": who.tenant,
            "meeting_id": meeting_id,
            "request_id": request_id,
            "grantee": asked["grantee"],
            "granted": granted,
            "decided_by": who.subject,
            "note": note,
            "at": now,
        }
        kind = "MaterialAccessGranted" if granted else "MaterialAccessRefused"
        summary = {
            "by": who.subject,
            "request_id": request_id,
            "grantee": asked["grantee"],
            "requested_by": asked["requested_by"],
            "note": note,
        }
        decision["audit"] = _entry(decision, kind, now, summary)
        if not await self.materials.decide(decision):
            raise Refusal(
                409,
                "already_decided",
                "Đề nghị này đã được quyết định.",
                "This request has been decided already.",
            )
        return decision


class _Readable:
    """The meetings whose materials one caller may read, learnt page by page."""

    def __init__(self, cases: Materials, who: Principal) -> None:
        self.cases, self.who = cases, who
        self.known: dict[str, bool] = {}
        self.granted: set[str] | None = None

    async def of(self, meeting_ids: Iterable[str]) -> set[str]:
        ids = set(meeting_ids)
        if self.who.role is Role.OPERATOR:
            return ids
        tenant = self.who.tenant
        if self.granted is None:
            self.granted = await self.cases.materials.granted(tenant, _reader(self.who).grantee)
        new = await self.cases.store.meetings_by_id(tenant, sorted(ids - self.known.keys()))
        for meeting_id, found in new.items():
            right = await self.cases.right_of(self.who, found, self.granted)
            self.known[meeting_id] = right is not domain.MaterialRight.NONE
        return {m for m in ids if self.known.get(m)}


def checked_type(file: Upload, policy: Policy) -> str:
    """The file's type, once the province's file rules (`materials.types`,
    `materials.max_bytes`; a recording's `materials.recording`) allow it; else the refusal
    naming the rule (415, 413)."""
    content_type = (file.content_type or "application/octet-stream").split(";")[0].strip()
    head, kind = file.data[:16], file.kind
    violation = domain.check_material(content_type, head, len(file.data), policy=policy, kind=kind)
    if violation is not None:
        # the type is fine on its own: it is the size that is refused
        too_big = domain.check_material(content_type, head, 0, policy=policy, kind=kind) is None
        code = 413 if too_big else 415
        raise Refusal.broken([violation], status=code)
    return content_type


def _material(
    who: Principal,
    meeting_id: str,
    file: Upload,
    content_type: str,
    idempotency_key: str | None,
    now: datetime,
) -> Document:
    return {
        "_id": _material_id(who, meeting_id, idempotency_key),
        "tenant": who.tenant,
        "meeting_id": meeting_id,
        "kind": file.kind,
        "filename": (file.filename or "tep")[:255],
        "content_type": content_type,
        "uploaded_by": who.subject,
        "uploaded_at": now,
        **describe(file.data),
    }


def _material_id(who: Principal, meeting_id: str, idempotency_key: str | None) -> str:
    """A retried upload (same Idempotency-Key from the same person for the same meeting)
    names the same material; without a key, every upload is a new one."""
    if not idempotency_key:
        return f"mat-{uuid.uuid4().hex[:16]}"
    scope = f"{who.tenant}|{who.subject}|{meeting_id}|{idempotency_key}"
    return f"mat-{hashlib.sha256(scope.encode()).hexdigest()[:24]}"


def _entry(document: Document, kind: str, at: datetime, summary: Document) -> Any:
    """The timeline entry a material, request or decision carries (its id derived from theirs)."""
    entry_id = f"audit-{document['_id']}"
    return timeline_entry(entry_id, document["tenant"], document["meeting_id"], kind, at, summary)


def _reader(who: Principal) -> domain.Reader:
    return domain.Reader(who.role.value, who.subject, who.unit, who.endpoints)


def _summary(material: Document, who: Principal) -> Document:
    return {
        "by": who.subject,
        "role": who.role.value,
        "material_id": material["_id"],
        "filename": material["filename"],
        "material_kind": material["kind"],
        "sha256": material["sha256"],
    }
