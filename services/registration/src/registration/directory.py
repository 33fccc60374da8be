"""The province's directory: units, endpoints with their technicians, standing contacts.

The same input models serve the data file (`data/<tenant>.yaml`, loaded when a
province's directory is empty) and the HTTP API. Every entry written also stages its
full snapshot event (UnitUpdated, EndpointUpdated, ContactsUpdated) on the `directory`
topic, so other services keep their own copy without ever calling registration.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hnth_contracts import (
    DIRECTORY_LOAD,
    ContactsUpdated,
    EndpointGroupUpdated,
    EndpointKind,
    EndpointUpdated,
    Event,
    Language,
    UnitKind,
    UnitUpdated,
)
from hnth_contracts.groups import BUILT_IN
from registration import PRODUCER
from registration.domain.sso import SsoConfig
from registration.store import RegistrationStore, entry_id

log = logging.getLogger(__name__)

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class ContactIn(BaseModel):
    """Người/đơn vị liên hệ / a contact."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Tên / name")
    person: str | None = Field(None, max_length=200, description="Người phụ trách / person")
    phone: str | None = Field(None, max_length=50, description="Điện thoại / phone")
    email: str | None = Field(
        None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$", description="Thư điện tử / e-mail"
    )
    language: Language = Field(
        "vi", description="Ngôn ngữ của thông báo (vi, en) / language of the notices"
    )


def two_tiers(kind: UnitKind | None) -> UnitKind | None:
    """Since 1 July 2025 there is no district level: a unit is a provincial body or a
    commune-level unit (xã, phường, đặc khu)."""
    if kind is UnitKind.DISTRICT:
        raise ValueError(
            "không còn cấp huyện từ 1/7/2025: dùng commune (xã), ward (phường) hoặc "
            "special_zone (đặc khu) / there is no district level since 1 July 2025: use "
            "commune, ward or special_zone"
        )
    return kind


class UnitIn(BaseModel):
    """Đơn vị / a unit: a provincial body (Party committee, People's Council, People's
    Committee, department) or a commune-level unit (xã, phường, đặc khu)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, pattern=CODE, description="Mã / code")
    name: str = Field(min_length=1, max_length=300, description="Tên đơn vị / name")
    kind: UnitKind = Field(UnitKind.OTHER, description="Loại / kind")
    active: bool = Field(True, description="Đang hoạt động / active")
    contact: ContactIn | None = Field(None, description="Văn phòng nhận thông báo / notices go to")

    _two_tiers = field_validator("kind")(two_tiers)


BackupCode = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=64,
        pattern=CODE,
        description="Điểm cầu dự phòng (phòng dự phòng, thiết bị 4G) / backup endpoint (a standby "
        "room, a 4G terminal), switched to when this one fails in the last hour",
    ),
]


class EndpointIn(BaseModel):
    """Điểm cầu / an endpoint room or software client."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, pattern=CODE, description="Mã / code")
    name: str = Field(min_length=1, max_length=300, description="Tên điểm cầu / name")
    unit: str = Field(min_length=1, max_length=64, description="Đơn vị quản lý / owning unit")
    kind: EndpointKind = Field(
        EndpointKind.ROOM,
        description="Loại: phòng họp hoặc phần mềm / kind: room or software client",
    )
    location: str | None = Field(None, max_length=500, description="Địa điểm / location")
    active: bool = Field(True, description="Đang hoạt động / active")
    technician: ContactIn | None = Field(None, description="Cán bộ kỹ thuật / technician")
    backup: BackupCode = None


Codes = list[Annotated[str, Field(min_length=1, max_length=64, pattern=CODE)]]


class GroupIn(BaseModel):
    """Nhóm điểm cầu / an endpoint group the IT department keeps ("all communes", a cluster,
    a department's set): a meeting naming it gets every ACTIVE endpoint named here, owned by
    one of `units`, or owned by a unit of one of `kinds`, as of when it is decided."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, pattern=CODE, description="Mã nhóm / code")
    name: str = Field(min_length=1, max_length=300, description="Tên nhóm / name")
    endpoints: Codes = Field(
        default_factory=list, max_length=20000, description="Điểm cầu / endpoint codes"
    )
    units: Codes = Field(
        default_factory=list,
        max_length=20000,
        description="Mọi điểm cầu của các đơn vị này / every endpoint of these units",
    )
    kinds: list[UnitKind] = Field(
        default_factory=list,
        max_length=10,
        description="Mọi điểm cầu của đơn vị loại này / every endpoint of units of these kinds",
    )
    active: bool = Field(True, description="Đang dùng / active")

    @field_validator("code")
    @classmethod
    def _not_built_in(cls, code: str) -> str:
        if code.upper() in BUILT_IN:
            raise ValueError(
                f"{code} là nhóm có sẵn / {code} is a built-in group: choose another code"
            )
        return code

    @model_validator(mode="after")
    def _names_members(self) -> GroupIn:
        if not (self.endpoints or self.units or self.kinds):
            raise ValueError(
                "nhóm phải có điểm cầu, đơn vị hoặc loại đơn vị / name endpoints, units or kinds"
            )
        return self


class ContactsIn(BaseModel):
    """Các đầu mối của tỉnh / the province's standing contacts (rule 2)."""

    model_config = ConfigDict(extra="forbid")

    it_department: ContactIn = Field(description="Sở KH&CN / IT department")
    line_provider: ContactIn = Field(description="Đơn vị cung cấp đường truyền / line provider")
    power_company: ContactIn = Field(description="Công ty Điện lực / power company")
    duty: ContactIn | None = Field(None, description="Trực kỹ thuật / duty contact")


