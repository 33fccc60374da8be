"""An operator's resend of a notice: its own cause, and when it is refused."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from notification.domain.notices import PERSONAL_KINDS, Kind, Status

RESEND_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def resend_cause(tenant: str, original: str, request_key: str) -> str:
    """A resend is its own cause, named by the operator's request: the notice it repeats
    and the request's Idempotency-Key. A retried click maps to the same notice and is sent
    once; a new click (a new key) is a new notice."""
    digest = hashlib.sha256(original.encode()).hexdigest()[:16]
    return f"resend:{tenant}:{digest}:{request_key}"


def valid_resend_key(key: str) -> bool:
    return 8 <= len(key) <= 100 and set(key) <= RESEND_KEY_CHARS


class ResendRefusal(StrEnum):
    STILL_PENDING = "still_pending"
    MEETING_CANCELLED = "meeting_cancelled"
    NOT_RESENDABLE = "not_resendable"
    REPLACED = "replaced"
    """A later notice to the same recipient replaces it (`replacements`)."""


def resend_refusal(status: str, kind: str, meeting_cancelled: bool) -> ResendRefusal | None:
    """Why a notice may not be resent, or None. A notice still being delivered is already
    on its way (a resend would only race it). Once the meeting is cancelled, resending
    its invitation, change or reminder would announce a meeting that will not take place;
    only the cancellation itself (and notices about no meeting) may go out again. A
    password link is never resent: it may be used or expired by now; a new one is issued."""
    if kind in PERSONAL_KINDS:
        return ResendRefusal.NOT_RESENDABLE
    if status == Status.PENDING.value:
        return ResendRefusal.STILL_PENDING
    if meeting_cancelled and kind != Kind.MEETING_CANCELLED.value:
        return ResendRefusal.MEETING_CANCELLED
    return None
