"""A periodic inspection's parties (rule 4): the visited endpoints' technicians and, when it
comes, the line provider. Each plan revision is a notice to them like a meeting's; whoever a
change leaves out, and everyone on a cancellation, is told it is off."""

from __future__ import annotations

from typing import Any

from hnth_contracts import InspectionCancelled, InspectionPlan, InspectionScheduled
from hnth_contracts.policy import Policy
from notification.domain.notices import Kind, Notice, Recipient, technician

LINE_PROVIDER = Recipient("line_provider", "line_provider")


def parties(plan: InspectionPlan | None) -> list[Recipient]:
    if plan is None:
        return []
    found = [technician(e) for e in plan.endpoints]
    return found + ([LINE_PROVIDER] if plan.with_line_provider else [])


def _data(event: InspectionScheduled | InspectionCancelled, plan: InspectionPlan) -> dict[str, Any]:
    return {
        "inspection_id": event.inspection_id,
        "revision": event.revision,
        "period": event.period,
        "planned_at": plan.planned_at,
        "endpoints": list(plan.endpoints),
        "with_line_provider": plan.with_line_provider,
    }


def plan_inspection_notices(event: InspectionScheduled) -> list[Notice]:
    """The plan (or its change) to its parties; a cancellation to those it no longer names."""
    cause = f"inspection:{event.tenant}:{event.inspection_id}:{event.revision}"
    data = {**_data(event, event.plan), "changed": event.previous is not None}
    notices = [
        Notice(cause, Kind.INSPECTION_PLANNED, r, event.tenant, event.rule, data=data)
        for r in parties(event.plan)
    ]
    staying = set(parties(event.plan))
    if event.previous is not None:
        off = {**_data(event, event.previous), "reason": "removed"}
        notices += [
            Notice(cause, Kind.INSPECTION_CANCELLED, r, event.tenant, event.rule, data=off)
            for r in parties(event.previous)
            if r not in staying
        ]
    return notices


def plan_inspection_cancellation(event: InspectionCancelled, policy: Policy) -> list[Notice]:
    """Everyone the last plan named hears it is off, with the reason."""
    if event.plan is None:
        return []  # never planned: nobody was told
    cause = f"inspection-cancelled:{event.tenant}:{event.inspection_id}"
    data = {**_data(event, event.plan), "reason": event.reason}
    rule = policy.ref("notice.lead_time")
    return [
        Notice(cause, Kind.INSPECTION_CANCELLED, r, event.tenant, rule, data=data)
        for r in parties(event.plan)
    ]
