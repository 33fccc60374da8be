"""Scheduling's use cases over an in-memory store: no Kafka, no database.

`MemoryStore` implements `usecases.Store` with the same semantics as `SchedulingStore`
where the use cases can tell: claim chains (a claim `#g+1` only after `#g` is released),
one decision per `_id` (a second insert finds the first), parked requests by id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from scheduling_samples import NOW, tuyen_quang

from hnth_contracts import (
    EndpointGroupUpdated,
    EndpointUpdated,
    Event,
    MeetingChanged,
    MeetingRequested,
    UnitUpdated,
)
from hnth_contracts.groups import BUILT_IN, Group, Member, group_of
from hnth_contracts.policy import Policy
from hnth_kit.clock import ManualClock
from hnth_kit.mongo import Document
from scheduling.domain import UNIT
from scheduling.store import (
    CANCELLED,
    Attempt,
    History,
    KeyState,
    Then,
    claim_document,
    claim_fields,
    decision_id,
    successor,
    unit_id,
)
from scheduling.usecases import Scheduling


@dataclass
class MemoryStore:
    claims: dict[str, Document] = field(default_factory=dict)
    released: set[str] = field(default_factory=set)
    decisions: dict[str, Document] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    """Every event recorded with a decision (the outbox), in order."""
    directory: dict[str, Document] = field(default_factory=dict)
    groups: dict[tuple[str, str], Group] = field(default_factory=dict)
    parked_entries: dict[str, Document] = field(default_factory=dict)
    settlements: dict[str, Document] = field(default_factory=dict)

    async def states(
        self, keys: Iterable[str], since: Mapping[str, int] | None = None
    ) -> dict[str, KeyState]:
        found: dict[str, KeyState] = {}
        for key in dict.fromkeys(keys):
            gen = (since or {}).get(key, 0)
            while f"{key}#{gen}" in self.released:
                gen += 1
            found[key] = KeyState(key, gen, self.claims.get(f"{key}#{gen}"))
        return found

    def unclaimed(self, keys: Iterable[str]) -> dict[str, int] | None:
        """A replica that knows the whole calendar: blind claims wherever it is free."""
        gens: dict[str, int] = {}
        for key in keys:
            gen = 0
            while f"{key}#{gen}" in self.released:
                gen += 1
            if f"{key}#{gen}" in self.claims:
                return None
            gens[key] = gen
        return gens

    def seen_taken(self, key: str, besides: str | None = None) -> bool:
        """A replica that knows the whole calendar sees every live claim."""
        gen = 0
        while f"{key}#{gen}" in self.released:
            gen += 1
        claim = self.claims.get(f"{key}#{gen}")
        return claim is not None and claim["meeting_id"] != besides

    async def claim(
        self, attempt: Attempt, wanted: Mapping[str, int], fields: Mapping[str, Document]
    ) -> dict[str, KeyState]:
        others: dict[str, KeyState] = {}
        pending = dict(wanted)
        while pending:
            lost = [k for k, g in pending.items() if f"{k}#{g}" in self.claims]
            for key, gen in pending.items():
                if key not in lost:
                    doc = claim_document(attempt, key, gen, fields[key])
                    self.claims[doc["_id"]] = doc
                    attempt.take(doc["_id"], inserted=True)
            retry: dict[str, int] = {}
            for key, state in (await self.states(lost, pending)).items():
                if state.holder is None:
                    retry[key] = state.gen
                elif state.holder["meeting_id"] == attempt.meeting_id:
                    attempt.adopt(state)
                else:
                    others[key] = state
            pending = retry
        return others

    async def transfer(self, attempt: Attempt, claim_ids: Iterable[str]) -> None:
        for claim_id in claim_ids:
            key, gen = successor(claim_id)
            doc = claim_document(attempt, key, gen, claim_fields(key))
            if self.claims.setdefault(doc["_id"], doc) is doc:
                attempt.inserted.append(doc["_id"])

    async def release(self, claim_ids: Iterable[str], reason: str, at: datetime) -> None:
        self.released.update(claim_ids)

    async def history(self, tenant: str, meeting_id: str) -> History:
        decisions: list[Document] = []
        while doc := self.decisions.get(decision_id(tenant, meeting_id, len(decisions))):
            decisions.append(doc)
        return History(decisions, self.decisions.get(decision_id(tenant, meeting_id, CANCELLED)))

    async def skip(self, tenant: str, meeting_id: str, revisions: Iterable[int]) -> None:
        for r in revisions:
            doc = {"tenant": tenant, "meeting_id": meeting_id, "revision": r}
            doc |= {"outcome": "skipped", "held": [], "release": []}
            self.decisions.setdefault(decision_id(tenant, meeting_id, r), doc)

    async def record(
        self, document: Document, marker: str, events: Sequence[Event]
    ) -> tuple[Document, bool]:
        existing = self.decisions.get(document["_id"])
        if existing is not None:
            return existing, marker in existing["_applied"]
        self.decisions[document["_id"]] = {**document, "_applied": [marker]}
        self.events.extend(events)
        return self.decisions[document["_id"]], True

    async def record_then(
        self,
        document: Document,
        marker: str,
        events: Sequence[Event],
        then: Then,
        attempt: Attempt | None = None,
    ) -> Document:
        recorded, _ = await self.record(document, marker, events)
        await then(recorded)
        return recorded

    async def settle_claims(self) -> None:
        """Every claim here is in at once: nothing is held, nothing lost."""

    async def settle(
        self, decision_id: str, fields: Document, events: Sequence[Event], kind: str = "settled"
    ) -> Document:
        key = f"{decision_id}|{kind}"
        if key not in self.settlements:
            self.settlements[key] = fields
            self.events.extend(events)
        doc = self.decisions[decision_id]
        doc.update(self.settlements[key])
        return doc

    async def directory_view(
        self, tenant: str, codes: Iterable[str]
    ) -> dict[str, bool | None] | None:
        if f"{tenant}|*" not in self.directory:
            return None
        return {code: await self._active(f"{tenant}|{code}") for code in codes}

    async def units_view(self, tenant: str, code: str) -> dict[str, bool | None] | None:
        if f"{tenant}|{UNIT}*" not in self.directory:
            return None
        return {code: await self._active(unit_id(tenant, code))}

    async def _active(self, doc_id: str) -> bool | None:
        doc = self.directory.get(doc_id)
        return None if doc is None else bool(doc["active"])

    def forget(self, tenant: str, codes: Iterable[str]) -> None:
        pass  # nothing cached

    async def park(
        self, event: MeetingRequested | MeetingChanged, unknown: Sequence[str], at: datetime
    ) -> Document:
        revision = event.revision if isinstance(event, MeetingChanged) else 0
        entry = {"_id": decision_id(event.tenant, event.meeting_id, revision)}
        entry |= {"tenant": event.tenant, "meeting_id": event.meeting_id, "revision": revision}
        entry |= {"unknown": list(unknown), "parked_at": at, "event": event.model_dump_json()}
        return self.parked_entries.setdefault(entry["_id"], entry)

    async def parked(self, parked_id: str) -> Document | None:
        return self.parked_entries.get(parked_id)

    async def parked_for(self, tenant: str, code: str) -> list[Document]:
        entries = self.parked_entries.values()
        return [e for e in entries if e["tenant"] == tenant and code in e["unknown"]]

    async def unpark(self, parked_id: str) -> None:
        self.parked_entries.pop(parked_id, None)

    async def unpark_meeting(self, tenant: str, meeting_id: str) -> None:
        for key, entry in list(self.parked_entries.items()):
            if (entry["tenant"], entry["meeting_id"]) == (tenant, meeting_id):
                del self.parked_entries[key]

    async def record_endpoint(self, event: EndpointUpdated) -> bool:
        doc = {"code": event.code, "unit": event.unit, "active": event.active}
        return self._record(f"{event.tenant}|{event.code}", f"{event.tenant}|*", doc, event)

    async def record_unit(self, event: UnitUpdated) -> bool:
        doc = {"code": event.code, "active": event.active, "kind": event.kind.value}
        marker = f"{event.tenant}|{UNIT}*"
        return self._record(unit_id(event.tenant, event.code), marker, doc, event)

    async def record_group(self, event: EndpointGroupUpdated) -> bool:
        self.groups[(event.tenant, event.code)] = group_of(event)
        return True

    async def expansion_view(
        self, tenant: str, codes: Iterable[str]
    ) -> tuple[dict[str, Group | None], list[Member], dict[str, str]]:
        groups = {c: BUILT_IN.get(c) or self.groups.get((tenant, c)) for c in codes}
        prefix = f"{tenant}|"
        endpoints: list[Member] = []
        kinds: dict[str, str] = {}
        for doc_id, doc in self.directory.items():
            if not doc_id.startswith(prefix) or "code" not in doc:
                continue
            if doc_id.startswith(prefix + UNIT):
                kinds[doc["code"]] = doc.get("kind", "other")
            elif "unit" in doc:
                endpoints.append(Member(doc["code"], doc["unit"], doc["active"]))
        return groups, endpoints, kinds

    def _record(self, doc_id: str, marker: str, doc: Document, event: Event) -> bool:
        stored = self.directory.get(doc_id)
        if stored is not None and stored["occurred_at"] > event.occurred_at:
            return False
        self.directory[doc_id] = {**doc, "occurred_at": event.occurred_at}
        self.directory[marker] = {}
        return True

    async def endpoint(self, tenant: str, code: str) -> Document | None:
        return self.directory.get(f"{tenant}|{code}")


@dataclass
class MemoryTimers:
    scheduled: dict[str, tuple[str, datetime, str, Mapping[str, Any]]] = field(default_factory=dict)

    async def schedule(
        self, timer_id: str, kind: str, due_at: datetime, tenant: str, payload: Mapping[str, Any]
    ) -> None:
        self.scheduled.setdefault(timer_id, (kind, due_at, tenant, payload))


@pytest.fixture(scope="session")
def policy() -> Policy:
    return tuyen_quang()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def timers() -> MemoryTimers:
    return MemoryTimers()


@pytest.fixture
def scheduling(store, timers, clock, policy) -> Scheduling:
    return Scheduling(store, lambda _: policy, clock, timers)
