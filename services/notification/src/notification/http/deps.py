"""Route dependencies: the use cases from `app.state`; the caller and the operator are
kit's (`hnth_kit.auth.Caller`, `Operator`), reading the Authenticator on `app.state.auth`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from notification.usecases import Notifications


def notifications(request: Request) -> Notifications:
    found: Notifications = request.app.state.notifications
    return found


UseCases = Annotated[Notifications, Depends(notifications)]
