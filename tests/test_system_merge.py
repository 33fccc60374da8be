"""A made-up province merged into a shipped one, on the running platform (services as
processes, real Kafka + the MongoDB-compatible server): its meeting in flight (scheduled,
notified, checklisted) moves with its directory under Tuyên Quang in every service, its
decisions stay readable as they were made, nothing is lost or doubled; with a service
down, `hnth province merge` fails naming it, and run again once the service is back it
finishes. Requests naming the former province are refused, naming the new one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hnth_cli.main import app
from typer.testing import CliRunner

from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import eventually, write_test_keys

pytestmark = pytest.mark.system

FORMER, INTO = "bien-dong", "tuyen-quang"
ENDPOINTS = ["BD-UBND", "BD-STTTT"]
SOURCE = "Nghị quyết thử nghiệm 01/2026 về hợp nhất tỉnh Biển Đông vào tỉnh Tuyên Quang"


@pytest.fixture
def platform_env(tmp_path: Path) -> dict[str, str]:
    """Policies and directories as shipped, plus Biển Đông copied from Tuyên Quang."""
    policies, data = tmp_path / "policies", tmp_path / "data"
    for folder, shipped in ((policies, REPO_ROOT / "policies"), (data, REPO_ROOT / "data")):
        folder.mkdir()
        for file in shipped.glob("*.yaml"):
            (folder / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
        text = (shipped / "tuyen-quang.yaml").read_text(encoding="utf-8")
        made_up = text.replace("tenant: tuyen-quang", f"tenant: {FORMER}").replace("TQ-", "BD-")
        (folder / f"{FORMER}.yaml").write_text(made_up, encoding="utf-8")
    return {"HNTH_POLICY_DIR": str(policies), "HNTH_DIRECTORY_DIR": str(data)}


def _meeting() -> dict[str, object]:
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    return {
        "title": "Hội nghị trước hợp nhất",
        "host_unit": "VP-UBND",
        "chair": "Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "main_endpoint": ENDPOINTS[0],
        "endpoints": ENDPOINTS,
    }


def _merge(platform, keys: Path, timeout: int) -> tuple[int, str]:
    env = {"HNTH_SIGNING_KEYS_FILE": str(keys)} | {
        f"HNTH_{name.upper()}_URL": url for name, url in platform.urls.items()
    }
    args = ["province", "merge", "--from", FORMER, "--into", INTO, "--source", SOURCE]
    result = CliRunner().invoke(app, [*args, "--timeout", str(timeout)], env=env)
    return result.exit_code, result.output


async def test_a_made_up_province_merged_into_a_shipped_one_loses_and_doubles_nothing(
    platform, tmp_path: Path
) -> None:
    def bearer(tenant: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {platform.token('--role', 'operator', '--tenant', tenant)}"
        }

    old, new = bearer(FORMER), bearer(INTO)
    urls = platform.urls
    async with httpx.AsyncClient(timeout=30) as http:
        created = await http.post(f"{urls['registration']}/meetings", json=_meeting(), headers=old)
        assert created.status_code == 201, created.text
        meeting_id = created.json()["id"]
        path = f"/meetings/{meeting_id}"
        # the timeline complete: the request (from the meetings topic) and the decision
        # (from the slots topic) are taken in by different consumers, in either order
        before = await eventually(
            lambda: http.get(f"{urls['registration']}{path}", headers=old),
            until=lambda r: (
                r.json()["status"] == "scheduled"
                and {"MeetingRequested", "SlotAssigned"}
                <= {e["type"] for e in r.json()["timeline"]}
            ),
            timeout=120,
        )
        board = await eventually(
            lambda: http.get(f"{urls['inspection']}{path}/readiness", headers=old),
            until=lambda r: r.status_code == 200 and len(r.json()) == len(ENDPOINTS),
            timeout=120,
        )
        notices = await eventually(  # all stored and attempted: none still to come
            lambda: http.get(f"{urls['notification']}{path}/notices", headers=old),
            until=lambda r: (
                r.status_code == 200
                and len(r.json()) > 0
                and all(n["status"] != "pending" for n in r.json())
            ),
            timeout=120,
        )
        endpoints_before = (await http.get(f"{urls['registration']}/endpoints", headers=new)).json()
        # one endpoint's check is in before the merge: it moves with its checklist
        items = {i: {"ok": True} for i in ("line", "audio", "video", "content", "power")}
        checked = await http.post(
            f"{urls['inspection']}{path}/checks/{ENDPOINTS[0]}",
            json={"items": items},
            headers=old,
        )
        assert checked.status_code == 201, checked.text
        before = await eventually(  # and is on the meeting's timeline before it moves
            lambda: http.get(f"{urls['registration']}{path}", headers=old),
            until=lambda r: "CheckCompleted" in {e["type"] for e in r.json()["timeline"]},
            timeout=120,
        )

        # inspection is down when the merge starts: the command says so and fails
        platform.kill("inspection-0")
        keys = write_test_keys(tmp_path)
        code, output = await asyncio.to_thread(_merge, platform, keys, 20)
        assert code == 1, output
        assert "inspection" in output
        assert "run the same command again" in output

        # back up, the same command goes on where it stopped
        platform.restart("inspection-0")
        code, output = await asyncio.to_thread(_merge, platform, keys, 180)
        assert code == 0, output
        assert "VP-UBND -> BIEN-DONG-VP-UBND" in output

        # the meeting is Tuyên Quang's now, everywhere, once, with its decisions as made
        after = (await http.get(f"{urls['registration']}{path}", headers=new)).json()
        assert after["tenant"] == INTO
        assert after["status"] == "scheduled"
        assert after["host_unit"] == "BIEN-DONG-VP-UBND"
        # each entry says which province's rules it was decided under
        assert {e.pop("former_tenant") for e in after["timeline"]} == {FORMER}
        assert after["timeline"] == before.json()["timeline"]
        listed = (await http.get(f"{urls['registration']}/meetings", headers=new)).json()
        assert [m["id"] for m in listed["items"]].count(meeting_id) == 1
        moved_board = (await http.get(f"{urls['inspection']}{path}/readiness", headers=new)).json()
        assert sorted(c["endpoint"] for c in moved_board) == sorted(
            c["endpoint"] for c in board.json()
        )
        states = {c["endpoint"]: c["state"] for c in moved_board}
        assert states[ENDPOINTS[0]] == "passed", states  # the result found its checklist
        moved_notices = await http.get(f"{urls['notification']}{path}/notices", headers=new)
        assert len(moved_notices.json()) == len(notices.json())
        codes = [
            e["code"]
            for e in (await http.get(f"{urls['registration']}/endpoints", headers=new)).json()
        ]
        assert len(codes) == len(set(codes))
        assert set(codes) >= {e["code"] for e in endpoints_before} | set(ENDPOINTS)
        for service, url in urls.items():
            progress = (await http.get(f"{url}/tenant-changes/{FORMER}", headers=new)).json()
            assert progress["done"] is True, (service, progress)
            assert not any(progress["remaining"].values()), (service, progress)

        # the former province is refused, naming the one it joined, with the rule's source
        refused = await http.post(f"{urls['registration']}/meetings", json=_meeting(), headers=old)
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert (body["rule"], body["into"], body["source"]) == ("tenant.merged", INTO, SOURCE)
        assert INTO in body["message"]

        # the meeting goes on under Tuyên Quang: its cancellation reaches scheduling, which
        # releases the slot it had reserved for Biển Đông
        cancelled = await http.post(f"{urls['registration']}{path}/cancel", headers=new)
        assert cancelled.status_code == 200, cancelled.text
        await eventually(
            lambda: http.get(f"{urls['registration']}{path}", headers=new),
            until=lambda r: "SlotReleased" in [e["type"] for e in r.json()["timeline"]],
            timeout=60,
        )
