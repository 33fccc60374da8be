"""Directory routes: every role reads (rule 5: technical contacts are circulated to all);
only the IT department (operator) creates, updates or deactivates."""

from collections.abc import Callable
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hnth_contracts import (
    EndpointKind,
    EndpointUpdated,
    Event,
    UnitKind,
    UnitUpdated,
)
from hnth_contracts.policy import Policy
from hnth_kit.auth import Authenticator, Principal, Role, require
from hnth_kit.clock import Clock
from hnth_kit.errors import problem, wants_english
from registration.directory import (
    ContactIn,
    ContactsIn,
    EndpointIn,
    UnitIn,
    add_endpoint,
    add_unit,
    set_contacts,
    snapshot,
)
from registration.store import Entries, RegistrationStore, StaleWrite
from registration.views import ContactsOut, EndpointOut, UnitOut, answers, local, shaped

ACTIVE_FILTER = "Lọc theo trạng thái hoạt động / only active (true) or inactive (false)"
Code = Annotated[
    str, Path(max_length=64, description="Mã đơn vị hoặc điểm cầu / unit or endpoint code")
]


class UnitPatch(BaseModel):
    """Sửa đơn vị / a unit change: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=300, description="Tên / name")
    kind: UnitKind | None = Field(None, description="Loại / kind")
    active: bool | None = Field(None, description="Đang hoạt động / active")
    contact: ContactIn | None = Field(
        None, description="Văn phòng nhận thông báo / where the unit's notices go"
    )

    @field_validator("name", "kind", "active")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _not_null(value)


class EndpointPatch(BaseModel):
    """Sửa điểm cầu / an endpoint change: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=300, description="Tên / name")
    unit: str | None = Field(None, min_length=1, max_length=64, description="Đơn vị / unit")
    kind: EndpointKind | None = Field(None, description="Loại / kind")
    location: str | None = Field(None, max_length=500, description="Địa điểm / location")
    active: bool | None = Field(None, description="Đang hoạt động / active")
    technician: ContactIn | None = Field(None, description="Cán bộ kỹ thuật / technician")

    @field_validator("name", "unit", "kind", "active")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _not_null(value)


def _not_null(value: Any) -> Any:
    # Left out, a field keeps its value; sent as null it would erase a required one
    # (a contact, technician or location may be cleared with null).
    if value is None:
        raise ValueError("không được để trống / may not be null")
    return value


