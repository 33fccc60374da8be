"""Rules two services apply, written once: the meeting time rules, the defaults for rules a
province did not write, and the platform's own invariants (not province knobs).

Registration checks a request when a person submits it; scheduling checks it again when it
arrives on the bus (another system may have published it). Both call `time_breaches` with
the instant the request was made, so they give the same verdict for the same request.
Each service words the result in its own shape (a 422 field, a `Conflict`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hnth_contracts.policy import DEFAULT_SOURCE, DEFAULTS, INVARIANTS, Policy, describe

__all__ = [
    "DEFAULTS",
    "DEFAULT_SOURCE",
    "INVARIANTS",
    "NATIONAL",
    "Breach",
    "is_late_notice",
    "local_text",
    "time_breaches",
    "zone",
]


def zone(policy: Policy) -> ZoneInfo:
    """The province's time zone: every time a person reads is shown in it."""
    return ZoneInfo(policy.timezone)


def end_of_day(moment: datetime, where: ZoneInfo) -> date | None:
    """The day a deadline closes, when it falls at local midnight (a report due 15/12 is
    kept until 16/12 00:00: people read it as 15/12); None for any other time."""
    local = moment.astimezone(where)
    if (local.hour, local.minute, local.second, local.microsecond) != (0, 0, 0, 0):
        return None
    return (local - timedelta(days=1)).date()


def local_text(moment: datetime, policy: Policy) -> str:
    """`08:00 03/12/2026` in the province's zone."""
    return moment.astimezone(zone(policy)).strftime("%H:%M %d/%m/%Y")


@dataclass(frozen=True)
class Breach:
    """A time rule a meeting breaks: the rule, the field it is about, why (vi, en; no final
    full stop, each service punctuates as its other messages)."""

    rule: str
    field: str
    vi: str
    en: str


NATIONAL = "notice.national_lead_time"
"""The notice lead time of a meeting hosted outside the province (the urgent path, flagged)."""


def is_late_notice(start: datetime, policy: Policy, asked_at: datetime) -> bool:
    """Does the meeting start sooner after `asked_at` than the notice lead time (rule 2)?"""
    return start - asked_at < policy.duration("notice.lead_time")


ROLE_NAMES = {
    "operator": ("Sở KH&CN", "the IT department"),
    "registrar": ("đơn vị chủ trì", "the host unit's registrar"),
}
"""The roles a rule names, as people read them (Vietnamese, English)."""


def role_names(roles: Sequence[str]) -> tuple[str, str]:
    """Roles in words, joined (Vietnamese, English)."""
    names = [ROLE_NAMES.get(r, (r, r)) for r in roles]
    return ", ".join(vi for vi, _ in names), ", ".join(en for _, en in names)


def urgent_role_names(policy: Policy) -> tuple[str, str]:
    """Who may register inside the notice lead time, in words (Vietnamese, English)."""
    return role_names(urgent_roles(policy))


def urgent_roles(policy: Policy) -> tuple[str, ...]:
    """The roles the policy lets register inside the lead time (`notice.urgent_override`:
    one role or a list)."""
    value = policy.value("notice.urgent_override")
    return (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)


