"""What the pages show, decided from the services' answers: pure functions, given `now`."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from hnth_contracts import MEETING_ID, rules

Row = Mapping[str, Any]


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from the services' ISO strings (None when absent or unreadable)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def refusal_lines(
    errors: Iterable[Row], t: Callable[[str], str], labels: Mapping[str, str] | None = None
) -> list[str]:
    """A refusal's reasons as sentences, each led by the form's own name for the field it
    names (`labels`: field -> i18n key where they differ), never the API's field name."""
    lines = []
    for error in errors:
        field = str(error.get("field") or "").removeprefix("body.")
        key = (labels or {}).get(field, field)
        label = t(key) if key else ""
        message = str(error.get("message") or "")
        lines.append(f"{label}: {message}" if label and label != key else message)
    return lines


def endpoints_of(meeting: Row) -> list[str]:
    """Every endpoint a meeting holds: its main one, those it names, and those its groups
    reached when it was scheduled (registration's `reached`), each once."""
    codes = [str(c) for c in (meeting.get("main_endpoint"), *(meeting.get("endpoints") or [])) if c]
    codes += [str(c) for c in meeting.get("reached") or []]
    return list(dict.fromkeys(codes))


TYPED_TIMES = ("%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%H:%M %d/%m/%Y")
"""How people type a day and time: as the forms' hint says, and as every page shows one
(`15/01/2027 08:00`, `08:00 15/01/2027`)."""


