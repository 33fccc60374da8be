"""What a notice says: Jinja2 templates (Vietnamese by default, English), the iCalendar
entry, the e-mail message and the signed webhook request. No I/O beyond reading the
templates.

Each notice kind has one template, `templates/<kind>.txt.j2`, with a `subject` and a
`body` block for both languages; the HTML part is the same body in `_layout.html.j2`
(autoescaped) and both end with the footer citing the rule and its source. Undefined
variables raise: a template that does not render is a bug the tests catch.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from icalendar.prop import vText
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from hnth_contracts import MEETING_ID, rules
from hnth_contracts.policy import Policy
from notification.domain import signing
from notification.domain.notices import PERSONAL_KINDS, Calendar, endpoint_of

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("vi", "en")
UNKNOWN_IT_CONTACT = {"name": "Sở KH&CN", "person": None, "phone": None, "email": None}
PLACE_KINDS = frozenset({"meeting_notice", "meeting_changed", "reminder_meeting"})
ACTED_ON_KINDS = frozenset({"check_alert", "reminder_check", "escalation"})
"""Alerts, check reminders and the duty officer's escalations: acted on, not confirmed
(their mail asks for no acknowledgement)."""
REPORT_KINDS = frozenset({"report_request", "report_reminder"})
"""Notices that ask for a report: they name its endpoint and unit as the directory does."""
"""The notices that list the meeting's endpoints: each by name, place and technician."""


def places(
    data: Mapping[str, Any],
    host: Mapping[str, Any] | None,
    rooms: Sequence[Mapping[str, Any] | None],
) -> dict[str, Any]:
    """The host unit's name and one line's facts per endpoint of `data` (the directory's
    entries: `host`, `rooms` in the meeting's order; a code the directory does not know
    yet stays a code)."""
    listed = []
    for code, room in zip(data["endpoints"], rooms, strict=True):
        technician = (room or {}).get("contact") or {}
        listed.append(
            {
                "code": code,
                "name": (room or {}).get("name") or code,
                "location": (room or {}).get("location"),
                "technician": technician.get("person") or technician.get("name"),
                "phone": technician.get("phone"),
            }
        )
    main = next((p["name"] for p in listed if p["code"] == data.get("main_endpoint")), None)
    return {
        "host_unit_name": (host or {}).get("name"),
        "main_endpoint_name": main,
        "places": listed,
    }


HEADER_LINE = 78
"""Characters a header line holds before `compat32` folds it."""


class _Utf8Header(Header):
    """A header in another script (`_header`), which keeps its text for `_folded`."""

    def __init__(self, text: str) -> None:
        super().__init__(text, "utf-8")
        self.text = text


class _WirePolicy(Compat32):
    """`compat32` (the `email.mime` classes' own encoding) with two short cuts: a header
    that is ASCII on one line and fits in 78 characters is written as it is, which is what
    the `Header` folding `compat32` runs every header through gives for it, at a fraction
    of the cost (that folding was a fifth of an e-mail's build time); any other is folded
    once per text (`_folded`): a meeting's notices share their subject, and that folding
    tries every prefix of a subject in another script (half of the wire's time)."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) <= HEADER_LINE - 2
            and "\n" not in value
            and "\r" not in value
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        if isinstance(value, _Utf8Header):
            return _folded(name, value.text, encoded=True)
        if isinstance(value, str):
            return _folded(name, value, encoded=False)
        return super().fold_binary(name, value)


WIRE = _WirePolicy(linesep="\r\n")
"""How a message goes on the wire: CRLF, with the `email.mime` classes' own encoding."""


@functools.lru_cache(maxsize=1024)
def _folded(name: str, text: str, *, encoded: bool) -> bytes:
    """`compat32`'s folding of a header (a `Header` in UTF-8 when `encoded`), on the wire."""
    return Compat32.fold_binary(WIRE, name, Header(text, "utf-8") if encoded else text)


def wire(message: Message) -> bytes:
    """The message as the SMTP server receives it."""
    return message.as_bytes(policy=WIRE)


