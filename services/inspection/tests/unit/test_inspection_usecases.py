"""Inspection's use cases over the in-memory store: what each one writes, stages and refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from inspection_samples import (
    T0,
    TENANT,
    check_submitted,
    report_due,
    slot_assigned,
    with_rule,
)

from hnth_contracts import (
    BackupSwitch,
    CheckCompleted,
    CheckItem,
    ItemResult,
    ReportKind,
    ReportSubmitted,
    RuleRef,
    Window,
)
from hnth_kit.auth import Principal, Role
from hnth_kit.consumer import RawMessage
from hnth_kit.refusal import Refusal
from hnth_kit.timers import Timer
from inspection.domain.checklists import checklist_id, meeting_key
from inspection.store import INSPECTIONS
from inspection.usecases import MISSED

START = T0 + timedelta(days=1)
ALL_OK = {item: ItemResult(ok=True) for item in CheckItem}
OPERATOR = Principal(subject="op", role=Role.OPERATOR, tenant=TENANT)


def technician(endpoint: str) -> Principal:
    return Principal(
        subject=f"kt-{endpoint}", role=Role.TECHNICIAN, tenant=TENANT, endpoints=(endpoint,)
    )


def raw_of(event: object) -> RawMessage:
    value = event.to_json()  # type: ignore[attr-defined]
    return RawMessage(topic="checks", partition=0, offset=0, key=None, value=value, headers=())


async def test_slot_assigned_opens_a_checklist_per_endpoint_and_its_deadline_timer(
    cases, store, timers
):
    await cases.apply_slot(slot_assigned("m-1", START, ["TQ-A", "TQ-B"]))

    board = await cases.readiness(OPERATOR, "m-1")
    assert [(b["endpoint"], b["state"], b["due_at"]) for b in board] == [
        ("TQ-A", "pending", START - timedelta(hours=1)),
        ("TQ-B", "pending", START - timedelta(hours=1)),
    ]
    assert [kind for kind, _ in timers.pending.values()] == [MISSED]
    await cases.apply_slot(slot_assigned("m-1", START, ["TQ-A", "TQ-B"]))
    assert len(store.checklists) == 2, "a redelivered SlotAssigned changes nothing"


async def test_submitted_check_stages_check_completed_with_its_result(cases, store):
    await cases.apply_slot(slot_assigned("m-2", START, ["TQ-A"]))

    entry, added = await cases.submit_check(technician("TQ-A"), "m-2", "TQ-A", ALL_OK, "k1")

    assert added
    assert entry["state"] == "passed"
    assert entry["on_time"]
    [event] = store.outbox
    assert isinstance(event, CheckCompleted)
    assert (event.meeting_id, event.endpoint, event.outcome) == ("m-2", "TQ-A", "passed")
    assert event.producer == "inspection"
    again, added = await cases.submit_check(technician("TQ-A"), "m-2", "TQ-A", ALL_OK, "k1")
    assert not added
    assert again == entry
    assert len(store.outbox) == 1, "a retry with the same key announces nothing new"


async def test_a_problem_without_a_note_is_refused_with_the_rule(cases):
    await cases.apply_slot(slot_assigned("m-3", START, ["TQ-A"]))
    items = {**ALL_OK, CheckItem.AUDIO: ItemResult(ok=False)}

    with pytest.raises(Refusal) as refused:
        await cases.submit_check(OPERATOR, "m-3", "TQ-A", items, None)

    [violation] = refused.value.violations
    assert (refused.value.status, violation.rule, violation.field) == (
        422,
        "check.problem_note",
        "items.audio.note",
    )


async def test_a_closed_checklist_refuses_late_results(cases, store):
    await cases.apply_slot(slot_assigned("m-4", START, ["TQ-A"]))
    await cases.close_meeting(TENANT, "m-4", "cancelled")

    with pytest.raises(Refusal) as refused:
        await cases.submit_check(OPERATOR, "m-4", "TQ-A", ALL_OK, None)

    assert (refused.value.status, refused.value.code) == (409, "checklist_closed")
    assert store.outbox == []


async def test_another_technicians_endpoint_is_forbidden(cases):
    await cases.apply_slot(slot_assigned("m-5", START, ["TQ-A", "TQ-B"]))

    with pytest.raises(Refusal) as refused:
        await cases.submit_check(technician("TQ-B"), "m-5", "TQ-A", ALL_OK, None)

    assert (refused.value.status, refused.value.code) == (403, "forbidden")


async def test_a_probe_result_before_its_slot_waits_for_it(cases, store, timers):
    probe = check_submitted("m-6", "TQ-A", T0)
    await cases.submit_event(probe, raw_of(probe))
    assert len(store.parked) == 1
    assert store.outbox == []

    await cases.apply_slot(slot_assigned("m-6", START, ["TQ-A"]))

    assert store.parked == {}
    [event] = store.outbox
    assert (event.endpoint, event.outcome) == ("TQ-A", "passed")
    assert not any(t.startswith("parked:") for t in timers.pending)


async def test_an_incident_resolved_before_it_opened_is_refused(cases, clock):
    await cases.apply_slot(slot_assigned("m-7", START, ["TQ-A"]))
    reported = {"endpoint": "TQ-A", "meeting_id": "m-7", "what": "mất tiếng", "severity": "high"}
    incident = await cases.open_incident(OPERATOR, reported, None)
    assert (incident["id"], incident["state"], incident["opened_at"]) == (
        incident["_id"],
        "open",
        T0,
    )

    with pytest.raises(Refusal) as refused:
        await cases.resolve(OPERATOR, incident["_id"], "dây", "thay", T0 - timedelta(minutes=1))

    [violation] = refused.value.violations
    assert (refused.value.status, violation.rule, violation.field) == (
        422,
        "incident.resolved_after_opened",
        "resolved_at",
    )
    assert violation.source, "the rule cites where it comes from"


async def test_times_in_the_future_are_refused_and_incidents_resolve_once(cases, clock):
    await cases.apply_slot(slot_assigned("m-8", START, ["TQ-A"]))
    reported = {"endpoint": "TQ-A", "meeting_id": None, "what": "mất hình", "severity": "low"}
    with pytest.raises(Refusal) as refused:
        await cases.open_incident(OPERATOR, reported, T0 + timedelta(minutes=1))
    assert refused.value.violations[0].rule == "record.not_in_future"

    incident = await cases.open_incident(OPERATOR, reported, None)
    clock.advance(timedelta(minutes=30))
    resolved = await cases.resolve(OPERATOR, incident["_id"], "cáp", "thay cáp", None)
    assert (resolved["state"], resolved["resolved_at"]) == ("resolved", T0 + timedelta(minutes=30))
    with pytest.raises(Refusal) as again:
        await cases.resolve(OPERATOR, incident["_id"], "cáp", "thay cáp", None)
    assert (again.value.status, again.value.code) == (409, "resolved")


async def test_an_unknown_endpoint_has_no_incident(cases):
    reported = {"endpoint": "TQ-X", "meeting_id": None, "what": "?", "severity": "low"}
    with pytest.raises(Refusal) as refused:
        await cases.open_incident(OPERATOR, reported, None)
    assert (refused.value.status, refused.value.code) == (404, "not_found")


async def test_missed_deadline_announces_missed_once(cases, store, timers):
    await cases.apply_slot(slot_assigned("m-9", START, ["TQ-A"]))
    [(timer_id, (kind, due_at))] = timers.pending.items()
    fired = Timer(
        id=timer_id, kind=kind, due_at=due_at, tenant=TENANT, payload={"meeting_id": "m-9"}
    )

    await cases.fire_missed(fired)
    await cases.fire_missed(fired)

    [event] = store.outbox
    assert (event.endpoint, event.outcome, event.on_time) == ("TQ-A", "missed", False)
    assert store.checklists[checklist_id(meeting_key(TENANT, "m-9"), "TQ-A")]["closed"] is False


async def test_a_task_is_handed_in_once(cases, store):

    due = report_due(
        ReportKind.PERIODIC_INSPECTION, "TQ-A", "VP", "2026-Q1", T0 + timedelta(days=9)
    )
    await cases.open_task(due)
    details = {"faults": [], "fixes": [], "line_provider_present": True}

    done = await cases.hand_in_inspection(OPERATOR, due.report_id, ALL_OK, details, None)

    assert (done["state"], done["result"]["passed"], done["result"]["inspected_at"]) == (
        "done",
        True,
        T0,
    )
    [event] = store.outbox
    assert isinstance(event, ReportSubmitted)
    assert event.kind is ReportKind.PERIODIC_INSPECTION
    with pytest.raises(Refusal) as again:
        await cases.hand_in_inspection(OPERATOR, due.report_id, ALL_OK, details, None)
    assert (again.value.status, again.value.code) == (409, "task_closed")


async def test_a_problem_needs_a_note_only_where_the_policy_asks_for_one(cases, store):
    lenient = with_rule(cases, "check.problem_note", False)
    await lenient.apply_slot(slot_assigned("m-k1", START, ["TQ-A"]))
    items = {**ALL_OK, CheckItem.AUDIO: ItemResult(ok=False)}

    entry, added = await lenient.submit_check(OPERATOR, "m-k1", "TQ-A", items, None)

    assert added
    assert entry["state"] == "failed"


async def test_the_line_provider_is_on_an_inspection_only_where_the_policy_says(cases, store):
    due = report_due(
        ReportKind.PERIODIC_INSPECTION, "TQ-A", "VP", "2026-Q1", T0 + timedelta(days=9)
    )
    await with_rule(cases, "inspection.with_line_provider", False).open_task(due)
    [without] = await cases.inspections(OPERATOR, "TQ-A", None)
    assert without["with_line_provider"] is False
    assert cases.policy_for(TENANT).value("inspection.with_line_provider") is True


async def test_a_change_after_a_backup_switch_keeps_the_opening_timer_and_no_false_missed(
    cases, store, timers
):
    await cases.apply_slot(slot_assigned("m-bk", START, ["TQ-A", "TQ-B"]))
    rule = RuleRef(rule="backup.switch_window", source="seeds/001")
    switch = BackupSwitch(replaced="TQ-B", backup="TQ-B-4G", reason="mất đường truyền", rule=rule)
    switched = slot_assigned("m-bk", START, ["TQ-A", "TQ-B-4G"], revision=1)
    await cases.apply_slot(switched.model_copy(update={"backup": switch}))
    longer = slot_assigned("m-bk", START, ["TQ-A", "TQ-B-4G"], revision=2)
    ends_later = Window(start=START, end=START + timedelta(hours=3))
    await cases.apply_slot(
        longer.model_copy(update={"slot": longer.slot.model_copy(update={"meeting": ends_later})})
    )

    assert sorted(due for _, due in timers.pending.values()) == [
        START - timedelta(hours=1),
        START,
    ], "this revision's T-1h timer and its opening timer; the earlier ones cancelled"
    backup = store.checklists[checklist_id(meeting_key(TENANT, "m-bk"), "TQ-B-4G")]
    assert (backup["due_at"], backup["backup_for"]) == (START, "TQ-B")
    t_minus_1h = next(i for i, (_, due) in timers.pending.items() if due < START)
    payload = {"meeting_id": "m-bk"}
    fired = Timer(
        id=t_minus_1h, kind=MISSED, due_at=START - timedelta(hours=1), tenant=TENANT,
        payload=payload,
    )  # fmt: skip
    await cases.fire_missed(fired)
    assert [e.endpoint for e in store.outbox] == ["TQ-A"], "no missed for the backup at T-1h"


async def test_a_meetings_readiness_is_read_by_those_it_concerns(cases, store) -> None:
    """As registration shows the meeting: the IT department, a technician of an endpoint
    it is held at, the host unit's clerk and the clerk of a unit whose endpoint it is
    held at; nobody else of the province."""
    for code, unit in (("TQ-A", "VP"), ("TQ-B", "SYT"), ("TQ-C", "SNV")):
        await store.save_snapshot(
            "endpoints", f"{TENANT}:{code}", {"tenant": TENANT, "code": code, "unit": unit}, T0
        )
    await cases.apply_slot(slot_assigned("m-9", START, ["TQ-A", "TQ-B"]))

    def clerk(unit: str) -> Principal:
        return Principal(subject=f"clerk-{unit}", role=Role.REGISTRAR, tenant=TENANT, unit=unit)

    host = slot_assigned("m-9", START, ["TQ-A"]).host_unit
    for reader in (OPERATOR, technician("TQ-B"), clerk(host), clerk("SYT")):
        assert len(await cases.readiness(reader, "m-9")) == 2
    for outsider in (technician("TQ-C"), clerk("SNV")):
        with pytest.raises(Refusal) as refused:
            await cases.readiness(outsider, "m-9")
        assert refused.value.status == 403


async def test_inspections_and_year_reports_are_read_by_their_endpoint_and_unit(
    cases, store
) -> None:
    for endpoint, unit in (("TQ-A", "VP"), ("TQ-B", "SYT")):
        due = report_due(
            ReportKind.ANNUAL_ENDPOINT_REPORT, endpoint, unit, "2026", T0 + timedelta(days=9)
        )
        await cases.open_task(due)
    clerk = Principal(subject="c", role=Role.REGISTRAR, tenant=TENANT, unit="SYT")
    assert len(await cases.annual_reports(OPERATOR, 2026)) == 2
    assert [t["endpoint"] for t in await cases.annual_reports(technician("TQ-A"), 2026)] == ["TQ-A"]
    assert [t["endpoint"] for t in await cases.annual_reports(clerk, 2026)] == ["TQ-B"]

    # an inspection whose plan visits another endpoint is that technician's to read too
    due = report_due(
        ReportKind.PERIODIC_INSPECTION, "TQ-A", "VP", "2026-Q4", T0 + timedelta(days=30)
    )
    await cases.open_task(due)
    [task] = await cases.inspections(OPERATOR, "TQ-A", None)
    assert await cases.inspections(technician("TQ-B"), None, None) == []
    plan = {"planned_at": T0 + timedelta(days=20), "endpoints": ["TQ-A", "TQ-B"]}
    assert await store.update_task(INSPECTIONS, task["_id"], {"plan": plan}, [], {})
    assert [t["endpoint"] for t in await cases.inspections(technician("TQ-B"), None, None)] == [
        "TQ-A"
    ]
