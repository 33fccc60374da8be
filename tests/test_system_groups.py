"""The province as it is now (issue 18) on the running platform: Lạng Sơn's two-tier
directory, endpoint groups kept by the IT department, and a meeting to "all communes" that
scheduling expands, notification tells every commune endpoint's technician once and
inspection gives every commune endpoint one checklist.

And a meeting bigger than one bridge: to every commune-level unit and every provincial
endpoint (153 endpoints), expanded, cascaded over MCU-LS (128 ports) and MCU-LS-2 (64),
every endpoint's technician invited once (counted in the SMTP catcher, by address) and one
checklist per endpoint. One module, so Lạng Sơn's 240-entry directory is loaded by one
platform for both."""

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
COMMUNE_ENDPOINTS = sorted(
    e.code for e in DIRECTORY.endpoints if KIND_OF[e.unit] == "commune" and e.active
)


class Operator:
    def __init__(self, platform, http: httpx.AsyncClient, *token_args: str) -> None:
        self.platform, self.http = platform, http
        token = platform.token("--role", "operator", "--tenant", TENANT, *token_args)
        self.auth = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, service: str, path: str, **kwargs) -> httpx.Response:
        url = f"{self.platform.urls[service]}{path}"
        return await self.http.request(method, url, headers=self.auth, **kwargs)


def meeting(**changes: object) -> dict[str, object]:
    start = (datetime.now(UTC) + timedelta(days=4)).replace(second=0, microsecond=0)
    return {
        "title": "Hội nghị trực tuyến triển khai nhiệm vụ đến các xã",
        "host_unit": "VP-UBND",
        "chair": "Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "main_endpoint": "LS-UBND",
        "document_number": "88/UBND-KT",
        "document_date": datetime.now(UTC).date().isoformat(),
        **changes,
    }


async def test_a_meeting_to_all_communes_reaches_every_commune_endpoint_once(
    module_platform,
) -> None:
    assert len(DIRECTORY.endpoints) > 100
    assert len(COMMUNE_ENDPOINTS) == 122  # 61 xã, a room and a 4G client each
    async with httpx.AsyncClient(timeout=30) as http:
        it = Operator(module_platform, http)
        made = await it.call(
            "POST", "registration", "/meetings", json=meeting(groups=["ALL-COMMUNES"])
        )
        assert made.status_code == 201, made.text
        meeting_id = made.json()["id"]
        shown = await eventually(
            lambda: it.call("GET", "registration", f"/meetings/{meeting_id}"),
            until=lambda r: r.json().get("status") in ("scheduled", "rejected"),
            timeout=240,
        )
        assert shown.json()["status"] == "scheduled", shown.json().get("rejection")
        [expanded] = shown.json()["expanded"]
        assert expanded == {"group": "ALL-COMMUNES", "endpoints": COMMUNE_ENDPOINTS}

        everyone = {"LS-UBND", *COMMUNE_ENDPOINTS}
        notices = await eventually(
            lambda: it.call("GET", "notification", f"/meetings/{meeting_id}/notices"),
            until=lambda r: (
                r.status_code == 200
                and {n["recipient"] for n in r.json() if n["role"] == "technician"}
                >= {f"technician:{c}" for c in everyone}
            ),
            timeout=180,
        )
        told = Counter(
            n["recipient"]
            for n in notices.json()
            if n["role"] == "technician" and n["channel"] == "email"
        )
        assert set(told) == {f"technician:{c}" for c in everyone}
        assert set(told.values()) == {1}, "one notice per endpoint"

        board = await eventually(
            lambda: it.call("GET", "inspection", f"/meetings/{meeting_id}/readiness"),
            until=lambda r: r.status_code == 200 and len(r.json()) >= len(everyone),
            timeout=180,
        )
        lists = Counter(c["endpoint"] for c in board.json())
        assert set(lists) == everyone
        assert set(lists.values()) == {1}, "one checklist per endpoint"

        # a commune technician is an account scoped to their endpoint (rule 5)
        code, other = COMMUNE_ENDPOINTS[0], COMMUNE_ENDPOINTS[2]
        technician = module_platform.token(
            "--role", "technician", "--tenant", TENANT, "--endpoint", code
        )
        own = {"Authorization": f"Bearer {technician}"}
        items = {i: {"ok": True} for i in ("line", "audio", "video", "content", "power")}
        checks = f"{module_platform.urls['inspection']}/meetings/{meeting_id}/checks"
        mine = await http.post(f"{checks}/{code}", json={"items": items}, headers=own)
        assert mine.status_code == 201, mine.text
        theirs = await http.post(f"{checks}/{other}", json={"items": items}, headers=own)
        assert theirs.status_code == 403, theirs.text
        # and finds the meeting its endpoint was reached by (through the group) in its list
        registration = module_platform.urls["registration"]
        listed = await http.get(f"{registration}/meetings", headers=own)
        assert listed.status_code == 200, listed.text
        assert meeting_id in {m["id"] for m in listed.json()["items"]}
        shown = await http.get(f"{registration}/meetings/{meeting_id}", headers=own)
        assert shown.status_code == 200, shown.text
        # and reads its materials as a named endpoint's technician would (was 403)
        materials = await http.get(f"{registration}/meetings/{meeting_id}/materials", headers=own)
        assert materials.status_code == 200, materials.text
        assert materials.json()["access"] == "read"


