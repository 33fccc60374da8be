"""What the clerk's pages show, decided from the services' answers: the free windows by
day, a meeting form filled from a picked window, a notice's state and a check's state in
words. Pure functions (no I/O), given `now` and the province's zone."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hnth_console.i18n import Translate
from hnth_console.views import awaits_acknowledgement, endpoints_of, parse_time, shown_time
from hnth_contracts import priority, rules
from hnth_contracts.policy import Policy

Row = Mapping[str, Any]
LENGTHS = (30, 60, 90, 120, 180, 240)
"""The meeting lengths (minutes) the finder and the form offer."""
FINDER_DAYS = (3, 7, 14)
"""How many days ahead the finder may look (scheduling answers at most 14)."""


FILLING_IN = timedelta(minutes=15)
"""Time a person takes from the finder's answer to sending the form. The finder offers
windows from the lead time's end plus this: a window starting right at that end would
be inside the lead time, and refused, by the time the form arrives."""


def finder_range(
    today: date, days: int, zone: ZoneInfo, not_before: datetime
) -> tuple[datetime, datetime]:
    """From the start of `today` (local) for `days` days (bounded to 1..14), starting no
    earlier than `not_before` (never past the range's end)."""
    days = min(max(days, 1), 14)
    start = datetime.combine(today, time(0), zone)
    end = start + timedelta(days=days)
    return min(max(start, not_before), end), end


OFFICE = ("07:30", "17:00")
"""Office hours for a province whose policy gives none."""


def office_hours(policy: Policy) -> tuple[str, str]:
    """The province's office hours (`meeting.office_hours`): the finder searches them
    unless the person widens the search."""
    if rules.OFFICE_HOURS not in policy.rules:
        return OFFICE
    value = policy.value(rules.OFFICE_HOURS)
    return str(value["from"]), str(value["to"])


def duration_of(minutes: int) -> str:
    """ISO 8601 for scheduling: `PT90M`."""
    return f"PT{minutes}M"


def windows_by_day(windows: Iterable[Row], zone: ZoneInfo, t: Translate) -> list[dict[str, Any]]:
    """The free windows under their local day (`Thứ Năm 10/12/2026`), each with the value
    the pick carries (its start, local `DD/MM/YYYY HH:MM`, as the form asks it typed) and
    its words."""
    days: dict[date, dict[str, Any]] = {}
    for n, window in enumerate(windows):
        start, end = parse_time(window.get("start")), parse_time(window.get("end"))
        if start is None or end is None:
            continue
        start, end = start.astimezone(zone), end.astimezone(zone)
        day = days.setdefault(
            start.date(),
            {
                "label": f"{t(f'weekday_{start.weekday()}')} {start:%d/%m/%Y}",
                "windows": [],
            },
        )
        day["windows"].append(
            {
                "id": f"window-{n}",
                "value": f"{start:%d/%m/%Y %H:%M}",
                "start": f"{start:%H:%M}",
                "end": f"{end:%H:%M}" if end.date() == start.date() else f"{end:%H:%M %d/%m}",
                "bridge": str(window.get("bridge") or ""),
                "cascade": window.get("cascade") is True,  # fits only cascaded
            }
        )
    return [days[d] for d in sorted(days)]


def picked_form(pick: str, minutes: str, endpoints: Sequence[str], key: str) -> dict[str, Any]:
    """The registration form filled from a picked window: its start, the length, the
    endpoints ticked; `picked` says so above the form. The main endpoint is left for the
    form to choose (`main_endpoint_of`): the first ticked is only the first in the list."""
    chosen = [e for e in endpoints if e]
    return {
        "picked": True,
        "idempotency_key": key,
        "start": pick,
        "minutes": minutes if minutes.isdecimal() else "",
        "endpoints": chosen,
        "main_endpoint": "",
    }


def main_endpoint_of(form: Mapping[str, Any], host: str | None, endpoints: Iterable[Row]) -> str:
    """The main endpoint the form offers: the one picked, else the host unit's own room
    when the person ticked none or ticked it too, else none (the person chooses: a room
    nobody ticked is never added unasked)."""
    if form.get("main_endpoint"):
        return str(form["main_endpoint"])
    own = next((str(e["code"]) for e in endpoints if host and e.get("unit") == host), "")
    ticked = form.get("endpoints") or []
    return own if own and (not ticked or own in ticked) else ""


# ------------------------------------------------------------ notices and checks in words

_SMTP_CODE = re.compile(r"^(\d{3})\b")
_HTTP_CODE = re.compile(r"^HTTP (\d{3})$")


def failure_key(reason: str | None, channel: str) -> str:
    """Why a notice is not delivered, as an i18n key (never the exception text): no
    address, the server refused or asked to wait, the receiving system's error, the
    notice could not be prepared, or (any other error: unreachable, timed out) the mail
    server / receiving system did not answer."""
    text = (reason or "").strip()
    if not text:
        return "why_unknown"
    if text == "no address":
        return "why_no_address"
    if text.startswith("render:"):
        return "why_render"
    code = _SMTP_CODE.match(text)
    if code:
        return "why_mail_refused" if code.group(1)[0] == "5" else "why_mail_busy"
    http = _HTTP_CODE.match(text)
    if http:
        return "why_http_error"
    if channel == "sms":
        return "why_sms_refused" if text.startswith(("SMPP", "receipt:")) else "why_sms_silent"
    return "why_mail_silent" if channel == "email" else "why_hook_silent"


def notice_state(notice: Row, zone: ZoneInfo, t: Translate) -> str:
    """One notice's state as a sentence: replaced by a newer one, delivered (when),
    acknowledged (when), not delivered yet (why; next try at), or given up (why)."""
    status = str(notice.get("status") or "")
    if notice.get("replaced_by"):  # how it was delivered matters no more than that
        return t("notice_replaced")
    if status == "sent":
        said = f"{t('notice_sent')} {_at(notice.get('sent_at'), zone)}".strip()
        if notice.get("acknowledged_at"):
            said += f"; {t('notice_acknowledged')} {_at(notice.get('acknowledged_at'), zone)}"
        elif awaits_acknowledgement(notice):  # the ones to ring
            said += f"; {t('notice_not_acknowledged')}"
        return said
    why = t(failure_key(notice.get("reason"), str(notice.get("channel") or "")))
    if status == "failed":
        return f"{t('notice_failed')}: {why}"
    if not notice.get("reason"):
        return t("notice_queued")
    said = f"{t('notice_pending')}: {why}"
    retry = _at(notice.get("next_attempt_at"), zone)
    return f"{said}; {t('next_try_at')} {retry}" if retry else said


def _at(value: Any, zone: ZoneInfo) -> str:
    moment = parse_time(value)
    return f"{moment.astimezone(zone):%H:%M %d/%m}" if moment else ""


def notice_in_words(notice: Row, zone: ZoneInfo, t: Translate) -> dict[str, Any]:
    """A notice as its rows show it: who, what, by which channel and how it stands."""
    channel = str(notice.get("channel") or "")
    said = t(f"channel_{channel}")
    return {
        **notice,
        "who": recipient_words(notice, t),
        "what": kind_words(notice, t),
        "by": channel if said.startswith("channel_") else said,
        "state": notice_state(notice, zone, t),
        "awaiting": awaits_acknowledgement(notice),
    }


def recipient_words(notice: Row, t: Translate) -> str:
    """Who: the role in words and the address (`Sở KH&CN (it@...)`)."""
    role = str(notice.get("role") or "")
    shown = t(f"recipient_{role}") if role else ""
    if shown.startswith("recipient_"):
        shown = role
    who = str(notice.get("address") or notice.get("recipient") or "")
    return f"{shown} ({who})" if who and shown else shown or who


def check_state(check: Row, zone: ZoneInfo, t: Translate) -> str:
    """An endpoint's readiness as a sentence: no longer asked (the meeting cancelled, the
    endpoint no longer in it), ready (checked by, at), not ready (items), missed, or
    waiting for its check (due at)."""
    if check.get("closed"):
        said = t(f"check_closed_{check.get('closed_reason')}")
        return t("check_closed") if said.startswith("check_closed_") else said
    state = str(check.get("state") or "pending")
    if state == "passed":
        who = check.get("checked_by") or ""
        return f"{t('ready')} ({who} {_at(check.get('checked_at'), zone)})".replace(" )", ")")
    if state == "failed":
        items = ", ".join(t(f"item_{i}").lower() for i in check.get("failed_items") or [])
        return f"{t('not_ready')}: {items}" if items else t("not_ready")
    if state == "missed":
        return t("check_missed")
    return f"{t('check_waiting')} {_at(check.get('due_at'), zone)}".strip()


def backups_of(endpoints: Iterable[Row]) -> dict[str, str]:
    """Code -> the backup endpoint the directory names for it (those that name one)."""
    return {
        str(e["code"]): str(e["backup"]) for e in endpoints if e.get("code") and e.get("backup")
    }


def backup_offers(
    checks: Iterable[Row], backups: dict[str, str], names: dict[str, str]
) -> list[dict[str, str]]:
    """The endpoints the duty officer may switch to their backup: an open checklist that
    failed or was missed, or an open incident, on an endpoint the directory gives a
    backup (registration decides whether it is the last hour)."""
    return [
        {
            "endpoint": code,
            "name": names.get(code, code),
            "backup": backups[code],
            "backup_name": names.get(backups[code], backups[code]),
        }
        for c in checks
        if not c.get("closed")
        and (c.get("state") in ("failed", "missed") or c.get("open_incidents"))
        and (code := str(c.get("endpoint"))) in backups
    ]


def in_switch_window(start: datetime | None, now: datetime, window: timedelta) -> bool:
    """Is the meeting in its last `window` (the policy's `backup.switch_window`) before its
    opening? Registration decides again, naming the rule, when the switch is posted."""
    return start is not None and start - window <= now < start


def switchable(
    start: datetime | None,
    now: datetime,
    window: timedelta,
    checks: Iterable[Row],
    endpoints: Iterable[Row],
) -> list[dict[str, str]]:
    """The backup offers of a meeting starting at `start`, from its `checks` and the
    directory's `endpoints`: none outside the switch window (the meeting page and the
    duty board ask the same question here)."""
    if not in_switch_window(start, now, window):
        return []
    rows = list(endpoints)
    return backup_offers(checks, backups_of(rows), endpoint_names(rows))


def endpoint_names(endpoints: Iterable[Row]) -> dict[str, str]:
    """Code -> `code · name` from the directory."""
    return {
        str(e["code"]): f"{e['code']} · {e.get('name') or ''}".rstrip(" ·")
        for e in endpoints
        if e.get("code")
    }


def kind_words(notice: Row, t: Translate) -> str:
    """What the notice was (`thông báo họp`); a resend says so and who sent it again."""
    kind = str(notice.get("kind") or "")
    said = t(f"notice_kind_{kind}")
    said = kind.replace("_", " ") if said.startswith("notice_kind_") else said
    if not notice.get("resend_of"):
        return said
    who = notice.get("resent_by")
    return f"{said} · {t('resend_of')} ({who})" if who else f"{said} · {t('resend_of')}"


EVENT_WORDS = {
    "MeetingRequested": "event_requested",
    "MeetingChanged": "event_changed",
    "MeetingCancelled": "event_cancelled",
    "SlotAssigned": "event_assigned",
    "SlotRejected": "event_rejected",
    "SlotReleased": "event_released",
    "SlotHeld": "event_held",
    "HoldDecided": "event_hold_decided",
    "CheckCompleted": "event_checked",
    "ReportDue": "event_record_due",
    "MaterialUploaded": "event_material_uploaded",
    "MaterialDownloaded": "event_material_downloaded",
    "MaterialAccessRequested": "event_access_requested",
    "MaterialAccessGranted": "event_access_granted",
    "MaterialAccessRefused": "event_access_refused",
}


def timeline_lines(
    entries: Iterable[Row], zone: ZoneInfo, t: Translate, lang: str, people: Mapping[str, str]
) -> list[dict[str, str]]:
    """The timeline in words, each change read against the meeting as it stood before it
    (the registration or the change before, when the entry says it: older ones do not)."""
    lines, before = [], None
    for entry in entries:
        lines.append(timeline_words(entry, zone, t, lang, people, before))
        if entry.get("type") in ("MeetingRequested", "MeetingChanged") and entry.get("endpoints"):
            before = entry
    return lines


def timeline_words(
    entry: Row,
    zone: ZoneInfo,
    t: Translate,
    lang: str,
    people: Mapping[str, str] | None = None,
    before: Row | None = None,
) -> dict[str, str]:
    """One timeline line in words: when (local), what happened, and its details as a
    sentence (who, by name where registration knows it from `people`, the slot's bridge,
    what a change changed against the meeting `before` it, the rule a rejection cites),
    never a JSON dump."""
    kind = str(entry.get("type") or "")
    what = t(EVENT_WORDS[kind]) if kind in EVENT_WORDS else kind
    if kind == "HoldDecided" and "approved" in entry:  # which way it decided
        what = t("event_hold_approved" if entry["approved"] else "event_hold_refused")
    parts: list[str] = []
    named = people or {}
    if entry.get("by"):
        parts.append(f"{t('done_by')} {named.get(entry['by'], entry['by'])}")
    slot = entry.get("slot")
    if isinstance(slot, Mapping) and slot.get("bridge"):
        parts.append(f"{t('bridge')}: {slot['bridge']}")
    if kind == "MeetingChanged":
        parts += changed_words(entry, before, zone, t)
    rejection = entry.get("rejection")
    if isinstance(rejection, Mapping):
        parts += [in_language(conflict, lang) for conflict in rejection.get("conflicts") or []]
    why = entry.get("why")  # a slot released for a higher-priority meeting: why, in words
    if kind == "SlotReleased" and isinstance(why, Mapping):
        parts.append(in_language(why, lang))
    elif kind == "SlotReleased" and entry.get("reason"):  # which slot was freed, and why
        said = t(f"released_{entry['reason']}")
        parts.append("" if said.startswith("released_") else said)
    if entry.get("reason") and kind != "SlotReleased":
        parts.append(f"{t('reason')}: {entry['reason']}")
    if kind.startswith("Material") and entry.get("filename"):  # which file
        parts.append(str(entry["filename"]))
    if kind == "ReportDue" and entry.get("due_at"):
        parts.append(f"{t('due_at')}: {shown_time(entry['due_at'], zone, '%H:%M %d/%m/%Y')}")
    check = entry.get("check")  # registration keeps an outcome's fields under `check`
    if kind == "CheckCompleted" and isinstance(check, Mapping) and check.get("endpoint"):
        said = f"{check['endpoint']}: {t(str(check.get('outcome') or ''))}"
        items = ", ".join(t(f"item_{i}").lower() for i in check.get("failed_items") or [])
        parts.append(f"{said} ({items})" if items else said)
        if check.get("checked_by"):
            parts.append(f"{t('done_by')} {named.get(check['checked_by'], check['checked_by'])}")
    return {
        "at": _at(entry.get("at"), zone),
        "what": what,
        "details": "; ".join(p for p in parts if p),
    }


def changed_words(entry: Row, before: Row | None, zone: ZoneInfo, t: Translate) -> list[str]:
    """What a change changed: the new time when it moved (or when what came before is not
    known), the endpoints added and taken out."""
    said = []
    start, end = parse_time(entry.get("start")), parse_time(entry.get("end"))
    was = (parse_time(before.get("start")), parse_time(before.get("end"))) if before else None
    if start and end and was != (start, end):
        moved = f"{start.astimezone(zone):%H:%M %d/%m} – {end.astimezone(zone):%H:%M}"
        if was and was[0] and was[1]:  # from what to what
            from_ = f"{was[0].astimezone(zone):%H:%M %d/%m} – {was[1].astimezone(zone):%H:%M}"
            moved = f"{t('time_was')} {from_}, {t('time_now')} {moved}"
        said.append(moved)
    if before is not None and entry.get("endpoints"):
        old, new = list(before.get("endpoints") or []), list(entry.get("endpoints") or [])
        if added := [e for e in new if e not in old]:
            said.append(f"{t('endpoints_added')}: {', '.join(added)}")
        if removed := [e for e in old if e not in new]:
            said.append(f"{t('endpoints_removed')}: {', '.join(removed)}")
    return said


def alternative_picks(meeting: Row, zone: ZoneInfo, t: Translate) -> list[dict[str, Any]]:
    """The free times scheduling offered with its refusal, in words (`12:15 – 14:15, Thứ
    Sáu 11/12/2026`), each with the start the change form is filled with when picked."""
    picks = []
    offered = (meeting.get("rejection") or {}).get("alternatives") or []
    for window in sorted(offered, key=lambda w: str(w.get("start"))):  # in the day's order
        start, end = parse_time(window.get("start")), parse_time(window.get("end"))
        if start is None or end is None:
            continue
        start, end = start.astimezone(zone), end.astimezone(zone)
        day = f"{t(f'weekday_{start.weekday()}')} {start:%d/%m/%Y}"
        picks.append(
            {
                "words": f"{start:%H:%M} – {end:%H:%M}, {day}",
                "start": f"{start:%d/%m/%Y %H:%M}",
                "at": start,
                "until": end,
            }
        )
    return picks


def still_free(picks: Sequence[Row], windows: Iterable[Row], not_before: datetime) -> list[Row]:
    """The offered times that still fit in scheduling's free `windows` now and start after
    `not_before` (another meeting may have taken one since the refusal; time passes)."""
    free = [(parse_time(w.get("start")), parse_time(w.get("end"))) for w in windows]
    return [
        p
        for p in picks
        if p["at"] >= not_before
        and any(a and b and a <= p["at"] and p["until"] <= b for a, b in free)
    ]


def rejection_words(meeting: Row, lang: str) -> str:
    """Why the meeting's current revision was refused, in the reader's language."""
    rejection = meeting.get("rejection") or {}
    said = [in_language(c, lang) for c in rejection.get("conflicts") or []]
    return "; ".join(s for s in said if s)


def in_language(conflict: Row, lang: str) -> str:
    """A conflict's message as the reader reads it (the Vietnamese one when it has no
    English)."""
    return str(
        (conflict.get("message_en") if lang == "en" else None) or conflict.get("message") or ""
    )


def preemptible(meeting: Row) -> list[str]:
    """The lower-priority meetings that alone refused the meeting's current revision (its
    rejection names them): what the duty officer may let it pre-empt."""
    for entry in reversed(meeting.get("timeline") or []):
        if entry.get("type") == "SlotRejected" and entry.get("revision") == meeting.get("revision"):
            return [str(m) for m in (entry.get("rejection") or {}).get("preemptible") or []]
    return []


def _plain(words: str) -> str:
    """A level's name as a label: its first letter upper case (`Phòng chống thiên tai`)."""
    return words[:1].upper() + words[1:]


def priority_words(policy: Policy, code: str | None, lang: str) -> str:
    """A meeting's priority in words (None or a level the province no longer has: the
    code itself, or the default level's name)."""
    found = priority.level(policy, code)
    if found is None:
        return str(code)
    return _plain(found.en if lang == "en" else found.vi)


def priority_choices(policy: Policy, role: str, lang: str) -> list[dict[str, str]]:
    """The levels (highest first) a person of `role` may set, each with its label; the
    registration form's select (registration checks it again, naming the rule)."""
    return [
        {"code": lv.code, "label": _plain(lv.en if lang == "en" else lv.vi)}
        for lv in priority.levels(policy)
        if role in lv.roles
    ]


def access_rows(entries: Sequence[Row], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The requests for a meeting's materials, each with its decision when made (the list
    registration answers holds both, a decision naming its request), oldest first."""
    decided = {str(e.get("request_id")): e for e in entries if e.get("kind") == "decision"}
    rows = []
    for entry in entries:
        if entry.get("kind") == "decision":
            continue
        decision = decided.get(str(entry.get("id")))
        rows.append(
            {
                "id": entry.get("id"),
                "who": entry.get("requested_by") or "",
                "grantee": entry.get("grantee") or "",
                "reason": entry.get("reason") or "",
                "at": _at(entry.get("at"), zone),
                "decision": decision,
                "decided_at": _at(decision.get("at"), zone) if decision else "",
            }
        )
    return rows


def incidents_of(meeting: Row, incidents: Iterable[Row]) -> list[Row]:
    """The incidents a meeting page lists: those reported for it, and those still open at
    its endpoints (a line down at an endpoint concerns every meeting there)."""
    mine, endpoints = meeting.get("id"), set(endpoints_of(meeting))
    return [
        i
        for i in incidents
        if i.get("meeting_id") == mine
        or (i.get("state") == "open" and i.get("endpoint") in endpoints)
    ]


def state_shown(meeting: Row) -> str:
    """The meeting's state as its page shows it (its status, and a change waiting for its
    decision): the live part reloads the page when this moves."""
    return f"{meeting.get('status')}{'+change' if change_pending(meeting) else ''}"


def waits_for_decision(state: str) -> bool:
    """A state (`state_shown`) in which the page waits for scheduling or the IT department."""
    return state in ("requested", "held") or state.endswith("+change")


def change_pending(meeting: Row) -> bool:
    """A change (or move) not decided yet: the meeting still holds the slot of an earlier
    revision (registration says `scheduled`), while what the page shows is the new one."""
    revision = int(meeting.get("revision") or 0)
    decided = {
        int(e.get("revision") or 0)
        for e in meeting.get("timeline") or []
        if e.get("type") in ("SlotAssigned", "SlotRejected", "SlotHeld")
    }
    return meeting.get("status") == "scheduled" and revision > 0 and revision not in decided