def _header(value: str) -> str | Header:
    """A header value as it may be written: ASCII as it is, anything else as RFC 2047
    encoded words (`Header` splits the text inside them, so no space is lost: Python
    3.11's own folding of `EmailMessage` headers dropped one between two encoded words)."""
    return value if value.isascii() else _Utf8Header(value)


@functools.lru_cache(maxsize=64)
def from_header(sender: str, province: str) -> str:
    """`HNTH Ops · <province> <address>`: the province's name on every notice (one sender
    address may serve several provinces); a display name the setting gives is kept."""
    name, address = parseaddr(sender)
    return formataddr((name or f"HNTH Ops · {province}", address))


@functools.lru_cache(maxsize=1024)
def _address(value: str) -> str:
    """An address header: a display name in another script encoded, the address as it is."""
    return value if value.isascii() else formataddr(parseaddr(value), charset="utf-8")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # installed with the code: no stat of three files an e-mail
    )
    # a recipient key as people name the party (`technician:TQ-UBND` -> kỹ thuật TQ-UBND)
    env.filters["party"] = lambda key, lang: party(str(key), str(lang))
    env.filters["public"] = lambda source: public_source(source)
    env.filters["named"] = lambda text, others, en: named_meetings(str(text), others, bool(en))
    return env


ENV = _environment()


SEED_REFERENCE = re.compile(r"\s*\(seeds/\d+\)")
"""How a policy source points into the project's copy of a regulation (`(seeds/001)`)."""


def named_meetings(text: str, others: Mapping[str, Mapping[str, Any]], en: bool) -> str:
    """Scheduling's words with each meeting they name as its host reads it: one of its own
    unit's by its title, another unit's as such (the console shows it so too)."""

    def name(found: re.Match[str]) -> str:
        if found[0] not in others:  # a notice planned before its conflicts kept the ids
            return found[0]
        other = others[found[0]]
        if other.get("own"):
            return f'"{other["title"]}"'
        return "of another unit" if en else "của đơn vị khác"

    return MEETING_ID.sub(name, text)


def public_source(source: str) -> str:
    """A rule's source as a letter to an outside party quotes it: the regulation's name
    and words, without the project's own file references."""
    return SEED_REFERENCE.sub("", str(source))


def local_time(value: datetime, lang: str, tz: str) -> str:
    """A UTC instant as the recipient reads it: local time of the province, its language."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in a notice")
    local = value.astimezone(ZoneInfo(tz))
    if lang == "en":
        return local.strftime("%H:%M, %d/%m/%Y") + f" ({tz})"
    return local.strftime("%H giờ %M, ngày %d/%m/%Y") + " (giờ Việt Nam)"


def local_deadline(value: datetime, lang: str, tz: str) -> str:
    """A deadline as the recipient reads it: a local midnight is the end of the day before
    (`ngày 15/12/2026`, not `00 giờ 00, ngày 16/12/2026`), any other time as `local_time`."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in a notice")
    closes = rules.end_of_day(value, ZoneInfo(tz))
    if closes is None:
        return local_time(value, lang, tz)
    return f"{closes:%d/%m/%Y} (end of day)" if lang == "en" else f"ngày {closes:%d/%m/%Y}"


def language_of(contact: Mapping[str, Any]) -> str:
    """The language a contact reads notices in: theirs when the directory names a known one,
    Vietnamese otherwise (entries recorded before contacts had a language)."""
    lang = contact.get("language")
    return lang if lang in LANGUAGES else "vi"


