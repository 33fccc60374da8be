"""Two provinces on one running platform (services as processes, real Kafka + the
MongoDB-compatible server): each registers a meeting with its own token; each is
scheduled on its own bridge, notified to its own contacts and checklisted; neither sees
the other's meeting, directory, notices, readiness board or year report, and each year
report counts that province's meetings, checks and endpoints alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from hnth_contracts.policy import load_policy
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import eventually
from registration.directory import read_directories

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def provinces() -> tuple[str, ...]:
    return ("lang-son", "tuyen-quang")


DAYS_AHEAD = 3


def _meeting(title: str, endpoints: list[str]) -> dict[str, object]:
    start = (datetime.now(UTC) + timedelta(days=DAYS_AHEAD)).replace(microsecond=0)
    return {
        "title": title,
        "host_unit": "VP-UBND",  # both provinces have a unit of this code: tenant tells them apart
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "main_endpoint": endpoints[0],
        "endpoints": endpoints,
        # Lạng Sơn registers with the host unit's official letter (its policy)
        "document_number": "125/VP-HCTC",
        "document_date": datetime.now(UTC).date().isoformat(),
    }


PROVINCES = {
    # tenant: (endpoint prefix, bridge, power company's address, the meeting's endpoints);
    # different numbers of endpoints, so a report counting both would show it
    "tuyen-quang": ("TQ-", "MCU-TQ", "dieudo@pctuyenquang.evn.vn", ["TQ-UBND", "TQ-STTTT"]),
    "lang-son": (
        "LS-",
        "MCU-LS",
        "dieudo@pclangson.evn.vn",
        ["LS-UBND", "LS-STTTT", "LS-X-DINHLAP"],
    ),
}


class Province:
    """One province's callers on the running platform: its IT department (operator) and its
    VP-UBND host unit (registrar)."""

    def __init__(self, platform, http: httpx.AsyncClient, tenant: str) -> None:
        self.platform, self.http, self.tenant = platform, http, tenant
        self.prefix, self.bridge, self.power, self.endpoints = PROVINCES[tenant]
        self.operator = self._bearer("operator")
        self.host = self._bearer("registrar", "--unit", "VP-UBND")
        self.meeting: dict = {}

    def _bearer(self, role: str, *more: str) -> dict[str, str]:
        token = self.platform.token("--role", role, "--tenant", self.tenant, *more)
        return {"Authorization": f"Bearer {token}"}

    async def get(self, service: str, path: str, as_host: bool = False) -> httpx.Response:
        auth = self.host if as_host else self.operator
        return await self.http.get(f"{self.platform.urls[service]}{path}", headers=auth)

    @property
    def year(self) -> int:
        """The year the meeting is held in, in the province's time zone."""
        zone = ZoneInfo(load_policy(REPO_ROOT / "policies", self.tenant).timezone)
        return datetime.fromisoformat(self.meeting["start"]).astimezone(zone).year

    async def register(self) -> None:
        created = await self.http.post(
            f"{self.platform.urls['registration']}/meetings",
            json=_meeting(f"Giao ban trực tuyến ({self.tenant})", self.endpoints),
            headers=self.host,
        )
        assert created.status_code == 201, created.text
        assert created.json()["tenant"] == self.tenant
        self.meeting = created.json()

    async def follow(self) -> None:
        """Scheduled on its own bridge, notified to its own contacts, checklisted."""
        meeting_id = self.meeting["id"]
        scheduled = await eventually(
            lambda: self.get("registration", f"/meetings/{meeting_id}"),
            until=lambda r: r.json().get("status") == "scheduled",
        )
        assert scheduled.json()["slot"]["bridge"] == self.bridge
        # IT department, line provider, power company, host unit, one per technician
        emails = 4 + len(self.endpoints)
        notices = await eventually(
            lambda: self.get("notification", f"/meetings/{meeting_id}/notices"),
            until=lambda r: (
                len(_emails(r.json())) == emails and all(n["address"] for n in _emails(r.json()))
            ),
        )
        assert {n["id"].split(":")[1] for n in notices.json()} == {self.tenant}
        sent = _emails(notices.json())
        power = next(n for n in sent if n["role"] == "power_company")
        assert power["address"] == self.power  # the province's own power company
        technicians = {n["recipient"] for n in sent if n["role"] == "technician"}
        assert technicians == {f"technician:{code}" for code in self.endpoints}
        own = await self.get("notification", f"/meetings/{meeting_id}/notices", as_host=True)
        assert own.status_code == 200
        assert len(_emails(own.json())) == emails
        board = await eventually(
            lambda: self.get("inspection", f"/meetings/{meeting_id}/readiness"),
            until=lambda r: r.status_code == 200 and len(r.json()) == len(self.endpoints),
        )
        assert {c["endpoint"] for c in board.json()} == set(self.endpoints)

    async def sees_nothing_of(self, other: Province) -> None:
        theirs = other.meeting["id"]
        listed = (await self.get("registration", "/meetings")).json()["items"]
        assert [m["id"] for m in listed] == [self.meeting["id"]]
        assert (await self.get("registration", f"/meetings/{theirs}")).status_code == 404
        endpoints = (await self.get("registration", "/endpoints")).json()
        assert {e["code"][: len(self.prefix)] for e in endpoints} == {self.prefix}
        # notices are read within the caller's province: the IT department finds none for
        # a meeting that is not its province's; the host unit of the same unit code in the
        # other province is refused, as for any meeting it does not host
        seen = await self.get("notification", f"/meetings/{theirs}/notices")
        assert seen.status_code == 200
        assert seen.json() == []
        refused = await self.get("notification", f"/meetings/{theirs}/notices", as_host=True)
        assert refused.status_code == 403, refused.text
        board = await self.get("inspection", f"/meetings/{theirs}/readiness")
        assert board.status_code == 404

    async def report_counts_its_own(self) -> None:
        """The year report counts this province's meeting, checks and endpoints alone."""
        shown = await eventually(
            lambda: self.get("inspection", f"/reports/{self.year}"),
            until=lambda r: r.status_code == 200 and r.json()["province"]["meetings_held"],
            timeout=120,
        )
        report = shown.json()
        assert report["tenant"] == self.tenant
        assert report["year"] == self.year
        assert report["province"]["meetings_held"] == 1
        assert report["province"]["checks"] == len(self.endpoints)
        rows = {r["endpoint"]: r for r in report["endpoints"]}
        assert all(code.startswith(self.prefix) for code in rows), sorted(rows)
        [directory] = [d for d in read_directories(REPO_ROOT / "data") if d.tenant == self.tenant]
        assert set(rows) == {e.code for e in directory.endpoints}
        assert {code: r["meetings"] for code, r in rows.items() if r["meetings"]} == dict.fromkeys(
            self.endpoints, 1
        )


