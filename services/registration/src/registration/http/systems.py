"""Integrating systems (issue 21): the province's operators register, list and disable
them; a system gets an access token with its client credentials (`POST /auth/token`,
RFC 6749 §4.4), answered as RFC 6749 §5 says rather than in the API's usual shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic
from pydantic import BaseModel, ConfigDict, Field

from hnth_contracts.events import Code
from hnth_kit.auth import Operator
from registration.domain.systems import TOKEN_TTL, OAuthError
from registration.http.accounts import as_actor
from registration.http.deps import Ctx, SystemCases
from registration.views import answers

router = APIRouter(tags=["systems"], responses=answers(401, 403, 404))
ClientId = Annotated[str, Path(max_length=160, description="client_id của hệ thống / its id")]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class SystemIn(BaseModel):
    """A system to register: its name (unique in the province) and the unit it files for."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="Tên hệ thống / its name")
    unit: Code = Field(description="Đơn vị mà hệ thống đăng ký thay / the unit it files for")


class TokenOut(BaseModel):
    """Mã truy cập / an access token (RFC 6749 §5.1)."""

    access_token: str = Field(description="Mã truy cập (JWT) / the access token (a JWT)")
    token_type: str = Field(description="Luôn là Bearer / always Bearer")
    expires_in: int = Field(description="Còn hiệu lực (giây) / seconds it stays valid")


class OAuthErrorOut(BaseModel):
    """Lỗi cấp mã theo OAuth 2 / a token request refused (RFC 6749 §5.2)."""

    error: str = Field(
        description="invalid_request, invalid_client, unsupported_grant_type / the error code"
    )
    error_description: str = Field(description="Giải thích / what went wrong")


class ClientBasic(HTTPBasic):
    """HTTP Basic client authentication (RFC 6749 §2.3.1), declared in OpenAPI; the
    header is read by the use case, so a broken one is a §5.2 `invalid_client`."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return request.headers.get("Authorization")


client_basic = ClientBasic(
    scheme_name="clientCredentials",
    description="client_id:client_secret of an integrating system (`hnth system create`)",
    auto_error=False,
)


def _token_url(request: Request) -> str:
    return str(request.url_for("client_credentials_token"))


@router.post(
    "/systems",
    status_code=status.HTTP_201_CREATED,
    summary="Đăng ký hệ thống tích hợp / register an integrating system",
    description="The answer holds the client secret: it is shown this once, never again.",
)
async def create(
    request: Request, body: SystemIn, who: Operator, cases: SystemCases, ctx: Ctx
) -> dict[str, Any]:
    made = as_actor(ctx, who)
    return await cases.create(who, body.name, body.unit, _token_url(request), made)


@router.get("/systems", summary="Các hệ thống tích hợp / the province's integrating systems")
async def listed(who: Operator, cases: SystemCases) -> list[dict[str, Any]]:
    return await cases.listed(who)


@router.post(
    "/systems/{client_id}/disable",
    summary="Khóa hệ thống tích hợp / disable an integrating system",
    description="Its token requests are refused at once, its tokens within a minute.",
)
async def disable(
    client_id: ClientId, who: Operator, cases: SystemCases, ctx: Ctx
) -> dict[str, Any]:
    return await cases.disable(who, client_id, as_actor(ctx, who))


@router.post(
    "/auth/token",
    name="client_credentials_token",
    tags=["sign-in"],
    summary="Mã truy cập cho hệ thống tích hợp / an access token for a system",
    description=(
        "OAuth 2 client credentials (RFC 6749 §4.4): form-encoded "
        "`grant_type=client_credentials`, the client authenticated by HTTP Basic "
        "(`client_id:client_secret`, §2.3.1) or by `client_id` and `client_secret` in the "
        f"form. Answers `{{access_token, token_type: Bearer, expires_in}}` (a registrar "
        f"token of the system's unit, {int(TOKEN_TTL.total_seconds())} s) with "
        "`Cache-Control: no-store`; errors as §5.2 `{error, error_description}`: 400 "
        "`invalid_request` / `unsupported_grant_type`, 401 `invalid_client` (unknown, "
        "wrong secret or disabled), 429 after too many failures (`Retry-After`)."
    ),
    responses={
        200: {"model": TokenOut, "description": "Mã truy cập / the access token"},
        400: {"model": OAuthErrorOut, "description": "invalid_request, unsupported_grant_type"},
        401: {"model": OAuthErrorOut, "description": "invalid_client"},
        429: {"model": OAuthErrorOut, "description": "Sai quá nhiều lần / too many failures"},
    },
)
async def client_credentials_token(
    cases: SystemCases,
    ctx: Ctx,
    authorization: Annotated[str | None, Depends(client_basic)],
    grant_type: Annotated[
        str | None,
        Form(max_length=64, description="Kiểu cấp quyền: client_credentials / the grant type"),
    ] = None,
    client_id: Annotated[
        str | None,
        Form(
            max_length=160,
            description="Mã hệ thống, khi không dùng HTTP Basic / the client id, without Basic",
        ),
    ] = None,
    client_secret: Annotated[
        str | None,
        Form(
            max_length=256,
            description="Khóa bí mật, khi không dùng HTTP Basic / the secret, without Basic",
        ),
    ] = None,
) -> JSONResponse:
    try:
        grant = await cases.token(grant_type, authorization, client_id, client_secret, ctx)
    except OAuthError as refused:
        return JSONResponse(refused.body(), refused.status, headers=NO_STORE | _challenge(refused))
    return JSONResponse(grant, headers=NO_STORE)


def _challenge(refused: OAuthError) -> dict[str, str]:
    headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else {}
    if refused.status == 401 and refused.basic:
        headers["WWW-Authenticate"] = 'Basic realm="hnth", charset="UTF-8"'
    return headers
