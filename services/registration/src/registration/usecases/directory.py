"""Directory use cases: add, change and deactivate units and endpoints; the contacts.
Every change writes the entry with its snapshot event in one write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from hnth_contracts import EndpointGroupUpdated, EndpointUpdated, Event, UnitUpdated
from hnth_contracts.policy import Policy
from hnth_kit.auth import Principal
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from hnth_kit.refusal import Refusal, Violation
from registration.directory import (
    ContactsIn,
    EndpointIn,
    GroupIn,
    UnitIn,
    add_endpoint,
    add_group,
    add_unit,
    set_contacts,
    snapshot,
)
from registration.domain import technician_missing
from registration.store import Entries, RegistrationStore, StaleWrite

_NAMES = {
    "units": ("đơn vị", "unit"),
    "endpoints": ("điểm cầu", "endpoint"),
    "groups": ("nhóm điểm cầu", "endpoint group"),
}


class DirectoryCases:
    def __init__(
        self,
        store: RegistrationStore,
        policy_for: Callable[[str], Policy],
        clock: Clock,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store, self.policy_for, self.clock, self.wake = store, policy_for, clock, wake
        self._kinds: dict[str, tuple[Entries, type[Event], type[BaseModel]]] = {
            "units": (store.units, UnitUpdated, UnitIn),
            "endpoints": (store.endpoints, EndpointUpdated, EndpointIn),
            "groups": (store.groups, EndpointGroupUpdated, GroupIn),
        }

    async def entries(self, kind: str, tenant: str, filters: Document) -> list[Document]:
        return await self._kinds[kind][0].list(tenant, filters)

    async def entry(self, kind: str, tenant: str, code: str) -> Document:
        found = await self._kinds[kind][0].get(tenant, code)
        if found is None:
            vi, en = _NAMES[kind]
            raise Refusal(404, "not_found", f"Không có {vi} {code}.", f"No {en} {code}.")
        return found

    async def add_unit(self, who: Principal, body: UnitIn) -> Document:
        if not await add_unit(self.store, who.tenant, body, self.clock.now()):
            raise _taken(body.code)
        self.wake()
        return await self.entry("units", who.tenant, body.code)

    async def add_endpoint(self, who: Principal, body: EndpointIn) -> Document:
        await self._require_unit(who.tenant, body.unit)
        self._require_technician(who.tenant, body.model_dump())
        if not await add_endpoint(self.store, who.tenant, body, self.clock.now()):
            raise _taken(body.code)
        self.wake()
        return await self.entry("endpoints", who.tenant, body.code)

    async def add_group(self, who: Principal, body: GroupIn) -> Document:
        await self._require_members(who.tenant, body.model_dump())
        if not await add_group(self.store, who.tenant, body, self.clock.now()):
            raise _taken(body.code)
        self.wake()
        return await self.entry("groups", who.tenant, body.code)

    async def update(
        self,
        kind: str,
        who: Principal,
        code: str,
        changes: dict[str, Any],
        expected: int | None = None,
    ) -> Document:
        """Change an entry (only the fields given); an endpoint's new unit must be active.
        `expected`: the version the person edited (HTTP `If-Match`); another version now is
        a 412, so a form never silently undoes someone else's change."""
        if kind == "endpoints" and "unit" in changes:
            await self._require_unit(who.tenant, changes["unit"])
        if kind == "groups":
            await self._require_members(who.tenant, changes)
        entries, event_type, fields = self._kinds[kind]
        current = await self.entry(kind, who.tenant, code)
        if expected is not None and current["version"] != expected:
            raise Refusal(
                412,
                "changed_meanwhile",
                f"Mục này đã được sửa (phiên bản {current['version']}, bạn sửa phiên bản "
                f"{expected}); hãy tải lại rồi sửa tiếp.",
                f"This entry was changed meanwhile (version {current['version']}, you edited "
                f"version {expected}); reload and edit again.",
            )
        state = {k: current[k] for k in fields.model_fields if k in current} | changes
        if kind == "endpoints":
            self._require_technician(who.tenant, state)
        event = snapshot(event_type, who.tenant, state, self.clock.now())
        written = {**changes, "updated_at": self.clock.now()}
        try:
            await entries.replace(who.tenant, code, current["version"], written, event)
        except StaleWrite:
            raise Refusal(
                409,
                "concurrent_change",
                "Mục này vừa được sửa; hãy tải lại.",
                "Changed by someone else; reload.",
            ) from None
        self.wake()
        return await self.entry(kind, who.tenant, code)

    async def contacts(self, tenant: str) -> Document:
        found = await self.store.contacts(tenant)
        if found is None:
            raise Refusal(404, "not_found", "Chưa có đầu mối.", "No contacts yet.")
        return found

    async def set_contacts(self, who: Principal, body: ContactsIn) -> Document:
        try:
            await set_contacts(self.store, who.tenant, body, self.clock.now())
        except StaleWrite:
            raise Refusal(409, "concurrent_change", "Hãy thử lại.", "Try again.") from None
        self.wake()
        return await self.contacts(who.tenant)

    def _require_technician(self, tenant: str, endpoint: dict[str, Any]) -> None:
        missing = technician_missing(endpoint, self.policy_for(tenant))
        if missing is not None:
            raise Refusal.broken([missing])

    async def _require_unit(self, tenant: str, code: str) -> None:
        if not (await self.store.units.active(tenant, [code])).get(code):
            raise Refusal.rule(
                self.policy_for(tenant),
                "directory.unit_active",
                "unit",
                f"Đơn vị {code} không có hoặc đã ngừng hoạt động.",
                f"Unit {code} does not exist or is inactive.",
            )

    async def _require_members(self, tenant: str, members: dict[str, Any]) -> None:
        """A group names only endpoints and units the directory has (422 naming each)."""
        policy = self.policy_for(tenant)
        found: list[Violation] = []
        for field, entries, vi, en in (
            ("endpoints", self.store.endpoints, "Điểm cầu", "Endpoint"),
            ("units", self.store.units, "Đơn vị", "Unit"),
        ):
            codes = list(members.get(field) or [])
            known = await entries.active(tenant, codes)
            found += [
                Violation(
                    f"{field}[{i}]",
                    RULE_OF[field],
                    policy.ref(RULE_OF[field]).source,
                    f"{vi} {code} không có trong danh bạ.",
                    f"{en} {code} is not in the directory.",
                )
                for i, code in enumerate(codes)
                if code not in known
            ]
        if found:
            raise Refusal.broken(found)


RULE_OF = {"endpoints": "directory.endpoint_active", "units": "directory.unit_active"}


def _taken(code: str) -> Refusal:
    return Refusal(409, "code_taken", f"Mã {code} đã tồn tại.", f"The code {code} is taken.")
