"""The provincial year-end report (rule 7), pure: computed from this service's own
records (checklists and their results, incidents, inspections, the units' evaluations).

Per checklist of a meeting held in the year, its final result is one of:
`on_time` (passed by the deadline), `failed` (finished by the deadline, something not
ok), `late` (first finished after the deadline, superseding `missed`), `missed` (never
finished). The compliance figures the province is judged on:
- checks: share of meetings held whose checks were all finished by the deadline (T-1h);
- inspections: share of endpoints with inspections due whose inspections were all done
  by their due date;
- written notices (rule 2): share of the meetings' written notices delivered at least the
  lead time ahead (`notice.lead_time`), and share of them acknowledged by their recipient
  (notification's NoticeDelivered / NoticeAcknowledged facts);
- official letters (rule 1): every meeting held with its số, ngày công văn, and the share
  that came with one where the province requires it (`registration.official_letter`).

Quality feedback (rule 9): the average of line, audio and video per endpoint and per
quarter (of the meeting's local date), the worst endpoints, and recurring complaints (the
same aspect of the same endpoint rated 1-2 in two meetings or more).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hnth_contracts import NoticeAcknowledged, NoticeDelivered
from inspection.domain import Document
from inspection.domain.checklists import meeting_id_of
from inspection.domain.feedback import ASPECTS, HOST
from inspection.domain.tasks import on_schedule

OUTCOMES = ("on_time", "late", "missed", "failed")


@dataclass(frozen=True)
class Records:
    """Everything the report is computed from, for one province and year."""

    checklists: Sequence[Document]
    results: Sequence[Document]
    incidents: Sequence[Document]
    inspections: Sequence[Document]
    annual: Sequence[Document]
    endpoints: Mapping[str, Document]
    """The directory: endpoint code -> {name, unit, active}."""
    units: Mapping[str, Document]
    feedback: Sequence[Document] = ()
    """Quality ratings after meetings (rule 9): endpoints' line/audio/video, hosts' overall."""
    meetings: Sequence[Document] = ()
    """This service's meeting records (title, host, official letter) of the year."""
    notices: Sequence[Document] = ()
    """Facts about written notices (`notice_fact`): delivered in the year, acknowledged."""


def notice_fact(event: NoticeDelivered | NoticeAcknowledged) -> Document:
    """The row a notice fact is kept as, one per notice and fact."""
    if isinstance(event, NoticeDelivered):
        fact, at = "delivered", event.delivered_at
        extra: Document = {
            "on_time": event.on_time,
            "kind": event.kind,
            "role": event.recipient_role,
        }
    else:
        fact, at, extra = "acknowledged", event.acknowledged_at, {}
    return {
        "_id": f"{fact}:{event.notice_id}",
        "tenant": event.tenant,
        "fact": fact,
        "notice_id": event.notice_id,
        "meeting_id": event.meeting_id,
        "at": at,
        **extra,
    }


def notice_figures(facts: Iterable[Document], year: int, tz: ZoneInfo) -> Document:
    """Rule 2's compliance: of the written notices delivered in the year, how many by the
    lead time (of those whose deadline was known) and how many acknowledged."""
    facts = list(facts)
    delivered = [f for f in facts if f["fact"] == "delivered" and in_year(f["at"], year, tz)]
    acknowledged = {f["notice_id"] for f in facts if f["fact"] == "acknowledged"}
    judged = [f for f in delivered if f.get("on_time") is not None]
    on_time = sum(1 for f in judged if f["on_time"])
    acked = sum(1 for f in delivered if f["notice_id"] in acknowledged)
    return {
        "notices_delivered": len(delivered),
        "notices_on_time": on_time,
        "notices_lead_time_compliance": share(on_time, len(judged)),
        "notices_acknowledged": acked,
        "notices_acknowledged_share": share(acked, len(delivered)),
    }


def in_year(when: datetime | None, year: int, tz: ZoneInfo) -> bool:
    return when is not None and when.astimezone(tz).year == year


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def final_result(checklist: Mapping[str, Any], results: Sequence[Document], now: datetime) -> str:
    """`on_time`, `late`, `missed`, `failed`, or `pending` (not due yet)."""
    announced = [
        r for r in results if r["round"] == checklist["round"] and r.get("outcome") is not None
    ]
    if not announced:
        return "missed" if now > checklist["due_at"] else "pending"
    last = announced[-1]
    if last["outcome"] == "missed":
        return "missed"
    if not last["on_time"]:
        return "late"
    return "failed" if last["outcome"] == "failed" else "on_time"


