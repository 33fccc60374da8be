"""An e-office system on the running platform (issue 21): registered with `hnth system
create`, it sends a meeting request with a Kafka client other than ours
(docs/examples/eoffice_submit.py, confluent-kafka) and reads the answer; the meeting is
scheduled and its endpoints' technicians notified exactly as for an HTTP registration.
Its HTTP client credentials get a token from `/auth/token`. Disabled with `hnth system
disable`, it cannot sign in to Kafka again."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from hnth_cli.main import app
from typer.testing import CliRunner

from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import eventually, write_test_keys
from tests import test_system_approval as approval

pytestmark = pytest.mark.system
TENANT = "tuyen-quang"
TECHNICIANS = {"technician:TQ-UBND", "technician:TQ-SNV", "technician:TQ-STP"}
EXAMPLE = REPO_ROOT / "docs" / "examples" / "eoffice_submit.py"


@pytest.fixture
def platform(shared_platform):
    """The shared platform: the test meets on a day of its own."""
    return shared_platform


async def hnth(*args: str) -> str:
    """Run the CLI (in a thread of this process: signed in as the tests' Kafka admin) and
    return its output."""
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


async def sent_to(http: httpx.AsyncClient, url: str) -> list[dict]:
    """The meeting's notices sent so far."""
    found = await http.get(url)
    return [n for n in found.json() if n["status"] == "sent"] if found.status_code == 200 else []


async def submit(credentials: Path, meeting: Path, request_id: str) -> tuple[int, str]:
    """The example, as the e-office would run it: its exit code and what it printed."""
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(EXAMPLE), str(credentials), str(meeting), request_id],
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.timeout(600)
async def test_an_eoffice_request_is_scheduled_and_notified_like_an_http_one(
    platform, own_day, tmp_path, monkeypatch
) -> None:
    # the CLI signs its operator token with registration's keys, as on a server
    monkeypatch.setenv("HNTH_SIGNING_KEYS_FILE", str(write_test_keys(tmp_path)))
    bootstrap = platform.bootstrap.bootstrap
    where = ["--url", platform.urls["registration"], "--bootstrap", bootstrap]
    made = await hnth(
        "system", "create", "--tenant", TENANT, "--name", "VPĐT tỉnh", "--unit", "VP-UBND",
        "--prefix", platform.topic_prefix, *where,
    )  # fmt: skip
    credentials = json.loads(made)
    assert credentials["topic"] == platform.topics.inbound(TENANT)
    assert credentials["sasl_mechanism"] == "SCRAM-SHA-512"
    assert credentials["username"] == credentials["client_id"]
    async with httpx.AsyncClient(timeout=30) as http:  # the same system over HTTP
        token = await http.post(
            credentials["token_url"],
            data={"grant_type": "client_credentials"},
            auth=(credentials["client_id"], credentials["client_secret"]),
        )
    assert token.status_code == 200, token.text
    (tmp_path / "vpdt.json").write_text(made, encoding="utf-8")
    body = {
        **approval.meeting(own_day, "Hội nghị do văn phòng điện tử đăng ký"),
        "document_number": "417/UBND-VX",
    }
    (tmp_path / "meeting.json").write_text(json.dumps(body), encoding="utf-8")

    code, printed = await submit(tmp_path / "vpdt.json", tmp_path / "meeting.json", "VPDT-417")
    assert code == 0, printed
    answer = json.loads(printed)
    assert (answer["type"], answer["request_id"]) == ("SubmissionAccepted", "VPDT-417")
    meeting_id = answer["meeting_id"]

    token = platform.token("--role", "operator", "--tenant", TENANT)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30, headers=auth) as http:
        shown = await eventually(
            lambda: http.get(f"{platform.urls['registration']}/meetings/{meeting_id}"),
            until=lambda r: r.json().get("status") in ("scheduled", "rejected"),
            timeout=120,
        )
        assert shown.json()["status"] == "scheduled", shown.text
        assert shown.json()["registered_by"] == f"system:{credentials['client_id']}"
        url = f"{platform.urls['notification']}/meetings/{meeting_id}/notices"
        notices = await eventually(
            lambda: sent_to(http, url),
            until=lambda sent: {n["recipient"] for n in sent} >= TECHNICIANS,
            timeout=120,
        )
        invited = [n for n in notices if n["recipient"] in TECHNICIANS]
        assert all(n["cause"].startswith("assigned:") for n in invited)

    # sent again: the same meeting, nothing registered twice
    code, printed = await submit(tmp_path / "vpdt.json", tmp_path / "meeting.json", "VPDT-417")
    assert code == 0, printed
    assert json.loads(printed)["meeting_id"] == meeting_id

    await hnth("system", "disable", credentials["client_id"], "--tenant", TENANT, *where)
    body["start"] = (own_day + timedelta(hours=3)).isoformat()
    (tmp_path / "meeting.json").write_text(json.dumps(body), encoding="utf-8")
    code, printed = await submit(tmp_path / "vpdt.json", tmp_path / "meeting.json", "VPDT-418")
    assert code != 0
    # refused at its first step: its token (registration disables at once) or, had it one
    # still, its Kafka sign-in (the user deleted)
    refused = ("the token request was refused: 401", "Authentication failed", "SASL")
    assert any(words in printed for words in refused), printed
