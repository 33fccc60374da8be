"""What several pages read from the services, with the signed-in person's token."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, TypeVar

from hnth_console.backends import BackendError, Backends
from hnth_console.deps import Session

T = TypeVar("T")


async def meetings_between(
    backends: Backends, s: Session, start: datetime, end: datetime, endpoint: str | None = None
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10):  # at most 2,000 meetings in one view
        page = await backends.get(
            "registration",
            "/meetings",
            s.token,
            s.lang,
            **{"from": start.isoformat(), "to": end.isoformat()},
            endpoint=endpoint or None,
            limit=200,
            cursor=cursor,
        )
        found.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return found


async def directory(backends: Backends, s: Session, kind: str = "endpoints") -> list[Any]:
    """The province's endpoints or units, to pick from (empty if this role may not list)."""
    try:
        return list(await backends.get("registration", f"/{kind}", s.token, s.lang, active=True))
    except BackendError:
        return []  # a role that may not list the directory still sees its schedule


async def nothing() -> None:
    """A part of a page this person's role does not get (asked alongside the others)."""
    return None


async def optional(call: Awaitable[T]) -> T | None:
    """A part of a page that may not be there yet (404) or not for this role (403)."""
    try:
        return await call
    except BackendError as exc:
        if exc.status in (403, 404):
            return None
        raise


async def per_meeting(
    backends: Backends, s: Session, service: str, path: str, meetings: list[dict[str, Any]]
) -> list[Any]:
    """`path` (with `{}` for the meeting id) of every meeting, concurrently; None where it
    is not there (yet) or not for this role."""
    return list(
        await asyncio.gather(
            *(
                optional(backends.get(service, path.format(m["id"]), s.token, s.lang))
                for m in meetings
            )
        )
    )
