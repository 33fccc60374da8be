"""What every route depends on, found on `request.app.state` (set by `app.build`): the
caller (the Service's authenticator), the use cases, and the rendering of documents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

from hnth_contracts.rules import zone
from hnth_kit.auth import Caller, Principal, Role, only
from inspection.usecases import Inspection

Anyone = Caller
Acting = Annotated[Principal, Depends(only(Role.OPERATOR, Role.TECHNICIAN, Role.REGISTRAR))]
Operator = Annotated[Principal, Depends(only(Role.OPERATOR))]
Reader = Annotated[Principal, Depends(only(Role.OPERATOR, Role.VIEWER))]


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
