"""How a delivery attempt is judged, and the notice's state after it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hnth_contracts import Event
from notification.domain.notices import Status


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt came to."""

    delivered: bool
    permanent: bool = False
    reason: str = ""


DELIVERED = Attempt(delivered=True)


def retry(reason: str) -> Attempt:
    return Attempt(delivered=False, reason=reason)


def give_up(reason: str) -> Attempt:
    return Attempt(delivered=False, permanent=True, reason=reason)


def smtp_reply(code: int, message: str) -> Attempt:
    """5xx is the server's final word (unknown mailbox, refused); 4xx asks to try later."""
    reason = f"{code} {message}".strip()
    return give_up(reason) if code >= 500 else retry(reason)


def http_reply(status: int) -> Attempt:
    """2xx delivered; 408, 429 and 5xx are worth retrying; other 4xx never succeed."""
    if 200 <= status < 300:
        return DELIVERED
    if status in (408, 429) or status >= 500:
        return retry(f"HTTP {status}")
    return give_up(f"HTTP {status}")


def is_due(notice: Mapping[str, Any] | None, now: datetime) -> bool:
    """Still to be attempted now: pending, and its next attempt not later than `now`
    (a sender re-reads under its claim: another may have finished it meanwhile)."""
    return (
        notice is not None
        and notice["status"] == Status.PENDING.value
        and notice["next_attempt_at"] <= now
    )


@dataclass(frozen=True)
class Next:
    """The notice's state after an attempt."""

    status: Status
    attempts: int
    next_attempt_at: datetime | None
    reason: str | None


@dataclass(frozen=True)
class Recorded:
    """An attempt's outcome as the store writes it on its notice, with the events it causes."""

    notice_id: str
    result: Next
    at: datetime
    address: str | None = None
    message_id: str | None = None
    events: Sequence[Event] = ()


def after_attempt(
    attempt: Attempt,
    attempts_before: int,
    now: datetime,
    *,
    max_attempts: int,
    backoff: timedelta,
    max_backoff: timedelta,
) -> Next:
    """Delivered -> sent; permanent or out of attempts -> failed; else retry, doubling."""
    attempts = attempts_before + 1
    if attempt.delivered:
        return Next(Status.SENT, attempts, None, None)
    if attempt.permanent or attempts >= max_attempts:
        return Next(Status.FAILED, attempts, None, attempt.reason)
    delay = min(backoff * (2 ** (attempts - 1)), max_backoff)
    return Next(Status.PENDING, attempts, now + delay, attempt.reason)
