"""Registration's meeting routes: register, change, cancel, list, read, calendar feeds."""

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import (
    APIRouter,
    Body,
    Depends,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    status,
)
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from hnth_contracts import MeetingCancelled, MeetingChanged, MeetingRequested
from hnth_contracts.policy import Policy
from hnth_kit.auth import Authenticator, Principal, Role, require
from hnth_kit.clock import Clock
from hnth_kit.errors import problem, wants_english
from hnth_kit.http import SCHEMA_SOURCE
from registration import domain, ical, records
from registration.paging import decode_cursor, encode_cursor
from registration.store import (
    DECISIONS,
    DETAIL_FIELDS,
    MeetingQuery,
    RegistrationStore,
    StaleWrite,
    meeting_fields,
)
from registration.views import MeetingOut, MeetingPage, Status, answers, local, shaped

PRODUCER = "registration"
MAX_ENDPOINTS = 2000
FEED_PAST = timedelta(days=90)
"""A calendar feed shows meetings from 90 days ago onward: clients keep older ones."""
FEED_LIMIT = 5000
"""At most this many meetings in a feed, the latest kept."""

MeetingId = Annotated[str, Path(max_length=128, description="Mã cuộc họp / meeting id")]


class MeetingIn(BaseModel):
    """Đăng ký cuộc họp / a meeting registration."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500, description="Tên cuộc họp / title")
    host_unit: str = Field(min_length=1, max_length=64, description="Đơn vị chủ trì / host unit")
    chair: str = Field(min_length=1, max_length=200, description="Người chủ trì / chair")
    start: AwareDatetime = Field(description="Bắt đầu, có múi giờ / start, ISO 8601 with offset")
    end: AwareDatetime = Field(description="Kết thúc, có múi giờ / end, ISO 8601 with offset")
    main_endpoint: str = Field(
        min_length=1, max_length=64, description="Điểm cầu chính / main endpoint"
    )
    endpoints: list[str] = Field(
        min_length=1,
        max_length=MAX_ENDPOINTS,
        description="Các điểm cầu tham gia (mã) / participating endpoint codes",
    )
    agenda: str | None = Field(None, max_length=10000, description="Nội dung / agenda")
    document_number: str | None = Field(
        None, max_length=100, description="Số công văn / official letter number"
    )
    document_date: date | None = Field(None, description="Ngày công văn / letter date")
    urgent_reason: str | None = Field(
        None,
        max_length=2000,
        description="Lý do họp khẩn, chỉ Sở TT&TT / urgent reason (IT department only)",
    )


class MeetingPatch(BaseModel):
    """Thay đổi cuộc họp / a change: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=500, description="Tên / title")
    chair: str | None = Field(None, min_length=1, max_length=200, description="Chủ trì / chair")
    start: AwareDatetime | None = Field(None, description="Bắt đầu / start")
    end: AwareDatetime | None = Field(None, description="Kết thúc / end")
    main_endpoint: str | None = Field(
        None, min_length=1, max_length=64, description="Điểm cầu chính / main endpoint"
    )
    endpoints: list[str] | None = Field(
        None, min_length=1, max_length=MAX_ENDPOINTS, description="Điểm cầu / endpoints"
    )
    agenda: str | None = Field(None, max_length=10000, description="Nội dung / agenda")
    document_number: str | None = Field(
        None, max_length=100, description="Số công văn / official letter number"
    )
    document_date: date | None = Field(None, description="Ngày công văn / letter date")
    urgent_reason: str | None = Field(
        None,
        max_length=2000,
        description="Lý do họp khẩn, khi dời vào thời hạn thông báo / urgent reason, "
        "when moving inside the notice lead time",
    )

    @field_validator("title", "chair", "start", "end", "main_endpoint", "endpoints")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Left out, a field keeps its value; sent as null it would erase a required one.
        if value is None:
            raise ValueError("không được để trống / may not be null")
        return value


