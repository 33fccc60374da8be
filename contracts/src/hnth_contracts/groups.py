"""Endpoint groups: which endpoints a group named by a meeting stands for.

Registration keeps the operator's groups and announces them (`EndpointGroupUpdated`);
scheduling expands a meeting's groups when it decides the meeting. The built-in groups are
derived from unit kinds, so every province has them without keeping them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hnth_contracts.events import COMMUNE_LEVEL, EndpointGroupUpdated, UnitKind


@dataclass(frozen=True)
class Group:
    """A group's members: endpoints by code, every endpoint of some units or unit kinds."""

    code: str
    name: str
    name_en: str
    endpoints: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    active: bool = True


BUILT_IN: dict[str, Group] = {
    g.code: g
    for g in (
        Group(
            "ALL-COMMUNE-LEVEL",
            "Tất cả đơn vị cấp xã (xã, phường, đặc khu)",
            "Every commune-level unit (communes, wards, special zones)",
            kinds=frozenset(COMMUNE_LEVEL),
        ),
        Group("ALL-COMMUNES", "Tất cả các xã", "All communes", kinds=frozenset({UnitKind.COMMUNE})),
        Group("ALL-WARDS", "Tất cả các phường", "All wards", kinds=frozenset({UnitKind.WARD})),
        Group(
            "ALL-DEPARTMENTS",
            "Tất cả các sở, ban, ngành",
            "All departments",
            kinds=frozenset({UnitKind.DEPARTMENT}),
        ),
    )
}
"""Groups every province has, derived from unit kinds; an operator's group may not take
their codes."""


def group_of(event: EndpointGroupUpdated) -> Group:
    return Group(
        code=event.code,
        name=event.name,
        name_en=event.name,
        endpoints=frozenset(event.endpoints),
        units=frozenset(event.units),
        kinds=frozenset(event.kinds),
        active=event.active,
    )


@dataclass(frozen=True)
class Member:
    """An endpoint as an expansion sees it."""

    code: str
    unit: str
    active: bool


def expand(
    group: Group, endpoints: Iterable[Member], unit_kinds: Mapping[str, str]
) -> tuple[str, ...]:
    """The ACTIVE endpoints the group stands for, sorted (an inactive group: none)."""
    if not group.active:
        return ()
    return tuple(
        sorted(
            e.code
            for e in endpoints
            if e.active
            and (
                e.code in group.endpoints
                or e.unit in group.units
                or unit_kinds.get(e.unit) in group.kinds
            )
        )
    )
