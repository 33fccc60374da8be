"""Inspection's subscribers: decode -> domain -> store."""

from __future__ import annotations

from hnth_contracts import SlotAssigned
from hnth_kit.clock import Clock
from hnth_kit.consumer import Handler, RawMessage
from inspection import domain
from inspection.store import InspectionStore


def build_handlers(store: InspectionStore, clock: Clock) -> dict[type, Handler]:
    async def on_assigned(event: SlotAssigned, _: RawMessage) -> None:
        await store.open_checklists(domain.open_checklists(event, clock.now()))

    return {SlotAssigned: on_assigned}
