"""The calendar's work, opened by `ReportDue`: periodic inspections of an endpoint
(rule 4) and the endpoints' year-end evaluations (rule 7), each handed in once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hnth_contracts import ReportDue, ReportKind, ReportSubmitted, RuleRef
from inspection.domain import PRODUCER, Document
from inspection.domain.checklists import ITEMS


def inspection_task(
    due: ReportDue, with_line_provider: bool, rule: RuleRef, now: datetime
) -> Document:
    """A periodic inspection of one endpoint (rule 4), with the line provider if the
    policy says so."""
    return {
        "_id": due.report_id,
        "tenant": due.tenant,
        "endpoint": due.endpoint,
        "unit": due.unit,
        "period": due.period,
        "due_at": due.due_at,
        "rule": due.rule.model_dump(),
        "with_line_provider": with_line_provider,
        "line_provider_rule": rule.model_dump(),
        "plan": None,
        "checklist": list(ITEMS),
        "state": "open",
        "opened_at": now,
        "result": None,
    }


def annual_task(due: ReportDue, now: datetime) -> Document:
    """An endpoint's year-end evaluation to hand in (rule 7)."""
    return {
        "_id": due.report_id,
        "tenant": due.tenant,
        "endpoint": due.endpoint,
        "unit": due.unit,
        "year": due.period[:4],
        "period": due.period,
        "due_at": due.due_at,
        "rule": due.rule.model_dump(),
        "state": "open",
        "opened_at": now,
        "evaluation": None,
    }


def on_schedule(task: Mapping[str, Any]) -> bool:
    done: datetime | None = (task.get("result") or {}).get("inspected_at")
    return done is not None and done <= task["due_at"]


def inspection_result(
    items: Mapping[str, Mapping[str, Any]],
    faults: list[Document],
    fixes: list[str],
    line_provider_present: bool,
    inspected_at: datetime,
    by: str,
) -> Document:
    """A periodic inspection's result: passed when every item is ok."""
    return {
        "passed": all(r["ok"] for r in items.values()),
        "items": dict(items),
        "faults": faults,
        "fixes": fixes,
        "line_provider_present": line_provider_present,
        "inspected_at": inspected_at,
        "inspected_by": by,
    }


def evaluation(task: Mapping[str, Any], evaluated: Document, by: str, now: datetime) -> Document:
    """The changes that hand in a year-end evaluation (on time until its due date)."""
    return {
        "state": "submitted",
        "evaluation": evaluated,
        "submitted_by": by,
        "submitted_at": now,
        "on_time": now <= task["due_at"],
    }


def handed_in(task: Mapping[str, Any], kind: ReportKind, by: str, now: datetime) -> ReportSubmitted:
    """The event that says a task was handed in."""
    return ReportSubmitted.create(
        tenant=task["tenant"],
        correlation_id=task["_id"],
        producer=PRODUCER,
        occurred_at=now,
        report_id=task["_id"],
        kind=kind,
        endpoint=task.get("endpoint"),
        unit=task.get("unit"),
        submitted_by=by,
        submitted_at=now,
    )
