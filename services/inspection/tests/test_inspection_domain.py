"""Inspection's pure rules: checklist plans for changed meetings, merging submissions,
`missed`, supersession, and how the year-end report classifies a checklist."""

from __future__ import annotations

from datetime import timedelta

from inspection_samples import T0, slot_assigned

from hnth_contracts import CheckItem, ItemResult
from inspection import domain
from inspection.report import final_result

START = T0 + timedelta(days=3)
DUE = START - timedelta(hours=1)
ALL_OK = {item: ItemResult(ok=True) for item in CheckItem}


def test_a_slot_opens_one_checklist_per_endpoint_and_a_redelivery_changes_nothing() -> None:
    slot = slot_assigned("m", START, ["A", "B", "A"])
    plan = domain.plan_checklists(slot, [], T0)
    assert [(c["endpoint"], c["due_at"], c["round"]) for c in plan.open] == [
        ("A", DUE, 0),
        ("B", DUE, 0),
    ]
    again = domain.plan_checklists(slot, plan.open, T0)
    assert (again.open, again.reopen, again.close) == ([], [], [])
    assert again.keep == plan.open


def test_a_change_reopens_moved_checklists_adds_new_ones_and_closes_dropped_ones() -> None:
    opened = domain.plan_checklists(slot_assigned("m", START, ["A", "B"]), [], T0).open
    moved = slot_assigned("m", START + timedelta(days=1), ["A", "C"], revision=1)
    plan = domain.plan_checklists(moved, opened, T0)
    assert [(c["endpoint"], c["round"]) for c in plan.reopen] == [("A", 1)]
    assert [c["endpoint"] for c in plan.open] == ["C"]
    assert [c["endpoint"] for c in plan.close] == ["B"]
    assert domain.plan_checklists(slot_assigned("m", START, ["A"]), plan.reopen, T0).stale


def test_a_probe_s_partial_result_waits_for_the_rest_and_one_problem_fails() -> None:
    line = domain.evaluate({}, {CheckItem.LINE: ItemResult(ok=True)}, DUE, DUE)
    assert line.outcome is None
    rest = {i: ItemResult(ok=True) for i in CheckItem if i is not CheckItem.LINE}
    assert domain.evaluate(line.items, rest, DUE, DUE).outcome == "passed"
    bad = domain.evaluate(line.items, {CheckItem.AUDIO: ItemResult(ok=False, note="rè")}, DUE, DUE)
    assert (bad.outcome, bad.failed_items) == ("failed", (CheckItem.AUDIO,))
    assert not domain.evaluate({}, ALL_OK, DUE + timedelta(seconds=1), DUE).on_time


def test_missed_then_a_late_submission_that_supersedes_it() -> None:
    [checklist] = domain.plan_checklists(slot_assigned("m", START, ["A"]), [], T0).open
    decided = domain.missed_result(checklist, [], DUE)
    assert decided is not None
    missed, [missed_event] = decided
    assert (missed["outcome"], missed_event.on_time, missed_event.supersedes) == (
        "missed",
        False,
        None,
    )
    assert domain.missed_result(checklist, [missed], DUE) is None, "once per round"
    late, [late_event] = domain.submission_result(
        checklist, [missed], ALL_OK, "kt", DUE + timedelta(minutes=5), "s1"
    )
    assert (late["seq"], late_event.outcome, late_event.on_time) == (2, "passed", False)
    assert late_event.supersedes == str(missed_event.event_id)
    assert final_result(checklist, [missed, late], DUE + timedelta(days=1)) == "late"


def test_no_missed_when_the_round_has_a_result_the_deadline_moved_or_it_is_closed() -> None:
    [checklist] = domain.plan_checklists(slot_assigned("m", START, ["A"]), [], T0).open
    ok, _ = domain.submission_result(checklist, [], ALL_OK, "kt", DUE, "s1")
    assert domain.missed_result(checklist, [ok], DUE) is None
    assert domain.missed_result(checklist, [], DUE - timedelta(days=1)) is None
    assert domain.missed_result({**checklist, "closed": True}, [], DUE) is None
    assert final_result(checklist, [ok], DUE) == "on_time"
    assert final_result(checklist, [], DUE) == "pending"
    assert final_result(checklist, [], DUE + timedelta(seconds=1)) == "missed"
