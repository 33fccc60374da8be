"""Signing in and out (public but for `logout-all`): tokens for a password (+ TOTP code),
refresh-token rotation, the one-time set-password link."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from hnth_kit.auth import Caller
from registration.account_commands import (
    LoginIn,
    PasswordSetOut,
    RefreshIn,
    SetPasswordIn,
    SetPasswordLinkIn,
)
from registration.http.accounts import as_actor
from registration.http.deps import Ctx, SignInCases
from registration.views import answers

router = APIRouter(tags=["sign-in"], responses=answers(401))
NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.post("/auth/login", summary="Đăng nhập / sign in")
async def login(body: LoginIn, cases: SignInCases, ctx: Ctx) -> dict[str, Any]:
    return await cases.login(body, ctx)


@router.post("/auth/refresh", summary="Gia hạn mã truy cập / a new access token")
async def refresh(body: RefreshIn, cases: SignInCases, ctx: Ctx) -> dict[str, Any]:
    return await cases.refresh(body.refresh_token, ctx)


@router.post("/auth/logout", status_code=NO_CONTENT, summary="Đăng xuất / sign out")
async def logout(body: RefreshIn, cases: SignInCases, ctx: Ctx) -> Response:
    await cases.logout(body.refresh_token, ctx)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/auth/logout-all", status_code=NO_CONTENT, summary="Đăng xuất mọi nơi / sign out everywhere"
)
async def logout_all(who: Caller, cases: SignInCases, ctx: Ctx) -> Response:
    await cases.logout_all(who, as_actor(ctx, who))
    return Response(status_code=NO_CONTENT)


@router.post("/auth/set-password", summary="Đặt mật khẩu qua liên kết / set a password")
async def set_password(body: SetPasswordIn, cases: SignInCases, ctx: Ctx) -> PasswordSetOut:
    """The account whose password was set, for the sign-in page to fill in (the link was
    all its holder had)."""
    return await cases.set_password(body, ctx)


@router.post(
    "/auth/set-password/check",
    summary="Liên kết đặt mật khẩu còn dùng được không / is a set-password link still good",
    responses=answers(400),
)
async def check_link(body: SetPasswordLinkIn, cases: SignInCases) -> PasswordSetOut:
    """The account the link sets a password for (a page shows whose it is), or `400
    invalid_link` when it is used, expired or superseded: nothing changes."""
    return await cases.link_holder(body.token)