def build_directory_router(
    store: RegistrationStore,
    policy_for: Callable[[str], Policy],
    clock: Clock,
    authenticate: Authenticator,
    wake: Callable[[], None],
) -> APIRouter:
    router = APIRouter(tags=["directory"], responses=answers(401, 403, 404, 409))
    operator = require(authenticate, Role.OPERATOR)
    kinds: dict[str, tuple[Entries, type[Event], type[BaseModel], str, str]] = {
        "units": (store.units, UnitUpdated, UnitIn, "đơn vị", "unit"),
        "endpoints": (store.endpoints, EndpointUpdated, EndpointIn, "điểm cầu", "endpoint"),
    }

    def shown(entry: dict[str, Any]) -> dict[str, Any]:
        """The entry as people read it: `updated_at` in the province's zone."""
        zone = ZoneInfo(policy_for(entry["tenant"]).timezone)
        view = {
            k: local(v, zone) for k, v in entry.items() if not k.startswith("_") and k != "tenant"
        }
        if "code" in view:
            # a unit is its own owning unit, so units and endpoints list the same four keys
            view.setdefault("unit", view["code"])
        return view

    def not_found(request: Request, kind: str, code: str) -> HTTPException:
        *_, vi, en = kinds[kind]
        return HTTPException(
            404, problem(request, "not_found", f"Không có {vi} {code}.", f"No {en} {code}.")
        )

    async def entry(request: Request, kind: str, tenant: str, code: str) -> dict[str, Any]:
        found = await kinds[kind][0].get(tenant, code)
        if found is None:
            raise not_found(request, kind, code)
        return found

    async def require_unit(request: Request, tenant: str, code: str) -> None:
        if not (await store.units.active(tenant, [code])).get(code):
            raise HTTPException(
                422,
                {
                    "errors": [
                        {
                            "field": "unit",
                            "rule": "directory.unit_active",
                            "source": policy_for(tenant).ref("directory.unit_active").source,
                            "message": f"Unit {code} does not exist or is inactive."
                            if wants_english(request)
                            else f"Đơn vị {code} không có hoặc đã ngừng hoạt động.",
                        }
                    ]
                },
            )

    async def update(
        request: Request, kind: str, who: Principal, code: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        entries, event_type, fields, *_ = kinds[kind]
        current = await entry(request, kind, who.tenant, code)
        state = {k: current[k] for k in fields.model_fields if k in current} | changes
        event = snapshot(event_type, who.tenant, state, clock.now())
        try:
            await entries.replace(
                who.tenant, code, current["version"], {**changes, "updated_at": clock.now()}, event
            )
        except StaleWrite:
            raise HTTPException(
                409,
                problem(
                    request,
                    "concurrent_change",
                    "Mục này vừa được sửa; hãy tải lại.",
                    "Changed by someone else; reload.",
                ),
            ) from None
        wake()
        return shown(await entry(request, kind, who.tenant, code))

    @router.get(
        "/units",
        summary="Danh sách đơn vị / units",
        **shaped(list[UnitOut]),
    )
    async def list_units(
        who: Annotated[Principal, Depends(authenticate)],
        active: Annotated[bool | None, Query(description=ACTIVE_FILTER)] = None,
    ) -> list[dict[str, Any]]:
        found = await store.units.list(who.tenant, {} if active is None else {"active": active})
        return [shown(u) for u in found]

    @router.get(
        "/units/{code}",
        summary="Một đơn vị / a unit",
        **shaped(UnitOut),
    )
    async def get_unit(
        request: Request, code: Code, who: Annotated[Principal, Depends(authenticate)]
    ) -> dict[str, Any]:
        return shown(await entry(request, "units", who.tenant, code))

    @router.post(
        "/units",
        status_code=status.HTTP_201_CREATED,
        summary="Thêm đơn vị / add a unit",
        **shaped(UnitOut),
    )
    async def create_unit(
        request: Request, body: UnitIn, who: Annotated[Principal, Depends(operator)]
    ) -> dict[str, Any]:
        if not await add_unit(store, who.tenant, body, clock.now()):
            raise _taken(request, body.code)
        wake()
        return shown(await entry(request, "units", who.tenant, body.code))

    @router.patch(
        "/units/{code}",
        summary="Sửa đơn vị / update a unit",
        **shaped(UnitOut),
    )
    async def update_unit(
        request: Request, code: Code, body: UnitPatch, who: Annotated[Principal, Depends(operator)]
    ) -> dict[str, Any]:
        return await update(request, "units", who, code, body.model_dump(exclude_unset=True))

    @router.post(
        "/units/{code}/deactivate",
        summary="Ngừng đơn vị / deactivate a unit",
        **shaped(UnitOut),
    )
    async def deactivate_unit(
        request: Request, code: Code, who: Annotated[Principal, Depends(operator)]
    ) -> dict[str, Any]:
        return await update(request, "units", who, code, {"active": False})

    @router.get(
        "/endpoints",
        summary="Danh sách điểm cầu / endpoints",
        **shaped(list[EndpointOut]),
    )
    async def list_endpoints(
        who: Annotated[Principal, Depends(authenticate)],
        unit: Annotated[str | None, Query(max_length=64, description="Đơn vị / unit")] = None,
        active: Annotated[bool | None, Query(description=ACTIVE_FILTER)] = None,
    ) -> list[dict[str, Any]]:
        filters: dict[str, Any] = {} if active is None else {"active": active}
        if unit:
            filters["unit"] = unit
        return [shown(e) for e in await store.endpoints.list(who.tenant, filters)]

    @router.get(
        "/endpoints/{code}",
        summary="Một điểm cầu / an endpoint",
        **shaped(EndpointOut),
    )
    async def get_endpoint(
        request: Request, code: Code, who: Annotated[Principal, Depends(authenticate)]
    ) -> dict[str, Any]:
        return shown(await entry(request, "endpoints", who.tenant, code))

    @router.post(
        "/endpoints",
        status_code=status.HTTP_201_CREATED,
        summary="Thêm điểm cầu / add an endpoint",
        **shaped(EndpointOut),
    )
    async def create_endpoint(
        request: Request, body: EndpointIn, who: Annotated[Principal, Depends(operator)]
    ) -> dict[str, Any]:
        await require_unit(request, who.tenant, body.unit)
        if not await add_endpoint(store, who.tenant, body, clock.now()):
            raise _taken(request, body.code)
        wake()
        return shown(await entry(request, "endpoints", who.tenant, body.code))

    @router.patch(
        "/endpoints/{code}",
        summary="Sửa điểm cầu / update an endpoint",
        **shaped(EndpointOut),
    )
    async def update_endpoint(
        request: Request,
        code: Code,
        body: EndpointPatch,
        who: Annotated[Principal, Depends(operator)],
    ) -> dict[str, Any]:
        changes = body.model_dump(exclude_unset=True)
        if "unit" in changes:
            await require_unit(request, who.tenant, changes["unit"])
        return await update(request, "endpoints", who, code, changes)

    @router.post(
        "/endpoints/{code}/deactivate",
        summary="Ngừng điểm cầu / deactivate an endpoint",
        **shaped(EndpointOut),
    )
    async def deactivate_endpoint(
        request: Request, code: Code, who: Annotated[Principal, Depends(operator)]
    ) -> dict[str, Any]:
        return await update(request, "endpoints", who, code, {"active": False})

    @router.get(
        "/contacts",
        summary="Đầu mối của tỉnh / the province's contacts",
        **shaped(ContactsOut),
    )
    async def get_contacts(
        request: Request, who: Annotated[Principal, Depends(authenticate)]
    ) -> dict[str, Any]:
        found = await store.contacts(who.tenant)
        if found is None:
            raise HTTPException(
                404, problem(request, "not_found", "Chưa có đầu mối.", "No contacts yet.")
            )
        return shown(found)

    @router.put(
        "/contacts",
        summary="Cập nhật đầu mối / replace the contacts",
        **shaped(ContactsOut),
    )
    async def put_contacts(
        request: Request, body: ContactsIn, who: Annotated[Principal, Depends(operator)]
    ) -> dict[str, Any]:
        try:
            await set_contacts(store, who.tenant, body, clock.now())
        except StaleWrite:
            raise HTTPException(
                409, problem(request, "concurrent_change", "Hãy thử lại.", "Try again.")
            ) from None
        wake()
        return await get_contacts(request, who)

    return router


def _taken(request: Request, code: str) -> HTTPException:
    return HTTPException(
        409,
        problem(request, "code_taken", f"Mã {code} đã tồn tại.", f"The code {code} is taken."),
    )
