"""A meeting bigger than one bridge on the running platform (issue 18): Lạng Sơn's meeting
to every commune-level unit and every provincial endpoint (153 endpoints) expands, is
cascaded over MCU-LS (128 ports) and MCU-LS-2 (64), every endpoint's technician gets its
invitation once (counted in the SMTP catcher, by address) and inspection opens one
checklist per endpoint."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hnth_contracts.policy import load_policy
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import eventually
from notification.domain.notices import calendar_uid
from registration.directory import read_directories

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def provinces() -> tuple[str, ...]:
    return ("lang-son",)


TENANT = "lang-son"
DIRECTORY = next(f for f in read_directories(REPO_ROOT / "data") if f.tenant == TENANT)
KIND_OF = {u.code: u.kind for u in DIRECTORY.units}
ACTIVE = [e for e in DIRECTORY.endpoints if e.active]
PROVINCIAL = sorted(e.code for e in ACTIVE if KIND_OF[e.unit] not in ("commune", "ward"))
EVERYONE = {e.code for e in ACTIVE}
TECHNICIAN = {e.code: e.technician.email for e in ACTIVE if e.technician}
POLICY = load_policy(REPO_ROOT / "policies", TENANT)


def invitations(platform, address: str, meeting_id: str) -> int:
    """The invitations to this meeting that reached `address`."""
    return len(invitation_parts(platform, address, meeting_id))


def invitation_parts(platform, address: str, meeting_id: str) -> list[tuple[str, str]]:
    """The plain text and calendar entry of each invitation to this meeting at `address`:
    its mails that carry a calendar entry (a reminder carries none)."""
    found = []
    for message in platform.smtp.inbox.about(address, calendar_uid(TENANT, meeting_id)):
        parts = {p.get_content_type(): p.get_payload(decode=True) for p in message.walk()}
        if "text/calendar" in parts:
            found.append((parts["text/plain"].decode(), parts["text/calendar"].decode()))
    return found


async def test_a_meeting_to_every_endpoint_is_cascaded_over_two_bridges(module_platform) -> None:
    assert len(EVERYONE) == 153
    largest = max(b.ports for b in POLICY.all_bridges)
    assert len(EVERYONE) > largest, "no bridge holds it alone"
    token = module_platform.token("--role", "operator", "--tenant", TENANT)
    auth = {"Authorization": f"Bearer {token}"}
    urls = module_platform.urls
    start = (datetime.now(UTC) + timedelta(days=4)).replace(second=0, microsecond=0)
    body = {
        "title": "Hội nghị trực tuyến toàn tỉnh đến tất cả các xã, phường",
        "host_unit": "VP-UBND",
        "chair": "Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "main_endpoint": "LS-UBND",
        "endpoints": PROVINCIAL,
        "groups": ["ALL-COMMUNE-LEVEL"],
        "document_number": "99/UBND-KT",
        "document_date": datetime.now(UTC).date().isoformat(),
    }
    async with httpx.AsyncClient(timeout=30) as http:
        made = await http.post(f"{urls['registration']}/meetings", json=body, headers=auth)
        assert made.status_code == 201, made.text
        meeting_id = made.json()["id"]
        shown = await eventually(
            lambda: http.get(f"{urls['registration']}/meetings/{meeting_id}", headers=auth),
            until=lambda r: r.json().get("status") in ("scheduled", "rejected"),
            timeout=240,
        )
        meeting = shown.json()
        assert meeting["status"] == "scheduled", meeting.get("rejection")
        [expanded] = meeting["expanded"]
        assert set(expanded["endpoints"]) == EVERYONE - set(PROVINCIAL)

        host, linked = meeting["slot"]["cascade"]
        assert (host["bridge"], host["host"], linked["bridge"]) == ("MCU-LS", True, "MCU-LS-2")
        assert "LS-UBND" in host["endpoints"]
        assert set(host["endpoints"]) | set(linked["endpoints"]) == EVERYONE
        assert not set(host["endpoints"]) & set(linked["endpoints"])
        # a link takes a port on each side: the host's 128 are 127 endpoints and 1 link
        assert (host["ports"], len(host["endpoints"])) == (128, 127)
        assert (linked["ports"], len(linked["endpoints"])) == (27, 26)
        assert linked["dial_in"].endswith("@mcu2.langson.gov.vn")

        # every endpoint's technician is told once (by address, in the SMTP catcher)
        told = await eventually(
            lambda: _told(module_platform, meeting_id),
            until=lambda counts: set(counts) == set(TECHNICIAN.values()),
            timeout=240,
        )
        assert set(told.values()) == {1}, "one invitation per technician"

        # an endpoint on the linked bridge is given its own bridge's dial-in
        owners = Counter(TECHNICIAN.values())
        code = next(e for e in linked["endpoints"] if owners[TECHNICIAN.get(e, "")] == 1)
        [(text, entry)] = invitation_parts(module_platform, TECHNICIAN[code], meeting_id)
        assert linked["dial_in"] in text
        assert host["dial_in"] not in text
        assert linked["dial_in"] in entry.replace("\r\n ", "")  # LOCATION, unfolded

        board = await eventually(
            lambda: http.get(f"{urls['inspection']}/meetings/{meeting_id}/readiness", headers=auth),
            until=lambda r: r.status_code == 200 and len(r.json()) >= len(EVERYONE),
            timeout=240,
        )
        lists = Counter(c["endpoint"] for c in board.json())
        assert set(lists) == EVERYONE
        assert set(lists.values()) == {1}, "one checklist per endpoint"


async def _told(platform, meeting_id: str) -> Counter[str]:
    return Counter(
        {
            address: n
            for address in TECHNICIAN.values()
            if (n := invitations(platform, address, meeting_id))
        }
    )