class CancelIn(BaseModel):
    """Hủy cuộc họp / a cancellation."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=2000, description="Lý do hủy / reason")


def build_router(
    store: RegistrationStore,
    policy_for: Callable[[str], Policy],
    clock: Clock,
    authenticate: Authenticator,
    wake: Callable[[], None],
) -> APIRouter:
    router = APIRouter(tags=["meetings"])
    may_register = require(authenticate, Role.REGISTRAR, Role.OPERATOR)

    def fail(code: int, request: Request, name: str, vi: str, en: str) -> HTTPException:
        return HTTPException(code, problem(request, name, vi, en))

    def invalid(request: Request, violations: list[domain.Violation]) -> HTTPException:
        english = wants_english(request)
        return HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {"errors": [v.body(english) for v in violations]},
        )

    async def validate(
        request: Request, who: Principal, draft: domain.Draft, now: datetime
    ) -> None:
        """422 naming every rule the draft breaks."""
        policy = policy_for(who.tenant)
        directory = domain.Directory(
            units=await store.units.active(who.tenant, [draft.host_unit]),
            endpoints=await store.endpoints.active(who.tenant, draft.endpoints),
        )
        caller = domain.Caller(role=who.role.value, unit=who.unit)
        violations = domain.check_meeting(
            draft, policy=policy, directory=directory, caller=caller, now=now
        )
        if violations:
            raise invalid(request, violations)

    async def visible_meeting(request: Request, meeting_id: str, who: Principal) -> dict[str, Any]:
        meeting = await store.meeting(who.tenant, meeting_id)
        if meeting is None:
            raise fail(404, request, "not_found", "Không tìm thấy cuộc họp.", "No such meeting.")
        if not _may_see(who, meeting):
            raise fail(
                403,
                request,
                "forbidden",
                "Bạn không được xem cuộc họp này.",
                "You may not see this meeting.",
            )
        return meeting

    async def changeable_meeting(
        request: Request, meeting_id: str, who: Principal, now: datetime
    ) -> dict[str, Any]:
        meeting = await visible_meeting(request, meeting_id, who)
        if who.role is Role.REGISTRAR and meeting["host_unit"] != who.unit:
            raise fail(
                403,
                request,
                "forbidden",
                "Chỉ đơn vị chủ trì hoặc Sở TT&TT được thay đổi cuộc họp.",
                "Only the host unit or the IT department may change the meeting.",
            )
        if meeting.get("source", PRODUCER) != PRODUCER:
            raise fail(
                409,
                request,
                "managed_elsewhere",
                f"Cuộc họp do hệ thống {meeting['source']} quản lý; hãy thay đổi tại đó.",
                f"The meeting is managed by {meeting['source']}; change it there.",
            )
        if domain.frozen_since_start(meeting["start"], now):
            policy = policy_for(who.tenant)
            raise invalid(
                request,
                [
                    domain.Violation(
                        "start",
                        "meeting.not_in_past",
                        policy.ref("meeting.not_in_past").source,
                        "Cuộc họp đã bắt đầu hoặc đã diễn ra, không thể thay đổi.",
                        "The meeting has started or is over and cannot be changed.",
                    )
                ],
            )
        return meeting

    async def retried(
        request: Request, stored: dict[str, Any], body: MeetingIn, policy: Policy
    ) -> dict[str, Any]:
        """The answer to a retry: the meeting as it is now, or 409 if the key was used for
        a different request (Stripe's and the IETF idempotency-key draft's convention)."""
        if stored.get("request_hash") != _hash(body):
            raise fail(
                409,
                request,
                "idempotency_key_reused",
                "Idempotency-Key này đã dùng cho một yêu cầu khác.",
                "This Idempotency-Key was used for a different request.",
            )
        return _public(stored, await store.timeline(stored["tenant"], stored["_id"]), policy)

    @router.post(
        "/meetings",
        status_code=status.HTTP_201_CREATED,
        summary="Đăng ký cuộc họp / register a meeting",
        **shaped(MeetingOut, 400, 401, 403, 409, 413),
    )
    async def register(
        request: Request,
        response: Response,
        body: MeetingIn,
        who: Annotated[Principal, Depends(may_register)],
        idempotency_key: Annotated[
            str | None,
            Header(
                max_length=200,
                description="Khóa gửi lại an toàn: gửi lại cùng khóa trả về cùng cuộc họp / "
                "safe retries: the same key returns the same meeting",
            ),
        ] = None,
    ) -> dict[str, Any]:
        now = clock.now()
        policy = policy_for(who.tenant)
        key = f"{who.tenant}:{who.subject}:{idempotency_key}" if idempotency_key else None
        meeting_id = _meeting_id(key)
        # A retry answers with what was stored, before any rule is checked again: the
        # lead time may have passed or an endpoint been deactivated since.
        if key and (stored := await store.meeting(who.tenant, meeting_id)) is not None:
            if stored.get("idempotency_key") == key:
                response.status_code = status.HTTP_200_OK
                return await retried(request, stored, body, policy)
            meeting_id = _meeting_id(None)  # another key's meeting has this id (a collision)
        endpoints = domain.participants(body.main_endpoint, body.endpoints)
        draft = domain.Draft(
            body.host_unit, body.start, body.end, body.main_endpoint, endpoints, body.urgent_reason
        )
        await validate(request, who, draft, now)
        event = MeetingRequested.create(
            tenant=who.tenant,
            correlation_id=meeting_id,
            producer=PRODUCER,
            occurred_at=now,
            meeting_id=meeting_id,
            requested_by=who.subject,
            late_notice=domain.is_late_notice(body.start, policy=policy, now=now),
            **{**body.model_dump(), "endpoints": endpoints},
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
        if key:
            document["idempotency_key"] = key
            document["request_hash"] = _hash(body)
        stored, created = await store.create_meeting(document, event)
        if not created:  # a concurrent retry stored it first
            response.status_code = status.HTTP_200_OK
            return await retried(request, stored, body, policy)
        wake()
        return _public(stored, [], policy)

    @router.get(
        "/meetings",
        summary="Danh sách cuộc họp / list meetings",
        **shaped(MeetingPage, 400, 401, 403),
    )
    async def list_meetings(
        request: Request,
        who: Annotated[Principal, Depends(authenticate)],
        unit: Annotated[
            str | None,
            Query(max_length=64, description="Mã đơn vị chủ trì / host unit code"),
        ] = None,
        endpoint: Annotated[
            str | None,
            Query(max_length=64, description="Mã điểm cầu tham gia / participating endpoint code"),
        ] = None,
        start_from: Annotated[
            AwareDatetime | None,
            Query(alias="from", description="Bắt đầu từ (có múi giờ) / starting from, with offset"),
        ] = None,
        start_to: Annotated[
            AwareDatetime | None,
            Query(alias="to", description="Bắt đầu trước (có múi giờ) / starting before"),
        ] = None,
        status_filter: Annotated[
            Status | None,
            Query(
                alias="status",
                description="Trạng thái: requested, scheduled, rejected, cancelled / status",
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=200, description="Số mục / page size")] = 50,
        cursor: Annotated[
            str | None,
            Query(max_length=300, description="Trang sau (next_cursor) / next page"),
        ] = None,
    ) -> dict[str, Any]:
        unit, endpoint = _scope(request, who, unit, endpoint)
        query = MeetingQuery(
            who.tenant, unit, endpoint, start_from, start_to, decode_cursor(request, cursor)
        )
        policy = policy_for(who.tenant)
        zone = ZoneInfo(policy.timezone)
        items: list[dict[str, Any]] = []
        after, more = query.after, True
        # A status is not a stored field (it comes from the timeline): scan in index order.
        while len(items) < limit and more:
            batch = await store.meetings(replace(query, after=after), limit * 2)
            more = len(batch) == limit * 2
            statuses, slots = await _statuses_and_slots(store, who.tenant, batch)
            for i, meeting in enumerate(batch):
                after = (meeting["start"], meeting["_id"])
                if status_filter is None or statuses[meeting["_id"]] == status_filter:
                    item = _public(meeting, None, policy, statuses[meeting["_id"]])
                    item["slot"] = local(slots[meeting["_id"]], zone)  # its bridge
                    items.append(item)
                if len(items) == limit:
                    more = more or i < len(batch) - 1
                    break
        next_cursor = encode_cursor(after) if more else None
        return {"items": items, "next_cursor": next_cursor}

    @router.get(
        "/meetings/{meeting_id}",
        summary="Cuộc họp và diễn biến / a meeting, timeline",
        **shaped(MeetingOut, 401, 403, 404),
    )
    async def get_meeting(
        request: Request, meeting_id: MeetingId, who: Annotated[Principal, Depends(authenticate)]
    ) -> dict[str, Any]:
        meeting = await visible_meeting(request, meeting_id, who)
        return _public(
            meeting, await store.timeline(who.tenant, meeting_id), policy_for(who.tenant)
        )

    @router.patch(
        "/meetings/{meeting_id}",
        summary="Thay đổi cuộc họp / change a meeting",
        **shaped(MeetingOut, 400, 401, 403, 404, 409, 413),
    )
    async def change(
        request: Request,
        meeting_id: MeetingId,
        body: MeetingPatch,
        who: Annotated[Principal, Depends(may_register)],
    ) -> dict[str, Any]:
        now = clock.now()
        meeting = await changeable_meeting(request, meeting_id, who, now)
        changes = body.model_dump(exclude_unset=True)
        if not changes:
            raise invalid(
                request,
                [
                    domain.Violation(
                        "body",
                        "schema.empty_change",
                        SCHEMA_SOURCE,
                        "Không có gì để thay đổi: hãy gửi ít nhất một trường.",
                        "Nothing to change: send at least one field.",
                    )
                ],
            )
        if meeting["cancelled"]:
            raise fail(
                409, request, "cancelled", "Cuộc họp đã bị hủy.", "The meeting is cancelled."
            )
        merged = {**{f: meeting.get(f) for f in DETAIL_FIELDS}, **changes}
        if isinstance(merged["document_date"], str):
            merged["document_date"] = date.fromisoformat(merged["document_date"])
        endpoints = domain.participants(merged["main_endpoint"], merged["endpoints"])
        draft = domain.Draft(
            meeting["host_unit"],
            merged["start"],
            merged["end"],
            merged["main_endpoint"],
            endpoints,
            changes.get("urgent_reason"),
        )
        before = domain.Draft(
            meeting["host_unit"],
            meeting["start"],
            meeting["end"],
            meeting["main_endpoint"],
            meeting["endpoints"],
        )
        policy = policy_for(who.tenant)
        late_notice = bool(meeting.get("late_notice"))
        if domain.reschedules(before, draft):
            await validate(request, who, draft, now)
            late_notice = domain.is_late_notice(draft.start, policy=policy, now=now)
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
            urgent_reason=changes.get("urgent_reason"),
            **{**{f: merged[f] for f in DETAIL_FIELDS}, "endpoints": endpoints},
        )
        fields = {**meeting_fields(event), "revision": revision, "changed_at": now}
        if "urgent_reason" in changes:  # the reason a move into the lead time was allowed
            fields["urgent_reason"] = changes["urgent_reason"]
        stored = await _write(request, meeting, fields, event)
        return _public(stored, await store.timeline(who.tenant, meeting_id), policy)

    @router.post(
        "/meetings/{meeting_id}/cancel",
        summary="Hủy cuộc họp / cancel a meeting",
        **shaped(MeetingOut, 400, 401, 403, 404, 409, 413),
    )
    async def cancel(
        request: Request,
        meeting_id: MeetingId,
        who: Annotated[Principal, Depends(may_register)],
        body: Annotated[CancelIn | None, Body()] = None,
    ) -> dict[str, Any]:
        now = clock.now()
        meeting = await changeable_meeting(request, meeting_id, who, now)
        policy = policy_for(who.tenant)
        if meeting["cancelled"]:
            return _public(meeting, await store.timeline(who.tenant, meeting_id), policy)
        reason = body.reason if body else None
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
        stored = await _write(request, meeting, fields, event)
        return _public(stored, await store.timeline(who.tenant, meeting_id), policy)

    async def _write(
        request: Request, meeting: dict[str, Any], fields: dict[str, Any], event: Any
    ) -> dict[str, Any]:
        try:
            stored = await store.update_meeting(
                meeting["tenant"], meeting["_id"], meeting["revision"], fields, [event]
            )
        except StaleWrite:
            raise fail(
                409,
                request,
                "concurrent_change",
                "Cuộc họp vừa được thay đổi bởi người khác; hãy tải lại.",
                "The meeting was just changed by someone else; reload it.",
            ) from None
        wake()
        return stored

    @router.get(
        "/calendar/{kind}/{code}.ics",
        summary="Lịch iCalendar để đăng ký theo dõi / subscribable iCalendar feed",
        response_class=Response,
        responses={200: {"content": {"text/calendar": {}}}} | answers(401, 403, 404),
    )
    async def calendar_feed(
        request: Request,
        kind: Annotated[str, Depends(_feed_kind)],
        code: Annotated[
            str, Path(max_length=64, description="Mã đơn vị hoặc điểm cầu / unit or endpoint code")
        ],
        token: Annotated[
            str | None,
            Query(description="Mã xác thực cho ứng dụng lịch / token for calendar apps"),
        ] = None,
    ) -> Response:
        # Calendar apps cannot send headers: the token may come in the URL instead.
        credentials = None
        if token:
            credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
        elif auth := request.headers.get("authorization", "").removeprefix("Bearer ").strip():
            credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=auth)
        who = await authenticate(request, credentials)
        unit, endpoint = (code, None) if kind == "units" else (None, code)
        unit, endpoint = _scope(request, who, unit, endpoint)
        entries = store.units if kind == "units" else store.endpoints
        if await entries.get(who.tenant, code) is None:
            raise fail(404, request, "not_found", f"Không có mã {code}.", f"No {kind[:-1]} {code}.")
        now = clock.now()
        # The latest meetings from 90 days ago on: a new meeting is never crowded out.
        query = MeetingQuery(who.tenant, unit, endpoint, start_from=now - FEED_PAST)
        meetings = await store.meetings(query, FEED_LIMIT, newest_first=True)
        meetings.reverse()
        statuses = await _statuses(store, who.tenant, meetings)
        body = ical.feed(
            f"HNTH {code}",
            [{**m, "status": statuses[m["_id"]]} for m in meetings],
            now,
            policy_for(who.tenant).timezone,
        )
        return Response(body, media_type="text/calendar; charset=utf-8")

    return router


def _feed_kind(
    kind: Annotated[
        str, Path(description="Loại lịch: units hoặc endpoints / feed kind: units or endpoints")
    ],
    request: Request,
) -> str:
    if kind not in ("units", "endpoints"):
        raise HTTPException(
            404, problem(request, "not_found", "Không có lịch này.", "No such feed.")
        )
    return kind


def _may_see(who: Principal, meeting: dict[str, Any]) -> bool:
    if who.role is Role.REGISTRAR:
        return meeting["host_unit"] == who.unit
    if who.role is Role.TECHNICIAN:
        return who.endpoint in meeting["endpoints"]
    return True


def _scope(
    request: Request, who: Principal, unit: str | None, endpoint: str | None
) -> tuple[str | None, str | None]:
    """Narrow list filters to what the caller may see; asking for more is a 403."""
    if who.role is Role.REGISTRAR:
        if unit not in (None, who.unit):
            raise HTTPException(403, _others(request))
        return who.unit, endpoint
    if who.role is Role.TECHNICIAN:
        if endpoint not in (None, who.endpoint) or unit is not None:
            raise HTTPException(403, _others(request))
        return None, who.endpoint
    return unit, endpoint


def _others(request: Request) -> dict[str, Any]:
    return problem(
        request,
        "forbidden",
        "Bạn chỉ được xem cuộc họp của đơn vị/điểm cầu mình.",
        "You may only see your own unit's or endpoint's meetings.",
    )


async def _statuses(
    store: RegistrationStore, tenant: str, meetings: list[dict[str, Any]]
) -> dict[str, str]:
    return (await _statuses_and_slots(store, tenant, meetings))[0]


async def _statuses_and_slots(
    store: RegistrationStore, tenant: str, meetings: list[dict[str, Any]]
) -> tuple[dict[str, str], dict[str, dict[str, Any] | None]]:
    """Each meeting's status, and the slot (bridge, virtual room, dial-in) of its latest
    assignment, from one read of the decisions."""
    decisions = await store.decisions(tenant, [m["_id"] for m in meetings])
    statuses = {
        m["_id"]: domain.status_of(m["cancelled"], m["revision"], _decisions(decisions[m["_id"]]))
        for m in meetings
    }
    slots = {
        m["_id"]: next(
            (e.get("slot") for e in reversed(decisions[m["_id"]]) if e["type"] == "SlotAssigned"),
            None,
        )
        for m in meetings
    }
    return statuses, slots


def _decisions(entries: list[dict[str, Any]]) -> list[domain.Decision]:
    """Scheduling's decisions among the timeline's entries (requests, checks, materials and
    record requests are on it too and decide nothing)."""
    return [
        domain.Decision(e["type"], e.get("revision", 0), e.get("reason") == "changed")
        for e in entries
        if e["type"] in DECISIONS
    ]


def _meeting_id(key: str | None) -> str:
    """A new meeting's id; with an idempotency key, derived from it, so that a retry finds
    its meeting by `_id` (an indexed lookup) before anything else."""
    if key is None:
        return f"mtg-{uuid.uuid4().hex[:12]}"
    return f"mtg-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _hash(body: BaseModel) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def _public(
    meeting: dict[str, Any],
    timeline: list[dict[str, Any]] | None,
    policy: Policy,
    status_now: str | None = None,
) -> dict[str, Any]:
    """The meeting as people read it: times in the province's zone, status, decision."""
    zone = ZoneInfo(policy.timezone)
    hidden = {"_id", "idempotency_key", "request_hash", "_applied"}
    body = {k: local(v, zone) for k, v in meeting.items() if k not in hidden}
    body["id"] = meeting["_id"]
    body.setdefault("source", PRODUCER)  # written before meetings named their source
    entries = timeline or []
    body["status"] = status_now or domain.status_of(
        meeting["cancelled"], meeting["revision"], _decisions(entries)
    )
    if timeline is None:
        return body
    body["timeline"] = [
        {k: local(v, zone) for k, v in e.items() if k not in ("_id", "meeting_id", "tenant")}
        | {"event_id": e["_id"]}
        for e in timeline
    ]
    for entry in timeline:
        if entry["type"] == "SlotAssigned":
            body["slot"] = local(entry["slot"], zone)
            body.pop("rejection", None)
        if entry["type"] == "SlotRejected" and entry.get("revision", 0) == meeting["revision"]:
            body["rejection"] = local(entry["rejection"], zone)
    body["record_missing"] = records.missing(timeline)
    return body