def typed_time(text: str, zone: ZoneInfo) -> datetime:
    """A day and time typed in the province's `zone` (`2027-01-15 08:00`, `15/01/2027 08:00`
    or `08:00 15/01/2027`; a browser's `2027-01-15T08:00` too); ValueError otherwise."""
    cleaned = " ".join(text.strip().replace("T", " ").split())
    for pattern in TYPED_TIMES:
        try:
            return datetime.strptime(cleaned, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    raise ValueError(f"no day and time in {text!r}")


def meetings_linked(text: str, names: Mapping[str, tuple[str, bool]] | None = None) -> Markup:
    """`text`, escaped, with every meeting id it names a link to that meeting's page (a
    refusal names the meeting in the way; the reader goes and looks). `names`: how to call
    the meetings the page looked up, and whether the reader may open each (`named`)."""

    def shown(found: re.Match[str]) -> str:
        name, opens = (names or {}).get(found[0], (found[0], True))
        if not opens:
            return str(escape(name))
        return f'<a href="/meetings/{found[0]}">{escape(name)}</a>'

    return Markup(MEETING_ID.sub(shown, str(escape(text))))  # noqa: S704 - escaped first


def meeting_ids(*texts: str, most: int = 10) -> list[str]:
    """The meeting ids the texts name, each once, at most `most` (for a page to look up)."""
    return list(dict.fromkeys(i for t in texts for i in MEETING_ID.findall(t)))[:most]


def decimal(value: float, lang: str, places: int = 1) -> str:
    """A figure as its reader writes it: `77,5` in Vietnamese, `77.5` in English; no
    trailing `,0` on a whole number."""
    text = f"{round(float(value), places):.{places}f}"
    if "." in text:  # 77.50 -> 77.5, 80.0 -> 80; never 450 -> 45
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "vi" else text


def shown_time(value: Any, zone: ZoneInfo, pattern: str = "%d/%m %H:%M") -> str:
    """A time as people in the province read it (their zone), or '' when there is none."""
    moment = parse_time(value)
    return moment.astimezone(zone).strftime(pattern) if moment else ""


def due_day(value: Any, zone: ZoneInfo) -> str:
    """A task's deadline as a day (`dd/mm/YYYY`) in the province's zone: a deadline at local
    midnight is the end of the day before (a report due 15/12 is kept until 16/12 00:00)."""
    moment = parse_time(value)
    if moment is None:
        return ""
    return f"{rules.end_of_day(moment, zone) or moment.astimezone(zone).date():%d/%m/%Y}"


def period(view: str, day: date, zone: ZoneInfo) -> tuple[datetime, datetime, list[date]]:
    """The days a schedule view covers (a day, or Monday to Sunday of `day`'s week) and
    their bounds as aware times in the province's zone."""
    first = day if view == "day" else day - timedelta(days=day.weekday())
    count = 1 if view == "day" else 7
    days = [first + timedelta(days=n) for n in range(count)]
    start = datetime.combine(first, time(0), zone)
    return start, datetime.combine(days[-1] + timedelta(days=1), time(0), zone), days


def by_day(meetings: Iterable[Row], days: Sequence[date], zone: ZoneInfo) -> dict[date, list[Row]]:
    """Meetings under the local day they start on, every day of the view present."""
    grouped: dict[date, list[Row]] = {d: [] for d in days}
    for meeting in meetings:
        start = parse_time(meeting.get("start"))
        if start is not None and start.astimezone(zone).date() in grouped:
            grouped[start.astimezone(zone).date()].append(meeting)
    for rows in grouped.values():
        rows.sort(key=lambda m: str(m.get("start")))
    return grouped


def alarm(check: Row, now: datetime, warn: timedelta) -> str:
    """The colour of one endpoint's check on the readiness board:
    `passed` green, `failed`/`missed` red, `pending` red once the deadline is within
    `warn` (nothing is in and time runs out), else grey (a closed one too: no longer
    asked)."""
    if check.get("closed"):
        return "waiting"
    state = str(check.get("state") or "pending")
    if state == "passed":
        return "ok"
    if state in ("failed", "missed"):
        return "bad"
    due = parse_time(check.get("due_at"))
    if due is not None and now >= due - warn:
        return "late"
    return "waiting"


SERIOUS = ("high", "critical")
"""Incident severities that make an endpoint not ready, whatever its check said."""


def with_incident(colour: str, incidents: Sequence[Row]) -> str:
    """A check's colour with its endpoint's open incidents: a serious one is red (a line
    down since the check passed), a lesser one at least the warning colour."""
    if any(i.get("severity") in SERIOUS for i in incidents):
        return "bad"
    return "late" if incidents and colour in ("ok", "waiting") else colour


def board_rows(
    meetings: Iterable[Row],
    readiness: Mapping[str, Sequence[Row]],
    now: datetime,
    warn: timedelta,
) -> list[dict[str, Any]]:
    """One row per meeting with its endpoints' checks (coloured with the incidents open at
    their endpoint, which inspection gives with each check) and the worst colour among
    them."""
    order = {"late": 0, "bad": 1, "waiting": 2, "ok": 3}
    rows = []
    for meeting in meetings:
        checks = [
            {
                **check,
                "alarm": with_incident(alarm(check, now, warn), check.get("open_incidents") or ()),
            }
            for check in readiness.get(meeting["id"], [])
            if not check.get("closed")  # the meeting no longer asks it (cancelled, replaced)
        ]
        worst = min((c["alarm"] for c in checks), key=order.__getitem__, default="waiting")
        rows.append({"meeting": meeting, "checks": checks, "alarm": worst})
    return rows


def on_bridge(meetings: Iterable[Row], bridge: str) -> list[Row]:
    """The meetings whose current slot is on `bridge` (MCU or virtual-room pool)."""
    return [m for m in meetings if (m.get("slot") or {}).get("bridge") == bridge]


ATTENTION_LINKS = {
    "failed": ("/notices", "notices"),
    "waiting": ("/notices", "notices"),
    "incidents": ("/incidents", "incidents"),
    "held": ("#held", "arrange_meeting"),
}
"""Where each thing the board counts is dealt with (and the console page that is), most
urgent first."""


def attention(
    counts: Mapping[str, int], t: Callable[[str], str], may: Callable[[str], bool]
) -> list[dict[str, str]]:
    """The board's line of what wants the duty officer now (`counts`: kind -> how many),
    each a link to its page; the kinds with none, or whose page this person may not open
    (`may`), are left out."""
    return [
        {"id": kind, "href": href, "words": t(f"attention_{kind}").format(n=counts[kind])}
        for kind, (href, page) in ATTENTION_LINKS.items()
        if counts.get(kind) and may(page)
    ]


def parties_to_reach(
    endpoints: Iterable[Row], units: Iterable[Row], contacts: Mapping[str, Any]
) -> dict[str, dict[str, str]]:
    """Recipient key (`technician:<endpoint>`, `unit:<code>`, `line_provider`...) -> the
    person and phone the directory gives for that party, for chasing a notice by phone."""
    found: dict[str, dict[str, str]] = {}
    listed = [
        *((f"technician:{e.get('code')}", e.get("technician")) for e in endpoints),
        *((f"unit:{u.get('code')}", u.get("contact")) for u in units),
        *((str(role), contact) for role, contact in contacts.items()),
    ]
    for key, contact in listed:
        if isinstance(contact, Mapping) and contact.get("phone"):
            person = str(contact.get("person") or contact.get("name") or "")
            found[key] = {"person": person, "phone": str(contact["phone"])}
    return found


ACKNOWLEDGED_KINDS = ("meeting_notice", "meeting_changed", "meeting_cancelled")
"""The written notices a recipient is asked to confirm (alerts, reminders and the duty
officer's escalations are acted on, not acknowledged)."""


def stands(notice: Row) -> bool:
    """Is this notice the one to act on for its party: not replaced by a newer notice (the
    meeting changed or was cancelled), and not a resend, whose original stands for both
    (an acknowledgement of either is the original's), unless the copy itself failed?"""
    if notice.get("replaced_by"):
        return False
    return not (notice.get("resend_of") and notice.get("status") != "failed")


def awaits_acknowledgement(notice: Row) -> bool:
    """A written notice sent to a party and not acknowledged yet (not an SMS copy, a
    reminder or an alert, not the IT department's own), that stands for its party."""
    return (
        stands(notice)
        and notice.get("status") == "sent"
        and not notice.get("acknowledged_at")
        and notice.get("kind") in ACKNOWLEDGED_KINDS
        and notice.get("channel") != "sms"
        and notice.get("role") != "it_department"
    )


def unacknowledged(notices: Iterable[Row]) -> list[Row]:
    """Notices still wanting attention: one awaiting its acknowledgement, or any that
    failed; not one a newer notice to the same party replaces (the meeting changed or was
    cancelled), nor a resend whose original stands for it."""
    return [
        n
        for n in notices
        if awaits_acknowledgement(n) or (stands(n) and n.get("status") == "failed")
    ]


def with_joint_plans(tasks: Sequence[Row]) -> list[Row]:
    """Each inspection, and for one without a plan of its own (`joint`) the open one of the
    same period whose plan visits its endpoint too: a joint inspection covers it."""
    planned = [t for t in tasks if t.get("plan") and t.get("state") == "open"]

    def joint(task: Row) -> Row | None:
        if task.get("plan"):
            return None
        return next(
            (
                {"endpoint": t.get("endpoint"), "plan": t["plan"]}
                for t in planned
                if t is not task
                and t.get("period") == task.get("period")
                and task.get("endpoint") in (t["plan"].get("endpoints") or [])
            ),
            None,
        )

    return [{**task, "joint": joint(task)} for task in tasks]


def overdue(tasks: Iterable[Row], now: datetime) -> tuple[list[Row], list[Row]]:
    """Open inspections split into (overdue, due later)."""
    late: list[Row] = []
    later: list[Row] = []
    for task in tasks:
        if task.get("state") == "done":
            continue
        due = parse_time(task.get("due_at"))
        (late if due is not None and due < now else later).append(task)
    return late, later


def incidents_by_endpoint(opened: Iterable[Row]) -> dict[str, list[Row]]:
    """The open incidents per endpoint code, the most recent first."""
    found: dict[str, list[Row]] = defaultdict(list)
    for incident in sorted(opened, key=lambda i: str(i.get("opened_at") or ""), reverse=True):
        found[str(incident.get("endpoint"))].append(incident)
    return dict(found)


def compliance_bars(province: Row) -> list[dict[str, Any]]:
    """The compliance figures as bars for the report page's chart: percent 0..100, or None
    when there was nothing to measure (no meeting held, no inspection due)."""

    def percent(part: Any, whole: Any) -> float | None:
        return round(100 * float(part) / float(whole), 1) if whole else None

    shares = (
        "checks_compliance",
        "notices_lead_time_compliance",
        "notices_acknowledged_share",
        "inspections_compliance",
    )
    share = {k: province.get(k) for k in shares}
    bars = [
        {"key": k, "percent": None if v is None else round(100 * float(v), 1)}
        for k, v in share.items()
    ]
    reported = percent(province.get("endpoints_reported") or 0, province.get("endpoints"))
    bars.append({"key": "endpoints_reported", "percent": reported})
    return bars


UNREADABLE_LETTERS = ("invalid_json", "unknown_type", "invalid_schema")
"""Dead letters the same code cannot read however often they are replayed (only an
upgraded service could): replaying one asks the operator to confirm."""


def letter_text(value: bytes, most: int = 4000) -> str:
    """A dead letter's bytes as a person reads them: JSON laid out, Vietnamese as letters
    (not `\\u1ea1` escapes); anything else as text. At most `most` characters."""
    text = value.decode("utf-8", "replace")
    try:
        text = json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        pass
    return text if len(text) <= most else text[:most] + " …"


def dead_letter_groups(letters: Iterable[Any]) -> dict[str, list[Any]]:
    """Dead letters by their original topic."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for letter in letters:
        groups[letter.original_topic].append(letter)
    return dict(sorted(groups.items()))


def _change_words(field: str, was: Any, now: Any, said: Callable[[str, str], str]) -> str:
    """`Điện thoại: 0912 → 0913`; a role by its name, a list joined, nothing as a dash."""

    def shown(value: Any) -> str:
        if field == "role" and value:
            return said(f"role_{value}", str(value))
        if isinstance(value, list):
            return ", ".join(map(str, value)) or "—"
        return "—" if value in (None, "") else str(value)

    label = said(ACCOUNT_LABELS.get(field, field), field)
    return f"{label}: {shown(was)} → {shown(now)}"


def notices_elsewhere(account: Row, endpoints: Iterable[Row]) -> list[dict[str, Any]]:
    """The endpoints of a technician's account whose notices the directory sends to
    somebody else (its technician's e-mail is not the account's): the notices follow the
    directory, not the account, so the IT department is told where they go."""
    if account.get("role") != "technician":
        return []
    own = str(account.get("email") or "").strip().lower()
    listed = {str(e.get("code")): e for e in endpoints}
    found: list[dict[str, Any]] = []
    for code in account.get("endpoints") or []:
        contact = (listed.get(code) or {}).get("technician") or {}
        address = str(contact.get("email") or "").strip().lower()
        if address and address != own:
            found.append({"code": code, **contact})
    return found


ACCOUNT_LABELS = {"unit": "account_unit"}
"""An account field's words where its own key names something else."""


def audit_detail(detail: Any, t: Callable[[str], str], zone: ZoneInfo) -> str:
    """An audit line's details in words: `vai trò: Văn thư; lý do: sai mật khẩu`, the
    changed fields by their labels, times in the province's zone (never the codes)."""
    if not isinstance(detail, Mapping):
        return str(detail or "")

    def said(key: str, fallback: str) -> str:
        words = t(key)
        return fallback if words == key else words

    parts = []
    for key, value in detail.items():
        if key == "role":
            shown = said(f"role_{value}", str(value))
        elif key == "reason":
            shown = said(f"audit_reason_{value}", str(value))
        elif key == "fields" and isinstance(value, list):  # rows written before `changed`
            shown = ", ".join(said(str(f), str(f)) for f in value)
        elif key == "changed" and isinstance(value, Mapping):
            parts += [_change_words(f, c.get("was"), c.get("now"), said) for f, c in value.items()]
            continue
        elif key == "until":
            shown = shown_time(value, zone, "%H:%M %d/%m/%Y") or str(value)
        elif isinstance(value, bool):
            shown = t("yes" if value else "no")
        else:
            shown = str(value)
        parts.append(f"{said(f'audit_key_{key}', key)}: {shown}")
    return "; ".join(parts)
