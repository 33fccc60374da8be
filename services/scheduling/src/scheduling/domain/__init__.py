"""Scheduling's rules, pure: requests in, decisions and due dates out. No I/O, `now` is given.

A module per concept: `buckets` (the time grid and reserved windows), `requests`,
`validation` (rules a request breaks before any resource is read), `conflicts` (who holds
what, and how a conflict is worded), `alternatives`, `cascade` (a meeting over several
bridges), `approval` (holds an operator decides), `decisions` (the events) and
`reports` (the calendar of what is due), `preemption` (a higher priority displacing a
lower one). Everything is re-exported here, so callers say
`domain.buckets(...)`, `domain.assign(...)`.
"""

from __future__ import annotations

from hnth_contracts import ReportKind
from scheduling.domain.alternatives import (
    ALTERNATIVE_HORIZON,
    ALTERNATIVES,
    alternative_candidates,
    distinct,
    is_free,
)
from scheduling.domain.approval import (
    APPROVAL,
    HOLD_DEADLINE,
    approved,
    expired_conflict,
    hold,
    hold_expires,
    needs_approval,
    rejected_conflict,
)
from scheduling.domain.buckets import (
    BUCKET,
    EPOCH,
    bucket_of,
    bucket_start,
    buckets,
    port_order,
    reserved_window,
)
from scheduling.domain.cascade import CASCADE, Share, cascade_plan
from scheduling.domain.conflicts import (
    NAMED_HOLDERS,
    Holder,
    Occupancy,
    bridges_in_order,
    capacity_conflicts,
    capacity_ref,
    endpoint_conflicts,
    too_small,
)
from scheduling.domain.decisions import PRODUCER, assign, reject, release
from scheduling.domain.preemption import (
    blockers,
    displaced_conflict,
    displaced_events,
    may_outrank,
    offer_conflict,
    outranks_all,
    preempts,
)
from scheduling.domain.reports import (
    Due,
    annual_report,
    end_of_local_day,
    inspection,
    inspection_index,
    meeting_record,
    next_annual_report,
    report_due,
)
from scheduling.domain.requests import Request, asked_at, request_of, with_groups
from scheduling.domain.validation import (
    UNIT,
    Directory,
    grace_ends,
    is_late,
    must_wait,
    policy_conflict,
    policy_violations,
    unknown_codes,
    unknown_endpoints,
)

__all__ = [
    "ALTERNATIVES",
    "ALTERNATIVE_HORIZON",
    "APPROVAL",
    "BUCKET",
    "CASCADE",
    "EPOCH",
    "HOLD_DEADLINE",
    "NAMED_HOLDERS",
    "PRODUCER",
    "UNIT",
    "Directory",
    "Due",
    "Holder",
    "Occupancy",
    "ReportKind",
    "Request",
    "Share",
    "alternative_candidates",
    "annual_report",
    "approved",
    "asked_at",
    "assign",
    "blockers",
    "bridges_in_order",
    "bucket_of",
    "bucket_start",
    "buckets",
    "capacity_conflicts",
    "capacity_ref",
    "cascade_plan",
    "displaced_conflict",
    "displaced_events",
    "distinct",
    "end_of_local_day",
    "endpoint_conflicts",
    "expired_conflict",
    "grace_ends",
    "hold",
    "hold_expires",
    "inspection",
    "inspection_index",
    "is_free",
    "is_late",
    "may_outrank",
    "meeting_record",
    "must_wait",
    "needs_approval",
    "next_annual_report",
    "offer_conflict",
    "outranks_all",
    "policy_conflict",
    "policy_violations",
    "port_order",
    "preempts",
    "reject",
    "rejected_conflict",
    "release",
    "report_due",
    "request_of",
    "reserved_window",
    "too_small",
    "unknown_codes",
    "unknown_endpoints",
    "with_groups",
]
