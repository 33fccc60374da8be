"""What every route depends on, found on `request.app.state` (set by `app.build`): the
caller (the Service's authenticator), the use cases, and the rendering of documents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from hnth_contracts.rules import zone
from hnth_kit.auth import Authenticator, Principal, Role, require
from hnth_kit.auth import _bearer as bearer  # the same security scheme as every service
from inspection.usecases import Inspection


class _ServiceAuthenticator(Authenticator):
    """The Service's own authenticator (`app.state.auth`), looked up per request so a
    router can be built at import time without the secret."""

    def __init__(self) -> None:
        super().__init__("")

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        authenticate: Authenticator = request.app.state.auth
        return await authenticate(request, credentials)


AUTH = _ServiceAuthenticator()
Anyone = Annotated[Principal, Depends(AUTH)]
Acting = Annotated[
    Principal, Depends(require(AUTH, Role.OPERATOR, Role.TECHNICIAN, Role.REGISTRAR))
]
Operator = Annotated[Principal, Depends(require(AUTH, Role.OPERATOR))]
Reader = Annotated[Principal, Depends(require(AUTH, Role.OPERATOR, Role.VIEWER))]


def _use_cases(request: Request) -> Inspection:
    cases: Inspection = request.app.state.inspection
    return cases


UseCases = Annotated[Inspection, Depends(_use_cases)]


def shown(cases: Inspection, who: Principal, value: Any) -> Any:
    """A stored document as people see it: times in the province's zone, `id` for `_id`."""
    return _shown(value, zone(cases.policy_for(who.tenant)))


def _shown(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(tz)
    if isinstance(value, dict):
        return {("id" if k == "_id" else k): _shown(v, tz) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v, tz) for v in value]
    return value
