"""What the routes take from `app.state` (put there by `app.build`), as small FastAPI
dependencies: the caller, the use cases, the policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hnth_contracts.policy import Policy
from hnth_kit.auth import Authenticator, Principal, Role
from hnth_kit.refusal import Refusal
from registration.usecases.directory import DirectoryCases
from registration.usecases.materials import Materials
from registration.usecases.meetings import Meetings

bearer = HTTPBearer(auto_error=False, description="Token from `python -m registration token`")


@dataclass(frozen=True)
class State:
    """Registration's parts the routes use, as `app.state.registration`."""

    meetings: Meetings
    materials: Materials
    directory: DirectoryCases
    authenticate: Authenticator


def state(request: Request) -> State:
    return cast(State, request.app.state.registration)


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, from the bearer token (401 without a valid one)."""
    return await state(request).authenticate(request, credentials)


async def _registrar(who: Annotated[Principal, Depends(caller)]) -> Principal:
    return _allow(who, Role.REGISTRAR, Role.OPERATOR)


async def _operator(who: Annotated[Principal, Depends(caller)]) -> Principal:
    return _allow(who, Role.OPERATOR)


def _allow(who: Principal, *roles: Role) -> Principal:
    if who.role not in roles:
        raise Refusal(
            403,
            "forbidden",
            f"Vai trò '{who.role}' không được phép thực hiện thao tác này.",
            f"The role '{who.role}' may not do this.",
        )
    return who


def meetings(request: Request) -> Meetings:
    return state(request).meetings


def materials(request: Request) -> Materials:
    return state(request).materials


def directory(request: Request) -> DirectoryCases:
    return state(request).directory


def policy(request: Request, who: Principal) -> Policy:
    return state(request).meetings.policy_for(who.tenant)


Caller = Annotated[Principal, Depends(caller)]
Registrar = Annotated[Principal, Depends(_registrar)]
Operator = Annotated[Principal, Depends(_operator)]
MeetingCases = Annotated[Meetings, Depends(meetings)]
MaterialCases = Annotated[Materials, Depends(materials)]
Directory = Annotated[DirectoryCases, Depends(directory)]
