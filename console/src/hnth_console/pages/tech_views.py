"""What the technician's pages show and send, decided without I/O: the rows of "my work"
with their check deadlines counting down in words, and the forms read into what
inspection is asked to record (or the reason next to each field that does not read)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hnth_console.meeting_views import notice_in_words
from hnth_console.views import (
    Row,
    alarm,
    awaits_acknowledgement,
    endpoints_of,
    parse_time,
    typed_time,
)

ITEMS = ("line", "audio", "video", "content", "power")
"""The five readiness items (rule 3), in the order the form asks them."""
SEVERITIES = ("low", "medium", "high", "critical")
EFFECTIVENESS = ("very_effective", "effective", "partly_effective", "ineffective")

Errors = dict[str, str]
"""A form field -> the i18n key of why it does not read."""


# ------------------------------------------------------------ my work


def span_words(span: timedelta, lang: str) -> str:
    """A duration as people say it, to the minute: `1 giờ 5 phút` / `1 h 5 min`
    (`1 ngày 2 giờ` / `1 day 2 h` past a day)."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    en = lang == "en"
    parts = []
    if days:
        parts.append(f"{days} {'day' if days == 1 else 'days'}" if en else f"{days} ngày")
    if hours:
        parts.append(f"{hours} h" if en else f"{hours} giờ")
    if (mins or not parts) and not days:  # past a day the minutes do not matter
        parts.append(f"{mins} min" if en else f"{mins} phút")
    return " ".join(parts)


def countdown(due: datetime, now: datetime, lang: str) -> str:
    """The time left to a deadline in words: `còn 25 phút` / `25 min left`, or how long
    ago it passed: `quá hạn 10 phút` / `10 min overdue`."""
    if due >= now:
        left = span_words(due - now, lang)
        return f"{left} left" if lang == "en" else f"còn {left}"
    late = span_words(now - due, lang)
    return f"{late} overdue" if lang == "en" else f"quá hạn {late}"


def deadline(meeting: Row, check: Row | None, lead: timedelta) -> datetime | None:
    """An endpoint's check deadline: inspection's, once its checklist is open, else the
    province's lead time (`check.lead_time`) before the meeting starts."""
    due = parse_time((check or {}).get("due_at"))
    if due is not None:
        return due
    start = parse_time(meeting.get("start"))
    return start - lead if start is not None else None


def work_rows(
    meetings: Iterable[Row],
    readiness: Mapping[str, Sequence[Row] | None],
    mine: Sequence[str],
    now: datetime,
    warn: timedelta,
    lead: timedelta,
    lang: str,
) -> list[dict[str, Any]]:
    """One row per (meeting, endpoint of mine in it), soonest deadline first: the check's
    state (`pending` until inspection has one), its deadline and the countdown in words,
    and the colour (`late`: nothing in and the deadline within `warn` or passed)."""
    rows = []
    for meeting in meetings:
        if meeting.get("status") in ("cancelled", "rejected"):
            continue
        board = {str(c.get("endpoint")): c for c in readiness.get(str(meeting["id"])) or []}
        for endpoint in endpoints_of(meeting):
            if endpoint not in mine:
                continue
            check = board.get(endpoint)
            if check and check.get("closed"):  # no longer asked of this endpoint
                continue
            due = deadline(meeting, check, lead)
            state = str((check or {}).get("state") or "pending")
            shown = {"state": state, "due_at": due.isoformat() if due else None}
            rows.append(
                {
                    "meeting": meeting,
                    "endpoint": endpoint,
                    "state": state,
                    "opened": check is not None,
                    "due": due,
                    "left": countdown(due, now, lang) if due and state == "pending" else "",
                    "alarm": alarm(shown, now, warn),
                    "incidents": (check or {}).get("open_incidents") or [],
                }
            )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    rows.sort(key=lambda r: (r["due"] or far, r["endpoint"]))
    return rows