def render(kind: str, lang: str, context: Mapping[str, Any]) -> Rendered:
    """Subject, plain text and HTML of a notice of `kind` in `lang`."""
    tz = str(context.get("tz", "Asia/Ho_Chi_Minh"))
    values = {
        **context,
        "en": lang == "en",
        "lang": lang,
        "when": lambda v: local_time(v, lang, tz),
        "deadline": lambda v: local_deadline(v, lang, tz),
        "period": lambda v: period_words(str(v), lang),
    }
    template = ENV.get_template(f"{kind}.txt.j2")
    ctx = template.new_context(values)
    subject = "".join(template.blocks["subject"](ctx)).strip()
    body = "".join(template.blocks["body"](ctx)).strip()
    ack = ENV.get_template("_ack.txt.j2").render(values).strip()
    footer = ENV.get_template("_footer.txt.j2").render(values).strip()
    paragraphs = [p.strip().splitlines() for p in body.split("\n\n") if p.strip()]
    html = ENV.get_template("_layout.html.j2").render(
        {**values, "subject": subject, "paragraphs": paragraphs}
    )
    text = "\n\n".join(part for part in (body, ack) if part)
    return Rendered(subject=subject, text=f"{text}\n\n-- \n{footer}\n", html=html)


QUARTERS = {"1": "I", "2": "II", "3": "III", "4": "IV"}


def period_words(period: str, lang: str) -> str:
    """A report's period as a letter writes it: `2026-Q4` is "quý IV/2026" (Q4 2026), `2026`
    "năm 2026" (2026); a day or anything else as it is."""
    year, _, quarter = period.partition("-Q")
    if year.isdecimal() and len(year) == 4 and quarter in QUARTERS:
        return f"Q{quarter} {year}" if lang == "en" else f"quý {QUARTERS[quarter]}/{year}"
    if period.isdecimal() and len(period) == 4:
        return period if lang == "en" else f"năm {period}"
    return period


def short_time(value: datetime, tz: str, *, time_only: bool = False) -> str:
    """A UTC instant as an SMS says it: local hour and day, nothing else."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in a notice")
    local = value.astimezone(ZoneInfo(tz))
    return local.strftime("%H:%M") if time_only else local.strftime("%H:%M %d/%m")


SMS_PARTIES = {
    "it_department": ("Sở KH&CN", "IT department"),
    "line_provider": ("đơn vị đường truyền", "line provider"),
    "power_company": ("Điện lực", "power company"),
    "duty": ("trực kỹ thuật", "duty officer"),
    "technician": ("kỹ thuật", "technician"),
    "unit": ("đơn vị", "unit"),
}


def party(key: str, lang: str) -> str:
    """A recipient key as an SMS names it: `technician:TQ-UBND` -> `kỹ thuật TQ-UBND`."""
    prefix, _, code = key.partition(":")
    names = SMS_PARTIES.get(prefix)
    name = names[lang == "en"] if names else prefix
    return f"{name} {code}" if code else name


def sms(notice: Mapping[str, Any], lang: str, tz: str) -> str:
    """The text message of a notice: one short plain line in `lang`, times local (`tz`)."""
    text = ENV.get_template("sms.txt.j2").render(
        kind=notice["kind"],
        data=notice.get("data") or {},
        en=lang == "en",
        when=lambda v, time_only=False: short_time(v, tz, time_only=time_only),
        parties=lambda keys: ", ".join(party(str(k), lang) for k in keys),
    )
    return " ".join(text.split())


def ics(
    calendar: Calendar,
    meeting: Mapping[str, Any],
    *,
    organizer: str,
    attendee: str | None,
    now: datetime,
    description: str,
) -> bytes:
    """The iCalendar (RFC 5545/5546) entry: REQUEST or CANCEL, stable UID, rising SEQUENCE.

    Its few lines are written here, each value encoded by icalendar's own types (escaping,
    dates in UTC): building an `icalendar.Calendar` to serialise it took a quarter of an
    e-mail's build time, in its property bookkeeping, for the same text."""
    status = "CANCELLED" if calendar.method == "CANCEL" else "CONFIRMED"
    lines = [
        b"BEGIN:VCALENDAR",
        b"PRODID:-//HNTH Ops//notification//VI",
        b"VERSION:2.0",
        b"METHOD:" + _text(calendar.method),
        b"BEGIN:VEVENT",
        b"UID:" + _text(calendar.uid),
        b"SEQUENCE:" + str(int(calendar.sequence)).encode(),
        b"DTSTAMP:" + _utc(now),
        b"DTSTART:" + _utc(meeting["start"]),
        b"DTEND:" + _utc(meeting["end"]),
        b"SUMMARY:" + _text(meeting["title"]),
        b"LOCATION:" + _text(f"{meeting['virtual_room']} · {meeting['dial_in']}"),
        b"DESCRIPTION:" + _text(description),
        b"STATUS:" + status.encode(),
        b"ORGANIZER:mailto:" + organizer.encode(),
    ]
    if attendee:
        # no reply asked: only the acknowledgement link counts (a calendar's Accept went
        # to an address nobody reads)
        lines.append(b"ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:" + attendee.encode())
    lines += [b"END:VEVENT", b"END:VCALENDAR"]
    return b"".join(folded(line) + b"\r\n" for line in lines)


