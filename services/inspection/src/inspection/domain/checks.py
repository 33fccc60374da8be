"""Check results: every submission and every `missed` is one entry of a checklist's
history; the newest entry of the current round is the checklist's state, and a complete
one is announced as CheckCompleted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hnth_contracts import CheckCompleted, CheckItem, CheckOutcome, ItemResult, RuleRef
from hnth_contracts.rules import LINE_LIMIT_RULES, Breach
from inspection.domain import PRODUCER, Document
from inspection.domain.checklists import ITEMS, missed_marker, result_id

NOTE_RULE = "check.problem_note"
"""The policy rule that asks a problem to say what it is."""
MEASURES = ("latency_ms", "loss_pct")
"""What a line check may measure, kept only when given."""


_OVER = {
    "latency_ms": "độ trễ đo được {v:g} ms vượt giới hạn {limit:g} ms",
    "loss_pct": "mất gói đo được {v:g}% vượt giới hạn {limit:g}%",
}
"""A figure beyond its limit, as the note says it (notes are the province's language)."""


def limits(policy_values: Mapping[str, Any]) -> dict[str, float]:
    """measure -> the maximum the province's policy (`rule -> value`) sets for it."""
    return {m: float(policy_values[r]) for m, r in LINE_LIMIT_RULES.items() if r in policy_values}


def judged(
    submitted: Mapping[CheckItem, ItemResult], limits: Mapping[str, float]
) -> dict[CheckItem, ItemResult]:
    """The submission with every item measured beyond its limit (`limits`: measure ->
    the policy's maximum) turned into a problem whose note names the figure and the rule:
    a line at 900 ms is not fit for a meeting, whatever box was ticked."""
    out: dict[CheckItem, ItemResult] = {}
    for item, result in submitted.items():
        over = [
            (measure, value, limits[measure])
            for measure in MEASURES
            if (value := getattr(result, measure)) is not None
            and measure in limits
            and value > limits[measure]
        ]
        if not over:
            out[item] = result
            continue
        said = "; ".join(
            f"{_OVER[m].format(v=v, limit=lim)} ({LINE_LIMIT_RULES[m]})" for m, v, lim in over
        )
        given = (result.note or "").strip()
        note = f"{given}. {said}" if given else said
        out[item] = result.model_copy(update={"ok": False, "note": note[:2000]})
    return out


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


def note_breach(submitted: Mapping[CheckItem, ItemResult], field: str) -> Breach | None:
    """The first item reported as a problem without a note, as the broken rule."""
    missing = missing_notes(submitted)
    if not missing:
        return None
    return Breach(
        NOTE_RULE,
        f"{field}.{missing[0]}.note",
        f"Hạng mục '{missing[0]}' không đạt: cần ghi rõ lỗi (note).",
        f"Item '{missing[0]}' is not ok: say what the problem is (note).",
    )
