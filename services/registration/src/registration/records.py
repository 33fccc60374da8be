"""The post-meeting record (rule 8): scheduling's ReportDue asks the host unit for the
minutes; once both the request and the minutes are here, registration announces
ReportSubmitted (so notification stops reminding). Upload and ReportDue each store
first and look for the other second, so whichever comes last announces; the announcement
is keyed by the report id, so it happens once."""

from __future__ import annotations

from datetime import datetime

from hnth_contracts import ReportKind, ReportSubmitted
from hnth_kit.mongo import Document
from registration.store import MaterialsStore

PRODUCER = "registration"


async def announce_record(
    materials: MaterialsStore, due: Document, tenant: str, by: str, now: datetime
) -> None:
    """Announce that the minutes `due` (a ReportDue timeline entry) asked for are in."""
    submitted = ReportSubmitted.create(
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
    await materials.submit_record(due["report_id"], submitted)
