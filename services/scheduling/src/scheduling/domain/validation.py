"""Rules a request breaks before any resource is looked at, and the wait for a directory
that has not named its endpoints (or host unit) yet."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hnth_contracts import Conflict, ConflictKind
from hnth_contracts.policy import Policy
from hnth_contracts.rules import is_late_notice, letter_breaches, time_breaches
from scheduling.domain import cascade
from scheduling.domain.conflicts import too_small
from scheduling.domain.requests import Request, asked_at

Directory = Mapping[str, bool | None]
"""Code -> active (True), inactive (False) or unknown (None), as scheduling's copy knows it."""
UNIT = "unit:"
"""Prefix telling a unit code from an endpoint code where both are listed (parked requests)."""


def is_late(request: Request, policy: Policy, now: datetime) -> bool:
    """Inside the notice lead time (rule 2): written notices cannot go out in time."""
    return is_late_notice(request.start, policy, asked_at(request, now))


def policy_violations(
    request: Request,
    policy: Policy,
    directory: Directory | None,
    now: datetime,
    units: Directory | None = None,
) -> list[Conflict]:
    """Rules a request breaks before any resource is looked at.

    `directory` maps each endpoint to active/inactive, None when unknown; `None` as a
    whole when the directory has no entry for the province yet (nothing to check);
    `units` likewise for the host unit.
    """
    found = [
        policy_conflict(policy, b.rule, request.meeting_id, b.vi, b.en)
        for b in time_breaches(
            request.start,
            request.end,
            policy,
            now=now,
            asked_at=asked_at(request, now),
            urgent_reason=request.urgent_reason,
            external_host=request.external_host,
        )
    ]
    found += [
        policy_conflict(policy, b.rule, request.meeting_id, b.vi, b.en)
        for b in letter_breaches(request.document_number, request.document_date, policy, now)
    ]
    if units is not None and units.get(request.host_unit) is not True:
        vi, en = _missing(units.get(request.host_unit) is not None)
        unit = request.host_unit
        found.append(
            policy_conflict(
                policy, "directory.unit_active", unit, f"Đơn vị {unit} {vi}", f"Unit {unit} is {en}"
            )
        )
    for room in request.rooms if directory is not None else ():
        state = directory.get(room) if directory is not None else None
        if state is not True:
            vi, en = _missing(state is not None)
            found.append(
                policy_conflict(
                    policy,
                    "directory.endpoint_active",
                    room,
                    f"Điểm cầu {room} {vi}",
                    f"Endpoint {room} is {en}",
                )
            )
    found += _too_big(request, policy)
    return found


def _too_big(request: Request, policy: Policy) -> list[Conflict]:
    """More endpoints than the bridges hold even empty: the largest alone, or all of them
    cascaded where the province cascades."""
    bridges = policy.all_bridges
    if cascade.allowed(policy) and len(bridges) > 1:
        empty = [(b, b.ports) for b in bridges]
        if request.ports > cascade.capacity([p for _, p in empty]):
            return [cascade.too_big(policy, request.ports, empty)]
        return []
    largest = max(bridges, key=lambda b: b.ports)
    return [too_small(largest, request.ports)] if request.ports > largest.ports else []


def _missing(known: bool) -> tuple[str, str]:
    if known:
        return "đang ngừng hoạt động", "inactive"
    return "không xác định: không có trong danh bạ", "unknown: not in the directory"


def policy_conflict(policy: Policy, rule: str, resource: str, vi: str, en: str) -> Conflict:
    return Conflict(
        kind=ConflictKind.POLICY,
        resource=resource,
        rule=policy.ref(rule),
        message=vi,
        message_en=en,
    )


def unknown_endpoints(request: Request, directory: Directory | None) -> tuple[str, ...]:
    """Endpoints of the request the directory has never heard of (sorted): the directory
    arrives on its own topic, so they may simply not be here YET."""
    if directory is None:
        return ()
    return tuple(room for room in request.rooms if directory.get(room) is None)


def unknown_codes(
    request: Request, directory: Directory | None, units: Directory | None
) -> tuple[str, ...]:
    """What the request waits for: unknown endpoints, and the host unit (as `unit:<code>`)
    when the unit directory knows the province but not this unit."""
    unit = () if units is None or units.get(request.host_unit) is not None else (request.host_unit,)
    return (*unknown_endpoints(request, directory), *(UNIT + code for code in unit))


def must_wait(
    request: Request,
    directory: Directory | None,
    parked_at: datetime | None,
    policy: Policy,
    now: datetime,
    units: Directory | None = None,
) -> bool:
    """Wait for unknown endpoints (and host unit) while the grace period since the request
    was first parked (`parked_at`, None = not parked yet) lasts; after it they are rejected."""
    if not unknown_codes(request, directory, units):
        return False
    return parked_at is None or now < grace_ends(parked_at, policy)


def grace_ends(parked_at: datetime, policy: Policy) -> datetime:
    return parked_at + policy.duration("directory.unknown_endpoint_grace")
