"""Switching a meeting's endpoint to its backup (rule 6: a standby room, or a 4G terminal
joining as a software endpoint) when the endpoint fails in the last hour.

The directory names each endpoint's backup; inside the policy's `backup.switch_window`
before the opening the IT department swaps the failing endpoint for it in one action. The
swap is then a change like any other (re-validated; scheduling decides whether the backup
is free). Nothing here reads the clock or the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hnth_contracts.policy import Policy, describe
from hnth_kit.refusal import Violation

SWITCH_WINDOW = "backup.switch_window"
"""How long before the opening the IT department may switch an endpoint to its backup."""


@dataclass(frozen=True)
class Switched:
    """The meeting's rooms after the swap: the backup takes the replaced endpoint's place
    (as the main endpoint too, when the replaced one was the main room)."""

    replaced: str
    backup: str
    main_endpoint: str
    endpoints: tuple[str, ...]
    excluded: tuple[str, ...] = ()
    """The endpoints the meeting's groups reach that it leaves out (the replaced one, when
    a group brought it in: the group stays, the backup joins as an extra endpoint)."""


def backup_of(endpoint: Mapping[str, Any] | None) -> str | None:
    """The backup the directory names for an endpoint (None: none, or no such endpoint)."""
    if endpoint is None:
        return None
    backup = endpoint.get("backup")
    return str(backup) if backup else None


def in_switch_window(start: datetime, policy: Policy, now: datetime) -> bool:
    """Is the meeting in its last `backup.switch_window` before the opening (not started)?"""
    return start - policy.duration(SWITCH_WINDOW) <= now < start


def reached_by_groups(timeline: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """endpoint -> the group through which the meeting's latest assignment reached it.
    `timeline` is the meeting's, oldest first."""
    assigned = [e for e in timeline if e.get("type") == "SlotAssigned"]
    latest = assigned[-1].get("groups") if assigned else None
    return {
        code: str(expansion["group"])
        for expansion in reversed(latest or ())
        for code in expansion.get("endpoints", ())
    }


def switch_violations(
    *,
    start: datetime,
    endpoints: Sequence[str],
    replaced: str,
    backup: str | None,
    policy: Policy,
    now: datetime,
    reached: Mapping[str, str] | None = None,
) -> list[Violation]:
    """Why the meeting may not switch `replaced` to `backup` now (empty: it may).
    `reached`: the endpoints its groups reach (`reached_by_groups`); one of them is
    switched too (the switch leaves it out of the groups, see `switched`)."""
    taking_part = {*endpoints, *(reached or {})}
    found = []
    if replaced not in taking_part:
        found.append(
            _broken(
                policy,
                f"Điểm cầu {replaced} không tham gia cuộc họp này.",
                f"Endpoint {replaced} does not take part in this meeting.",
            )
        )
    elif backup is None:
        found.append(
            _broken(
                policy,
                f"Danh bạ không nêu điểm cầu dự phòng cho {replaced}.",
                f"The directory names no backup for endpoint {replaced}.",
            )
        )
    elif backup in taking_part:
        found.append(
            _broken(
                policy,
                f"Điểm cầu dự phòng {backup} đã tham gia cuộc họp.",
                f"The backup endpoint {backup} already takes part in the meeting.",
            )
        )
    if not in_switch_window(start, policy, now):
        window = policy.duration(SWITCH_WINDOW)
        found.append(
            _broken(
                policy,
                f"Chỉ chuyển sang điểm cầu dự phòng trong {describe(window)} cuối trước khai "
                "mạc; trước đó hãy thay đổi điểm cầu của cuộc họp.",
                f"A backup is switched to only in the last {describe(window, english=True)} "
                "before the opening; before that, change the meeting's endpoints.",
            )
        )
    return found


def switched(
    main_endpoint: str,
    endpoints: Sequence[str],
    replaced: str,
    backup: str,
    excluded: Sequence[str] = (),
) -> Switched:
    """The meeting's rooms with `backup` in `replaced`'s place, order kept; for an endpoint
    a group brought in (not among `endpoints`), the backup joins as an extra endpoint and
    `replaced` is left out of the groups (`excluded`)."""
    if replaced not in endpoints:
        left_out = tuple(dict.fromkeys([*excluded, replaced]))
        return Switched(replaced, backup, main_endpoint, (*endpoints, backup), left_out)
    rooms = tuple(backup if e == replaced else e for e in endpoints)
    main = backup if main_endpoint == replaced else main_endpoint
    return Switched(replaced, backup, main, rooms, tuple(excluded))


def _broken(policy: Policy, vi: str, en: str) -> Violation:
    return Violation("endpoint", SWITCH_WINDOW, policy.ref(SWITCH_WINDOW).source, vi, en)