def time_breaches(
    start: datetime,
    end: datetime,
    policy: Policy,
    *,
    now: datetime,
    asked_at: datetime | None = None,
    urgent_reason: str | None,
    external_host: str | None = None,
) -> list[Breach]:
    """The time rules a meeting from `start` to `end` breaks when decided at `now`, asked
    for at `asked_at` (default `now`; a request that waited on the bus was asked earlier).

    An end before the start stops there (nothing else is meaningful); so does a start
    already past at `now` (no lead time to speak of: a meeting is never booked after it
    began, however early it was asked for). The notice lead time counts from `asked_at`:
    inside it a meeting needs an `urgent_reason` (who may give one is the caller's concern:
    `notice.urgent_override`). A meeting called from above (`external_host`) takes the
    urgent path without a reason: its lead time is `notice.national_lead_time`."""
    asked_at = now if asked_at is None else min(asked_at, now)
    if end <= start:
        return [
            Breach(
                "meeting.start_before_end",
                "end",
                "Thời gian kết thúc phải sau thời gian bắt đầu",
                "The end must be after the start",
            )
        ]
    found = _duration_breaches(end - start, policy)
    if start <= now:
        when = local_text(start, policy)
        found.append(
            Breach(
                "meeting.not_in_past",
                "start",
                f"Thời gian bắt đầu đã qua ({when})",
                f"The start is in the past ({when})",
            )
        )
        return found
    if external_host:
        lead = policy.duration(NATIONAL)
        if start - asked_at < lead:
            found.append(
                Breach(
                    NATIONAL,
                    "start",
                    f"Cuộc họp do {external_host} chủ trì phải được đăng ký trước ít nhất "
                    f"{describe(lead)} để kịp đấu nối và kiểm tra các điểm cầu",
                    f"A meeting hosted by {external_host} must be registered at least "
                    f"{describe(lead, english=True)} ahead, to connect and check the endpoints",
                )
            )
    elif is_late_notice(start, policy, asked_at) and not urgent_reason:
        lead = policy.duration("notice.lead_time")
        vi, en = urgent_role_names(policy)
        earliest = local_text(asked_at + lead, policy)
        found.append(
            Breach(
                "notice.lead_time",
                "start",
                f"Cuộc họp phải được đăng ký trước ít nhất {describe(lead)} để thông báo bằng "
                f"văn bản (đăng ký lúc này: bắt đầu sớm nhất {earliest}); họp khẩn trong thời "
                f"hạn này do {vi} đăng ký, kèm lý do họp khẩn",
                f"Meetings must be registered at least {describe(lead, english=True)} ahead "
                f"for the written notices (registered now: starting {earliest} at the "
                f"earliest); an urgent meeting inside it is registered by {en}, with its "
                "urgent reason",
            )
        )
    return found


LINE_LIMIT_RULES = {
    "latency_ms": "check.line_max_latency_ms",
    "loss_pct": "check.line_max_loss_pct",
}
"""The policy rule that limits each measure of a line check: a line measured beyond it
has failed (inspection judges it; the console says the limits on the form)."""


OFFICE_HOURS = "meeting.office_hours"
"""The hours the free-slot finder searches by default and a refusal's alternatives keep to
(`{days: [ISO weekdays], from: "07:30", to: "17:00"}`); scheduling reads it whole."""


LETTER_RULE = "registration.official_letter"
"""Whether a registration goes with the host unit's official letter (số, ngày công văn)."""


def letter_required(policy: Policy) -> bool:
    """The province asks every registration for the host unit's official letter."""
    return LETTER_RULE in policy.rules and bool(policy.value(LETTER_RULE))


def letter_breaches(
    number: str | None, issued: date | None, policy: Policy, now: datetime
) -> list[Breach]:
    """The official-letter rules a registration breaks: the letter's number and date when
    the province asks for them (`registration.official_letter`), and a letter dated after
    today (`record.not_in_future`) in any province."""
    found: list[Breach] = []
    today = now.astimezone(zone(policy)).date()
    if issued is not None and issued > today:
        found.append(
            Breach(
                "record.not_in_future",
                "document_date",
                f"Ngày công văn ({issued:%d/%m/%Y}) chưa đến",
                f"The letter's date ({issued:%d/%m/%Y}) is in the future",
            )
        )
    if not letter_required(policy):
        return found
    if not (number or "").strip():
        found.append(
            Breach(
                LETTER_RULE,
                "document_number",
                "Tỉnh yêu cầu đăng ký kèm công văn: hãy ghi số công văn",
                "This province registers meetings with an official letter: give its number",
            )
        )
    if issued is None:
        found.append(
            Breach(
                LETTER_RULE,
                "document_date",
                "Tỉnh yêu cầu đăng ký kèm công văn: hãy ghi ngày công văn",
                "This province registers meetings with an official letter: give its date",
            )
        )
    return found


def _duration_breaches(length: timedelta, policy: Policy) -> list[Breach]:
    found: list[Breach] = []
    if "meeting.min_duration" in policy.rules:
        least = policy.duration("meeting.min_duration")
        if length < least:
            found.append(
                Breach(
                    "meeting.min_duration",
                    "end",
                    f"Cuộc họp ngắn hơn mức tối thiểu {describe(least)}",
                    f"The meeting is shorter than the minimum {describe(least, english=True)}",
                )
            )
    if "meeting.max_duration" in policy.rules:
        most = policy.duration("meeting.max_duration")
        if length > most:
            found.append(
                Breach(
                    "meeting.max_duration",
                    "end",
                    f"Cuộc họp dài hơn mức tối đa {describe(most)}",
                    f"The meeting is longer than the maximum {describe(most, english=True)}",
                )
            )
    return found
