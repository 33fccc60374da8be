"""Merging a province into another and renaming one (`hnth province merge|rename`):
registration records the change and announces it; every service then moves its own
documents (`hnth_kit.tenants`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path

from hnth_contracts import TenantMerged
from hnth_kit.clock import Clock
from hnth_kit.refusal import Refusal
from registration.domain.tenants import may_ask, other_province, plan_change, same_change
from registration.tenant_store import TenantOpsStore


class Outcome(StrEnum):
    MADE = "made"
    FOUND = "found"
    WAITING = "waiting"


class TenantChanges:
    def __init__(
        self,
        store: TenantOpsStore,
        policy_dir: Path,
        clock: Clock,
        wake: Callable[[], None],
        learn: Callable[[TenantMerged], Awaitable[object]],
    ) -> None:
        self._store, self._policy_dir, self._clock, self._wake = store, policy_dir, clock, wake
        self._learn = learn
        """This replica refuses the former province at once (the others within seconds)."""

    def _known(self) -> set[str]:
        return {path.stem for path in self._policy_dir.glob("*.yaml")}

    async def change(
        self, *, former: str, into: str, rename: bool, source: str, requested_by: str, asker: str
    ) -> tuple[TenantMerged, Outcome]:
        """Record `former` -> `into` as `asker`'s IT department asks (`MADE`), find it
        recorded (`FOUND`: a rerun, which goes on where it stopped), or keep a merge's
        request until the other province asks too (`WAITING`: the event shows what it will
        do). A different change of the same province is refused."""
        recorded = await self._store.recorded(former)
        if recorded is None:
            may_ask(former=former, into=into, rename=rename, asker=asker)
            now = self._clock.now()
            event = plan_change(
                former=former,
                into=into,
                rename=rename,
                source=source,
                requested_by=requested_by,
                former_codes=await self._store.codes(former),
                into_codes=await self._store.codes(into),
                known=self._known(),
                now=now,
            )
            if not rename:
                await self._store.agree(former, into, asker, requested_by, now)
                other = other_province(former=former, into=into, asker=asker)
                if not await self._store.agreed(former, into, other):
                    return event, Outcome.WAITING
            if await self._store.record(event):
                self._wake()
                await self._learn(event)
                return event, Outcome.MADE
            recorded = await self._store.recorded(former)
            assert recorded is not None
        if not same_change(recorded, into=into, rename=rename):
            raise Refusal(
                409,
                recorded.rule.rule,
                f"Tỉnh {former} đã chuyển sang {recorded.into}.",
                f"Province {former} already went to {recorded.into}.",
                into=recorded.into,
            )
        return recorded, Outcome.FOUND

    async def recorded(self, former: str) -> TenantMerged:
        found = await self._store.recorded(former)
        if found is None:
            raise Refusal.not_found("thay đổi tỉnh này", "change of this province")
        return found
