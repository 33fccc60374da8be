"""SMS in the last hour, end to end: a missed check an hour before the opening reaches the
endpoint's technician, the line provider's and the power company's duty phones at a real
SMPP server, once each, also when notification is killed and restarted and the alert is
delivered again."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from notification_samples import missed_check

from hnth_contracts import Slot, SlotAssigned, Window
from hnth_kit.testing import eventually

pytestmark = pytest.mark.system
TECHNICIAN_TU = "84912345678"  # TQ-TU's technician, 0912345678 in data/tuyen-quang.yaml
TECHNICIAN_HDND = "84912353597"
LINE_PROVIDER = "842073811119"
POWER_COMPANY = "842073822566"


def assigned(meeting_id: str, start: datetime) -> SlotAssigned:
    end = start + timedelta(hours=1)
    return SlotAssigned.create(
        tenant="tuyen-quang",
        correlation_id=meeting_id,
        producer="scheduling",
        meeting_id=meeting_id,
        revision=0,
        title=f"Họp khẩn phòng chống thiên tai {meeting_id[-4:]}",
        host_unit="VP-UBND",
        main_endpoint="TQ-TU",
        endpoints=("TQ-TU", "TQ-HDND"),
        slot=Slot(
            bridge="MCU-TQ",
            virtual_room="VR-SMS",
            dial_in="sip:VR-SMS@mcu.tuyenquang.gov.vn",
            meeting=Window(start=start, end=end),
            reserved=Window(start=start - timedelta(minutes=30), end=end),
        ),
        check_deadline=start - timedelta(minutes=20),
        notice_deadline=start - timedelta(days=2),
        late_notice=True,
        policy="tuyen-quang@2017-345",
    )


def received(platform):
    """How many messages (first parts) each phone received."""

    async def probe() -> Counter[str]:
        messages = platform.smpp.messages()
        return Counter(
            str(m["destination"])
            for m in messages
            if not m.get("udh") or str(m["udh"]).endswith("01")
        )

    return probe


@pytest.mark.timeout(600)  # four services started on a busy machine: up to 4 min
async def test_a_missed_check_reaches_the_duty_phones_once_across_a_restart(
    module_platform,
) -> None:
    platform = module_platform
    meeting_id = f"m-sms-{uuid.uuid4().hex[:8]}"
    start = (datetime.now(UTC) + timedelta(minutes=40)).replace(microsecond=0)
    alert = missed_check(meeting_id, "TQ-TU", start)
    await platform.publish(assigned(meeting_id, start))
    await platform.publish(alert)
    first = await eventually(
        received(platform),
        until=lambda c: all(c[p] >= 1 for p in (TECHNICIAN_TU, LINE_PROVIDER, POWER_COMPANY)),
        timeout=120,
    )
    assert first[TECHNICIAN_HDND] == 0  # its endpoint's check was not missed
    # recorded as sent (to the number in E.164) before the kill: a kill between the SMSC's
    # answer and the record would send again, by design (at-least-once)
    operator = {"Authorization": f"Bearer {platform.token('--role', 'operator')}"}

    async def texts() -> list[dict]:
        async with httpx.AsyncClient(base_url=platform.urls["notification"]) as client:
            found = await client.get(f"/meetings/{meeting_id}/notices", headers=operator)
        return [n for n in found.json() if n["channel"] == "sms" and n["kind"] == "check_alert"]

    sent = await eventually(
        texts, until=lambda ns: len(ns) == 3 and all(n["status"] == "sent" for n in ns)
    )
    assert {n["address"] for n in sent} == {
        f"+{p}" for p in (TECHNICIAN_TU, LINE_PROVIDER, POWER_COMPANY)
    }
    assert {n["rule"]["rule"] for n in sent} == {"notice.sms"}

    platform.restart("notification-0")  # kill -9, start again
    await platform.publish(alert, missed_check(meeting_id, "TQ-HDND", start))
    after = await eventually(
        received(platform),
        until=lambda c: c[TECHNICIAN_HDND] >= 1 and c[LINE_PROVIDER] >= 2 and c[POWER_COMPANY] >= 2,
        timeout=180,
    )
    assert after[TECHNICIAN_TU] == 1, after  # the redelivered alert was not sent again
    assert after[TECHNICIAN_HDND] == 1, after
    assert after[LINE_PROVIDER] == 2, after  # one per missed check
    assert after[POWER_COMPANY] == 2, after
