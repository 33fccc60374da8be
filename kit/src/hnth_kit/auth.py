"""Bearer tokens: signed (HS256) with role, tenant, unit or endpoint, and expiry.

One secret from settings signs and verifies; every HTTP route except health and docs
depends on `Authenticator` and, where it changes or reveals something, `require`.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

# No `from __future__ import annotations` here: FastAPI must resolve Annotated closures.
import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from hnth_kit.errors import problem

ALGORITHM = "HS256"
ISSUER = "hnth-ops"


class Role(StrEnum):
    REGISTRAR = "registrar"
    """A host unit's registrar: its own unit's meetings."""
    OPERATOR = "operator"
    """The provincial IT department (Sở TT&TT): everything in its province."""
    TECHNICIAN = "technician"
    """An endpoint's technician: its endpoint's meetings and checks."""
    VIEWER = "viewer"
    """Read only."""


class Principal(BaseModel):
    """Who is calling, as the token says."""

    model_config = ConfigDict(frozen=True)

    subject: str
    role: Role
    tenant: str
    unit: str | None = None
    endpoint: str | None = None


def issue_token(
    secret: str,
    *,
    role: Role,
    tenant: str,
    subject: str | None = None,
    unit: str | None = None,
    endpoint: str | None = None,
    ttl: timedelta = timedelta(hours=12),
    now: datetime | None = None,
) -> str:
    """Sign a token for a principal; registrars need a unit and technicians an endpoint."""
    if role is Role.REGISTRAR and not unit:
        raise ValueError("a registrar token needs --unit")
    if role is Role.TECHNICIAN and not endpoint:
        raise ValueError("a technician token needs --endpoint")
    issued = now or datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": subject or f"{role.value}:{unit or endpoint or tenant}",
        "role": role.value,
        "tenant": tenant,
        "unit": unit,
        "endpoint": endpoint,
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class InvalidToken(Exception):
    pass


def verify_token(secret: str, token: str) -> Principal:
    """The principal of a valid, unexpired token; raises InvalidToken otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
        return Principal(
            subject=claims["sub"],
            role=Role(claims["role"]),
            tenant=claims["tenant"],
            unit=claims.get("unit"),
            endpoint=claims.get("endpoint"),
        )
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc


_bearer = HTTPBearer(auto_error=False, description="Token from `python -m registration token`")


def _unauthorized(request: Request, why_vi: str, why_en: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=problem(request, "unauthorized", why_vi, why_en),
        headers={"WWW-Authenticate": "Bearer"},
    )


class Authenticator:
    """FastAPI dependency: the caller's Principal, or 401."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None:
            raise _unauthorized(
                request, "Thiếu mã xác thực (Bearer token).", "A bearer token is required."
            )
        try:
            return verify_token(self._secret, credentials.credentials)
        except InvalidToken:
            raise _unauthorized(
                request,
                "Mã xác thực không hợp lệ hoặc đã hết hạn.",
                "The token is invalid or has expired.",
            ) from None


def require(
    authenticate: Authenticator, *roles: Role
) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """A dependency that lets only `roles` through (403 for the others)."""

    async def check(
        request: Request, principal: Annotated[Principal, Depends(authenticate)]
    ) -> Principal:
        _allow(request, principal, roles)
        return principal

    return check


def _allow(request: Request, who: Principal, roles: tuple[Role, ...]) -> None:
    if who.role not in roles:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=problem(
                request,
                "forbidden",
                f"Vai trò '{who.role}' không được phép thực hiện thao tác này.",
                f"The role '{who.role}' may not do this.",
            ),
        )


# ---------------------------------------------------------------- route dependencies
# Module-level routers take the caller from the Authenticator `Service` puts on
# `app.state.auth`, so a route declares `who: Caller` (or `Operator`, or `only(...)`).


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller's Principal (401 without a valid token)."""
    authenticate: Authenticator = request.app.state.auth
    return await authenticate(request, credentials)


def only(*roles: Role) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """A dependency that lets only `roles` through (403 for the others)."""

    async def check(request: Request, who: Annotated[Principal, Depends(caller)]) -> Principal:
        _allow(request, who, roles)
        return who

    return check


Caller = Annotated[Principal, Depends(caller)]
"""Any signed-in caller."""
Operator = Annotated[Principal, Depends(only(Role.OPERATOR))]
"""The IT department (Sở TT&TT) only."""
