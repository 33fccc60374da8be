"""Merging a province into another and renaming one (`hnth province merge|rename`):
registration records the change and announces it; every service then moves its own
documents (`hnth_kit.tenants`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from hnth_contracts import TenantMerged
from hnth_kit.clock import Clock
from hnth_kit.refusal import Refusal
from registration.domain.tenants import plan_change, same_change
from registration.tenant_store import TenantOpsStore


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
        self, *, former: str, into: str, rename: bool, source: str, requested_by: str
    ) -> tuple[TenantMerged, bool]:
        """Record `former` -> `into` (True) or find it recorded (False: a rerun, which goes
        on where it stopped). A different change of the same province is refused."""
        recorded = await self._store.recorded(former)
        if recorded is None:
            event = plan_change(
                former=former,
                into=into,
                rename=rename,
                source=source,
                requested_by=requested_by,
                former_codes=await self._store.codes(former),
                into_codes=await self._store.codes(into),
                known=self._known(),
                now=self._clock.now(),
            )
            if await self._store.record(event):
                self._wake()
                await self._learn(event)
                return event, True
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
        return recorded, False

    async def recorded(self, former: str) -> TenantMerged:
        found = await self._store.recorded(former)
        if found is None:
            raise Refusal.not_found("thay đổi tỉnh này", "change of this province")
        return found
