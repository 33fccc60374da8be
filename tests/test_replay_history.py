"""History kept for replay (issue 23, "replayable event stream"): `hnth replay` from before
the broker's default 7-day window rebuilds inspection's read model whole.

The services run 10 days in the past (`clock_offset`): the meetings are registered,
scheduled and given checklists "10 days ago". Then inspection is stopped, its database
dropped, its consumer group rewound with `hnth replay --from` a moment before that history
began, and it is started again on today's clock, so every event it re-reads is more than 7
days old by its own clock. Every meeting's checklists must be back.

Why this fails on a topic with the broker's default retention (7 days, `retention.ms`
604800000): such a topic deletes a log segment once its newest record is older than 7 days,
so a replay 10 days on finds the first meetings gone and rebuilds a read model missing them.
Waiting 7 days is not a test, so this one checks both halves that make the replay whole:
every lifecycle topic it reads keeps its records without a time limit (`retention.ms=-1`;
the default fails here), and the events it rebuilt from are older than the default window
by the services' clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hnth_cli.main import app
from typer.testing import CliRunner

from hnth_contracts import SlotAssigned, decode_event
from hnth_contracts.topics import KEPT_FOREVER
from hnth_kit.mongo import connect
from hnth_kit.testing import eventually, read_topic
from hnth_kit.topics_admin import topic_configs

pytestmark = pytest.mark.system
SHIFT = timedelta(days=10)
DEFAULT_WINDOW = timedelta(days=7)
ENDPOINTS = (["TQ-STTTT"], ["TQ-STTTT", "TQ-H-SONDUONG"], ["TQ-H-SONDUONG"])


@pytest.fixture
def clock_offset() -> timedelta:
    return -SHIFT


def meeting(start: datetime, endpoints: list[str], n: int) -> dict[str, object]:
    return {
        "title": f"Giao ban trực tuyến số {n}",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "main_endpoint": "TQ-UBND",
        "endpoints": endpoints,
    }


async def boards(http: httpx.AsyncClient, base: str, ids: list[str]) -> dict[str, set[str]]:
    """Each meeting's endpoints on inspection's readiness board (empty: not there)."""
    found = {}
    for meeting_id in ids:
        answer = await http.get(f"{base}/meetings/{meeting_id}/readiness")
        found[meeting_id] = {c["endpoint"] for c in answer.json()} if answer.is_success else set()
    return found


def replay(group: str, since: datetime, bootstrap: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            *("replay", "--service", "inspection", "--group", group),
            *("--from", since.isoformat(), "--bootstrap", bootstrap),
        ],
    )
    return result.exit_code, result.output


@pytest.mark.timeout(900)  # four services started, inspection restarted: minutes when busy
async def test_a_replay_from_before_the_default_window_rebuilds_inspection_whole(
    platform,
) -> None:
    began = datetime.now(UTC) - SHIFT - timedelta(minutes=1)  # by the services' clock
    operator = {"Authorization": f"Bearer {platform.token('--role', 'operator')}"}
    registration, inspection = platform.urls["registration"], platform.urls["inspection"]
    async with httpx.AsyncClient(headers=operator, timeout=30) as http:
        ids = []
        for n, endpoints in enumerate(ENDPOINTS):
            start = (began + timedelta(days=3 + n)).replace(second=0, microsecond=0)
            made = await http.post(f"{registration}/meetings", json=meeting(start, endpoints, n))
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])
        expected = {i: {"TQ-UBND", *e} for i, e in zip(ids, ENDPOINTS, strict=True)}
        await eventually(
            lambda: boards(http, inspection, ids), until=lambda b: b == expected, timeout=120
        )

        process = platform.processes["inspection-0"]
        assert process.popen is not None
        process.popen.terminate()  # a clean stop leaves the consumer group at once
        process.popen.wait(timeout=60)
        client = connect(platform.env["HNTH_MONGODB_URL"])
        try:
            await client.drop_database(process.env["HNTH_DATABASE"])  # the read model is gone
        finally:
            await client.close()
        code, output = await asyncio.to_thread(
            replay,
            process.env["HNTH_CONSUMER_GROUP"],
            began,
            platform.bootstrap.bootstrap,
        )
        assert code == 0, output

        platform.restart("inspection-0", HNTH_CLOCK_OFFSET_SECONDS="0")  # 10 days on
        rebuilt = await eventually(
            lambda: boards(http, inspection, ids), until=lambda b: b == expected, timeout=120
        )
        assert rebuilt == expected

    topics = platform.topics
    kept = await topic_configs(platform.bootstrap, [topics.name(t) for t in KEPT_FOREVER])
    assert {name: c["retention.ms"] for name, c in kept.items()} == dict.fromkeys(kept, "-1")
    slots = await read_topic(platform.bootstrap, topics.slots, expect=len(ids))
    assigned = [
        e for e in map(decode_event, (m.value for m in slots)) if isinstance(e, SlotAssigned)
    ]
    assert {e.meeting_id for e in assigned} == set(ids)
    now = datetime.now(UTC)  # the restarted inspection's clock
    assert all(now - e.occurred_at > DEFAULT_WINDOW for e in assigned)
