"""Inspection's HTTP routes: readiness boards and check submissions, incidents,
periodic inspections, the units' year-end evaluations and the provincial report.

Times are stored in UTC and shown in the province's time zone (Asia/Ho_Chi_Minh)."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import AwareDatetime, BaseModel, Field

from hnth_contracts import CheckItem, ItemResult
from hnth_kit.auth import Authenticator, Principal, Role, require
from inspection import exports
from inspection.store import ANNUAL, INCIDENTS, INSPECTIONS
from inspection.workflows import Inspection, Rejected

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def shown(value: Any) -> Any:
    """A stored document as people see it: local times, `id` instead of `_id`."""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL)
    if isinstance(value, dict):
        return {("id" if k == "_id" else k): shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v) for v in value]
    return value


class ItemForm(BaseModel):
    ok: bool
    note: str | None = Field(default=None, max_length=2000)


class ChecklistForm(BaseModel):
    """The five readiness items (rule 3): all of them, each ok or a problem with a note."""

    line: ItemForm
    audio: ItemForm
    video: ItemForm
    content: ItemForm
    power: ItemForm

    def results(self) -> dict[CheckItem, ItemResult]:
        return {
            item: ItemResult(ok=getattr(self, item.value).ok, note=getattr(self, item.value).note)
            for item in CheckItem
        }


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


class Fault(BaseModel):
    item: CheckItem | None = None
    description: str = Field(min_length=1, max_length=2000)


class InspectionForm(BaseModel):
    items: ChecklistForm
    faults: list[Fault] = Field(default_factory=list, max_length=100)
    fixes: list[str] = Field(default_factory=list, max_length=100)
    line_provider_present: bool = False
    inspected_at: AwareDatetime | None = None


class Effectiveness(StrEnum):
    VERY_EFFECTIVE = "very_effective"
    EFFECTIVE = "effective"
    PARTLY_EFFECTIVE = "partly_effective"
    INEFFECTIVE = "ineffective"


class EvaluationForm(BaseModel):
    effectiveness: Effectiveness
    problems: str = Field(default="", max_length=10000)
    proposals: str = Field(default="", max_length=10000)
    text: str = Field(default="", max_length=20000)


def _not_found(what_vi: str, what_en: str) -> Rejected:
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


def not_after_now(field: str, when: datetime | None, now: datetime) -> datetime:
    if when is None:
        return now
    if when > now:
        raise Rejected(
            422,
            "in_future",
            "Thời điểm không được ở tương lai.",
            "The time cannot be in the future.",
            field=field,
        )
    return when


def build_router(inspection: Inspection, authenticate: Authenticator) -> APIRouter:
    router = APIRouter()
    store = inspection.store
    anyone = Annotated[Principal, Depends(authenticate)]
    acting = Annotated[
        Principal, Depends(require(authenticate, Role.OPERATOR, Role.TECHNICIAN, Role.REGISTRAR))
    ]
    operator = Annotated[Principal, Depends(require(authenticate, Role.OPERATOR))]
    reader = Annotated[Principal, Depends(require(authenticate, Role.OPERATOR, Role.VIEWER))]

    @router.get("/meetings/{meeting_id}/readiness", tags=["readiness"], summary="Bảng sẵn sàng")
    async def readiness(meeting_id: str, who: anyone) -> list[dict[str, Any]]:
        board = await inspection.board(meeting_id, who.tenant)
        if not board:
            raise _not_found(f"cuộc họp {meeting_id}", f"meeting {meeting_id}")
        return shown(board)  # type: ignore[no-any-return]

    @router.post(
        "/meetings/{meeting_id}/checks/{endpoint}",
        tags=["readiness"],
        summary="Nộp kết quả kiểm tra điểm cầu",
        status_code=status.HTTP_201_CREATED,
    )
    async def submit_check(
        meeting_id: str, endpoint: str, form: CheckForm, who: acting
    ) -> dict[str, Any]:
        may_act(who, endpoint)
        await inspection.submit(
            who.tenant,
            meeting_id,
            endpoint,
            form.items.results(),
            who.subject,
            inspection.clock.now(),
            marker=f"http:{uuid.uuid4()}",
        )
        board = await inspection.board(meeting_id, who.tenant)
        return shown(next(b for b in board if b["endpoint"] == endpoint))  # type: ignore[no-any-return]

    # ------------------------------------------------------------ incidents

    @router.post("/incidents", tags=["incidents"], status_code=201, summary="Báo sự cố")
    async def open_incident(form: IncidentForm, who: acting) -> dict[str, Any]:
        may_act(who, form.endpoint)
        now = inspection.clock.now()
        if not await store.endpoint_known(who.tenant, form.endpoint, form.meeting_id):
            if form.meeting_id:
                raise _not_found(
                    f"điểm cầu {form.endpoint} trong cuộc họp {form.meeting_id}",
                    f"endpoint {form.endpoint} in meeting {form.meeting_id}",
                )
            raise _not_found(f"điểm cầu {form.endpoint}", f"endpoint {form.endpoint}")
        incident = {
            "_id": uuid.uuid4().hex,
            "tenant": who.tenant,
            **form.model_dump(mode="python", exclude={"opened_at"}),
            "opened_at": not_after_now("opened_at", form.opened_at, now),
            "opened_by": who.subject,
            "state": "open",
            "resolved_at": None,
            "resolved_by": None,
            "cause": None,
            "fix": None,
        }
        await store.incidents.insert_one(incident)
        incident["id"] = incident["_id"]
        return shown(incident)  # type: ignore[no-any-return]

    @router.get("/incidents", tags=["incidents"], summary="Danh sách sự cố")
    async def incidents(
        who: anyone, endpoint: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        query = {"tenant": who.tenant}
        query |= {"endpoint": endpoint} if endpoint else {}
        query |= {"state": state} if state else {}
        return shown(await store.find(INCIDENTS, query, sort="opened_at"))  # type: ignore[no-any-return]

    @router.get("/incidents/{incident_id}", tags=["incidents"], summary="Một sự cố")
    async def incident(incident_id: str, who: anyone) -> dict[str, Any]:
        found = await store.get(INCIDENTS, incident_id, who.tenant)
        if found is None:
            raise _not_found("sự cố", "incident")
        return shown(found)  # type: ignore[no-any-return]

    @router.patch("/incidents/{incident_id}", tags=["incidents"], summary="Khắc phục sự cố")
    async def resolve(incident_id: str, form: ResolveForm, who: acting) -> dict[str, Any]:
        found = await store.get(INCIDENTS, incident_id, who.tenant)
        if found is None:
            raise _not_found("sự cố", "incident")
        may_act(who, found["endpoint"])
        at = not_after_now("resolved_at", form.resolved_at, inspection.clock.now())
        if at < found["opened_at"]:
            raise Rejected(
                422,
                "before_opened",
                "Thời điểm khắc phục phải sau thời điểm xảy ra sự cố.",
                "An incident is resolved after it opened.",
                field="resolved_at",
            )
        changes = {"state": "resolved", "resolved_at": at, "resolved_by": who.subject}
        changes |= {"cause": form.cause, "fix": form.fix}
        done = await store.incidents.update_one(
            {"_id": incident_id, "state": "open"}, {"$set": changes}
        )
        if done.matched_count == 0:
            raise Rejected(409, "resolved", "Sự cố đã được khắc phục.", "Already resolved.")
        return shown({**found, **changes})  # type: ignore[no-any-return]

    # ------------------------------------------------------------ periodic inspections

    @router.get("/inspections", tags=["inspections"], summary="Kiểm tra định kỳ")
    async def inspections(
        who: anyone, endpoint: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        query = {"tenant": who.tenant}
        query |= {"endpoint": endpoint} if endpoint else {}
        query |= {"state": state} if state else {}
        return shown(await store.find(INSPECTIONS, query, sort="due_at"))  # type: ignore[no-any-return]

    @router.post(
        "/inspections/{task_id}/result", tags=["inspections"], summary="Nộp kết quả kiểm tra"
    )
    async def inspected(task_id: str, form: InspectionForm, who: acting) -> dict[str, Any]:
        task = await store.get(INSPECTIONS, task_id, who.tenant)
        if task is None:
            raise _not_found("nhiệm vụ kiểm tra", "inspection")
        may_act(who, task["endpoint"])
        results = form.items.results()
        result = {
            "passed": all(r.ok for r in results.values()),
            "items": {k.value: v.model_dump() for k, v in results.items()},
            "faults": [f.model_dump(mode="json") for f in form.faults],
            "fixes": form.fixes,
            "line_provider_present": form.line_provider_present,
            "inspected_at": not_after_now(
                "inspected_at", form.inspected_at, inspection.clock.now()
            ),
            "inspected_by": who.subject,
        }
        marker = f"http:{uuid.uuid4()}"
        await inspection.complete_task(
            INSPECTIONS, task, who.subject, {"state": "done", "result": result}, marker
        )
        return shown({**task, "state": "done", "result": result})  # type: ignore[no-any-return]

    # ------------------------------------------------------------ year-end

    @router.get("/annual-reports", tags=["reports"], summary="Báo cáo năm của các điểm cầu")
    async def annual(who: anyone, year: int | None = None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"tenant": who.tenant}
        query |= {"year": str(year)} if year else {}
        return shown(await store.find(ANNUAL, query, sort="endpoint"))  # type: ignore[no-any-return]

    @router.post("/annual-reports/{task_id}", tags=["reports"], summary="Nộp báo cáo năm")
    async def evaluate(task_id: str, form: EvaluationForm, who: acting) -> dict[str, Any]:
        task = await store.get(ANNUAL, task_id, who.tenant)
        if task is None:
            raise _not_found("yêu cầu báo cáo", "report request")
        may_act(who, task.get("endpoint"), task.get("unit"))
        now = inspection.clock.now()
        changes = {
            "state": "submitted",
            "evaluation": form.model_dump(mode="json"),
            "submitted_by": who.subject,
            "submitted_at": now,
            "on_time": now <= task["due_at"],
        }
        await inspection.complete_task(ANNUAL, task, who.subject, changes, f"http:{uuid.uuid4()}")
        return shown({**task, **changes})  # type: ignore[no-any-return]

    @router.post("/reports/{year}/compile", tags=["reports"], summary="Tổng hợp báo cáo tỉnh")
    async def compile_report(year: int, who: operator) -> dict[str, Any]:
        report = await inspection.compile(who.tenant, year)
        report["compiled_by"] = who.subject
        await store.reports.replace_one(
            {"_id": f"{who.tenant}:{year}"}, {**report, "_id": f"{who.tenant}:{year}"}, upsert=True
        )
        return shown(report)  # type: ignore[no-any-return]

    @router.get("/reports/{year:int}.json", tags=["reports"], summary="Báo cáo tỉnh (JSON)")
    async def report_json(year: int, who: reader) -> dict[str, Any]:
        report = await inspection.compile(who.tenant, year)
        report["title"] = exports.title(report)
        report["headings"] = exports.headings()
        return shown(report)  # type: ignore[no-any-return]

    @router.get("/reports/{year:int}.xlsx", tags=["reports"], summary="Báo cáo tỉnh (Excel)")
    async def report_xlsx(year: int, who: reader) -> Response:
        report = await inspection.compile(who.tenant, year)
        return _file(exports.to_xlsx(report), f"bao-cao-hnth-{year}.xlsx", exports.XLSX)

    @router.get("/reports/{year:int}.docx", tags=["reports"], summary="Báo cáo tỉnh (Word)")
    async def report_docx(year: int, who: reader) -> Response:
        report = await inspection.compile(who.tenant, year)
        return _file(exports.to_docx(report), f"bao-cao-hnth-{year}.docx", exports.DOCX)

    @router.get("/reports/{year:int}", tags=["reports"], summary="Báo cáo tỉnh")
    async def report(year: int, who: reader, fresh: Annotated[bool, Query()] = True) -> Any:
        if not fresh:
            saved = await store.reports.find_one({"_id": f"{who.tenant}:{year}"})
            if saved is None:
                raise _not_found(f"báo cáo năm {year}", f"report for {year}")
            return shown(saved)
        return shown(await inspection.compile(who.tenant, year))

    return router


def _file(content: bytes, name: str, media_type: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
