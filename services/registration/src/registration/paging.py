"""Keyset paging cursors shared by the lists (`GET /meetings`, `GET /materials`): the
(time, id) of the last item of a page, opaque to the caller."""

import base64
import json
from datetime import UTC, datetime

from fastapi import HTTPException, Request

from hnth_kit.errors import problem


def encode_cursor(after: tuple[datetime, str] | None) -> str | None:
    if after is None:
        return None
    raw = json.dumps([after[0].isoformat(), after[1]]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(request: Request, cursor: str | None) -> tuple[datetime, str] | None:
    """The cursor's (time, id); a 400 when it is not one of ours."""
    if not cursor:
        return None
    try:
        at, last_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:  # ours always carry their offset
            raise ValueError(at)
        return moment.astimezone(UTC), str(last_id)
    except (ValueError, TypeError, OverflowError):
        raise HTTPException(
            400, problem(request, "bad_cursor", "Tham số cursor sai.", "The cursor is invalid.")
        ) from None