def meetings_held(
    records: Records, held: Sequence[Document], letter_required: bool
) -> tuple[list[Document], Document]:
    """The meetings held, each with its official letter (số, ngày công văn), and how many
    came with one: a share of the meetings where the province's regulation requires it
    (`registration.official_letter`), none where it does not."""
    ids = {c["meeting_id"] for c in held}
    listed = [
        {
            "meeting_id": meeting_id_of(m),
            "title": m.get("title") or meeting_id_of(m),
            "start": m["start"],
            "host_unit": m.get("host_unit"),
            "document_number": m.get("document_number"),
            "document_date": m.get("document_date"),
        }
        for m in sorted(records.meetings, key=lambda m: (m["start"], meeting_id_of(m)))
        if meeting_id_of(m) in ids
    ]
    with_letter = sum(1 for m in listed if m["document_number"] and m["document_date"])
    figures = {
        "meetings_with_letter": with_letter,
        "letters_required": letter_required,
        "letters_compliance": share(with_letter, len(listed)) if letter_required else None,
    }
    return listed, figures


def compile_report(
    records: Records, year: int, tz_name: str, now: datetime, letter_required: bool = False
) -> Document:
    tz = ZoneInfo(tz_name)
    by_checklist: dict[str, list[Document]] = defaultdict(list)
    for result in sorted(records.results, key=lambda r: r["seq"]):
        by_checklist[result["checklist_id"]].append(result)
    held = [
        c
        for c in records.checklists
        if not c["closed"] and in_year(c["meeting_start"], year, tz) and c["meeting_start"] <= now
    ]
    finals = {c["_id"]: final_result(c, by_checklist[c["_id"]], now) for c in held}
    incidents = [i for i in records.incidents if in_year(i["opened_at"], year, tz)]
    inspections = [t for t in records.inspections if in_year(t["due_at"], year, tz)]
    annual = [t for t in records.annual if t["year"] == str(year)]

    codes = sorted(
        {c for c, e in records.endpoints.items() if e.get("active", True)}
        | {c["endpoint"] for c in held}
        | {t["endpoint"] for t in (*inspections, *annual) if t.get("endpoint")}
        | {i["endpoint"] for i in incidents}
    )
    feedback = [
        f for f in records.feedback if in_year(f["meeting_start"], year, tz) and f["at"] <= now
    ]
    rated = [f for f in feedback if f["kind"] != HOST]
    codes = sorted(set(codes) | {f["endpoint"] for f in rated})
    rows = [
        _endpoint_row(code, records, held, finals, incidents, inspections, annual)
        | _quality_of([f for f in rated if f["endpoint"] == code], tz)
        for code in codes
    ]
    province = _province(held, finals, incidents, inspections, rows)
    province |= notice_figures(records.notices, year, tz)
    meetings, letters = meetings_held(records, held, letter_required)
    province |= letters
    hosts = [f["overall"] for f in feedback if f["kind"] == HOST]
    province |= {
        "feedback": len(rated),
        "quality_average": _average(quality(f) for f in rated),
        "host_ratings": len(hosts),
        "host_overall_average": _average(hosts),
    }
    return {
        "year": year,
        "compiled_at": now,
        "timezone": tz_name,
        "province": province,
        "endpoints": rows,
        "meetings": meetings,
        "quality": {
            "by_quarter": _by_quarter(rated, tz),
            "worst_endpoints": worst_endpoints(rows),
            "recurring_complaints": recurring_complaints(rated),
        },
        "proposals": [
            {
                "endpoint": t["endpoint"],
                "unit": t.get("unit"),
                **{k: (t.get("evaluation") or {}).get(k) for k in _EVALUATION},
            }
            for t in sorted(annual, key=lambda t: str(t["endpoint"]))
            if t["state"] == "submitted"
        ],
        "not_reported": [r["endpoint"] for r in rows if not r["reported"]],
    }


_EVALUATION = ("effectiveness", "problems", "proposals", "text")


def _count(finals: Iterable[str]) -> dict[str, int]:
    counted = dict.fromkeys(OUTCOMES, 0)
    for final in finals:
        if final in counted:
            counted[final] += 1
    return counted


def _hours_to_resolve(incidents: Iterable[Document]) -> float | None:
    spans = [
        (i["resolved_at"] - i["opened_at"]).total_seconds() / 3600
        for i in incidents
        if i.get("resolved_at")
    ]
    return round(sum(spans) / len(spans), 2) if spans else None


def _endpoint_row(
    code: str,
    records: Records,
    held: Sequence[Document],
    finals: Mapping[str, str],
    incidents: Sequence[Document],
    inspections: Sequence[Document],
    annual: Sequence[Document],
) -> Document:
    entry = records.endpoints.get(code, {})
    mine = [c for c in held if c["endpoint"] == code]
    own_incidents = [i for i in incidents if i["endpoint"] == code]
    own_inspections = [t for t in inspections if t["endpoint"] == code]
    reports = [t for t in annual if t["endpoint"] == code]
    unit = entry.get("unit") or next((t.get("unit") for t in reports if t.get("unit")), None)
    return {
        "endpoint": code,
        "name": entry.get("name") or code,
        "unit": unit,
        "unit_name": (records.units.get(unit or "") or {}).get("name") or unit,
        "meetings": len({c["meeting_id"] for c in mine}),
        **{f"checks_{k}": v for k, v in _count(finals[c["_id"]] for c in mine).items()},
        "incidents": len(own_incidents),
        "incidents_resolved": sum(1 for i in own_incidents if i.get("resolved_at")),
        "hours_to_resolve": _hours_to_resolve(own_incidents),
        "inspections_due": len(own_inspections),
        "inspections_done": sum(1 for t in own_inspections if t["state"] == "done"),
        "inspections_on_schedule": sum(1 for t in own_inspections if on_schedule(t)),
        "reported": any(t["state"] == "submitted" for t in reports),
        "effectiveness": next(
            ((t.get("evaluation") or {}).get("effectiveness") for t in reports if t["evaluation"]),
            None,
        ),
    }