def ended(meetings: Iterable[Row], now: datetime) -> list[Row]:
    """The meetings that have ended (newest first): those a technician may rate."""
    done = [
        m
        for m in meetings
        if m.get("status") not in ("cancelled", "rejected")
        and (end := parse_time(m.get("end"))) is not None
        and end <= now
    ]
    return sorted(done, key=lambda m: str(m.get("end")), reverse=True)


def open_tasks(tasks: Iterable[Row], mine: Sequence[str]) -> list[Row]:
    """The periodic inspections or annual reports still to hand in for my endpoints,
    soonest first."""
    found = [t for t in tasks if t.get("endpoint") in mine and t.get("state") == "open"]
    return sorted(found, key=lambda t: str(t.get("due_at")))


def handed_in(tasks: Iterable[Row], mine: Sequence[str]) -> list[Row]:
    """The reports my endpoints have handed in, latest first (a report, once in, is read
    there, not asked for again)."""
    found = [t for t in tasks if t.get("endpoint") in mine and t.get("state") == "submitted"]
    return sorted(found, key=lambda t: str(t.get("submitted_at")), reverse=True)


def to_acknowledge(
    meetings: Sequence[Row],
    notices: Sequence[Sequence[Row] | None],
    mine: Sequence[str],
    zone: ZoneInfo,
    t: Callable[[str], str],
) -> list[dict[str, Any]]:
    """The written notices to my endpoints delivered and not yet acknowledged (each once:
    not one a newer notice replaces, not a resend of one listed; not a reminder or an SMS
    copy, which ask for none), with their meeting, soonest meeting first (each as its rows
    say it: what, by which channel)."""
    wanted = {f"technician:{e}" for e in mine}
    found = [
        {"meeting": m, "notice": notice_in_words(n, zone, t)}
        for m, listed in zip(meetings, notices, strict=True)
        for n in listed or []
        if n.get("recipient") in wanted and awaits_acknowledgement(n)
    ]
    return sorted(found, key=lambda x: str(x["meeting"].get("start")))


# ------------------------------------------------------------ the forms


def number(raw: str, low: float, high: float | None) -> float | None:
    """A measured figure as typed (`12`, `0,5`: a comma as the decimal point); None when
    left empty; ValueError when it is no number or out of `low`..`high`."""
    text = raw.strip().replace(",", ".")
    if not text:
        return None
    value = float(text)
    if value != value or value < low or (high is not None and value > high):  # NaN too
        raise ValueError(text)
    return value


def checklist(form: Mapping[str, str]) -> tuple[dict[str, Any], Errors]:
    """The five items as inspection's check route takes them (`{item: {ok, note}}`, the
    line with its latency and loss when measured), and what does not read: an item
    neither OK nor not OK, a problem without a note, a figure out of range."""
    items: dict[str, Any] = {}
    errors: Errors = {}
    for item in ITEMS:
        choice = form.get(f"{item}_ok", "")
        note = form.get(f"{item}_note", "").strip()
        if choice not in ("yes", "no"):
            errors[f"{item}_ok"] = "choose_ok"
            continue
        if choice == "no" and not note:
            errors[f"{item}_note"] = "note_needed"
        items[item] = {"ok": choice == "yes", "note": note or None}
    for field, high in (("latency_ms", None), ("loss_pct", 100.0)):
        try:
            value = number(form.get(field, ""), 0, high)
        except ValueError:
            errors[field] = f"{field}_range"
            continue
        if value is not None and "line" in items:
            items["line"][field] = value
    return items, errors


