"""Provinces that merge or rename (`TenantMerged` / `TenantRenamed`), written once for
every service.

Each service keeps the changes it has heard of in its own `tenant_changes` collection
(the tenant registry's moves are data, never code) and a copy in memory, so that:
- a request naming a former province is refused, naming the province it went to
  (`Authenticator` asks `retired`), with the decision's rule and source;
- an event still in flight for the former province (published before the change) is
  handled as the new province's (`translate`), codes renamed as the change says;
- the service's own documents move in batches (`TenantMover.run`): each document of the
  former province is rewritten under the new one with `former_tenant`, its `_id` re-keyed
  where it embeds the tenant (`<tenant>:<code>`, `<tenant>|<id>`, `<tenant>/<...>`), and
  the codes that would collide renamed. A copy is inserted before its original is
  deleted and the copy names its original, so a crash anywhere is finished by the next
  run: nothing is lost, nothing doubled. Documents keyed by the tenant alone (a province's
  singleton, e.g. its contacts) stay as the former province's record.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_contracts import EndpointUpdated, Event, RuleRef, TenantMerged, TenantRenamed, UnitUpdated
from hnth_kit.auth import Principal, Role, only
from hnth_kit.mongo import Document
from hnth_kit.refusal import Refusal

log = logging.getLogger(__name__)

TENANT_CHANGES = "tenant_changes"
SEPARATORS = (":", "|", "/")
"""How ids embed a tenant: `<tenant>:<code>`, `<tenant>|<meeting id>`, `<tenant>/<...>`."""
HELD = "_held_by_tenant_move"
"""Unique fields a moved copy holds aside until its original is deleted."""


@dataclass(frozen=True)
class CodeFields:
    """Which fields of a collection's documents hold unit codes and which endpoint codes
    (a string or a list of strings), for renaming the codes a merge must rename."""

    units: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    key: str | None = None
    """The field whose value follows the tenant in `_id` (`<tenant>:<code>`): renamed there
    too. One of the fields above."""
    unique: tuple[str, ...] = ()
    """Fields with a unique index of their own: held aside while copy and original exist."""
    ids: tuple[str, ...] = ()
    """Fields holding another document's `_id` that embeds the tenant (a result's
    `checklist_id`): re-keyed as `_id` is, so the reference still finds it."""


REFERENCES = CodeFields(
    units=("host_unit", "unit"), endpoints=("main_endpoint", "endpoints", "endpoint")
)
"""Documents that name units and endpoints the usual way (meetings, notices, checks)."""
DIRECTORY_COPY = CodeFields(units=("code", "unit"), endpoints=("code",), key="code")
"""A service's copy of the directory: units and endpoints keyed `<tenant>...<code>`."""


