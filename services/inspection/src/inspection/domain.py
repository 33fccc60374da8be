"""Inspection's rules, pure: readiness checklists due at T-1h (rule 3), periodic
inspections (rule 4), incidents, and the year-end tasks (rule 7).

A checklist's history is an append-only list of results (`check_results`): every
submission and every `missed` is one entry, and the newest entry of the current round
is the checklist's state. A round starts when the checklist opens or its deadline
moves (a changed meeting): results of an earlier round no longer say the room is
ready for the new time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hnth_contracts import (
    CheckCompleted,
    CheckItem,
    CheckOutcome,
    ItemResult,
    ReportDue,
    RuleRef,
    SlotAssigned,
)

Document = dict[str, Any]
PRODUCER = "inspection"
ITEMS: tuple[str, ...] = tuple(item.value for item in CheckItem)
CHECK_RULE = "check.lead_time"
"""The policy rule that sets the check deadline (rule 3: done by start - 1 h)."""
NOTE_RULE = "check.problem_note"
"""The policy rule that asks a problem to say what it is."""
MEASURES = ("latency_ms", "loss_pct")
"""What a line check may measure, kept only when given."""
SEVERITIES = ("low", "medium", "high", "critical")


def checklist_id(meeting_id: str, endpoint: str) -> str:
    return f"{meeting_id}:{endpoint}"


def result_id(checklist_id: str, seq: int) -> str:
    return f"{checklist_id}#{seq:05d}"


def deadline_timer_id(meeting_id: str, revision: int, due_at: datetime) -> str:
    """One timer per meeting revision and check deadline: it decides `missed` for every
    endpoint. The revision is in the id because a cancelled timer stays cancelled (the
    kit keeps it so a second `schedule` is a no-op): a meeting moved away and back to
    its first time needs a new timer, not the cancelled one."""
    return f"missed:{meeting_id}:r{revision}:{due_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def legacy_timer_id(meeting_id: str, due_at: datetime) -> str:
    """The id checklists written before the revision was in it used (no `timer` field)."""
    return f"missed:{meeting_id}:{due_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def timer_of(checklist: Mapping[str, Any]) -> str:
    found = checklist.get("timer")
    return str(found) if found else legacy_timer_id(checklist["meeting_id"], checklist["due_at"])


def timers_to_cancel(existing: Sequence[Document], keep: str) -> set[str]:
    """The deadline timers of earlier revisions: every one but the one now scheduled."""
    return {timer_of(c) for c in existing} - {keep}


def check_rule(slot: SlotAssigned, policy_ref: RuleRef) -> RuleRef:
    """The check-deadline rule as scheduling cited it on the slot, else from the policy."""
    return next((r for r in slot.rules if r.rule == CHECK_RULE), policy_ref)


def missed_marker(checklist: Mapping[str, Any]) -> str:
    """At most one `missed` per checklist and round, whichever replica or timer decides."""
    return f"missed:{checklist['_id']}:{checklist['round']}"


# ---------------------------------------------------------------- checklists


@dataclass
class ChecklistPlan:
    """What a SlotAssigned does to a meeting's checklists (re-running it changes nothing)."""

    open: list[Document] = field(default_factory=list)
    reopen: list[Document] = field(default_factory=list)
    """Checklists whose deadline moved (or that come back): a new round, state pending."""
    keep: list[Document] = field(default_factory=list)
    close: list[Document] = field(default_factory=list)
    stale: bool = False
    """An older revision than the one applied: nothing to do."""


def plan_checklists(
    slot: SlotAssigned, existing: Sequence[Document], now: datetime, rule: RuleRef
) -> ChecklistPlan:
    """Open one checklist per endpoint, move those whose deadline changed, close the
    endpoints the meeting no longer uses. Each names the deadline's `rule` and source."""
    applied = max((c["revision"] for c in existing), default=-1)
    if slot.revision < applied:
        return ChecklistPlan(stale=True)
    plan = ChecklistPlan()
    by_endpoint = {c["endpoint"]: c for c in existing}
    common = {
        "revision": slot.revision,
        "due_at": slot.check_deadline,
        "meeting_start": slot.slot.meeting.start,
        "meeting_end": slot.slot.meeting.end,
        "title": slot.title,
        "host_unit": slot.host_unit,
        "closed": False,
        "closed_reason": None,
        "timer": deadline_timer_id(slot.meeting_id, slot.revision, slot.check_deadline),
        "rule": rule.model_dump(),
        "policy": slot.policy,
    }
    for code in dict.fromkeys(slot.endpoints):
        current = by_endpoint.get(code)
        if current is None:
            plan.open.append(
                {
                    "_id": checklist_id(slot.meeting_id, code),
                    "tenant": slot.tenant,
                    "meeting_id": slot.meeting_id,
                    "endpoint": code,
                    "round": slot.revision,
                    "opened_at": now,
                    **common,
                }
            )
        elif current["closed"] or current["due_at"] != slot.check_deadline:
            plan.reopen.append({**current, **common, "round": slot.revision})
        else:
            plan.keep.append({**current, **common})
    wanted = set(slot.endpoints)
    plan.close = [c for c in existing if c["endpoint"] not in wanted and not c["closed"]]
    return plan


