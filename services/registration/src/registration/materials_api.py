"""Meeting materials and records (rule 8; seeds/003 mục I.4: managed centrally, given to
other agencies on request): upload, list, download, access requests and decisions.

Who may do what is `domain.material_right`; every upload, download, request, grant and
refusal goes on the meeting's timeline (who, what, when): an upload, a request and a
decision carry their timeline entry in their own document, so neither is ever stored
without the other."""

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import (
    APIRouter,
    Body,
    Depends,
    File,
    Form,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hnth_contracts.policy import Policy
from hnth_kit.auth import Authenticator, Principal, Role, require
from hnth_kit.clock import Clock
from hnth_kit.errors import problem, wants_english
from registration import domain, records
from registration.api import MeetingId
from registration.paging import decode_cursor, encode_cursor
from registration.store import (
    CorruptMaterial,
    MaterialQuery,
    MaterialsStore,
    RegistrationStore,
    describe,
    timeline_entry,
)
from registration.views import answers, shaped

KIND_PATTERN = "^(" + "|".join(domain.MATERIAL_KINDS) + ")$"
KINDS = " | ".join(domain.MATERIAL_KINDS)
MaterialId = Annotated[str, Path(max_length=128, description="Mã tài liệu / material id")]
RequestId = Annotated[
    str, Path(max_length=128, description="Mã đề nghị cung cấp tài liệu / access request id")
]


class AccessRequestIn(BaseModel):
    """Đề nghị cung cấp tài liệu / a request for the meeting's materials."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="Lý do / why")


class Verdict(StrEnum):
    """Đồng ý hoặc từ chối / grant or refuse."""

    GRANT = "grant"
    REFUSE = "refuse"


class DecisionIn(BaseModel):
    """Ý kiến của Sở TT&TT / the IT department's note on its decision."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000, description="Ghi chú / note")


LOCAL_TIME = "giờ của tỉnh, ISO 8601 / in the province's zone, ISO 8601"


class _Shown(BaseModel):
    """What every material, request and decision shows besides its own fields."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="Mã / id")
    tenant: str | None = Field(None, description="Tỉnh / province (tenant)")
    meeting_id: str = Field(description="Mã cuộc họp / meeting id")


class MaterialOut(_Shown):
    """Tài liệu cuộc họp / a meeting material (its bytes: GET .../materials/{material_id})."""

    kind: str | None = Field(None, description=f"Loại tài liệu / kind: {KINDS}")
    filename: str | None = Field(None, description="Tên tệp / file name")
    content_type: str | None = Field(None, description="Kiểu tệp / media type")
    uploaded_by: str | None = Field(None, description="Người tải lên / uploaded by")
    uploaded_at: str | None = Field(None, description=f"Lúc tải lên, {LOCAL_TIME}")
    size: int | None = Field(None, description="Số byte / size in bytes")
    sha256: str | None = Field(None, description="Mã kiểm tra SHA-256 / SHA-256 checksum")
    chunks: int | None = Field(None, description="Số phần lưu trữ / stored chunks")
    reports: list[str] | None = Field(
        None, description="Báo cáo (biên bản) tài liệu này nộp / reports these minutes submit"
    )


class MaterialList(BaseModel):
    """Tài liệu của một cuộc họp / a meeting's materials."""

    items: list[MaterialOut] = Field(description="Tài liệu, cũ trước / materials, oldest first")
    record_missing: bool = Field(description="Thiếu biên bản sau họp / the minutes are overdue")
    access: str = Field(description="Quyền của người gọi / the caller's right (upload, read)")


class MaterialPage(BaseModel):
    """Một trang tài liệu / one page of materials."""

    items: list[MaterialOut] = Field(description="Tài liệu theo lúc tải lên / by upload time")
    next_cursor: str | None = Field(description="Tham số cursor của trang sau / next page")


class AccessOut(_Shown):
    """Đề nghị cung cấp tài liệu hoặc quyết định / an access request or its decision."""

    kind: str | None = Field(None, description="request: đề nghị, decision: quyết định / kind")
    grantee: str | None = Field(None, description="Người/đơn vị được cấp / who would get access")
    requested_by: str | None = Field(None, description="Người đề nghị / requested by")
    reason: str | None = Field(None, description="Lý do / why")
    request_id: str | None = Field(None, description="Đề nghị được quyết định / the request")
    granted: bool | None = Field(None, description="Đồng ý / granted")
    decided_by: str | None = Field(None, description="Người quyết định / decided by")
    note: str | None = Field(None, description="Ghi chú / note")
    at: str | None = Field(None, description=f"Lúc đề nghị hoặc quyết định, {LOCAL_TIME}")


def build_materials_router(
    store: RegistrationStore,
    materials: MaterialsStore,
    policy_for: Callable[[str], Policy],
    clock: Clock,
    authenticate: Authenticator,
    wake: Callable[[], None],
) -> APIRouter:
    router = APIRouter(tags=["materials"], responses=answers(401, 403, 404, 409))
    operator_only = require(authenticate, Role.OPERATOR)

    def fail(code: int, request: Request, name: str, vi: str, en: str) -> HTTPException:
        return HTTPException(code, problem(request, name, vi, en))

    async def meeting_of(request: Request, meeting_id: str, who: Principal) -> dict[str, Any]:
        meeting = await store.meeting(who.tenant, meeting_id)
        if meeting is None:
            raise fail(404, request, "not_found", "Không tìm thấy cuộc họp.", "No such meeting.")
        return meeting

    async def right_of(
        who: Principal, meeting: dict[str, Any], granted: set[str] | None = None
    ) -> domain.MaterialRight:
        """What `who` may do with the meeting's materials; `granted` (the meetings granted
        to them) when the caller has it already."""
        reader = _reader(who)
        units = await store.endpoints.units_of(who.tenant, meeting["endpoints"])
        if granted is None:
            granted = await materials.granted(who.tenant, reader.grantee, meeting["_id"])
        return domain.material_right(
            reader,
            host_unit=meeting["host_unit"],
            endpoints=meeting["endpoints"],
            participating_units=sorted(units),
            granted=meeting["_id"] in granted,
        )

    def refused(request: Request) -> HTTPException:
        return fail(
            403,
            request,
            "forbidden",
            "Bạn không có quyền với tài liệu cuộc họp này; hãy đề nghị Sở TT&TT cung cấp "
            "(POST /meetings/{id}/access-requests).",
            "You may not use this meeting's materials; ask the IT department for access "
            "(POST /meetings/{id}/access-requests).",
        )

    @router.post(
        "/meetings/{meeting_id}/materials",
        status_code=status.HTTP_201_CREATED,
        summary="Đính kèm tài liệu / attach a material (PDF, DOCX, XLSX, PPTX, PNG, JPEG)",
        response_model=MaterialOut,
        response_model_exclude_unset=True,
        responses={
            403: {"description": "Không phải đơn vị chủ trì / not the host unit"},
            413: {"description": "Quá lớn / too large (materials.max_bytes)"},
            415: {"description": "Loại tệp không được phép / type not allowed (materials.types)"},
        },
    )
    async def upload(
        request: Request,
        response: Response,
        meeting_id: MeetingId,
        who: Annotated[Principal, Depends(authenticate)],
        file: Annotated[UploadFile, File(description="Tệp / the file")],
        kind: Annotated[
            str,
            Form(pattern=KIND_PATTERN, description=f"Loại tài liệu / kind of material: {KINDS}"),
        ] = "other",
        idempotency_key: Annotated[
            str | None,
            Header(max_length=200, description="Gửi lại an toàn / safe retries"),
        ] = None,
    ) -> dict[str, Any]:
        meeting = await meeting_of(request, meeting_id, who)
        if await right_of(who, meeting) is not domain.MaterialRight.UPLOAD:
            raise fail(
                403,
                request,
                "forbidden",
                "Chỉ đơn vị chủ trì hoặc Sở TT&TT được đính kèm tài liệu.",
                "Only the host unit or the IT department may attach materials.",
            )
        policy = policy_for(who.tenant)
        data = await file.read()
        content_type = (file.content_type or "application/octet-stream").split(";")[0].strip()
        violation = domain.check_material(content_type, data[:16], len(data), policy=policy)
        if violation is not None:
            code = 413 if violation.rule == "materials.max_bytes" else 415
            raise HTTPException(code, {"errors": [violation.body(wants_english(request))]})
        now = clock.now()
        material: dict[str, Any] = {
            "_id": _material_id(who, meeting_id, idempotency_key),
            "tenant": who.tenant,
            "meeting_id": meeting_id,
            "kind": kind,
            "filename": (file.filename or "tep")[:255],
            "content_type": content_type,
            "uploaded_by": who.subject,
            "uploaded_at": now,
            **describe(data),
        }
        minutes = kind == domain.MINUTES
        due = await store.record_due(who.tenant, meeting_id) if minutes else None
        # minutes asked for already: the announcement goes in the material's own insert
        events = [records.submitted(due, who.tenant, who.subject, now)] if due else []
        material["reports"] = [due["report_id"]] if due else []
        material["audit"] = _entry(material, "MaterialUploaded", now, _summary(material, who))
        stored, created = await materials.save(material, data, events)
        if not created:
            if stored["sha256"] != material["sha256"] or stored["meeting_id"] != meeting_id:
                raise fail(
                    409,
                    request,
                    "idempotency_key_reused",
                    "Idempotency-Key này đã dùng cho một tệp khác.",
                    "This Idempotency-Key was used for a different file.",
                )
            response.status_code = status.HTTP_200_OK
            return _shown(stored, policy)
        if minutes and due is None and (due := await store.record_due(who.tenant, meeting_id)):
            # the ReportDue came while we stored: it may have missed these minutes
            await records.announce_record(materials, due, who.tenant, who.subject, now)
        wake()
        return _shown(stored, policy)

    @router.get(
        "/meetings/{meeting_id}/materials",
        summary="Tài liệu cuộc họp / materials",
        **shaped(MaterialList),
    )
    async def list_materials(
        request: Request, meeting_id: MeetingId, who: Annotated[Principal, Depends(authenticate)]
    ) -> dict[str, Any]:
        meeting = await meeting_of(request, meeting_id, who)
        right = await right_of(who, meeting)
        if right is domain.MaterialRight.NONE:
            raise refused(request)
        policy = policy_for(who.tenant)
        items = await materials.of_meeting(who.tenant, meeting_id)
        return {
            "items": [_shown(m, policy) for m in items],
            "record_missing": records.missing(await store.timeline(who.tenant, meeting_id)),
            "access": right.value,
        }

    @router.get(
        "/meetings/{meeting_id}/materials/{material_id}",
        summary="Tải tài liệu / download a material (exact bytes, sha256 in ETag)",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    async def download(
        request: Request,
        meeting_id: MeetingId,
        material_id: MaterialId,
        who: Annotated[Principal, Depends(authenticate)],
    ) -> Response:
        meeting = await meeting_of(request, meeting_id, who)
        if await right_of(who, meeting) is domain.MaterialRight.NONE:
            raise refused(request)
        material = await materials.get(who.tenant, material_id)
        if material is None or material["meeting_id"] != meeting_id:
            raise fail(404, request, "not_found", "Không có tài liệu này.", "No such material.")
        try:
            data = await materials.content(material)
        except CorruptMaterial:
            raise fail(
                500,
                request,
                "corrupt_material",
                "Tài liệu lưu trữ bị hỏng (sai mã kiểm tra); hãy báo Sở TT&TT.",
                "The stored file fails its checksum; tell the IT department.",
            ) from None
        summary = _summary(material, who)
        await store.audit(who.tenant, meeting_id, "MaterialDownloaded", clock.now(), summary)
        filename = quote(material["filename"])
        return Response(
            data,
            media_type=material["content_type"],
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
                "ETag": f'"{material["sha256"]}"',
                "X-Checksum-SHA256": material["sha256"],
            },
        )

    @router.post(
        "/meetings/{meeting_id}/access-requests",
        status_code=status.HTTP_201_CREATED,
        summary="Đề nghị cung cấp tài liệu / ask for access to the materials",
        **shaped(AccessOut),
    )
    async def ask(
        request: Request,
        meeting_id: MeetingId,
        body: AccessRequestIn,
        who: Annotated[Principal, Depends(authenticate)],
    ) -> dict[str, Any]:
        meeting = await meeting_of(request, meeting_id, who)
        if await right_of(who, meeting) is not domain.MaterialRight.NONE:
            raise fail(
                409,
                request,
                "has_access",
                "Bạn đã có quyền xem tài liệu cuộc họp này.",
                "You already have access to this meeting's materials.",
            )
        now = clock.now()
        reader = _reader(who)
        asked = {
            "_id": f"req-{uuid.uuid4().hex[:16]}",
            "kind": "request",
            "tenant": who.tenant,
            "meeting_id": meeting_id,
            "grantee": reader.grantee,
            "requested_by": who.subject,
            "reason": body.reason,
            "at": now,
        }
        summary = {"by": who.subject, "request_id": asked["_id"], "grantee": reader.grantee}
        asked["audit"] = _entry(asked, "MaterialAccessRequested", now, summary)
        await materials.add_request(asked)
        return _shown(asked, policy_for(who.tenant))

    @router.get(
        "/meetings/{meeting_id}/access-requests",
        summary="Các đề nghị và quyết định / requests and decisions (IT department)",
        **shaped(list[AccessOut]),
    )
    async def requests(
        request: Request, meeting_id: MeetingId, who: Annotated[Principal, Depends(operator_only)]
    ) -> list[dict[str, Any]]:
        await meeting_of(request, meeting_id, who)
        policy = policy_for(who.tenant)
        return [_shown(r, policy) for r in await materials.requests(who.tenant, meeting_id)]

    @router.post(
        "/meetings/{meeting_id}/access-requests/{request_id}/{verdict}",
        summary="Đồng ý (grant) hoặc từ chối (refuse) / decide a request (IT department)",
        **shaped(AccessOut),
    )
    async def decide(
        request: Request,
        meeting_id: MeetingId,
        request_id: RequestId,
        verdict: Annotated[
            Verdict, Path(description="grant: đồng ý, refuse: từ chối / grant or refuse")
        ],
        who: Annotated[Principal, Depends(operator_only)],
        body: Annotated[DecisionIn | None, Body()] = None,
    ) -> dict[str, Any]:
        await meeting_of(request, meeting_id, who)
        asked = await materials.request(who.tenant, request_id)
        if asked is None or asked["meeting_id"] != meeting_id:
            raise fail(404, request, "not_found", "Không có đề nghị này.", "No such request.")
        now, granted = clock.now(), verdict is Verdict.GRANT
        note = body.note if body else None
        decision = {
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
        if not await materials.decide(decision):
            raise fail(
                409,
                request,
                "already_decided",
                "Đề nghị này đã được quyết định.",
                "This request has been decided already.",
            )
        return _shown(decision, policy_for(who.tenant))

    class Readable:
        """The meetings whose materials one caller may read, learnt page by page."""

        def __init__(self, who: Principal) -> None:
            self.who = who
            self.known: dict[str, bool] = {}
            self.granted: set[str] | None = None

        async def of(self, meeting_ids: Iterable[str]) -> set[str]:
            ids = set(meeting_ids)
            if self.who.role is Role.OPERATOR:
                return ids
            if self.granted is None:
                self.granted = await materials.granted(self.who.tenant, _reader(self.who).grantee)
            new = await store.meetings_by_id(self.who.tenant, sorted(ids - self.known.keys()))
            for meeting_id, found in new.items():
                right = await right_of(self.who, found, self.granted)
                self.known[meeting_id] = right is not domain.MaterialRight.NONE
            return {m for m in ids if self.known.get(m)}

    @router.get(
        "/materials",
        summary="Tài liệu mọi cuộc họp / materials of all meetings (operator: all of the "
        "province; others: what they may read)",
        **shaped(MaterialPage),
    )
    async def all_materials(
        request: Request,
        who: Annotated[Principal, Depends(authenticate)],
        meeting: Annotated[
            str | None, Query(max_length=128, description="Mã cuộc họp / meeting id")
        ] = None,
        kind: Annotated[
            str | None, Query(pattern=KIND_PATTERN, description=f"Loại tài liệu / kind: {KINDS}")
        ] = None,
        uploaded_from: Annotated[
            AwareDatetime | None, Query(alias="from", description="Tải lên từ / uploaded from")
        ] = None,
        uploaded_to: Annotated[
            AwareDatetime | None, Query(alias="to", description="Tải lên trước / before")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=200, description="Số mục / page size")] = 50,
        cursor: Annotated[str | None, Query(max_length=300, description="Trang sau / next")] = None,
    ) -> dict[str, Any]:
        policy = policy_for(who.tenant)
        query = MaterialQuery(
            who.tenant, meeting, kind, uploaded_from, uploaded_to, decode_cursor(request, cursor)
        )
        readable = Readable(who)
        items: list[dict[str, Any]] = []
        after, more = query.after, True
        # what a non-operator may read depends on each meeting: filter page by page
        while len(items) < limit and more:
            batch = await materials.find(replace(query, after=after), limit * 2)
            more = len(batch) == limit * 2
            allowed = await readable.of(m["meeting_id"] for m in batch)
            for i, material in enumerate(batch):
                after = (material["uploaded_at"], material["_id"])
                if material["meeting_id"] in allowed:
                    items.append(_shown(material, policy))
                if len(items) == limit:
                    more = more or i < len(batch) - 1
                    break
        return {"items": items, "next_cursor": encode_cursor(after) if more else None}

    return router


def _material_id(who: Principal, meeting_id: str, idempotency_key: str | None) -> str:
    """A retried upload (same Idempotency-Key from the same person for the same meeting)
    names the same material; without a key, every upload is a new one."""
    if not idempotency_key:
        return f"mat-{uuid.uuid4().hex[:16]}"
    scope = f"{who.tenant}|{who.subject}|{meeting_id}|{idempotency_key}"
    return f"mat-{hashlib.sha256(scope.encode()).hexdigest()[:24]}"


def _entry(document: dict[str, Any], kind: str, at: datetime, summary: dict[str, Any]) -> Any:
    """The timeline entry a material, request or decision carries (its id derived from theirs)."""
    entry_id = f"audit-{document['_id']}"
    return timeline_entry(entry_id, document["tenant"], document["meeting_id"], kind, at, summary)


def _reader(who: Principal) -> domain.Reader:
    return domain.Reader(who.role.value, who.subject, who.unit, who.endpoint)


def _summary(material: dict[str, Any], who: Principal) -> dict[str, Any]:
    return {
        "by": who.subject,
        "role": who.role.value,
        "material_id": material["_id"],
        "filename": material["filename"],
        "material_kind": material["kind"],
        "sha256": material["sha256"],
    }


def _shown(document: dict[str, Any], policy: Policy) -> dict[str, Any]:
    zone = ZoneInfo(policy.timezone)
    body = {
        k: (v.astimezone(zone).isoformat() if isinstance(v, datetime) else v)
        for k, v in document.items()
        if k not in ("_id", "_outbox", "_applied", "audit")
    }
    return {"id": document["_id"], **body}
