"""Rehearsals (tổng duyệt): a run-through of a large meeting on the same endpoints, booked
as a meeting of its own (its own slot, notices and checks) and linked to the meeting.

Which meetings need one is the policy's (`rehearsal.min_endpoints`: reaching at least
that many endpoints; 0 means never), and how long before the meeting it must be over
(`rehearsal.lead_time`), so that what it reveals can still be fixed. Moving or cancelling
a meeting that has a rehearsal asks what to do with it (`keep` or `cancel`): the
rehearsal's endpoints, ports and technicians are booked too, and only the person moving
the meeting knows whether the run-through still makes sense."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from hnth_contracts.policy import Policy, describe
from hnth_kit.refusal import Violation

MIN_ENDPOINTS = "rehearsal.min_endpoints"
LEAD_TIME = "rehearsal.lead_time"
TITLE_PREFIX = "Tổng duyệt: "
Choice = Literal["keep", "cancel"]


def required(policy: Policy, endpoints: int) -> bool:
    """Whether a meeting reaching `endpoints` endpoints needs a rehearsal."""
    threshold = int(policy.value(MIN_ENDPOINTS)) if MIN_ENDPOINTS in policy.rules else 0
    return 0 < threshold <= endpoints


def title(meeting_title: str) -> str:
    return meeting_title if meeting_title.startswith(TITLE_PREFIX) else TITLE_PREFIX + meeting_title


def booking_violations(
    policy: Policy,
    *,
    meeting_start: datetime,
    meeting_cancelled: bool,
    of_a_rehearsal: bool,
    end: datetime,
) -> list[Violation]:
    """What stops booking a rehearsal ending at `end` for this meeting (its own times are
    checked as any meeting's are)."""
    if of_a_rehearsal:
        return [
            Violation(
                "meeting_id",
                MIN_ENDPOINTS,
                policy.ref(MIN_ENDPOINTS).source,
                "Đây đã là một buổi tổng duyệt; hãy đặt tổng duyệt cho cuộc họp chính.",
                "This is a rehearsal already; book the rehearsal for the meeting itself.",
            )
        ]
    if meeting_cancelled:
        return [
            Violation(
                "meeting_id",
                MIN_ENDPOINTS,
                policy.ref(MIN_ENDPOINTS).source,
                "Cuộc họp đã bị hủy, không cần tổng duyệt.",
                "The meeting is cancelled; it needs no rehearsal.",
            )
        ]
    lead = policy.duration(LEAD_TIME)
    if end > meeting_start - lead:
        return [
            Violation(
                "end",
                LEAD_TIME,
                policy.ref(LEAD_TIME).source,
                f"Buổi tổng duyệt phải kết thúc trước giờ họp ít nhất {describe(lead)}.",
                f"The rehearsal must end at least {describe(lead, english=True)} before "
                "the meeting starts.",
            )
        ]
    return []


def choice_missing(policy: Policy, rehearsals: int) -> Violation:
    """A move or cancellation of a meeting with `rehearsals` booked, without saying what
    becomes of them."""
    return Violation(
        "rehearsals",
        MIN_ENDPOINTS,
        policy.ref(MIN_ENDPOINTS).source,
        f"Cuộc họp có {rehearsals} buổi tổng duyệt: chọn giữ (keep) hay hủy (cancel) cùng.",
        f"The meeting has {rehearsals} rehearsal(s): choose to keep or cancel them too.",
    )
