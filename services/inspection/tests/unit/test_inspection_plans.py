"""A periodic inspection's plan (rule 4): set, changed and cancelled by the IT department,
each change staged as the event that tells its parties."""

from __future__ import annotations

from datetime import timedelta

import pytest
from inspection_samples import T0, TENANT, endpoint_updated, report_due, with_rule

from hnth_contracts import InspectionCancelled, InspectionScheduled, ReportKind
from hnth_kit.auth import Principal, Role
from hnth_kit.refusal import Refusal

OPERATOR = Principal(subject="op", role=Role.OPERATOR, tenant=TENANT)
TECHNICIAN = Principal(subject="kt", role=Role.TECHNICIAN, tenant=TENANT, endpoints=("TQ-A",))
WHEN = T0 + timedelta(days=5)


@pytest.fixture
async def task_id(cases) -> str:
    for code in ("TQ-A", "TQ-B"):
        await cases.remember_endpoint(endpoint_updated(code, "VP", code))
    due = report_due(
        ReportKind.PERIODIC_INSPECTION, "TQ-A", "VP", "2026-Q1", T0 + timedelta(days=9)
    )
    await cases.open_task(due)
    return due.report_id


async def test_a_plan_is_kept_on_the_inspection_and_told_to_its_parties(cases, store, task_id):
    planned = await cases.plan_inspection(OPERATOR, task_id, WHEN, ["TQ-B"], True)

    assert planned["plan"]["endpoints"] == ["TQ-A", "TQ-B"]  # its own endpoint first
    assert (planned["plan"]["planned_at"], planned["plan_revision"]) == (WHEN, 1)
    [event] = store.outbox
    assert isinstance(event, InspectionScheduled)
    assert (event.inspection_id, event.revision, event.previous) == (task_id, 1, None)
    assert event.plan.with_line_provider is True
    assert event.rule.rule == "notice.lead_time"


async def test_a_changed_plan_names_the_previous_one(cases, store, task_id):
    await cases.plan_inspection(OPERATOR, task_id, WHEN, ["TQ-B"], True)
    later = WHEN + timedelta(days=1)

    changed = await cases.plan_inspection(OPERATOR, task_id, later, [], False)

    assert (changed["plan_revision"], changed["with_line_provider"]) == (2, False)
    second = store.outbox[-1]
    assert isinstance(second, InspectionScheduled)
    assert second.previous is not None
    assert (second.previous.endpoints, second.plan.endpoints) == (["TQ-A", "TQ-B"], ["TQ-A"])


async def test_a_plan_inside_the_notice_lead_time_is_refused_with_the_rule(cases, store, task_id):
    with pytest.raises(Refusal) as refused:
        await cases.plan_inspection(OPERATOR, task_id, T0 + timedelta(hours=47), [], True)

    [violation] = refused.value.violations
    assert (violation.field, violation.rule) == ("planned_at", "notice.lead_time")
    assert store.outbox == []


async def test_the_plan_lead_time_follows_the_policy(cases, task_id):
    short = with_rule(cases, "notice.lead_time", "PT12H")
    planned = await short.plan_inspection(OPERATOR, task_id, T0 + timedelta(hours=13), [], True)
    assert planned["plan_revision"] == 1


async def test_an_endpoint_not_in_the_directory_is_refused(cases, task_id):
    with pytest.raises(Refusal) as refused:
        await cases.plan_inspection(OPERATOR, task_id, WHEN, ["TQ-NOWHERE"], True)
    assert refused.value.violations[0].field == "endpoints"


async def test_only_the_it_department_plans(cases, store, task_id):
    with pytest.raises(Refusal) as refused:
        await cases.plan_inspection(TECHNICIAN, task_id, WHEN, [], True)
    assert refused.value.status == 403


async def test_a_cancelled_inspection_tells_the_parties_and_takes_no_result(cases, store, task_id):
    await cases.plan_inspection(OPERATOR, task_id, WHEN, ["TQ-B"], True)

    done = await cases.cancel_inspection(OPERATOR, task_id, "Phòng họp đang sửa")

    assert done["state"] == "cancelled"
    cancelled = store.outbox[-1]
    assert isinstance(cancelled, InspectionCancelled)
    assert cancelled.plan is not None
    assert cancelled.plan.endpoints == ["TQ-A", "TQ-B"]
    with pytest.raises(Refusal) as again:
        await cases.plan_inspection(OPERATOR, task_id, WHEN, [], True)
    assert again.value.status == 409
