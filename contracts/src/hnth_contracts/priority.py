"""Meeting priority (`meeting.priorities`) and pre-emption (`schedule.preempt_automatic`):
the rule registration checks (who may set a level) and scheduling applies (a higher level
may displace a strictly lower one), so it lives here, once.

`meeting.priorities` lists the levels highest first, each with the roles that may set it
and its name in Vietnamese and English; the LAST level is the default, the one a request
without a priority (or an older writer's) has. A province without the rule has one level,
routine, that everyone sets: nothing outranks anything, nothing is pre-empted.
"""

from __future__ import annotations

from dataclasses import dataclass

from hnth_contracts.policy import Policy

PRIORITIES = "meeting.priorities"
PREEMPT_AUTOMATIC = "schedule.preempt_automatic"
ROUTINE = "thuong_le"


@dataclass(frozen=True)
class Level:
    """One priority level: its code, who may set it, and its name."""

    code: str
    roles: tuple[str, ...]
    vi: str
    en: str


_ROUTINE = Level(ROUTINE, ("operator", "registrar"), "thường lệ", "routine")


def levels(policy: Policy) -> tuple[Level, ...]:
    """The province's levels, highest first (the last is the default)."""
    if PRIORITIES not in policy.rules:
        return (_ROUTINE,)
    return tuple(
        Level(
            code=str(entry["level"]),
            roles=tuple(str(r) for r in entry.get("roles", ())),
            vi=str(entry.get("vi", entry["level"])),
            en=str(entry.get("en", entry["level"])),
        )
        for entry in policy.value(PRIORITIES)
    )


def level(policy: Policy, code: str | None) -> Level | None:
    """The level `code` names (None: the default one); None if the province has no such level."""
    found = levels(policy)
    if code is None:
        return found[-1]
    return next((lv for lv in found if lv.code == code), None)


def rank(policy: Policy, code: str | None) -> int:
    """0 for the highest level; a level the province no longer has counts as the default."""
    codes = [lv.code for lv in levels(policy)]
    return codes.index(code) if code in codes else len(codes) - 1


def outranks(policy: Policy, code: str | None, other: str | None) -> bool:
    """Is `code` strictly higher than `other` (only then may it displace it)?"""
    return rank(policy, code) < rank(policy, other)


def preempts_automatically(policy: Policy, code: str | None) -> bool:
    """Does a request of this level displace lower ones without an operator?"""
    if PREEMPT_AUTOMATIC not in policy.rules or code is None:
        return False
    return code in (policy.value(PREEMPT_AUTOMATIC) or ())
