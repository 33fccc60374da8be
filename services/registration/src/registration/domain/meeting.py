"""May a meeting be registered (or changed) under the province's policy and directory.

Every broken rule becomes a `Violation` naming the field, the policy rule and the rule's
source, in Vietnamese and English. The time rules are the platform's
(`hnth_contracts.rules.time_breaches`, shared with scheduling); who may override the lead
time (`notice.urgent_override`) is registration's own. Nothing here reads the clock or
the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as default
from datetime import date, datetime

from hnth_contracts import priority, rules
from hnth_contracts.policy import Policy
from hnth_kit.refusal import Violation


@dataclass(frozen=True)
class Caller:
    """Who registers: an IT-department operator registers for any unit, a registrar only
    for its own; who may override the lead time is the policy's `notice.urgent_override`."""

    role: str
    unit: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


@dataclass(frozen=True)
class Directory:
    """What registration needs to know of the directory: which codes are active."""

    units: Mapping[str, bool]
    endpoints: Mapping[str, bool]
    groups: Mapping[str, bool] = default(default_factory=dict)
    """The endpoint groups the draft names (built-in ones are always active)."""


@dataclass(frozen=True)
class Draft:
    """A meeting as it would be after the registration or change."""

    host_unit: str
    start: datetime
    end: datetime
    main_endpoint: str
    endpoints: Sequence[str]
    urgent_reason: str | None = None
    document_number: str | None = None
    """The host unit's official letter (số công văn), when it gave one."""
    document_date: date | None = None
    groups: Sequence[str] = ()
    """Endpoint groups: scheduling expands them when it decides the meeting."""
    external_host: str | None = None
    """The host outside the province of a national meeting the province relays."""
    priority: str | None = None
    """Its level in `meeting.priorities`; None: the province's default level."""
    listed: Sequence[str] | None = None
    """The endpoints as the request listed them (a refusal points at its own index);
    None: as `endpoints`."""


def participants(main_endpoint: str, endpoints: Sequence[str]) -> tuple[str, ...]:
    """The meeting's endpoints, main endpoint first, each once (the main room always takes part)."""
    return tuple(dict.fromkeys([main_endpoint, *endpoints]))


def check_meeting(
    draft: Draft, *, policy: Policy, directory: Directory, caller: Caller, now: datetime
) -> list[Violation]:
    """Every rule the meeting breaks (empty when it may be registered as drafted)."""
    letter = rules.letter_breaches(draft.document_number, draft.document_date, policy, now)
    return [
        *time_violations(draft, policy=policy, caller=caller, now=now),
        *(_broken(policy, b.field, b.rule, b.vi + ".", b.en + ".") for b in letter),
        *_unit_violations(draft, policy, directory, caller),
        *_endpoint_violations(draft, policy, directory),
        *_group_violations(draft, policy, directory),
        *priority_violations(draft.priority, policy, caller),
    ]


def _broken(policy: Policy, field: str, rule: str, vi: str, en: str) -> Violation:
    return Violation(field, rule, policy.ref(rule).source, vi, en)


def _national_only(policy: Policy) -> Violation:
    return _broken(
        policy,
        "external_host",
        "registration.own_unit",
        "Chỉ Sở KH&CN đăng ký cuộc họp do cấp trên chủ trì.",
        "Only the IT department registers a meeting hosted outside the province.",
    )


def host_change_violations(
    before: Draft, after: Draft, caller: Caller, policy: Policy
) -> list[Violation]:
    """Naming, changing or clearing the host outside the province is the IT department's,
    as registering a national meeting is."""
    if before.external_host == after.external_host or caller.is_operator:
        return []
    return [_national_only(policy)]


def time_violations(
    draft: Draft, *, policy: Policy, caller: Caller, now: datetime
) -> list[Violation]:
    """The shared time rules (registration's messages end with a full stop), then who may
    register inside the notice lead time."""
    breaches = rules.time_breaches(
        draft.start,
        draft.end,
        policy,
        now=now,
        urgent_reason=draft.urgent_reason,
        external_host=draft.external_host,
    )
    found = [_broken(policy, b.field, b.rule, b.vi + ".", b.en + ".") for b in breaches]
    if draft.external_host and not caller.is_operator:
        found.append(_national_only(policy))
    stopped = {b.rule for b in breaches} & {"meeting.start_before_end", "meeting.not_in_past"}
    if stopped or not draft.urgent_reason or not is_late_notice(draft.start, policy, now):
        return found
    if not may_override_lead_time(caller, policy):
        vi, en = rules.urgent_role_names(policy)
        found.append(
            _broken(
                policy,
                "urgent_reason",
                "notice.urgent_override",
                f"Chỉ {vi} được đăng ký họp khẩn trong thời hạn thông báo.",
                f"Only {en} may register an urgent meeting inside the notice lead time.",
            )
        )
    return found


