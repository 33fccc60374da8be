"""Provinces that merge or rename: the IT department of the province that takes over
(or of the one renamed) records the change; `hnth province merge|rename` calls these and
then follows every service's `GET /tenant-changes/{tenant}`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, Field

from hnth_contracts import TenantMerged, TenantRenamed
from hnth_kit.auth import Principal, Role, only
from hnth_kit.refusal import Refusal
from registration.usecases.tenants import TenantChanges
from registration.views import answers

router = APIRouter(tags=["tenants"], responses=answers(401, 403, 404, 409))
TenantCode = Annotated[str, Field(min_length=2, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
DEFAULT_SOURCE = "Nghị quyết của Quốc hội về sắp xếp đơn vị hành chính cấp tỉnh năm 2025"


class ChangeIn(BaseModel):
    """Hợp nhất / đổi mã tỉnh: a province merged into another, or renamed."""

    into: TenantCode = Field(description="Tỉnh tiếp nhận (mã mới) / the province it goes to")
    source: str = Field(
        default=DEFAULT_SOURCE,
        min_length=1,
        max_length=256,
        description="Căn cứ pháp lý (nghị quyết, quyết định) / the decision it is made under",
    )


class ChangeOut(BaseModel):
    """Thay đổi đã ghi nhận / the change as recorded."""

    tenant: str = Field(description="Tỉnh cũ / the former province")
    into: str = Field(description="Tỉnh tiếp nhận / the province it went to")
    renamed: bool = Field(description="Đổi mã (không hợp nhất) / a rename, not a merge")
    rule: str = Field(description="Quy tắc / rule")
    source: str = Field(description="Căn cứ / source")
    units: dict[str, str] = Field(description="Mã đơn vị đổi tên / unit codes renamed")
    endpoints: dict[str, str] = Field(description="Mã điểm cầu đổi tên / endpoint codes renamed")
    accounts: dict[str, str] = Field(description="Tên đăng nhập đổi / usernames renamed")


def cases(request: Request) -> TenantChanges:
    found: TenantChanges = request.app.state.tenant_changes
    return found


Cases = Annotated[TenantChanges, Depends(cases)]
Operator = Annotated[Principal, Depends(only(Role.OPERATOR))]
Former = Annotated[str, Path(description="Mã tỉnh (cũ) / the province's (former) code")]


def _out(event: TenantMerged) -> ChangeOut:
    return ChangeOut(
        tenant=event.tenant,
        into=event.into,
        renamed=isinstance(event, TenantRenamed),
        rule=event.rule.rule,
        source=event.rule.source,
        units=dict(event.units),
        endpoints=dict(event.endpoints),
        accounts=dict(event.accounts),
    )


def _own(who: Principal, former: str, into: str) -> None:
    """Only the IT department of one of the two provinces changes them."""
    if who.tenant not in (former, into):
        raise Refusal(
            403,
            "forbidden",
            "Chỉ Sở KH&CN của một trong hai tỉnh được thực hiện.",
            "Only the IT department of one of the two provinces may do this.",
        )


async def _change(
    tenant: str,
    body: ChangeIn,
    who: Principal,
    use: TenantChanges,
    response: Response,
    rename: bool,
) -> ChangeOut:
    _own(who, tenant, body.into)
    event, new = await use.change(
        former=tenant, into=body.into, rename=rename, source=body.source, requested_by=who.subject
    )
    response.status_code = status.HTTP_202_ACCEPTED if new else status.HTTP_200_OK
    return _out(event)


@router.post(
    "/tenants/{tenant}/merge",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Hợp nhất tỉnh / merge a province into another (202; 200 when already recorded)",
)
async def merge(
    tenant: Former, body: ChangeIn, who: Operator, use: Cases, response: Response
) -> ChangeOut:
    return await _change(tenant, body, who, use, response, rename=False)


@router.post(
    "/tenants/{tenant}/rename",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Đổi mã tỉnh / rename a province (202; 200 when already recorded)",
)
async def rename(
    tenant: Former, body: ChangeIn, who: Operator, use: Cases, response: Response
) -> ChangeOut:
    return await _change(tenant, body, who, use, response, rename=True)


@router.get("/tenants/{tenant}/change", summary="Thay đổi đã ghi / the recorded change")
async def recorded(tenant: Former, who: Operator, use: Cases) -> ChangeOut:
    event = await use.recorded(tenant)
    _own(who, tenant, event.into)
    return _out(event)
