"""Meetings, materials and directory entries as people read them: times in the
province's zone, ids as `id`, nothing internal."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hnth_contracts.policy import Policy
from hnth_kit.mongo import Document
from registration import PRODUCER, domain, records
from registration.domain import rehearsal
from registration.store import endpoints_of
from registration.usecases.meetings import decided
from registration.views import local


def public(
    meeting: Document,
    timeline: list[Document] | None,
    policy: Policy,
    status_now: str | None = None,
) -> dict[str, Any]:
    """The meeting: times in the province's zone, status, decision (with its timeline
    when one is given)."""
    zone = ZoneInfo(policy.timezone)
    hidden = {"_id", "idempotency_key", "request_hash", "_applied", "reached_revision"}
    body = {k: local(v, zone) for k, v in meeting.items() if k not in hidden}
    body["id"] = meeting["_id"]
    body.setdefault("source", PRODUCER)  # written before meetings named their source
    body["status"] = status_now or domain.status_of(
        meeting["cancelled"], meeting["revision"], decided(timeline or [])
    )
    if not meeting.get("rehearsal_of"):
        body["rehearsal_required"] = rehearsal.required(policy, len(endpoints_of(meeting)))
    if timeline is None:
        return body
    return body | _timeline(meeting, timeline, zone)


def _timeline(meeting: Document, timeline: list[Document], zone: ZoneInfo) -> dict[str, Any]:
    body: dict[str, Any] = {
        "timeline": [
            {k: local(v, zone) for k, v in e.items() if k not in ("_id", "meeting_id", "tenant")}
            | {"event_id": e["_id"]}
            for e in timeline
        ]
    }
    for entry in timeline:
        if entry["type"] == "SlotAssigned":
            body["slot"] = local(entry["slot"], zone)
            body["expanded"] = entry.get("groups") or []  # what its groups stood for
            body.pop("rejection", None)
        if entry["type"] == "SlotRejected" and entry.get("revision", 0) == meeting["revision"]:
            body["rejection"] = local(entry["rejection"], zone)
    body["record_missing"] = records.missing(timeline)
    return body


def people_in(timeline: list[Document]) -> set[str]:
    """The usernames a meeting's timeline names: who registered, changed, cancelled or
    decided, and who checked an endpoint."""
    named = {e.get("by") for e in timeline}
    named |= {(e.get("check") or {}).get("checked_by") for e in timeline}
    return {n for n in named if isinstance(n, str) and n}


def rehearsal_view(meeting: Document, policy: Policy) -> dict[str, Any]:
    """A rehearsal as its meeting lists it."""
    zone = ZoneInfo(policy.timezone)
    return {
        "id": meeting["_id"],
        "start": local(meeting["start"], zone),
        "end": local(meeting["end"], zone),
        "cancelled": meeting["cancelled"],
        "status": meeting.get("status"),
    }


def shown(document: Document, policy: Policy) -> dict[str, Any]:
    """A material, access request or decision."""
    zone = ZoneInfo(policy.timezone)
    body = {
        k: (v.astimezone(zone).isoformat() if isinstance(v, datetime) else v)
        for k, v in document.items()
        if k not in ("_id", "_outbox", "_applied", "audit")
    }
    return {"id": document["_id"], **body}


def entry(found: Document, policy: Policy) -> dict[str, Any]:
    """A directory entry: `updated_at` in the province's zone."""
    zone = ZoneInfo(policy.timezone)
    view = {k: local(v, zone) for k, v in found.items() if not k.startswith("_") and k != "tenant"}
    if "code" in view:
        # a unit is its own owning unit, so units and endpoints list the same four keys
        view.setdefault("unit", view["code"])
    return view
