"""The post-meeting record (rule 8): scheduling's ReportDue asks the host unit for the
minutes; once both the request and the minutes are here, registration announces
ReportSubmitted (so notification stops reminding), and until then the meeting shows
"record missing" (`missing`, the one place that decides it).

Whichever of upload and ReportDue comes second announces:
- minutes uploaded after the ReportDue carry the ReportSubmitted in their own document's
  outbox (one insert: the minutes are never in without the announcement);
- a ReportDue finding minutes already in stores an announcement keyed by the report id;
- the two racing (each looking before the other stored) is caught by the upload looking
  again after its insert.
The ReportSubmitted's event id is derived from the report id, so if both paths stage it,
consumers see one event delivered twice, never two submissions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from hnth_contracts import ReportKind, ReportSubmitted
from hnth_kit.mongo import Document
from registration import PRODUCER, domain
from registration.store import MaterialsStore

_NAMESPACE = uuid.UUID("5b0f3c38-8d2e-4b7e-9a51-2f1d7f0c9e11")


def submitted(due: Document, tenant: str, by: str, now: datetime) -> ReportSubmitted:
    """The announcement that the minutes `due` (a ReportDue timeline entry) asked for are in."""
    return ReportSubmitted.create(
        event_id=uuid.uuid5(_NAMESPACE, f"{tenant}|{due['report_id']}"),
        tenant=tenant,
        correlation_id=due["meeting_id"],
        producer=PRODUCER,
        occurred_at=now,
        report_id=due["report_id"],
        kind=ReportKind.MEETING_RECORD,
        unit=due.get("unit"),
        meeting_id=due["meeting_id"],
        submitted_by=by,
        submitted_at=now,
    )


async def announce_record(
    materials: MaterialsStore, due: Document, tenant: str, by: str, now: datetime
) -> None:
    """Announce (once per report) that the minutes `due` asked for are in."""
    await materials.submit_record(tenant, due["report_id"], submitted(due, tenant, by, now))


def missing(timeline: Iterable[Document]) -> bool:
    """Does the meeting lack its record: on its timeline, the minutes were asked for
    (ReportDue) and none were uploaded."""
    entries = list(timeline)
    return domain.record_missing(
        record_due=any(e["type"] == "ReportDue" for e in entries),
        minutes_uploaded=any(
            e["type"] == "MaterialUploaded" and e.get("material_kind") == domain.MINUTES
            for e in entries
        ),
    )