@dataclass(frozen=True)
class Verdict:
    items: dict[str, Document | None]
    outcome: CheckOutcome | None
    """None while the checklist is incomplete and nothing failed: nothing to announce."""
    failed_items: tuple[CheckItem, ...]
    on_time: bool


def evaluate(
    previous: Mapping[str, Document | None],
    submitted: Mapping[CheckItem, ItemResult],
    submitted_at: datetime,
    due_at: datetime,
) -> Verdict:
    """Merge a submission into this round's items: failed as soon as one item is not ok,
    passed once all five are ok (a probe may report the line, the technician the rest)."""
    items: dict[str, Document | None] = {name: previous.get(name) for name in ITEMS}
    for item, result in submitted.items():
        items[item.value] = item_record(result)
    failed = tuple(CheckItem(n) for n in ITEMS if items[n] is not None and not items[n]["ok"])  # type: ignore[index]
    if failed:
        outcome: CheckOutcome | None = CheckOutcome.FAILED
    elif all(items[n] is not None for n in ITEMS):
        outcome = CheckOutcome.PASSED
    else:
        outcome = None
    return Verdict(items, outcome, failed, on_time=submitted_at <= due_at)


def item_record(result: ItemResult) -> Document:
    """An item as stored and shown: ok and note, with the line's measures when given."""
    record: Document = {"ok": result.ok, "note": result.note}
    for measure in MEASURES:
        if getattr(result, measure) is not None:
            record[measure] = getattr(result, measure)
    return record


def missing_notes(submitted: Mapping[CheckItem, ItemResult]) -> list[str]:
    """The items reported as a problem without saying what it is (policy
    `check.problem_note`: a person fixing it must know what failed)."""
    return [i.value for i, r in submitted.items() if not r.ok and not (r.note or "").strip()]


def current_round(checklist: Mapping[str, Any], results: Sequence[Document]) -> list[Document]:
    return [r for r in results if r["round"] == checklist["round"]]


def last_announced(results: Sequence[Document]) -> str | None:
    """The event id of the newest CheckCompleted: the one a new result supersedes."""
    for result in reversed(results):
        if result.get("event_id"):
            return str(result["event_id"])
    return None


def submission_result(
    checklist: Mapping[str, Any],
    results: Sequence[Document],
    submitted: Mapping[CheckItem, ItemResult],
    by: str,
    at: datetime,
    marker: str,
) -> tuple[Document, list[CheckCompleted]]:
    """The result entry for a submission, and the CheckCompleted it causes (if complete)."""
    this_round = current_round(checklist, results)
    previous = this_round[-1]["items"] if this_round else {}
    verdict = evaluate(previous, submitted, at, checklist["due_at"])
    entry = _entry(checklist, results, marker, "submission", verdict.outcome, verdict.items)
    entry.update(checked_by=by, checked_at=at, on_time=verdict.on_time)
    entry["failed_items"] = [i.value for i in verdict.failed_items]
    return entry, _announce(checklist, entry, results)


def missed_result(
    checklist: Mapping[str, Any], results: Sequence[Document], due_at: datetime
) -> tuple[Document, list[CheckCompleted]] | None:
    """`missed` when the deadline `due_at` passed with no complete result in this round."""
    if checklist["closed"] or checklist["due_at"] != due_at:
        return None  # closed, or its deadline moved: another timer decides
    if any(r.get("outcome") for r in current_round(checklist, results)):
        return None
    marker = missed_marker(checklist)
    entry = _entry(checklist, results, marker, "missed", CheckOutcome.MISSED, {})
    entry.update(checked_by=None, checked_at=None, on_time=False, failed_items=[])
    return entry, _announce(checklist, entry, results)


def _entry(
    checklist: Mapping[str, Any],
    results: Sequence[Document],
    marker: str,
    kind: str,
    outcome: CheckOutcome | None,
    items: Mapping[str, Document | None],
) -> Document:
    seq = (results[-1]["seq"] + 1) if results else 1
    return {
        "_id": result_id(checklist["_id"], seq),
        "seq": seq,
        "marker": marker,
        "tenant": checklist["tenant"],
        "checklist_id": checklist["_id"],
        "meeting_id": checklist["meeting_id"],
        "endpoint": checklist["endpoint"],
        "round": checklist["round"],
        "due_at": checklist["due_at"],
        "kind": kind,
        "outcome": outcome.value if outcome else None,
        "items": dict(items),
        "rule": checklist.get("rule"),
    }


