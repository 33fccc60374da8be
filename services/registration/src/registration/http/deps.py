"""What the routes take from `app.state` (put there by `app.build`), as small FastAPI
dependencies: the caller (kit's, from `app.state.auth`), the use cases, the policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, cast

from fastapi import Depends, Request

from hnth_contracts.policy import Policy
from hnth_kit.auth import Principal, Role, SigningKeys, only
from registration import technician_list
from registration.usecases.accounts import Accounts, Context
from registration.usecases.directory import DirectoryCases
from registration.usecases.feeds import Feeds
from registration.usecases.materials import Materials
from registration.usecases.meetings import Meetings
from registration.usecases.room_rules import RoomRules
from registration.usecases.signin import SignIn
from registration.usecases.systems import Systems


@dataclass(frozen=True)
class State:
    """Registration's parts the routes use, as `app.state.registration`."""

    keys: Callable[[], SigningKeys]
    """The current signing keys (tokens, the JWKS)."""
    meetings: Meetings
    feeds: Feeds
    materials: Materials
    directory: DirectoryCases
    accounts: Accounts
    signin: SignIn
    room_rules: RoomRules | None = None
    """The endpoints' room rules (rule 6)."""
    pdf_fonts: Path = technician_list.FONT_DIR
    """Where the PDF exports find their fonts (DejaVu Sans)."""
    systems: Systems | None = None
    """Integrating systems and their client-credentials tokens (issue 21)."""


def state(request: Request) -> State:
    return cast(State, request.app.state.registration)


def feeds(request: Request) -> Feeds:
    return state(request).feeds


def meetings(request: Request) -> Meetings:
    return state(request).meetings


def materials(request: Request) -> Materials:
    return state(request).materials


def directory(request: Request) -> DirectoryCases:
    return state(request).directory


def room_rules(request: Request) -> RoomRules:
    found = state(request).room_rules
    assert found is not None  # app.build sets it
    return found


def systems(request: Request) -> Systems:
    found = state(request).systems
    assert found is not None  # app.build sets it
    return found


def accounts(request: Request) -> Accounts:
    return state(request).accounts


def signin(request: Request) -> SignIn:
    return state(request).signin


def context(request: Request) -> Context:
    """The caller's address, for the audit (the last proxy's when behind one)."""
    return Context(ip=request.client.host if request.client else None)


def policy(request: Request, who: Principal) -> Policy:
    return state(request).meetings.policy_for(who.tenant)


Registrar = Annotated[Principal, Depends(only(Role.REGISTRAR, Role.OPERATOR))]
MeetingCases = Annotated[Meetings, Depends(meetings)]
FeedCases = Annotated[Feeds, Depends(feeds)]
MaterialCases = Annotated[Materials, Depends(materials)]
Directory = Annotated[DirectoryCases, Depends(directory)]
AccountCases = Annotated[Accounts, Depends(accounts)]
RoomRuleCases = Annotated[RoomRules, Depends(room_rules)]
SystemCases = Annotated[Systems, Depends(systems)]
SignInCases = Annotated[SignIn, Depends(signin)]
Ctx = Annotated[Context, Depends(context)]
