"""A meeting bigger than the free ports of any one bridge: cascaded over several bridges.

The main (host) bridge connects the main endpoint and as many others as it has room for;
every further bridge connects its share of the endpoints and is LINKED to the host by one
call. A link takes a port on EACH side: the host spends one port per linked bridge, a
linked bridge one port for its link. So m bridges with f1..fm free ports connect at most
f1 + ... + fm - 2(m - 1) endpoints, and a linked bridge needs two free ports to be of use.

Whether a province cascades at all is its rule `bridge.cascade` (yes/no); a decision that
cascades, or refuses because even the cascade is too small, cites it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hnth_contracts import Conflict, ConflictKind
from hnth_contracts.policy import Bridge, Policy

CASCADE = "bridge.cascade"
LINK = 1
"""Ports one cascade link takes on each of its two bridges."""


@dataclass(frozen=True)
class Share:
    """One bridge's part of a meeting: its endpoints and its cascade link ports."""

    bridge: str
    endpoints: tuple[str, ...]
    links: int = 0

    @property
    def ports(self) -> int:
        return len(self.endpoints) + self.links * LINK


def allowed(policy: Policy) -> bool:
    """The province lets a meeting be cascaded over several bridges (`bridge.cascade`)."""
    return CASCADE in policy.rules and policy.value(CASCADE) is True


def capacity(free: Sequence[int]) -> int:
    """The most endpoints bridges with these free ports connect together, cascaded: the
    largest hosts, the others (those with room for a link and an endpoint) are linked."""
    ranked = sorted(free, reverse=True)
    if not ranked:
        return 0
    linked = [f for f in ranked[1:] if f > 2 * LINK]
    return max(ranked[0], ranked[0] + sum(f - 2 * LINK for f in linked))


def cascade_plan(
    rooms: Sequence[str], main: str, free: Sequence[tuple[str, int]]
) -> list[Share] | None:
    """Where the meeting's `rooms` connect, given each bridge's free ports (in the order
    the bridges are tried): the first bridge holding them all, else a cascade over as few
    bridges as hold them (most free ports first; the host holds `main`); None when even
    the cascade cannot hold them."""
    ordered = (main, *sorted(set(rooms) - {main}))
    for name, ports in free:
        if ports >= len(ordered):
            return [Share(name, tuple(sorted(ordered)))]
    ranked = sorted(free, key=lambda item: -item[1])
    used: list[tuple[str, int]] = []
    for name, ports in ranked:
        if used and ports <= 2 * LINK:
            break
        used.append((name, ports))
        if capacity([p for _, p in used]) >= len(ordered):
            break
    else:
        return None
    if len(used) < 2 or capacity([p for _, p in used]) < len(ordered):
        return None
    links = len(used) - 1
    if used[0][1] - links * LINK < 1:
        return None  # a host with no port left for the main endpoint once linked
    shares: list[Share] = []
    rest = list(ordered)
    for n, (name, ports) in enumerate(used):
        room = ports - links * LINK if n == 0 else ports - LINK
        taken, rest = rest[:room], rest[room:]
        shares.append(Share(name, tuple(sorted(taken)), links if n == 0 else 1))
    return shares


def too_big(policy: Policy, ports: int, free: Sequence[tuple[Bridge, int]]) -> Conflict:
    """Even the cascade cannot hold the meeting: the numbers, each bridge's free ports."""
    held = capacity([f for _, f in free])
    each = ", ".join(f"{b.name} {f}/{b.ports}" for b, f in free)
    return Conflict(
        kind=ConflictKind.BRIDGE_CAPACITY,
        resource=", ".join(b.name for b, _ in free),
        rule=policy.ref(CASCADE),
        message=f"Cần {ports} cổng; cổng trống trên từng cầu: {each}; nối tầng các cầu (mỗi "
        f"liên kết tốn 1 cổng ở mỗi đầu) chỉ kết nối được {held} điểm cầu",
        message_en=f"{ports} ports are needed; free ports per bridge: {each}; cascading "
        f"the bridges (a link takes 1 port on each side) connects only {held} endpoints",
    )
