"""HNTH Ops contracts: the event envelope, the events, and topic names.

Other systems (e-office, work calendars, MCU probes) may publish these events
directly; every consumer validates them again.
"""

from hnth_contracts.envelope import Event, Model, utc_now
from hnth_contracts.events import (
    EVENT_TYPES,
    AnyEvent,
    CheckCompleted,
    CheckItem,
    CheckOutcome,
    Conflict,
    ConflictKind,
    MeetingCancelled,
    MeetingChanged,
    MeetingDetails,
    MeetingRequested,
    ReportDue,
    ReportKind,
    RuleRef,
    Slot,
    SlotAssigned,
    SlotRejected,
    SlotReleased,
    Window,
    decode_event,
)
from hnth_contracts.topics import Topics, dead_letter, key_of

__all__ = [
    "EVENT_TYPES",
    "AnyEvent",
    "CheckCompleted",
    "CheckItem",
    "CheckOutcome",
    "Conflict",
    "ConflictKind",
    "Event",
    "MeetingCancelled",
    "MeetingChanged",
    "MeetingDetails",
    "MeetingRequested",
    "Model",
    "ReportDue",
    "ReportKind",
    "RuleRef",
    "Slot",
    "SlotAssigned",
    "SlotRejected",
    "SlotReleased",
    "Topics",
    "Window",
    "dead_letter",
    "decode_event",
    "key_of",
    "utc_now",
]
