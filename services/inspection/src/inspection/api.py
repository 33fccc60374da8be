"""Inspection's HTTP routes: readiness boards and check submissions, and incidents
(the calendar's work is in `api_tasks`).

Times are stored in UTC and shown in the province's time zone (its policy's `timezone`)."""

import uuid
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Response, status
from pydantic import AwareDatetime, BaseModel, Field

from hnth_contracts import CheckItem, ItemResult
from hnth_contracts.policy import Policy
from hnth_kit.auth import Authenticator, Principal, Role, require
from inspection import domain
from inspection.store import INCIDENTS
from inspection.workflows import Inspection, Rejected, rule_broken


def zone_of(inspection: Inspection) -> Callable[[Principal], ZoneInfo]:
    """The caller's province's time zone, from its policy."""

    def zone(who: Principal) -> ZoneInfo:
        return ZoneInfo(inspection.policy_for(who.tenant).timezone)

    return zone


def shown(value: Any, zone: ZoneInfo) -> Any:
    """A stored document as people see it: times in the province's zone, `id` for `_id`."""
    if isinstance(value, datetime):
        return value.astimezone(zone)
    if isinstance(value, dict):
        return {("id" if k == "_id" else k): shown(v, zone) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v, zone) for v in value]
    return value


class ItemForm(BaseModel):
    ok: bool
    note: str | None = Field(default=None, max_length=2000)
    """What the problem is: required when `ok` is false (policy `check.problem_note`)."""


class LineForm(ItemForm):
    """The line to the bridge, with what was measured when known."""

    latency_ms: float | None = Field(default=None, ge=0, description="Độ trễ / latency (ms)")
    loss_pct: float | None = Field(default=None, ge=0, le=100, description="Mất gói / loss (%)")


class ChecklistForm(BaseModel):
    """The five readiness items (rule 3): all of them, each ok or a problem with a note."""

    line: LineForm
    audio: ItemForm
    video: ItemForm
    content: ItemForm
    power: ItemForm

    def results(self) -> dict[CheckItem, ItemResult]:
        return {
            item: ItemResult.model_validate(getattr(self, item.value).model_dump())
            for item in CheckItem
        }

    def checked(self, policy: Policy, field: str = "items") -> dict[CheckItem, ItemResult]:
        """The results, once every problem says what it is (else 422 naming the item)."""
        results = self.results()
        missing = domain.missing_notes(results)
        if missing and policy.value(domain.NOTE_RULE):
            raise rule_broken(
                policy,
                domain.NOTE_RULE,
                f"{field}.{missing[0]}.note",
                f"Hạng mục '{missing[0]}' không đạt: cần ghi rõ lỗi (note).",
                f"Item '{missing[0]}' is not ok: say what the problem is (note).",
            )
        return results


class CheckForm(BaseModel):
    items: ChecklistForm


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IncidentForm(BaseModel):
    endpoint: str = Field(min_length=1, max_length=64)
    meeting_id: str | None = Field(default=None, max_length=128)
    what: str = Field(min_length=1, max_length=2000)
    """What failed (line, audio, video, power, ...)."""
    severity: Severity = Severity.MEDIUM
    opened_at: AwareDatetime | None = None
    """When it started, if earlier than now."""


class ResolveForm(BaseModel):
    cause: str = Field(min_length=1, max_length=2000)
    fix: str = Field(min_length=1, max_length=2000)
    resolved_at: AwareDatetime | None = None


def in_tenant(who: Principal, **filters: str | None) -> dict[str, Any]:
    """A query on the caller's province with the filters that were given."""
    return {"tenant": who.tenant, **{k: v for k, v in filters.items() if v}}


def not_found(what_vi: str, what_en: str) -> Rejected:
    return Rejected(404, "not_found", f"Không tìm thấy {what_vi}.", f"No such {what_en}.")


def _forbidden() -> Rejected:
    return Rejected(
        403,
        "forbidden",
        "Bạn chỉ được thao tác trên điểm cầu (đơn vị) của mình.",
        "You may act only on your own endpoint (unit).",
    )


def may_act(who: Principal, endpoint: str | None, unit: str | None = None) -> None:
    """Operators act anywhere; a technician only on its endpoint, a registrar its unit."""
    if who.role is Role.OPERATOR:
        return
    if who.role is Role.TECHNICIAN and endpoint is not None and who.endpoint == endpoint:
        return
    if who.role is Role.REGISTRAR and unit is not None and who.unit == unit:
        return
    raise _forbidden()


def not_after_now(policy: Policy, field: str, when: datetime | None, now: datetime) -> datetime:
    if when is None:
        return now
    if when > now:
        raise rule_broken(
            policy,
            "record.not_in_future",
            field,
            "Thời điểm không được ở tương lai.",
            "The time cannot be in the future.",
        )
    return when