@dataclass(frozen=True)
class TenantChange:
    """One province merged into (or renamed to) another."""

    former: str
    into: str
    renamed: bool
    rule: RuleRef
    units: Mapping[str, str] = field(default_factory=dict)
    endpoints: Mapping[str, str] = field(default_factory=dict)
    accounts: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, event: TenantMerged) -> TenantChange:
        return cls(
            former=event.tenant,
            into=event.into,
            renamed=isinstance(event, TenantRenamed),
            rule=event.rule,
            units=dict(event.units),
            endpoints=dict(event.endpoints),
            accounts=dict(event.accounts),
        )

    def _maps(self, fields: CodeFields) -> list[tuple[tuple[str, ...], Mapping[str, str]]]:
        return [
            (fields.units, self.units),
            (fields.endpoints, self.endpoints),
            (fields.accounts, self.accounts),
        ]

    def refusal(self) -> Refusal:
        """The answer to a request naming the former province (409, naming the new one)."""
        verb_vi = "đã đổi mã thành" if self.renamed else "đã hợp nhất vào"
        verb_en = "was renamed to" if self.renamed else "was merged into"
        return Refusal(
            409,
            self.rule.rule,
            f"Tỉnh {self.former} {verb_vi} {self.into}; hãy làm việc với {self.into} "
            f"(căn cứ: {self.rule.source}).",
            f"Province {self.former} {verb_en} {self.into}; use {self.into} "
            f"(under {self.rule.source}).",
            tenant=self.former,
            into=self.into,
            rule=self.rule.rule,
            source=self.rule.source,
        )

    def rekey(self, doc_id: Any, code: Any = None, codes: Mapping[str, str] = {}) -> Any:
        """The `_id` under the new province (`None` for a document keyed by the former
        tenant alone, which stays); ids that do not embed the tenant are kept."""
        if not isinstance(doc_id, str):
            return doc_id
        if doc_id == self.former:
            return None
        for sep in SEPARATORS:
            if doc_id.startswith(self.former + sep):
                rest = doc_id[len(self.former) + 1 :]
                if isinstance(code, str) and code in codes and rest.endswith(code):
                    rest = rest[: -len(code)] + codes[code]  # `<tenant>|unit:<code>` too
                return f"{self.into}{sep}{rest}"
        return doc_id

    def moved(self, doc: Document, fields: CodeFields) -> Document | None:
        """The document as the new province's (None: it stays the former's)."""
        codes: dict[str, str] = {}
        for names, mapping in self._maps(fields):
            if fields.key in names:
                codes |= mapping
        new_id = self.rekey(doc["_id"], doc.get(fields.key) if fields.key else None, codes)
        if new_id is None:
            return None
        out = {**doc, "_id": new_id}
        if "tenant" in doc:  # markers keyed `<tenant>:...` carry no tenant field
            out["tenant"] = self.into
        out.setdefault("former_tenant", self.former)
        for name in fields.ids:
            if isinstance(out.get(name), str):
                out[name] = self.rekey(out[name]) or out[name]
        for names, mapping in self._maps(fields):
            for name in names:
                if name in out:
                    out[name] = _renamed(out[name], mapping)
        return out

    def apart(self, moved: Document, fields: CodeFields) -> Document:
        """A moved copy whose key collides, under the former province's prefix instead."""
        prefix = self.former.upper() + "-"
        doc_id = str(moved["_id"])
        sep_at = len(self.into)
        out = {**moved, "_id": f"{doc_id[: sep_at + 1]}{prefix}{doc_id[sep_at + 1 :]}"}
        if fields.key and isinstance(out.get(fields.key), str):
            out[fields.key] = prefix + out[fields.key]
        return out

    def translate(self, event: Event) -> Event:
        """An event of the former province as the new province's."""
        changes: dict[str, Any] = {"tenant": self.into}
        unit_fields = {"host_unit", "unit"} | (
            {"code"} if isinstance(event, UnitUpdated) else set()
        )
        endpoint_fields = {"main_endpoint", "endpoints", "endpoint"} | (
            {"code"} if isinstance(event, EndpointUpdated) else set()
        )
        for names, mapping in ((unit_fields, self.units), (endpoint_fields, self.endpoints)):
            for name in names:
                value = getattr(event, name, None)
                if value is not None:
                    changes[name] = _renamed(value, mapping)
        return event.model_copy(update=changes)


def _renamed(value: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, list | tuple):
        return type(value)(mapping.get(v, v) if isinstance(v, str) else v for v in value)
    return value


def collision_free(theirs: set[str], mine: set[str], former: str) -> dict[str, str]:
    """The former province's codes that collide with the new one's, each renamed with a
    deterministic prefix (the former tenant's code, upper case) that collides neither."""
    prefix = former.upper() + "-"
    renamed: dict[str, str] = {}
    for code in sorted(mine & theirs):
        new = prefix + code
        while new in theirs or new in mine:
            new = prefix + new
        renamed[code] = new[:64]
    return renamed


