"""The console's actions over the real platform: resending a notice, discarding a dead
letter, and the schedule per bridge; each refused to the roles that may not."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hnth_kit.auth import Role
from hnth_kit.dlq import read_resolutions
from hnth_kit.testing import eventually
from notification.domain.notices import calendar_uid
from tests import test_console_pages as pages
from tests.test_console_pages import (
    ZONE,
    meeting_form,
    ops_token,
    poisoned,
    post_form,
    signed_in,
)

pytestmark = pytest.mark.system
console = pages.console  # the signed-in console client fixture, shared with the page tests
platform = pages.platform  # ... on the platform they share
RESEND_FORM = re.compile(
    r'name="notice_id" value="([^"]+)"><input type="hidden" name="idempotency_key" '
    r'value="([^"]+)"><input type="hidden" name="back" value="([^"]+)"'
)


async def send(console, action: str, data: dict):
    """Post a form as the console's pages do (with the session's CSRF token)."""
    return await post_form(console, "/board", action, data)


async def meeting_notices(platform, meeting_id: str) -> list[dict]:
    auth = {"Authorization": f"Bearer {ops_token(platform)}"}
    async with httpx.AsyncClient(timeout=10) as http:
        found = await http.get(
            f"{platform.urls['notification']}/meetings/{meeting_id}/notices", headers=auth
        )
    return found.json() if found.status_code == 200 else []


def mails_about(platform, address: str, meeting_id: str) -> int:
    """How many mails about this meeting reached `address` (which gets other tests' too)."""
    return len(platform.smtp.inbox.about(address, calendar_uid(pages.TENANT, meeting_id)))


async def test_a_notice_is_resent_once_per_click_and_the_schedule_shows_bridges(
    console, platform
) -> None:
    await signed_in(console, Role.OPERATOR)
    start = (datetime.now(UTC) + timedelta(days=5)).replace(second=0, microsecond=0)
    created = await send(console, "/meetings/new", meeting_form(start))
    assert created.status_code == 303, created.text
    meeting_id = created.headers["location"].split("?")[0].rsplit("/", 1)[1]
    sent = await eventually(
        lambda: meeting_notices(platform, meeting_id),
        until=lambda ns: len(ns) >= 7 and all(n["status"] == "sent" for n in ns),
        timeout=60,
    )

    # the schedule per bridge: the meeting's slot is on the province's MCU (the schedule is
    # registration's record, which takes in the slot by its own consumer: waited for)
    day = start.astimezone(ZONE).date().isoformat()
    on_mcu = await eventually(
        lambda: console.get("/schedule", params={"day": day, "bridge": "MCU-TQ"}),
        until=lambda page: f'href="/meetings/{meeting_id}"' in page.text,
        timeout=60,
    )
    assert '<option value="MCU-TQ" selected>' in on_mcu.text
    assert 'MCU-TQ<span class="wide-only"> · VR-' in on_mcu.text  # the bridge and room column
    elsewhere = await console.get("/schedule", params={"day": day, "bridge": "MCU-OTHER"})
    assert f'href="/meetings/{meeting_id}"' not in elsewhere.text

    # the notices page offers a resend per unacknowledged notice
    page = await console.get("/notices")
    forms = {notice_id: (key, back) for notice_id, key, back in RESEND_FORM.findall(page.text)}
    [power] = [n for n in sent if n["recipient"] == "power_company" and n["channel"] == "email"]
    key, back = forms[power["id"]]
    assert back == "/notices"
    form = {"notice_id": power["id"], "idempotency_key": key, "back": back}
    before = mails_about(platform, power["address"], meeting_id)
    first = await send(console, "/notices/resend", form)
    again = await send(console, "/notices/resend", form)  # a double click
    assert first.status_code == again.status_code == 303, first.text
    assert first.headers["location"].startswith("/notices?resent=")
    shown = await console.get(first.headers["location"])
    assert 'id="resent"' in shown.text
    assert "Đã lên lịch gửi lại cho: Điện lực" in shown.text  # the party, not its key
    notices = await eventually(
        lambda: meeting_notices(platform, meeting_id),
        until=lambda ns: any(n["resend_of"] == power["id"] and n["status"] == "sent" for n in ns),
        timeout=120,
    )
    [resent] = [n for n in notices if n["resend_of"] == power["id"]]
    assert resent["resent_by"] == "operator-1"
    assert mails_about(platform, power["address"], meeting_id) == before + 1
    detail = await console.get(f"/meetings/{meeting_id}")
    assert "gửi lại (operator-1)" in detail.text
    assert f'name="back" value="/meetings/{meeting_id}"' in detail.text

    # other roles: no button, and the action is refused
    for role in (Role.VIEWER, Role.REGISTRAR):  # the registrar is VP-UBND's
        await signed_in(console, role)
        assert 'action="/notices/resend"' not in (await console.get(f"/meetings/{meeting_id}")).text
        refused = await send(console, "/notices/resend", {**form, "idempotency_key": "k" * 12})
        assert refused.status_code == 403
    assert len(await meeting_notices(platform, meeting_id)) == len(notices)


async def test_a_dead_letter_is_discarded_with_a_reason(console, infra, platform) -> None:
    page, ref = await poisoned(console, infra, platform)
    assert 'action="/dead-letters/discard"' in page.text

    no_reason = await send(console, "/dead-letters/discard", {"ref": ref, "reason": " "})
    assert no_reason.status_code == 422
    await signed_in(console, Role.VIEWER)
    refused = await send(console, "/dead-letters/discard", {"ref": ref, "reason": "x"})
    assert refused.status_code == 403

    await signed_in(console, Role.OPERATOR)
    why = "Bản tin thử nghiệm hỏng, không cần phát lại"
    done = await send(console, "/dead-letters/discard", {"ref": ref, "reason": why})
    assert done.status_code == 303
    after = await console.get(done.headers["location"])
    assert 'id="discarded"' in after.text
    pending_part, resolved_part = after.text.split('id="resolved"')
    assert f'name="ref" value="{ref}"' not in pending_part, "no longer pending"
    assert ref in resolved_part
    assert why in resolved_part
    assert "operator-1" in resolved_part
    twice = await send(console, "/dead-letters/discard", {"ref": ref, "reason": why})
    assert twice.status_code == 409
    replay = await send(console, "/dead-letters/replay", {"ref": ref})
    assert replay.status_code == 409
    recorded = await read_resolutions(infra.bootstrap_servers, platform.topic_prefix)
    assert (recorded[ref].action, recorded[ref].by, recorded[ref].reason) == (
        "discarded",
        "operator-1",
        why,
    )
