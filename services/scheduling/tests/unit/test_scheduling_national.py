"""A national meeting the province relays, as scheduling decides it: its own lead time,
flagged late inside the ordinary one, the rule named in the decision."""

from __future__ import annotations

from datetime import timedelta

from scheduling_samples import NOW, requested

from hnth_contracts import SlotAssigned, SlotRejected

GOVERNMENT = "Văn phòng Chính phủ"


async def test_a_national_meeting_inside_the_notice_lead_time_is_assigned_and_flagged(
    scheduling, store
) -> None:
    event = requested("m-tw", start=NOW + timedelta(days=1), external_host=GOVERNMENT)
    decision = await scheduling.decide(event)
    assert decision is not None
    assert decision["outcome"] == "assigned", store.events
    [assigned] = store.events
    assert isinstance(assigned, SlotAssigned)
    assert assigned.external_host == GOVERNMENT
    assert assigned.late_notice
    assert "notice.national_lead_time" in {r.rule for r in assigned.rules}


async def test_a_national_meeting_inside_its_own_lead_time_is_rejected(scheduling, store) -> None:
    event = requested("m-tw", start=NOW + timedelta(hours=2), external_host=GOVERNMENT)
    decision = await scheduling.decide(event)
    assert decision is not None
    assert decision["outcome"] == "rejected"
    [rejected] = store.events
    assert isinstance(rejected, SlotRejected)
    assert [c.rule.rule for c in rejected.conflicts] == ["notice.national_lead_time"]