class TenantMover:
    """One service's side of tenant changes: the registry (memory + `tenant_changes`), the
    batch mover over its collections, and the progress the CLI polls."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        service: str,
        refresh_seconds: float = 5.0,
        batch: int = 200,
    ) -> None:
        self._db = db
        self._changes = db[TENANT_CHANGES]
        self.service = service
        self.collections: dict[str, CodeFields] = {}
        self._known: dict[str, TenantChange] = {}
        self._refresh_seconds = refresh_seconds
        self._batch = batch
        self._lock = asyncio.Lock()

    def moves(self, collections: Mapping[str, CodeFields]) -> None:
        """Declare the collections whose documents carry `tenant` (and their code fields)."""
        self.collections.update(collections)

    async def _collections(self) -> dict[str, CodeFields]:
        """The declared collections; a name ending in `*` stands for every collection whose
        name starts so (collections made per day or per bucket)."""
        found: dict[str, CodeFields] = {}
        names: list[str] | None = None
        for name, fields in self.collections.items():
            if not name.endswith("*"):
                found[name] = fields
                continue
            names = names if names is not None else await self._db.list_collection_names()
            found |= {n: fields for n in names if n.startswith(name[:-1])}
        return found

    def retired(self, tenant: str) -> TenantChange | None:
        """The change that retired `tenant` (the last of a chain A -> B -> C), if any."""
        change = self._known.get(tenant)
        seen = {tenant}
        while change is not None and change.into in self._known and change.into not in seen:
            seen.add(change.into)
            later = self._known[change.into]
            change = TenantChange(
                former=tenant,
                into=later.into,
                renamed=change.renamed and later.renamed,
                rule=change.rule,
                units={k: later.units.get(v, v) for k, v in change.units.items()},
                endpoints={k: later.endpoints.get(v, v) for k, v in change.endpoints.items()},
                accounts={k: later.accounts.get(v, v) for k, v in change.accounts.items()},
            )
        return change

    def current(self, who: Principal) -> Principal:
        """A caller of a renamed province is the new code's (old links and tokens keep
        working); a caller of a merged one is refused, naming the province it joined."""
        change = self.retired(who.tenant)
        if change is None:
            return who
        if not change.renamed:
            raise change.refusal()
        return who.model_copy(
            update={
                "tenant": change.into,
                "subject": change.accounts.get(who.subject, who.subject),
                "unit": change.units.get(who.unit, who.unit) if who.unit else who.unit,
                "endpoints": tuple(change.endpoints.get(e, e) for e in who.endpoints),
            }
        )

    def translate(self, event: Event) -> Event:
        """Events of a retired province are the new province's (the change itself excepted)."""
        if isinstance(event, TenantMerged):
            return event
        change = self.retired(event.tenant)
        return event if change is None else change.translate(event)

    async def record(self, event: TenantMerged, now: datetime) -> TenantChange:
        """Keep the change (once) and know it from now on."""
        change = TenantChange.of(event)
        body = {
            "_id": event.tenant,
            "event": event.to_json().decode(),
            "recorded_at": now,
            "done": False,
        }
        try:
            await self._changes.insert_one(body)
        except DuplicateKeyError:
            pass
        self._known[change.former] = change
        return change

    async def refresh(self) -> None:
        async for row in self._changes.find({}):
            event = _event(row)
            self._known[event.tenant] = TenantChange.of(event)

    async def keep_fresh(self) -> None:
        """Background task: every replica learns changes another one consumed."""
        while True:
            try:
                await self.refresh()
                await self.resume()
            except Exception:  # the database may be down: try again later
                log.exception("tenant changes: refresh failed")
            await asyncio.sleep(self._refresh_seconds)

    async def resume(self) -> None:
        """Finish the moves a crash interrupted."""
        async for row in self._changes.find({"done": False}):
            await self.run(TenantChange.of(_event(row)))

    async def run(self, change: TenantChange) -> None:
        """Move every document of the former province, batch by batch, then mark it done."""
        async with self._lock:  # one move at a time per replica; replicas may overlap safely
            for name, fields in (await self._collections()).items():
                moved = await self._move(self._db[name], change, fields)
                await self._release_held(self._db[name], change, fields)
                if moved:
                    await self._changes.update_one(
                        {"_id": change.former}, {"$inc": {f"moved.{name}": moved}}
                    )
            await self._changes.update_one({"_id": change.former}, {"$set": {"done": True}})

    async def _move(
        self, coll: AsyncCollection[Document], change: TenantChange, fields: CodeFields
    ) -> int:
        count = 0
        query = of_tenant(change.former)
        while batch := [doc async for doc in coll.find(query).limit(self._batch)]:
            for doc in batch:
                await self._move_one(coll, doc, change, fields)
                count += 1
        return count

    async def _move_one(
        self,
        coll: AsyncCollection[Document],
        doc: Document,
        change: TenantChange,
        fields: CodeFields,
    ) -> None:
        new = change.moved(doc, fields)
        if new is None:
            return
        if new["_id"] == doc["_id"]:
            await coll.replace_one({"_id": doc["_id"], "tenant": change.former}, new)
            return
        held = {f: new.pop(f) for f in fields.unique if new.get(f) is not None}
        if held:
            new[HELD] = held
        if not await self._insert_copy(coll, new, change):
            # the new province has an entry of this code the change did not foresee (a
            # group, an entry added since): the copy takes the deterministic prefix
            new = change.apart(new, fields)
            if not await self._insert_copy(coll, new, change):
                raise DuplicateKeyError(f"{coll.name}/{new['_id']}")
        await coll.delete_one({"_id": doc["_id"]})

    async def _insert_copy(
        self, coll: AsyncCollection[Document], new: Document, change: TenantChange
    ) -> bool:
        """Insert the copy; True also when an earlier run inserted it (False: not ours)."""
        try:
            await coll.insert_one(new)
        except DuplicateKeyError:
            copy = await coll.find_one({"_id": new["_id"]}, {"former_tenant": 1})
            if copy is None:
                raise  # another unique index: declare it in `CodeFields.unique`
            if set(new) <= {"_id", "former_tenant"}:
                return True  # a bare marker (`<tenant>|*`) the new province has as well
            return copy.get("former_tenant") == change.former
        return True

    async def _release_held(
        self, coll: AsyncCollection[Document], change: TenantChange, fields: CodeFields
    ) -> None:
        if not fields.unique:
            return
        async for copy in coll.find({"tenant": change.into, HELD: {"$exists": True}}):
            try:
                await coll.update_one(
                    {"_id": copy["_id"]}, {"$set": copy[HELD], "$unset": {HELD: ""}}
                )
            except DuplicateKeyError:  # the new province uses the same key: the copy drops it
                await coll.update_one({"_id": copy["_id"]}, {"$unset": {HELD: ""}})

    async def progress(self, former: str) -> Document | None:
        """This service's progress on the change of `former` (None: not heard of yet)."""
        row = await self._changes.find_one({"_id": former})
        if row is None:
            return None
        remaining = {
            name: await self._db[name].count_documents({"tenant": former, "_id": {"$ne": former}})
            for name in self.collections
        }
        event = _event(row)
        return {
            "service": self.service,
            "tenant": former,
            "into": event.into,
            "done": bool(row.get("done")) and not any(remaining.values()),
            "moved": row.get("moved", {}),
            "remaining": remaining,
        }

    def router(self, responses: Mapping[int | str, Any] | None = None) -> APIRouter:
        """`GET /tenant-changes/{tenant}`: this service's progress (operators)."""
        router = APIRouter(tags=["tenants"], responses=dict(responses or {}))

        @router.get(
            "/tenant-changes/{tenant}",
            summary="Tiến độ chuyển dữ liệu tỉnh / this service's progress moving a province",
        )
        async def progress(
            tenant: Annotated[str, Path(description="Mã tỉnh cũ / the former province's code")],
            who: Annotated[Principal, Depends(only(Role.OPERATOR))],
        ) -> Document:
            found = await self.progress(tenant)
            if found is None or who.tenant not in (tenant, found["into"]):
                raise Refusal.not_found("thay đổi tỉnh này", "change of this province")
            return found

        return router


def of_tenant(tenant: str) -> Document:
    """The documents of `tenant`: by their `tenant` field or by an `_id` that embeds it;
    never the one keyed by the tenant alone (which stays)."""
    embeds = "^" + re.escape(tenant) + "[" + re.escape("".join(SEPARATORS)) + "]"
    return {
        "$or": [{"tenant": tenant}, {"_id": {"$regex": embeds}}],
        "_id": {"$ne": tenant},
    }


def _event(row: Document) -> TenantMerged:
    kind = TenantRenamed if '"type":"TenantRenamed"' in row["event"] else TenantMerged
    return kind.model_validate_json(row["event"])