def local_time(raw: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """A time typed as a day and time (`views.typed_time`) or `HH:MM` (today) in the
    province's zone; None when left empty; ValueError when it does not read."""
    text = raw.strip().replace("T", " ")
    if not text:
        return None
    if len(text) <= 5:
        clock = datetime.strptime(text, "%H:%M")
        return now.astimezone(zone).replace(
            hour=clock.hour, minute=clock.minute, second=0, microsecond=0
        )
    return typed_time(text, zone)


def incident_body(
    form: Mapping[str, str], mine: Sequence[str], zone: ZoneInfo, now: datetime
) -> tuple[dict[str, Any], Errors]:
    """An incident to report (endpoint, what, severity, since when, the meeting if any)."""
    errors: Errors = {}
    body: dict[str, Any] = {
        "endpoint": form.get("endpoint", "").strip(),
        "what": form.get("what", "").strip(),
        "severity": form.get("severity", "medium"),
    }
    if mine and body["endpoint"] not in mine:
        errors["endpoint"] = "not_my_endpoint"
    if not body["what"]:
        errors["what"] = "what_needed"
    if body["severity"] not in SEVERITIES:
        errors["severity"] = "choose_severity"
    if form.get("meeting_id", "").strip():
        body["meeting_id"] = form["meeting_id"].strip()
    try:
        since = local_time(form.get("since", ""), zone, now)
    except ValueError:
        errors["since"] = "time_format"
    else:
        if since is not None and since > now:
            errors["since"] = "not_in_future"
        elif since is not None:
            body["opened_at"] = since.isoformat()
    return body, errors


def resolve_body(form: Mapping[str, str]) -> tuple[dict[str, Any], Errors]:
    """How an incident was resolved: its cause and its fix (both needed)."""
    body = {k: form.get(k, "").strip() for k in ("cause", "fix")}
    return body, {k: f"{k}_needed" for k, v in body.items() if not v}


def inspection_body(form: Mapping[str, str]) -> tuple[dict[str, Any], Errors]:
    """A periodic inspection's result: the five items, the faults found (one a line), the
    fixes made, whether the line provider came."""
    items, errors = checklist(form)
    faults = [{"description": line.strip()} for line in form.get("faults", "").splitlines()]
    fixes = [line.strip() for line in form.get("fixes", "").splitlines()]
    body = {
        "items": items,
        "faults": [f for f in faults if f["description"]],
        "fixes": [f for f in fixes if f],
        "line_provider_present": form.get("line_provider_present") == "yes",
    }
    return body, errors


def annual_body(form: Mapping[str, str]) -> tuple[dict[str, Any], Errors]:
    """An endpoint's year-end evaluation: how effective, the problems, the proposals."""
    body = {k: form.get(k, "").strip() for k in ("effectiveness", "problems", "proposals", "text")}
    errors = {} if body["effectiveness"] in EFFECTIVENESS else {"effectiveness": "choose_one"}
    return body, errors


def feedback_body(form: Mapping[str, str]) -> tuple[dict[str, Any], Errors]:
    """A rating of line, audio and video, 1 (very poor) to 5 (very good), and a comment."""
    body: dict[str, Any] = {"comment": form.get("comment", "").strip()}
    errors: Errors = {}
    for item in ("line", "audio", "video"):
        raw = form.get(item, "")
        if raw not in ("1", "2", "3", "4", "5"):
            errors[item] = "choose_score"
        else:
            body[item] = int(raw)
    return body, errors


def service_errors(errors: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """A service's refusal (`[{field, message, source}]`) by the form field it names:
    `items.audio.note` -> `audio_note`, `opened_at` -> `since`; its message and the
    rule's source as one sentence."""
    renamed = {"opened_at": "since", "resolved_at": "fix"}
    found: dict[str, str] = {}
    for error in errors:
        field = str(error.get("field") or "")
        parts = field.split(".")
        if parts[0] == "items" and len(parts) >= 2:
            name = f"{parts[1]}_{parts[2] if len(parts) > 2 else 'ok'}"
            if len(parts) > 2 and parts[2] in ("latency_ms", "loss_pct"):
                name = parts[2]
        else:
            name = renamed.get(parts[-1], parts[-1])
        words = str(error.get("message") or "")
        if error.get("source"):
            words = f"{words} ({error['source']})"
        found[name] = words
    return found
