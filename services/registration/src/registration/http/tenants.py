"""Provinces that merge or rename: a merge is made once the IT departments of both
provinces have asked for it, a rename when the renamed province's asks; `hnth province
merge|rename` calls these and then follows every service's `GET /tenant-changes/{tenant}`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, Field

from hnth_contracts import TenantMerged, TenantRenamed
from hnth_kit.auth import Principal, Role, only
from hnth_kit.refusal import Refusal
from registration.domain.tenants import other_province
from registration.usecases.tenants import Outcome, TenantChanges
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
    waiting_for: str | None = Field(
        default=None,
        description="Tỉnh còn phải đề nghị hợp nhất (chưa thực hiện đến khi tỉnh đó đề nghị); "
        "mã đổi là dự kiến / the province that has yet to ask for the merge (nothing moves "
        "until it does); the codes renamed are what it will do",
    )


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
    """Only the IT department of one of the two provinces reads their change."""
    if who.tenant not in (former, into):
        raise Refusal(
            403,
            "forbidden",
            "Chỉ Sở KH&CN của một trong hai tỉnh được xem.",
            "Only the IT department of one of the two provinces may see this.",
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
    event, outcome = await use.change(
        former=tenant,
        into=body.into,
        rename=rename,
        source=body.source,
        requested_by=who.subject,
        asker=who.tenant,
    )
    response.status_code = 200 if outcome is Outcome.FOUND else status.HTTP_202_ACCEPTED
    out = _out(event)
    if outcome is Outcome.WAITING:
        out.waiting_for = other_province(former=tenant, into=body.into, asker=who.tenant)
    return out


@router.post(
    "/tenants/{tenant}/merge",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Hợp nhất tỉnh / merge a province into another: made once the IT departments of "
    "both provinces have asked (202, `waiting_for` the other until then; 200 when already "
    "recorded)",
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