def _text(value: str) -> bytes:
    """A TEXT value escaped as RFC 5545 says (icalendar's `vText`)."""
    return bytes(vText(value).to_ical())


def _utc(value: datetime) -> bytes:
    """A DATE-TIME in UTC (`20261206T010000Z`), as icalendar's `vDatetime` writes an aware
    one, written here: its look-up of the zone's name was a tenth of an e-mail's build."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in a notice")
    u = value.astimezone(UTC)
    return f"{u.year:04}{u.month:02}{u.day:02}T{u.hour:02}{u.minute:02}{u.second:02}Z".encode()


ICS_LINE = 75
"""Octets a content line holds before it folds (RFC 5545, 3.1)."""


def folded(data: bytes) -> bytes:
    """A content line folded at 75 octets, never inside a UTF-8 sequence nor between an
    escape's two characters (`\\,`, `^n`: some clients mind), in a few cuts a line
    (icalendar's folding walks a line a character at a time: for a DESCRIPTION as long as
    a letter, most of what the entry cost)."""
    pieces = []
    start, room = 0, ICS_LINE
    while len(data) - start > room:
        cut = start + room
        while data[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte
            cut -= 1
        if _opens_escape(data, start, cut):
            cut -= 1
        pieces.append(data[start:cut])
        start, room = cut, ICS_LINE - 1  # a continuation line starts with a space
    pieces.append(data[start:])
    return b"\r\n ".join(pieces)


def _opens_escape(data: bytes, start: int, cut: int) -> bool:
    """Whether the octet before `cut` starts an escape: an odd run of `\\` or `^` ends there."""
    last = data[cut - 1]
    if last not in b"\\^":
        return False
    run = cut - 1
    while run > start and data[run - 1] == last:
        run -= 1
    return (cut - run) % 2 == 1


def email_message(
    *,
    sender: str,
    to: str,
    rendered: Rendered,
    message_id: str,
    now: datetime,
    calendar: tuple[Calendar, bytes] | None,
    notice_id: str,
    reply_to: str | None = None,
) -> Message:
    """multipart/alternative: text, HTML and, for meetings, text/calendar with its METHOD.

    Built with the `email.mime` classes: `EmailMessage` parses every header it is given
    through its header registry, which took about a quarter of notification's CPU (a
    profile of the e2e bench; 2 ms a message against 0.5)."""
    # a boundary of our own: the generator's makes a random one and compiles a pattern to
    # check the parts for it (3% of notification's CPU in a profile); every part here is
    # base64, which has no "_", so this one cannot occur in them
    msg = MIMEMultipart("alternative", boundary=f"hnth_{uuid.uuid4().hex}")
    msg["From"] = _address(sender)
    if reply_to:
        msg["Reply-To"] = _address(reply_to)
    msg["To"] = _address(to)
    msg["Subject"] = _header(rendered.subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    msg["X-HNTH-Notice"] = notice_id
    msg.attach(text_part(rendered.text.encode(), "plain"))
    msg.attach(text_part(rendered.html.encode(), "html"))
    if calendar is not None:
        entry, body = calendar
        part = text_part(body, "calendar")
        part.set_param("method", entry.method)
        msg.attach(part)
    return msg


def text_part(utf8: bytes, subtype: str) -> Message:
    """A UTF-8 text part in base64, byte for byte as `MIMEText(text, subtype, "utf-8")`
    writes it, encoded in one call (`MIMEText` cuts the base64 into lines in Python:
    three parts took about a sixth of an e-mail's build time)."""
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(utf8).decode("ascii"))
    return part


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def webhook_body(notice: Mapping[str, Any], ack_url: str, ics_text: str | None) -> bytes:
    """What subscribers (e-office, work calendars) receive: the notice and its calendar entry."""
    body = {
        "notice_id": notice["_id"],
        "kind": notice["kind"],
        "tenant": notice["tenant"],
        "meeting_id": notice.get("meeting_id"),
        "rule": notice["rule"],
        "meeting": _jsonable(notice.get("data") or {}),
        "calendar": notice.get("calendar"),
        "ics": ics_text,
        "ack_url": ack_url,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


# ---------------------------------------------------------------- a notice, ready to send


def email(
    notice: Mapping[str, Any],
    *,
    contact: Mapping[str, Any],
    address: str,
    it_contact: Mapping[str, Any] | None,
    policy: Policy,
    ack_url: str,
    sender: str,
    now: datetime,
    console_url: str = "",
) -> Message:
    """The notice as an e-mail to `address`, in the contact's language, with its calendar
    entry; its Message-ID is the notice's, so a re-send is recognisably the same message.
    `console_url`: where the recipient does what the notice asks (a report handed in).
    Mail about a person's own account (`PERSONAL_KINDS`) asks for no acknowledgement and
    cites no rule."""
    personal = notice["kind"] in PERSONAL_KINDS
    context = {
        "data": notice.get("data") or {},
        "recipient_name": contact.get("person") or contact.get("name") or notice["recipient"],
        "recipient_endpoint": endpoint_of(notice["recipient"]),
        "recipient_role": notice.get("role"),
        "console_url": console_url.rstrip("/"),
        "it_contact": it_contact or UNKNOWN_IT_CONTACT,
        "ack_url": None if personal or notice["kind"] in ACTED_ON_KINDS else ack_url,
        "with_calendar": bool(notice.get("calendar")),
        "rule": None if personal else notice["rule"],
        "province": policy.name,
        "tz": policy.timezone,
    }
    rendered = render(notice["kind"], language_of(contact), context)
    sender_address = parseaddr(sender)[1]
    it_address = str((it_contact or {}).get("email") or "") or None
    calendar = None
    if notice.get("calendar"):
        entry = Calendar(**notice["calendar"])
        body = ics(
            entry,
            notice["data"],
            organizer=it_address or sender_address,  # a reply reaches a person
            attendee=address,
            now=now,
            description=rendered.text,
        )
        calendar = (entry, body)
    return email_message(
        sender=from_header(sender, policy.name),
        reply_to=it_address,  # an answer goes to the province's IT department
        to=address,
        rendered=rendered,
        message_id=signing.message_id(notice["_id"], "hnth-ops"),
        now=now,
        calendar=calendar,
        notice_id=notice["_id"],
    )


def webhook(
    notice: Mapping[str, Any], *, ack_url: str, sender: str, secret: bytes, now: datetime
) -> tuple[bytes, dict[str, str]]:
    """The notice as a signed webhook request: its body and headers (the delivery id is the
    notice's, so a subscriber drops a re-sent copy)."""
    ics_text = None
    if notice.get("calendar"):
        entry = Calendar(**notice["calendar"])
        ics_text = ics(
            entry,
            notice["data"],
            organizer=parseaddr(sender)[1],
            attendee=None,
            now=now,
            description=str(notice["data"].get("title", "")),
        ).decode()
    body = webhook_body(notice, ack_url, ics_text)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-HNTH-Delivery": notice["_id"],
        "X-HNTH-Kind": notice["kind"],
        "X-HNTH-Timestamp": str(timestamp),
        "X-HNTH-Signature": signing.webhook_signature(secret, timestamp, body),
    }
    return body, headers