@pytest.mark.timeout(600)  # four services started, one restarted: 4-5 min on a busy machine
async def test_two_provinces_share_the_platform_and_see_only_their_own(platform) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        tq, ls = (Province(platform, http, tenant) for tenant in PROVINCES)
        for province in (tq, ls):
            await province.register()
        for province in (tq, ls):
            await province.follow()
        await tq.sees_nothing_of(ls)
        await ls.sees_nothing_of(tq)

        # inspection's clock moves past both meetings (held, their checks missed): the
        # year reports count them, each its own province's
        ahead = timedelta(days=DAYS_AHEAD, hours=3).total_seconds()
        platform.restart("inspection-0", HNTH_CLOCK_OFFSET_SECONDS=str(int(ahead)))
        for province in (tq, ls):
            await province.report_counts_its_own()

        # a compiled (saved) report is its province's alone
        compiled = await http.post(
            f"{platform.urls['inspection']}/reports/{ls.year}/compile", headers=ls.operator
        )
        assert compiled.status_code == 200, compiled.text
        saved = await ls.get("inspection", f"/reports/{ls.year}?fresh=false")
        assert saved.status_code == 200, saved.text
        assert saved.json()["tenant"] == "lang-son"
        assert saved.json()["province"]["checks"] == len(ls.endpoints)
        not_theirs = await tq.get("inspection", f"/reports/{ls.year}?fresh=false")
        assert not_theirs.status_code == 404


def _emails(notices: list[dict]) -> list[dict]:
    """The e-mail notices (the platform also has a webhook subscriber)."""
    return [n for n in notices if n["channel"] == "email"]