class SsoIn(BaseModel):
    """`sso:` in a province's data file: its OpenID provider (the client secret is the
    console's, from its environment, never in a file)."""

    model_config = ConfigDict(extra="forbid")

    issuer: str = Field(pattern=r"^https?://", description="Issuer URL, exactly as in tokens")
    client_id: str = Field(min_length=1, max_length=200)
    match_claim: Literal["email", "preferred_username"] = "email"

    def config(self) -> SsoConfig:
        return SsoConfig(self.issuer, self.client_id, self.match_claim)


class DirectoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    source: str
    contacts: ContactsIn
    units: list[UnitIn]
    endpoints: list[EndpointIn]
    sso: SsoIn | None = None
    """The province's OpenID provider, if its people sign in through it."""


CHANGE, LOAD = "directory", DIRECTORY_LOAD
"""Snapshot events' correlation ids: a change, or the loading of a province's file (the
first list of technicians: notification does not circulate it as a change)."""


def snapshot(
    kind: type[Event], tenant: str, fields: dict[str, Any], now: datetime, cause: str = CHANGE
) -> Event:
    """The entry's full current state as its directory event."""
    return kind.create(
        tenant=tenant, correlation_id=cause, producer=PRODUCER, occurred_at=now, **fields
    )


def entry_document(
    tenant: str, entry: UnitIn | EndpointIn | GroupIn, now: datetime
) -> dict[str, Any]:
    return {
        "_id": entry_id(tenant, entry.code),
        "tenant": tenant,
        **entry.model_dump(mode="json"),
        "version": 1,
        "updated_at": now,
    }


async def add_unit(
    store: RegistrationStore, tenant: str, unit: UnitIn, now: datetime, cause: str = CHANGE
) -> bool:
    event = snapshot(UnitUpdated, tenant, unit.model_dump(), now, cause)
    return await store.units.create(entry_document(tenant, unit, now), event)


async def add_endpoint(
    store: RegistrationStore, tenant: str, endpoint: EndpointIn, now: datetime, cause: str = CHANGE
) -> bool:
    event = snapshot(EndpointUpdated, tenant, endpoint.model_dump(), now, cause)
    return await store.endpoints.create(entry_document(tenant, endpoint, now), event)


async def add_group(store: RegistrationStore, tenant: str, group: GroupIn, now: datetime) -> bool:
    event = snapshot(EndpointGroupUpdated, tenant, group.model_dump(), now)
    return await store.groups.create(entry_document(tenant, group, now), event)


async def set_contacts(
    store: RegistrationStore, tenant: str, contacts: ContactsIn, now: datetime, cause: str = CHANGE
) -> None:
    """Create or replace the province's contacts (with their snapshot event)."""
    event = snapshot(ContactsUpdated, tenant, contacts.model_dump(), now, cause)
    fields = {**contacts.model_dump(mode="json"), "updated_at": now}
    current = await store.contacts(tenant)
    if current is None:
        document = {"_id": tenant, "tenant": tenant, **fields, "version": 1}
        if await store.create_contacts(document, event):
            return
        current = await store.contacts(tenant)
        assert current is not None
    await store.replace_contacts(tenant, current["version"], fields, event)


def read_directories(directory_dir: Path) -> list[DirectoryFile]:
    """Every province's directory file in `directory_dir` (a bad file fails loudly).

    A missing folder is a deployment mistake (an image built without `data/`), not an empty
    province: it stops the service instead of starting with an empty directory."""
    if not directory_dir.is_dir():
        raise FileNotFoundError(
            f"directory folder {directory_dir} does not exist (set HNTH_DIRECTORY_DIR)"
        )
    return [
        DirectoryFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted(directory_dir.glob("*.yaml"))
    ]


async def load_if_empty(
    store: RegistrationStore, files: list[DirectoryFile], now: datetime
) -> None:
    """Load each province's file if that province has no directory yet.

    Replicas starting together insert the same ids: the loser's inserts are no-ops."""
    for data in files:
        if await store.units.count(data.tenant) or await store.endpoints.count(data.tenant):
            continue
        log.info(
            "loading the directory of %s: %d units, %d endpoints",
            data.tenant,
            len(data.units),
            len(data.endpoints),
        )
        if await store.contacts(data.tenant) is None:
            await set_contacts(store, data.tenant, data.contacts, now, LOAD)
        for first in range(0, len(data.units), LOAD_BATCH):
            batch = data.units[first : first + LOAD_BATCH]
            await asyncio.gather(*(add_unit(store, data.tenant, u, now, LOAD) for u in batch))
        for first in range(0, len(data.endpoints), LOAD_BATCH):
            batch_e = data.endpoints[first : first + LOAD_BATCH]
            await asyncio.gather(*(add_endpoint(store, data.tenant, e, now, LOAD) for e in batch_e))


LOAD_BATCH = 16
"""Inserts in flight at once while a province's directory is loaded: a province at today's
size has hundreds of entries, and one at a time the start waits on each round trip."""
