"""Accounts: the province's operators manage them (another province's accounts are 404);
a signed-in person reads its own, changes its password and enrols TOTP."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request, Response, status

from hnth_contracts.envelope import UtcDatetime
from hnth_kit.auth import Caller, Operator, Principal
from hnth_kit.mongo import Document
from registration.account_commands import (
    ROLE,
    AccountIn,
    AccountPatch,
    ChangePasswordIn,
    OtpIn,
)
from registration.http.deps import AccountCases, Ctx, SignInCases, policy
from registration.usecases.accounts import Context
from registration.views import answers, local

router = APIRouter(tags=["accounts"], responses=answers(401, 403, 404, 409))

SHOWN = (
    "username",
    "display_name",
    "role",
    "unit",
    "endpoints",
    "email",
    "phone",
    "language",
    "active",
    "created_at",
    "updated_at",
)
Username = Annotated[str, Path(max_length=64, description="Tên đăng nhập / username")]


def shown(account: Document, request: Request, who: Principal) -> dict[str, Any]:
    """An account as people read it: never its password hash or TOTP secret."""
    zone = ZoneInfo(policy(request, who).timezone)
    body = {k: local(account.get(k), zone) for k in SHOWN}
    body["endpoints"] = body["endpoints"] or []
    body["totp"] = bool(account.get("totp_secret"))
    body["password_set"] = bool(account.get("password_hash"))
    return body


def as_actor(ctx: Context, who: Principal) -> Context:
    return Context(actor=who.subject, ip=ctx.ip)


@router.get("/accounts/me", summary="Tài khoản của tôi / my account")
async def me(request: Request, who: Caller, cases: AccountCases) -> dict[str, Any]:
    return shown(await cases.me(who), request, who)


@router.post(
    "/accounts/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Đổi mật khẩu / change my password",
)
async def change_password(
    body: ChangePasswordIn, who: Caller, cases: AccountCases, ctx: Ctx
) -> Response:
    await cases.change_password(who, body.current, body.new, as_actor(ctx, who))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/accounts/me/totp", summary="Bắt đầu đăng ký TOTP / start TOTP enrolment")
async def totp_begin(who: Caller, cases: SignInCases) -> dict[str, str]:
    return await cases.totp_begin(who)


@router.post(
    "/accounts/me/totp/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Xác nhận TOTP bằng một mã / confirm TOTP with a code",
)
async def totp_confirm(body: OtpIn, who: Caller, cases: SignInCases, ctx: Ctx) -> Response:
    await cases.totp_confirm(who, body.otp, as_actor(ctx, who))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/accounts/me/totp",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Bỏ TOTP / remove TOTP",
)
async def totp_remove(who: Caller, cases: SignInCases, ctx: Ctx) -> Response:
    await cases.totp_remove(who, as_actor(ctx, who))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    summary="Tạo tài khoản / create an account (IT department)",
)
async def create(
    request: Request, body: AccountIn, who: Operator, cases: AccountCases, ctx: Ctx
) -> dict[str, Any]:
    return shown(await cases.create(who, body, as_actor(ctx, who)), request, who)


@router.get("/accounts", summary="Danh sách tài khoản / accounts (IT department)")
async def list_accounts(
    request: Request,
    who: Operator,
    cases: AccountCases,
    role: Annotated[str | None, Query(max_length=32, description=ROLE)] = None,
    active: Annotated[
        bool | None, Query(description="Đang hoạt động hay đã khóa / active or disabled")
    ] = None,
) -> list[dict[str, Any]]:
    return [shown(a, request, who) for a in await cases.listed(who, role, active)]


@router.get("/accounts/{username}", summary="Một tài khoản / one account (IT department)")
async def get(
    request: Request, username: Username, who: Operator, cases: AccountCases
) -> dict[str, Any]:
    return shown(await cases.get(who, username), request, who)


@router.patch("/accounts/{username}", summary="Sửa tài khoản / change an account")
async def update(
    request: Request,
    username: Username,
    body: AccountPatch,
    who: Operator,
    cases: AccountCases,
    ctx: Ctx,
) -> dict[str, Any]:
    changed = await cases.update(who, username, body, as_actor(ctx, who))
    return shown(changed, request, who)


@router.post("/accounts/{username}/disable", summary="Khóa tài khoản / disable an account")
async def disable(
    request: Request, username: Username, who: Operator, cases: AccountCases, ctx: Ctx
) -> dict[str, Any]:
    return shown(await cases.disable(who, username, as_actor(ctx, who)), request, who)


@router.post("/accounts/{username}/enable", summary="Mở khóa tài khoản / enable an account")
async def enable(
    request: Request, username: Username, who: Operator, cases: AccountCases, ctx: Ctx
) -> dict[str, Any]:
    return shown(await cases.enable(who, username, as_actor(ctx, who)), request, who)


@router.post(
    "/accounts/{username}/reset-password",
    summary="Đặt lại mật khẩu (gửi liên kết) / reset a password (mails a link)",
)
async def reset_password(
    request: Request, username: Username, who: Operator, cases: AccountCases, ctx: Ctx
) -> dict[str, Any]:
    return shown(await cases.reset_password(who, username, as_actor(ctx, who)), request, who)


@router.get("/audit", summary="Nhật ký đăng nhập, tài khoản / the audit (IT department)")
async def audit(
    request: Request,
    who: Operator,
    cases: AccountCases,
    kind: Annotated[
        str | None,
        Query(max_length=32, description="Loại (vd. login_failed) / kind, e.g. login_failed"),
    ] = None,
    start: Annotated[
        UtcDatetime | None, Query(alias="from", description="Từ (có múi giờ) / from, with offset")
    ] = None,
    end: Annotated[
        UtcDatetime | None,
        Query(alias="to", description="Trước (có múi giờ) / before, with offset"),
    ] = None,
    username: Annotated[
        str | None, Query(max_length=64, description="Tên đăng nhập / username")
    ] = None,
) -> list[dict[str, Any]]:
    zone = ZoneInfo(policy(request, who).timezone)
    rows = await cases.audit(who, kind, start, end, username)
    return [{k: local(row.get(k), zone) for k in AUDIT_FIELDS} for row in rows]


AUDIT_FIELDS = ("at", "kind", "username", "actor", "ip", "detail")
