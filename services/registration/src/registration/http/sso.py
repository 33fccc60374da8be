"""Signing in through the province's OpenID provider (public): the console hands over
the id_token it got with authorization code + PKCE; the answer is `/auth/login`'s."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from registration.http.deps import Ctx
from registration.usecases.sso import SsoSignIn
from registration.views import answers

router = APIRouter(tags=["sign-in"], responses=answers(401, 404))


class SsoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(min_length=1, max_length=64, description="Tỉnh / province")
    id_token: str = Field(
        min_length=1,
        max_length=16_384,
        description="id_token do hệ thống đăng nhập một lần cấp / the OpenID provider's id_token",
    )


def sso_cases(request: Request) -> SsoSignIn:
    return cast(SsoSignIn, request.app.state.sso)


@router.post("/auth/sso", summary="Đăng nhập một lần / single sign-on (OpenID Connect)")
async def sso_login(
    body: SsoIn, cases: Annotated[SsoSignIn, Depends(sso_cases)], ctx: Ctx
) -> dict[str, Any]:
    return await cases.login_sso(body.tenant, body.id_token, ctx)


class SsoProviderOut(BaseModel):
    tenant: str = Field(description="Tỉnh / province")
    issuer: str = Field(
        description="Địa chỉ hệ thống đăng nhập một lần (issuer) / the OpenID provider's issuer"
    )
    client_id: str = Field(
        description="Mã ứng dụng HNTH Ops tại hệ thống đó / HNTH Ops's client id there"
    )


@router.get(
    "/auth/sso/providers",
    summary="Tỉnh nào đăng nhập một lần / which provinces sign in through their provider",
    response_model=list[SsoProviderOut],
    responses=answers(),
)
async def sso_providers(
    cases: Annotated[SsoSignIn, Depends(sso_cases)],
    tenant: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description="Chỉ tỉnh này / only this province"),
    ] = None,
) -> list[SsoProviderOut]:
    """Public: the issuer and client id of each province's OpenID provider (`sso:` in
    data/<tenant>.yaml), which the console needs to start the sign-in; the client secret
    stays in the console's environment."""
    return [
        SsoProviderOut(tenant=code, issuer=config.issuer, client_id=config.client_id)
        for code, config in cases.providers(tenant)
    ]