def _unit_violations(
    draft: Draft, policy: Policy, directory: Directory, caller: Caller
) -> list[Violation]:
    unit = draft.host_unit
    if not directory.units.get(unit, False):
        vi, en = _missing(unit in directory.units)
        return [
            _broken(
                policy,
                "host_unit",
                "directory.unit_active",
                f"Đơn vị {unit} {vi}.",
                f"Unit {unit} is {en}.",
            )
        ]
    if not caller.is_operator and caller.unit != unit:
        return [
            _broken(
                policy,
                "host_unit",
                "registration.own_unit",
                f"Tài khoản của đơn vị {caller.unit} không được đăng ký cho đơn vị {unit}.",
                f"A registrar of {caller.unit} may not register meetings for {unit}.",
            )
        ]
    return []


def _endpoint_violations(draft: Draft, policy: Policy, directory: Directory) -> list[Violation]:
    listed = list(draft.endpoints if draft.listed is None else draft.listed)
    fields = [("main_endpoint", draft.main_endpoint)] + [
        (f"endpoints[{listed.index(code)}]" if code in listed else "endpoints", code)
        for code in draft.endpoints
        if code != draft.main_endpoint
    ]
    found = []
    for field, code in fields:
        if not directory.endpoints.get(code, False):
            vi, en = _missing(code in directory.endpoints)
            found.append(
                _broken(
                    policy,
                    field,
                    "directory.endpoint_active",
                    f"Điểm cầu {code} {vi}.",
                    f"Endpoint {code} is {en}.",
                )
            )
    return found


def _group_violations(draft: Draft, policy: Policy, directory: Directory) -> list[Violation]:
    return [
        _broken(
            policy,
            f"groups[{i}]",
            "directory.endpoint_active",
            f"Nhóm điểm cầu {code} {vi}.",
            f"Endpoint group {code} is {en}.",
        )
        for i, code in enumerate(draft.groups)
        if not directory.groups.get(code, False)
        for vi, en in [_missing(code in directory.groups)]
    ]


def priority_violations(code: str | None, policy: Policy, caller: Caller) -> list[Violation]:
    """A level the province does not have, or one the caller's role may not set."""
    if code is None:
        return []
    found = priority.level(policy, code)
    if found is None:
        known = ", ".join(lv.code for lv in priority.levels(policy))
        return [
            _broken(
                policy,
                "priority",
                priority.PRIORITIES,
                f"Mức ưu tiên „{code}“ không có trong quy định của tỉnh (có: {known}).",
                f"The province has no priority level '{code}' (it has: {known}).",
            )
        ]
    if caller.role in found.roles:
        return []
    vi, en = rules.role_names(found.roles)
    return [
        _broken(
            policy,
            "priority",
            priority.PRIORITIES,
            f"Chỉ {vi} được đặt mức ưu tiên {found.vi}.",
            f"Only {en} may set the priority level {found.en}.",
        )
    ]


def _missing(known: bool) -> tuple[str, str]:
    if known:
        return "đã ngừng hoạt động", "inactive"
    return "không có trong danh bạ", "not in the directory"


def may_override_lead_time(caller: Caller, policy: Policy) -> bool:
    return caller.role in rules.urgent_roles(policy)


def reschedules(before: Draft, after: Draft) -> bool:
    """Does a change move the meeting, change its rooms or who hosts it? Only then do the
    time and directory rules apply again: fixing a title inside the lead time is not a new
    notice."""

    def shape(d: Draft) -> tuple[object, ...]:
        # who hosts decides which lead time applies (notice.national_lead_time)
        return (
            d.start, d.end, d.main_endpoint, tuple(d.endpoints), tuple(d.groups), d.external_host
        )  # fmt: skip

    return shape(before) != shape(after)


def is_late_notice(start: datetime, policy: Policy, now: datetime) -> bool:
    """Does the meeting start sooner than the notice lead time allows (rule 2)?"""
    return rules.is_late_notice(start, policy, now)


def frozen_since_start(start: datetime, now: datetime) -> bool:
    """A meeting that has started (or is over) can no longer be changed or cancelled."""
    return start <= now