def build_router(inspection: Inspection, authenticate: Authenticator) -> APIRouter:
    router = APIRouter()
    zone = zone_of(inspection)
    store = inspection.store
    anyone = Annotated[Principal, Depends(authenticate)]
    acting = Annotated[
        Principal, Depends(require(authenticate, Role.OPERATOR, Role.TECHNICIAN, Role.REGISTRAR))
    ]

    @router.get("/meetings/{meeting_id}/readiness", tags=["readiness"], summary="Bảng sẵn sàng")
    async def readiness(meeting_id: str, who: anyone) -> list[dict[str, Any]]:
        board = await inspection.board(meeting_id, who.tenant)
        if not board:
            raise not_found(f"cuộc họp {meeting_id}", f"meeting {meeting_id}")
        return shown(board, zone(who))  # type: ignore[no-any-return]

    @router.post(
        "/meetings/{meeting_id}/checks/{endpoint}",
        tags=["readiness"],
        summary="Nộp kết quả kiểm tra điểm cầu",
        status_code=status.HTTP_201_CREATED,
    )
    async def submit_check(
        meeting_id: str,
        endpoint: str,
        form: CheckForm,
        who: acting,
        response: Response,
        idempotency_key: Annotated[
            str | None,
            Header(max_length=200, description="Gửi lại an toàn / safe retries"),
        ] = None,
    ) -> dict[str, Any]:
        may_act(who, endpoint)
        items = form.items.checked(inspection.policy_for(who.tenant))
        checklist = domain.checklist_id(meeting_id, endpoint)
        # a retry with the same key finds its own result: one entry, one CheckCompleted
        key = f"{who.subject}:{idempotency_key}" if idempotency_key else uuid.uuid4().hex
        added = await inspection.submit(
            who.tenant,
            meeting_id,
            endpoint,
            items,
            who.subject,
            inspection.clock.now(),
            marker=f"http:{checklist}:{key}",
        )
        if added is None:
            response.status_code = status.HTTP_200_OK
        board = await inspection.board(meeting_id, who.tenant)
        return shown(next(b for b in board if b["endpoint"] == endpoint), zone(who))  # type: ignore[no-any-return]

    # ------------------------------------------------------------ incidents

    @router.post("/incidents", tags=["incidents"], status_code=201, summary="Báo sự cố")
    async def open_incident(form: IncidentForm, who: acting) -> dict[str, Any]:
        may_act(who, form.endpoint)
        now = inspection.clock.now()
        policy = inspection.policy_for(who.tenant)
        if not await store.endpoint_known(who.tenant, form.endpoint, form.meeting_id):
            if form.meeting_id:
                raise not_found(
                    f"điểm cầu {form.endpoint} trong cuộc họp {form.meeting_id}",
                    f"endpoint {form.endpoint} in meeting {form.meeting_id}",
                )
            raise not_found(f"điểm cầu {form.endpoint}", f"endpoint {form.endpoint}")
        incident = {
            "_id": uuid.uuid4().hex,
            "tenant": who.tenant,
            **form.model_dump(mode="python", exclude={"opened_at"}),
            "opened_at": not_after_now(policy, "opened_at", form.opened_at, now),
            "opened_by": who.subject,
            "state": "open",
            "resolved_at": None,
            "resolved_by": None,
            "cause": None,
            "fix": None,
        }
        await store.incidents.insert_one(incident)
        incident["id"] = incident["_id"]
        return shown(incident, zone(who))  # type: ignore[no-any-return]

    @router.get("/incidents", tags=["incidents"], summary="Danh sách sự cố")
    async def incidents(
        who: anyone, endpoint: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        query = in_tenant(who, endpoint=endpoint, state=state)
        return shown(await store.find(INCIDENTS, query, sort="opened_at"), zone(who))  # type: ignore[no-any-return]

    @router.get("/incidents/{incident_id}", tags=["incidents"], summary="Một sự cố")
    async def incident(incident_id: str, who: anyone) -> dict[str, Any]:
        found = await store.get(INCIDENTS, incident_id, who.tenant)
        if found is None:
            raise not_found("sự cố", "incident")
        return shown(found, zone(who))  # type: ignore[no-any-return]

    @router.patch("/incidents/{incident_id}", tags=["incidents"], summary="Khắc phục sự cố")
    async def resolve(incident_id: str, form: ResolveForm, who: acting) -> dict[str, Any]:
        found = await store.get(INCIDENTS, incident_id, who.tenant)
        if found is None:
            raise not_found("sự cố", "incident")
        may_act(who, found["endpoint"])
        policy = inspection.policy_for(who.tenant)
        at = not_after_now(policy, "resolved_at", form.resolved_at, inspection.clock.now())
        if at < found["opened_at"]:
            raise rule_broken(
                policy,
                "incident.resolved_after_opened",
                "resolved_at",
                "Thời điểm khắc phục phải sau thời điểm xảy ra sự cố.",
                "An incident is resolved after it opened.",
            )
        changes = {"state": "resolved", "resolved_at": at, "resolved_by": who.subject}
        changes |= {"cause": form.cause, "fix": form.fix}
        done = await store.incidents.update_one(
            {"_id": incident_id, "state": "open"}, {"$set": changes}
        )
        if done.matched_count == 0:
            raise Rejected(409, "resolved", "Sự cố đã được khắc phục.", "Already resolved.")
        return shown({**found, **changes}, zone(who))  # type: ignore[no-any-return]

    return router
