"""Incidents at an endpoint: reported, listed, resolved."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hnth_contracts.envelope import UtcDatetime
from inspection.http.deps import Acting, Anyone, UseCases, shown

router = APIRouter(tags=["incidents"])


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
    opened_at: UtcDatetime | None = None
    """When it started, if earlier than now."""


class ResolveForm(BaseModel):
    cause: str = Field(min_length=1, max_length=2000)
    fix: str = Field(min_length=1, max_length=2000)
    resolved_at: UtcDatetime | None = None


@router.post("/incidents", status_code=201, summary="Báo sự cố")
async def open_incident(form: IncidentForm, who: Acting, cases: UseCases) -> dict[str, Any]:
    reported = form.model_dump(mode="python", exclude={"opened_at"})
    incident = await cases.open_incident(who, reported, form.opened_at)
    return shown(cases, who, incident)  # type: ignore[no-any-return]


@router.get("/incidents", summary="Danh sách sự cố")
async def incidents(
    who: Anyone, cases: UseCases, endpoint: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    return shown(cases, who, await cases.incidents(who.tenant, endpoint, state))  # type: ignore[no-any-return]


@router.get("/incidents/{incident_id}", summary="Một sự cố")
async def incident(incident_id: str, who: Anyone, cases: UseCases) -> dict[str, Any]:
    return shown(cases, who, await cases.incident(who.tenant, incident_id))  # type: ignore[no-any-return]


@router.patch("/incidents/{incident_id}", summary="Khắc phục sự cố")
async def resolve(
    incident_id: str, form: ResolveForm, who: Acting, cases: UseCases
) -> dict[str, Any]:
    resolved = await cases.resolve(who, incident_id, form.cause, form.fix, form.resolved_at)
    return shown(cases, who, resolved)  # type: ignore[no-any-return]
