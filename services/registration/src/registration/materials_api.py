"""Meeting materials and records (rule 8; seeds/003 mục I.4: managed centrally, given to
other agencies on request): upload, list, download, access requests and decisions.

Who may do what is `domain.material_right`; every upload, download, request, grant and
refusal goes on the meeting's timeline (who, what, when)."""

import uuid
from collections.abc import Callable
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
    HTTPException,
    Request,
    Response,
    UploadFile,
    status,
)
from pydantic import BaseModel, ConfigDict, Field

from hnth_contracts.policy import Policy
from hnth_kit.auth import Authenticator, Principal, Role, require
from hnth_kit.clock import Clock
from hnth_kit.errors import problem, wants_english
from registration import domain
from registration.records import announce_record
from registration.store import CorruptMaterial, MaterialsStore, RegistrationStore

KIND_PATTERN = "^(" + "|".join(domain.MATERIAL_KINDS) + ")$"


class AccessRequestIn(BaseModel):
    """Đề nghị cung cấp tài liệu / a request for the meeting's materials."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="Lý do / why")


class Verdict(StrEnum):
    GRANT = "grant"
    REFUSE = "refuse"


class DecisionIn(BaseModel):
    """Ý kiến của Sở TT&TT / the IT department's note on its decision."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000, description="Ghi chú / note")


def build_materials_router(
    store: RegistrationStore,
    materials: MaterialsStore,
    policy_for: Callable[[str], Policy],
    clock: Clock,
    authenticate: Authenticator,
    wake: Callable[[], None],
) -> APIRouter:
    router = APIRouter(tags=["materials"])
    operator_only = require(authenticate, Role.OPERATOR)

    def fail(code: int, request: Request, name: str, vi: str, en: str) -> HTTPException:
        return HTTPException(code, problem(request, name, vi, en))

    async def meeting_of(request: Request, meeting_id: str, who: Principal) -> dict[str, Any]:
        meeting = await store.meeting(meeting_id)
        if meeting is None or meeting["tenant"] != who.tenant:
            raise fail(404, request, "not_found", "Không tìm thấy cuộc họp.", "No such meeting.")
        return meeting

    async def right_of(who: Principal, meeting: dict[str, Any]) -> domain.MaterialRight:
        reader = _reader(who)
        units = await store.endpoints.units_of(who.tenant, meeting["endpoints"])
        right = domain.material_right(
            reader,
            host_unit=meeting["host_unit"],
            endpoints=meeting["endpoints"],
            participating_units=sorted(units),
            granted=False,
        )
        if right is domain.MaterialRight.NONE and await materials.granted(
            meeting["_id"], reader.grantee
        ):
            return domain.MaterialRight.READ
        return right

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
        responses={
            403: {"description": "Không phải đơn vị chủ trì / not the host unit"},
            413: {"description": "Quá lớn / too large (materials.max_bytes)"},
            415: {"description": "Loại tệp không được phép / type not allowed (materials.types)"},
        },
    )
    async def upload(
        request: Request,
        meeting_id: str,
        who: Annotated[Principal, Depends(authenticate)],
        file: Annotated[UploadFile, File(description="Tệp / the file")],
        kind: Annotated[
            str,
            Form(pattern=KIND_PATTERN, description="agenda | slides | decision | minutes | other"),
        ] = "other",
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
        stored = await materials.save(
            {
                "_id": f"mat-{uuid.uuid4().hex[:16]}",
                "tenant": who.tenant,
                "meeting_id": meeting_id,
                "kind": kind,
                "filename": (file.filename or "tep")[:255],
                "content_type": content_type,
                "uploaded_by": who.subject,
                "uploaded_at": now,
            },
            data,
        )
        await store.audit(meeting_id, "MaterialUploaded", now, _summary(stored, who))
        if kind == domain.MINUTES and (due := await store.record_due(meeting_id)):
            await announce_record(materials, due, who.tenant, who.subject, now)
            wake()
        return _shown(stored, policy)

    @router.get("/meetings/{meeting_id}/materials", summary="Tài liệu cuộc họp / materials")
    async def list_materials(
        request: Request, meeting_id: str, who: Annotated[Principal, Depends(authenticate)]
    ) -> dict[str, Any]:
        meeting = await meeting_of(request, meeting_id, who)
        right = await right_of(who, meeting)
        if right is domain.MaterialRight.NONE:
            raise refused(request)
        policy = policy_for(who.tenant)
        items = await materials.list(meeting_id)
        missing = domain.record_missing(
            record_due=await store.record_due(meeting_id) is not None,
            minutes_uploaded=any(m["kind"] == domain.MINUTES for m in items),
        )
        return {
            "items": [_shown(m, policy) for m in items],
            "record_missing": missing,
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
        meeting_id: str,
        material_id: str,
        who: Annotated[Principal, Depends(authenticate)],
    ) -> Response:
        meeting = await meeting_of(request, meeting_id, who)
        if await right_of(who, meeting) is domain.MaterialRight.NONE:
            raise refused(request)
        material = await materials.get(material_id)
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
        await store.audit(meeting_id, "MaterialDownloaded", clock.now(), _summary(material, who))
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
    )
    async def ask(
        request: Request,
        meeting_id: str,
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
        await materials.add_request(asked)
        summary = {"by": who.subject, "request_id": asked["_id"], "grantee": reader.grantee}
        await store.audit(meeting_id, "MaterialAccessRequested", now, summary)
        return _shown(asked, policy_for(who.tenant))

    @router.get(
        "/meetings/{meeting_id}/access-requests",
        summary="Các đề nghị và quyết định / requests and decisions (IT department)",
    )
    async def requests(
        request: Request, meeting_id: str, who: Annotated[Principal, Depends(operator_only)]
    ) -> list[dict[str, Any]]:
        await meeting_of(request, meeting_id, who)
        policy = policy_for(who.tenant)
        return [_shown(r, policy) for r in await materials.requests(meeting_id)]

    @router.post(
        "/meetings/{meeting_id}/access-requests/{request_id}/{verdict}",
        summary="Đồng ý (grant) hoặc từ chối (refuse) / decide a request (IT department)",
    )
    async def decide(
        request: Request,
        meeting_id: str,
        request_id: str,
        verdict: Verdict,
        who: Annotated[Principal, Depends(operator_only)],
        body: Annotated[DecisionIn | None, Body()] = None,
    ) -> dict[str, Any]:
        await meeting_of(request, meeting_id, who)
        asked = await materials.request(request_id)
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
        if not await materials.decide(decision):
            raise fail(
                409,
                request,
                "already_decided",
                "Đề nghị này đã được quyết định.",
                "This request has been decided already.",
            )
        kind = "MaterialAccessGranted" if granted else "MaterialAccessRefused"
        summary = {
            "by": who.subject,
            "request_id": request_id,
            "grantee": asked["grantee"],
            "requested_by": asked["requested_by"],
            "note": note,
        }
        await store.audit(meeting_id, kind, now, summary)
        return _shown(decision, policy_for(who.tenant))

    return router


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
        if k not in ("_id", "_outbox", "_applied")
    }
    return {"id": document["_id"], **body}
