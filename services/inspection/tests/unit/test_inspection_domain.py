"""Inspection's pure rules: checklist plans for changed meetings, merging submissions,
`missed`, supersession, and how the year-end report classifies a checklist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from inspection_samples import T0, TENANT, slot_assigned

from hnth_contracts import (
    BackupSwitch,
    CheckItem,
    ItemResult,
    NoticeAcknowledged,
    NoticeDelivered,
    RuleRef,
    Window,
)
from inspection.domain import checklists, checks, report
from inspection.domain.report import final_result

START = T0 + timedelta(days=3)
DUE = START - timedelta(hours=1)
ALL_OK = {item: ItemResult(ok=True) for item in CheckItem}
RULE = RuleRef(rule="check.lead_time", source="seeds/001")


def test_a_slot_opens_one_checklist_per_endpoint_and_a_redelivery_changes_nothing() -> None:
    slot = slot_assigned("m", START, ["A", "B", "A"])
    plan = checklists.plan_checklists(slot, [], T0, RULE)
    assert [(c["endpoint"], c["due_at"], c["round"]) for c in plan.open] == [
        ("A", DUE, 0),
        ("B", DUE, 0),
    ]
    again = checklists.plan_checklists(slot, plan.open, T0, RULE)
    assert (again.open, again.reopen, again.close) == ([], [], [])
    assert again.keep == plan.open


def test_a_change_reopens_moved_checklists_adds_new_ones_and_closes_dropped_ones() -> None:
    opened = checklists.plan_checklists(slot_assigned("m", START, ["A", "B"]), [], T0, RULE).open
    moved = slot_assigned("m", START + timedelta(days=1), ["A", "C"], revision=1)
    plan = checklists.plan_checklists(moved, opened, T0, RULE)
    assert [(c["endpoint"], c["round"]) for c in plan.reopen] == [("A", 1)]
    assert [c["endpoint"] for c in plan.open] == ["C"]
    assert [c["endpoint"] for c in plan.close] == ["B"]
    assert checklists.plan_checklists(slot_assigned("m", START, ["A"]), plan.reopen, T0, RULE).stale


def test_a_backup_switched_to_in_the_last_hour_is_checked_by_the_opening() -> None:
    opened = checklists.plan_checklists(slot_assigned("m", START, ["A", "B"]), [], T0, RULE).open
    switch = BackupSwitch(replaced="B", backup="B-4G", reason="mất đường truyền", rule=RULE)
    switched = slot_assigned("m", START, ["A", "B-4G"], revision=1).model_copy(
        update={"backup": switch}
    )
    plan = checklists.plan_checklists(switched, opened, DUE + timedelta(minutes=20), RULE)
    [backup] = plan.open
    assert (backup["endpoint"], backup["due_at"]) == ("B-4G", START)
    assert (backup["timer"], backup["backup_for"]) == (checklists.opening_timer(switched), "B")
    assert plan.opening == {"B-4G": "B"}
    assert [c["due_at"] for c in plan.keep] == [DUE]
    assert [c["endpoint"] for c in plan.close] == ["B"]
    # the check deadline's timer, already due, does not decide the backup's check
    assert checks.missed_result(backup, [], DUE) is None


def test_a_later_change_keeps_the_backup_s_check_due_by_the_opening() -> None:
    opened = checklists.plan_checklists(slot_assigned("m", START, ["A", "B"]), [], T0, RULE).open
    switch = BackupSwitch(replaced="B", backup="B-4G", reason="mất đường truyền", rule=RULE)
    switched = slot_assigned("m", START, ["A", "B-4G"], revision=1).model_copy(
        update={"backup": switch}
    )
    now = DUE + timedelta(minutes=20)
    first = checklists.plan_checklists(switched, opened, now, RULE)
    after_switch = [*first.open, *first.keep, *first.close]
    # the end moved: no `backup` on this revision, the start and the backup unchanged
    longer = slot_assigned("m", START, ["A", "B-4G"], revision=2)
    ends_later = Window(start=START, end=START + timedelta(hours=3))
    longer = longer.model_copy(
        update={"slot": longer.slot.model_copy(update={"meeting": ends_later})}
    )
    later = checklists.plan_checklists(longer, after_switch, now, RULE)
    [backup] = [c for c in later.keep if c["endpoint"] == "B-4G"]
    assert (backup["due_at"], backup["backup_for"]) == (START, "B")
    assert backup["timer"] == checklists.opening_timer(longer)
    assert later.reopen == []
    assert later.opening == {"B-4G": "B"}
    assert checks.missed_result(backup, [], DUE) is None
    # the meeting moved to another start: the backup is an endpoint like the others
    moved = slot_assigned("m", START + timedelta(days=1), ["A", "B-4G"], revision=3)
    again = checklists.plan_checklists(moved, [*later.keep, *later.close], now, RULE)
    assert {(c["endpoint"], c["due_at"], c["backup_for"]) for c in again.reopen} == {
        ("A", DUE + timedelta(days=1), None),
        ("B-4G", DUE + timedelta(days=1), None),
    }
    assert again.opening == {}


def test_a_probe_s_partial_result_waits_for_the_rest_and_one_problem_fails() -> None:
    line = checks.evaluate({}, {CheckItem.LINE: ItemResult(ok=True)}, DUE, DUE)
    assert line.outcome is None
    rest = {i: ItemResult(ok=True) for i in CheckItem if i is not CheckItem.LINE}
    assert checks.evaluate(line.items, rest, DUE, DUE).outcome == "passed"
    bad = checks.evaluate(line.items, {CheckItem.AUDIO: ItemResult(ok=False, note="rè")}, DUE, DUE)
    assert (bad.outcome, bad.failed_items) == ("failed", (CheckItem.AUDIO,))
    assert not checks.evaluate({}, ALL_OK, DUE + timedelta(seconds=1), DUE).on_time


def test_missed_then_a_late_submission_that_supersedes_it() -> None:
    [checklist] = checklists.plan_checklists(slot_assigned("m", START, ["A"]), [], T0, RULE).open
    decided = checks.missed_result(checklist, [], DUE)
    assert decided is not None
    missed, [missed_event] = decided
    assert (missed["outcome"], missed_event.on_time, missed_event.supersedes) == (
        "missed",
        False,
        None,
    )
    assert checks.missed_result(checklist, [missed], DUE) is None, "once per round"
    late, [late_event] = checks.submission_result(
        checklist, [missed], ALL_OK, "kt", DUE + timedelta(minutes=5), "s1"
    )
    assert (late["seq"], late_event.outcome, late_event.on_time) == (2, "passed", False)
    assert late_event.supersedes == str(missed_event.event_id)
    assert final_result(checklist, [missed, late], DUE + timedelta(days=1)) == "late"


def test_no_missed_when_the_round_has_a_result_the_deadline_moved_or_it_is_closed() -> None:
    [checklist] = checklists.plan_checklists(slot_assigned("m", START, ["A"]), [], T0, RULE).open
    ok, _ = checks.submission_result(checklist, [], ALL_OK, "kt", DUE, "s1")
    assert checks.missed_result(checklist, [ok], DUE) is None
    assert checks.missed_result(checklist, [], DUE - timedelta(days=1)) is None
    assert checks.missed_result({**checklist, "closed": True}, [], DUE) is None
    assert final_result(checklist, [ok], DUE) == "on_time"
    assert final_result(checklist, [], DUE) == "pending"
    assert final_result(checklist, [], DUE + timedelta(seconds=1)) == "missed"


def test_a_meeting_moved_away_and_back_gets_a_new_deadline_timer_each_revision() -> None:
    """The kit keeps a cancelled timer cancelled: moving back must not reuse its id."""
    key = checklists.meeting_key(TENANT, "m")
    first = checklists.deadline_timer_id(key, 0, DUE)
    away = checklists.deadline_timer_id(key, 1, DUE + timedelta(days=1))
    back = checklists.deadline_timer_id(key, 2, DUE)
    assert len({first, away, back}) == 3
    opened = checklists.plan_checklists(slot_assigned("m", START, ["A"]), [], T0, RULE).open
    assert checklists.timers_to_cancel(opened, away) == {first}
    legacy = [{k: v for k, v in opened[0].items() if k != "timer"}]
    assert checklists.timers_to_cancel(legacy, away) == {checklists.legacy_timer_id("m", DUE)}


def test_checklists_name_the_deadline_rule_the_slot_cited_else_the_policy_s() -> None:
    cited = RuleRef(rule="check.lead_time", source="QĐ 345/QĐ-UBND 2017, Điều 7")
    slot = slot_assigned("m", START, ["A"]).model_copy(update={"rules": (cited,)})
    assert checklists.check_rule(slot, RULE) == cited
    assert checklists.check_rule(slot_assigned("m", START, ["A"]), RULE) == RULE
    [checklist] = checklists.plan_checklists(slot, [], T0, cited).open
    assert (checklist["rule"], checklist["policy"]) == (cited.model_dump(), "tuyen-quang@2017-345")
    _, [event] = checks.submission_result(checklist, [], ALL_OK, "kt", DUE, "s1")
    assert event.rule == cited
    assert checks.board_item(checklist, [], [])["rule"] == cited.model_dump()


def test_the_line_keeps_its_measures_and_a_problem_must_say_what_it_is() -> None:
    line = ItemResult(ok=True, latency_ms=38.5, loss_pct=0.2)
    assert checks.item_record(line) == {
        "ok": True,
        "note": None,
        "latency_ms": 38.5,
        "loss_pct": 0.2,
    }
    assert checks.item_record(ItemResult(ok=True)) == {"ok": True, "note": None}
    silent = {**ALL_OK, CheckItem.AUDIO: ItemResult(ok=False, note="  ")}
    assert checks.missing_notes(silent) == ["audio"]
    assert checks.missing_notes({**ALL_OK, CheckItem.AUDIO: ItemResult(ok=False, note="rè")}) == []


def test_a_figure_beyond_its_limit_fails_the_item_and_the_note_names_it() -> None:
    limits = checks.limits({"check.line_max_latency_ms": 300, "check.line_max_loss_pct": 1})
    assert limits == {"latency_ms": 300.0, "loss_pct": 1.0}
    within = {CheckItem.LINE: ItemResult(ok=True, latency_ms=300, loss_pct=1)}
    assert checks.judged(within, limits) == within  # at the limit is within it
    over = {
        CheckItem.LINE: ItemResult(ok=True, note="đo lúc 7h", latency_ms=301, loss_pct=0.5),
        CheckItem.AUDIO: ItemResult(ok=True),
    }
    judged = checks.judged(over, limits)
    assert judged[CheckItem.AUDIO] == over[CheckItem.AUDIO]
    assert judged[CheckItem.LINE].ok is False
    assert judged[CheckItem.LINE].note == (
        "đo lúc 7h. độ trễ đo được 301 ms vượt giới hạn 300 ms (check.line_max_latency_ms)"
    )
    assert checks.judged(over, {}) == over  # a province without limits judges nothing


def test_notice_figures_count_the_year_s_notices_on_time_and_acknowledged() -> None:
    def delivered(n: int, at: datetime, on_time: bool | None) -> NoticeDelivered:
        return NoticeDelivered.create(
            tenant="tuyen-quang",
            correlation_id="m-1",
            producer="notification",
            notice_id=f"n-{n}",
            meeting_id="m-1",
            kind="meeting_notice",
            recipient_role="technician",
            delivered_at=at,
            on_time=on_time,
        )

    def acked(n: int, at: datetime) -> NoticeAcknowledged:
        return NoticeAcknowledged.create(
            tenant="tuyen-quang",
            correlation_id="m-1",
            producer="notification",
            notice_id=f"n-{n}",
            meeting_id="m-1",
            acknowledged_at=at,
        )

    in_2026 = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
    new_year_local = datetime(2025, 12, 31, 18, 30, tzinfo=UTC)  # 1 Jan 2026, 01:30 local
    events = [
        delivered(1, in_2026, True),
        delivered(2, in_2026, False),
        delivered(3, new_year_local, True),
        delivered(4, in_2026, None),  # the deadline was not known: not judged
        delivered(5, datetime(2025, 12, 31, 16, 0, tzinfo=UTC), True),  # 2025, local
        acked(1, in_2026),
        acked(3, datetime(2027, 1, 2, tzinfo=UTC)),  # acknowledged late still counts
        acked(5, in_2026),
    ]
    rows = [report.notice_fact(e) for e in events]
    assert {r["_id"] for r in rows[:2]} == {"delivered:n-1", "delivered:n-2"}
    figures = report.notice_figures(rows, 2026, ZoneInfo("Asia/Ho_Chi_Minh"))
    assert figures == {
        "notices_delivered": 4,
        "notices_on_time": 2,
        "notices_lead_time_compliance": 0.6667,  # shares are rounded to 4 places
        "notices_acknowledged": 2,
        "notices_acknowledged_share": 0.5,
    }


def test_the_year_report_lists_meetings_with_their_letters_and_counts_them() -> None:
    from inspection.domain.report import Records, meetings_held

    def meeting(meeting_id: str, hours: int, number: str | None) -> dict[str, object]:
        return {
            "_id": meeting_id,
            "start": T0 + timedelta(hours=hours),
            "title": f"Họp {meeting_id}",
            "host_unit": "VP",
            "document_number": number,
            "document_date": "2026-11-30" if number else None,
        }

    records = Records(
        checklists=[],
        results=[],
        incidents=[],
        inspections=[],
        annual=[],
        endpoints={},
        units={},
        meetings=[meeting("m-2", 5, None), meeting("m-1", 1, "45/UBND-TH"), meeting("m-3", 2, "x")],
    )
    held = [{"meeting_id": "m-1"}, {"meeting_id": "m-2"}, {"meeting_id": "m-2"}]  # m-3: cancelled

    listed, figures = meetings_held(records, held, letter_required=True)

    assert [(m["meeting_id"], m["document_number"]) for m in listed] == [
        ("m-1", "45/UBND-TH"),
        ("m-2", None),
    ]
    assert figures == {
        "meetings_with_letter": 1,
        "letters_required": True,
        "letters_compliance": 0.5,
    }
    assert meetings_held(records, held, letter_required=False)[1]["letters_compliance"] is None