def _announce(
    checklist: Mapping[str, Any], entry: Document, results: Sequence[Document]
) -> list[CheckCompleted]:
    if entry["outcome"] is None:
        entry["event_id"] = None
        return []
    event = CheckCompleted.create(
        tenant=checklist["tenant"],
        correlation_id=checklist["meeting_id"],
        producer=PRODUCER,
        occurred_at=entry["checked_at"] or entry["due_at"],
        meeting_id=checklist["meeting_id"],
        endpoint=checklist["endpoint"],
        outcome=entry["outcome"],
        failed_items=tuple(entry["failed_items"]),
        due_at=checklist["due_at"],
        checked_at=entry["checked_at"],
        checked_by=entry["checked_by"],
        on_time=entry["on_time"],
        supersedes=last_announced(results),
        rule=RuleRef.model_validate(checklist["rule"]) if checklist.get("rule") else None,
    )
    entry["event_id"] = str(event.event_id)
    return [event]


def board_item(
    checklist: Mapping[str, Any], results: Sequence[Document], incidents: Sequence[Document]
) -> Document:
    """One endpoint on a meeting's readiness board."""
    this_round = current_round(checklist, results)
    latest = this_round[-1] if this_round else None
    announced = next((r for r in reversed(this_round) if r.get("outcome")), None)
    return {
        "endpoint": checklist["endpoint"],
        "state": announced["outcome"] if announced else "pending",
        "due_at": checklist["due_at"],
        "checked_by": latest["checked_by"] if latest else None,
        "checked_at": latest["checked_at"] if latest else None,
        "items": (latest or {}).get("items") or {name: None for name in ITEMS},
        "failed_items": announced["failed_items"] if announced else [],
        "on_time": announced["on_time"] if announced else None,
        "closed": checklist["closed"],
        "closed_reason": checklist["closed_reason"],
        "rule": checklist.get("rule"),
        "open_incidents": [
            {
                "id": i["_id"],
                **{k: i.get(k) for k in ("what", "severity", "opened_at", "meeting_id")},
            }
            for i in incidents
            if i["endpoint"] == checklist["endpoint"]
        ],
    }


# ---------------------------------------------------------------- tasks from ReportDue


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


# ---------------------------------------------------------------- quality feedback (rule 9)

ASPECTS = ("line", "audio", "video")
"""What an endpoint's technician rates after a meeting, 1 (bad) to 5 (very good)."""
HOST = "host"
"""The host unit's overall rating of the meeting (one per meeting)."""


def feedback_id(tenant: str, meeting_id: str, endpoint: str | None) -> str:
    """One feedback per endpoint per meeting (and one from the host): a change replaces it."""
    return f"{tenant}:{meeting_id}:{endpoint or HOST}"


def feedback_entry(
    meeting: Mapping[str, Any],
    *,
    endpoint: str | None,
    scores: Mapping[str, int],
    comment: str,
    by: str,
    now: datetime,
) -> Document:
    """The feedback as stored: an endpoint's line/audio/video, or the host unit's overall
    rating (`endpoint` None), with what the report groups it by."""
    return {
        "_id": feedback_id(meeting["tenant"], meeting["_id"], endpoint),
        "tenant": meeting["tenant"],
        "meeting_id": meeting["_id"],
        "meeting_start": meeting["start"],
        "kind": "endpoint" if endpoint else HOST,
        "endpoint": endpoint,
        "unit": meeting.get("host_unit") if endpoint is None else None,
        **{k: int(v) for k, v in scores.items()},
        "comment": comment,
        "by": by,
        "at": now,
    }


def feedback_refusal(
    meeting: Mapping[str, Any] | None, endpoint: str | None, cancelled: bool, now: datetime
) -> tuple[int, str, str, str] | None:
    """Why feedback cannot be given now (status, code, vi, en), or None: the meeting must
    be known, held (not cancelled), over, and the endpoint one of its participants."""
    if meeting is None or "end" not in meeting:
        return 404, "not_found", "Không tìm thấy cuộc họp.", "No such meeting."
    if cancelled:
        return 409, "cancelled", "Cuộc họp đã bị hủy.", "The meeting was cancelled."
    if now < meeting["end"]:
        return (
            409,
            "not_over",
            "Chỉ đánh giá chất lượng sau khi cuộc họp kết thúc.",
            "Quality is rated after the meeting ends.",
        )
    if endpoint is not None and endpoint not in meeting["endpoints"]:
        return (
            404,
            "unknown_endpoint",
            f"Điểm cầu {endpoint} không tham gia cuộc họp.",
            f"Endpoint {endpoint} did not take part in the meeting.",
        )
    return None