async def test_the_it_department_keeps_groups_and_a_bad_one_changes_nothing(
    module_platform,
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        it = Operator(module_platform, http)
        cluster = {
            "code": "CUM-BIEN-GIOI",
            "name": "Cụm các xã biên giới",
            "endpoints": ["LS-X-DONGDANG", "LS-X-BANGMAC"],
            "units": ["X-THATKHE"],
        }
        made = await it.call("POST", "registration", "/groups", json=cluster)
        assert made.status_code == 201, made.text
        bad = await it.call(
            "POST",
            "registration",
            "/groups",
            json={**cluster, "code": "CUM-SAI", "endpoints": ["LS-KHONG-CO"]},
        )
        assert bad.status_code == 422, bad.text
        [error] = bad.json()["errors"]
        assert (error["field"], error["rule"]) == ("endpoints[0]", "directory.endpoint_active")
        taken = await it.call(
            "POST", "registration", "/groups", json={**cluster, "code": "ALL-WARDS"}
        )
        assert taken.status_code == 422, taken.text
        listed = (await it.call("GET", "registration", "/groups")).json()
        codes = [g["code"] for g in listed]
        assert "CUM-SAI" not in codes
        assert {"ALL-COMMUNES", "ALL-WARDS", "CUM-BIEN-GIOI"} <= set(codes)

        viewer = module_platform.token("--role", "viewer", "--tenant", TENANT)
        refused = await http.post(
            f"{module_platform.urls['registration']}/groups",
            json={**cluster, "code": "CUM-2"},
            headers={"Authorization": f"Bearer {viewer}"},
        )
        assert refused.status_code == 403

        # a meeting naming the group gets its active endpoints when scheduled
        body = meeting(groups=["CUM-BIEN-GIOI"], endpoints=["LS-STTTT"])
        body["start"] = (datetime.fromisoformat(body["start"]) + timedelta(days=1)).isoformat()
        body["end"] = (datetime.fromisoformat(body["end"]) + timedelta(days=1)).isoformat()
        made = await it.call("POST", "registration", "/meetings", json=body)
        assert made.status_code == 201, made.text
        shown = await eventually(
            lambda: it.call("GET", "registration", f"/meetings/{made.json()['id']}"),
            until=lambda r: r.json().get("status") in ("scheduled", "rejected"),
            timeout=120,
        )
        assert shown.json()["status"] == "scheduled", shown.text
        assert shown.json()["expanded"] == [
            {
                "group": "CUM-BIEN-GIOI",
                "endpoints": ["LS-X-BANGMAC", "LS-X-DONGDANG", "LS-X-THATKHE", "LS-X-THATKHE-4G"],
            }
        ]


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
    # 6 days ahead: the group meetings above meet 4 days ahead on the same endpoints
    start = (datetime.now(UTC) + timedelta(days=6)).replace(second=0, microsecond=0)
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
