"""Route dependencies, read from `app.state`: the use cases, the caller, the operator."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hnth_kit.auth import Authenticator, Principal, Role, require
from notification.usecases import Notifications

_bearer = HTTPBearer(auto_error=False, description="Token from `python -m registration token`")
"""The same scheme as kit's `Authenticator` declares, so the OpenAPI document is unchanged."""


def notifications(request: Request) -> Notifications:
    found: Notifications = request.app.state.notifications
    return found


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller's Principal (401 without a valid token)."""
    auth: Authenticator = request.app.state.auth
    return await auth(request, credentials)


async def operator(request: Request, who: Annotated[Principal, Depends(caller)]) -> Principal:
    """Sở TT&TT only (403 for the other roles)."""
    auth: Authenticator = request.app.state.auth
    return await require(auth, Role.OPERATOR)(request, who)


UseCases = Annotated[Notifications, Depends(notifications)]
Caller = Annotated[Principal, Depends(caller)]
Operator = Annotated[Principal, Depends(operator)]
