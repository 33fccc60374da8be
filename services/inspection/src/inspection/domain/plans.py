"""A periodic inspection's plan (rule 4): when, at which endpoints, with or without the line
provider. The IT department sets and changes it; each revision is told to its parties like a
meeting's notice (`InspectionScheduled`, at least the notice lead time ahead), and a
cancellation too (`InspectionCancelled`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from hnth_contracts import InspectionCancelled, InspectionPlan, InspectionScheduled, RuleRef
from hnth_contracts.rules import Breach
from inspection.domain import PRODUCER, Document

LEAD_RULE = "notice.lead_time"
"""The line provider and the technicians are told in writing at least this long ahead, as
for a meeting (the seeds' written notice to the transmission provider)."""
ENDPOINT_RULE = "directory.endpoint_active"


def plan_of(
    task: Mapping[str, Any], planned_at: datetime, endpoints: list[str], with_line_provider: bool
) -> InspectionPlan:
    """The plan as asked, always at the task's own endpoint (listed first, once)."""
    visited = [task["endpoint"], *(e for e in dict.fromkeys(endpoints) if e != task["endpoint"])]
    return InspectionPlan(
        planned_at=planned_at, endpoints=visited, with_line_provider=with_line_provider
    )


def plan_breach(
    plan: InspectionPlan, known: Collection[str], lead: timedelta, now: datetime
) -> Breach | None:
    """The rule a plan breaks, if any: told too late, or an endpoint not in the directory."""
    if plan.planned_at < now + lead:
        hours = int(lead.total_seconds() // 3600)
        return Breach(
            LEAD_RULE,
            "planned_at",
            f"Ngày kiểm tra phải sau thời điểm thông báo ít nhất {hours} giờ",
            f"The inspection must be at least {hours} hours after it is announced",
        )
    unknown = [e for e in plan.endpoints if e not in known]
    if unknown:
        return Breach(
            ENDPOINT_RULE,
            "endpoints",
            f"Điểm cầu không có trong danh bạ: {', '.join(unknown)}",
            f"Endpoints not in the directory: {', '.join(unknown)}",
        )
    return None


def current_plan(task: Mapping[str, Any]) -> InspectionPlan | None:
    found = task.get("plan")
    return InspectionPlan.model_validate(found) if found else None


def replanned(
    task: Mapping[str, Any], plan: InspectionPlan, rule: RuleRef, now: datetime
) -> tuple[Document, InspectionScheduled]:
    """The task's changes for a new plan revision, and the event telling its parties."""
    revision = int(task.get("plan_revision", 0)) + 1
    event = InspectionScheduled.create(
        tenant=task["tenant"],
        correlation_id=task["_id"],
        producer=PRODUCER,
        occurred_at=now,
        inspection_id=task["_id"],
        revision=revision,
        period=task["period"],
        due_at=task["due_at"],
        plan=plan,
        previous=current_plan(task),
        rule=rule,
    )
    changes = {
        "plan": plan.model_dump(),
        "plan_revision": revision,
        "replanned_at": now,
        "with_line_provider": plan.with_line_provider,
    }
    return changes, event


def cancelled(
    task: Mapping[str, Any], reason: str, by: str, now: datetime
) -> tuple[Document, InspectionCancelled]:
    """The task's changes when the inspection is called off, and the event telling whoever
    its plan named."""
    event = InspectionCancelled.create(
        tenant=task["tenant"],
        correlation_id=task["_id"],
        producer=PRODUCER,
        occurred_at=now,
        inspection_id=task["_id"],
        revision=int(task.get("plan_revision", 0)),
        period=task["period"],
        plan=current_plan(task),
        reason=reason,
    )
    changes = {
        "state": "cancelled",
        "cancelled_reason": reason,
        "cancelled_by": by,
        "cancelled_at": now,
    }
    return changes, event