def _province(
    held: Sequence[Document],
    finals: Mapping[str, str],
    incidents: Sequence[Document],
    inspections: Sequence[Document],
    rows: Sequence[Document],
) -> Document:
    meetings: dict[str, list[str]] = defaultdict(list)
    for c in held:
        meetings[c["meeting_id"]].append(finals[c["_id"]])
    finished = sum(1 for fs in meetings.values() if all(f in ("on_time", "failed") for f in fs))
    due_endpoints = [r for r in rows if r["inspections_due"]]
    inspected = sum(
        1 for r in due_endpoints if r["inspections_on_schedule"] == r["inspections_due"]
    )
    counted = _count(finals.values())
    return {
        "meetings_held": len(meetings),
        "checks": len(held),
        **{f"checks_{k}": v for k, v in counted.items()},
        "meetings_checked_on_time": finished,
        "checks_compliance": share(finished, len(meetings)),
        "incidents": len(incidents),
        "incidents_resolved": sum(1 for i in incidents if i.get("resolved_at")),
        "incidents_open": sum(1 for i in incidents if not i.get("resolved_at")),
        "hours_to_resolve": _hours_to_resolve(incidents),
        "inspections_due": len(inspections),
        "inspections_done": sum(1 for t in inspections if t["state"] == "done"),
        "inspections_on_schedule": sum(1 for t in inspections if on_schedule(t)),
        "endpoints_with_inspections": len(due_endpoints),
        "endpoints_inspected_on_schedule": inspected,
        "inspections_compliance": share(inspected, len(due_endpoints)),
        "endpoints": len(rows),
        "endpoints_reported": sum(1 for r in rows if r["reported"]),
    }


# ---------------------------------------------------------------- quality feedback

COMPLAINT = 2
"""A rating of 1 or 2 is a complaint about that aspect."""
WORST = 5


def quality(feedback: Mapping[str, Any]) -> float:
    """One endpoint's rating of one meeting: the mean of line, audio and video."""
    return sum(int(feedback[a]) for a in ASPECTS) / len(ASPECTS)


def quarter(when: datetime, tz: ZoneInfo) -> str:
    return f"Q{(when.astimezone(tz).month - 1) // 3 + 1}"


def _average(values: Iterable[float]) -> float | None:
    found = list(values)
    return round(sum(found) / len(found), 2) if found else None


def _by_quarter(rated: Sequence[Document], tz: ZoneInfo) -> dict[str, float | None]:
    return {
        q: _average(quality(f) for f in rated if quarter(f["meeting_start"], tz) == q)
        for q in ("Q1", "Q2", "Q3", "Q4")
    }


def _quality_of(rated: Sequence[Document], tz: ZoneInfo) -> Document:
    """An endpoint's quality figures for the year."""
    return {
        "feedback": len(rated),
        "quality_average": _average(quality(f) for f in rated),
        **{f"{a}_average": _average(int(f[a]) for f in rated) for a in ASPECTS},
        "quality_by_quarter": _by_quarter(rated, tz),
    }


def worst_endpoints(rows: Sequence[Document], limit: int = WORST) -> list[Document]:
    """The endpoints rated lowest on average (only those rated), worst first."""
    rated = [r for r in rows if r["quality_average"] is not None]
    rated.sort(key=lambda r: (r["quality_average"], r["endpoint"]))
    return [
        {k: r[k] for k in ("endpoint", "name", "unit_name", "feedback", "quality_average")}
        for r in rated[:limit]
    ]


def recurring_complaints(rated: Sequence[Document]) -> list[Document]:
    """Aspects of an endpoint rated 1-2 in two meetings or more, most frequent first."""
    found: dict[tuple[str, str], list[Document]] = defaultdict(list)
    for f in sorted(rated, key=lambda f: f["meeting_start"]):
        for aspect in ASPECTS:
            if int(f[aspect]) <= COMPLAINT:
                found[(f["endpoint"], aspect)].append(f)
    return sorted(
        (
            {
                "endpoint": endpoint,
                "aspect": aspect,
                "count": len(entries),
                "meetings": [f["meeting_id"] for f in entries],
                "comments": [f["comment"] for f in entries if f.get("comment")],
            }
            for (endpoint, aspect), entries in found.items()
            if len(entries) >= 2
        ),
        key=lambda c: (-c["count"], c["endpoint"], c["aspect"]),
    )
