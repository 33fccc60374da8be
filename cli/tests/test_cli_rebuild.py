"""`hnth replay` rebuilds a real service's read model: inspection's checklists are dropped
while it is stopped, its consumer group is rewound, and on restart they are back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from hnth_cli.main import app
from inspection_samples import auth, slot_assigned
from typer.testing import CliRunner

from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.mongo import connect
from hnth_kit.service import Service
from hnth_kit.testing import TEST_JWKS, eventually
from inspection.app import InspectionSettings, build

runner = CliRunner()


async def test_replay_rebuilds_inspections_checklists_after_they_were_dropped(
    infra, unique
) -> None:
    settings = InspectionSettings(
        kafka_bootstrap_servers=infra.bootstrap_servers,
        mongodb_url=infra.mongodb_url,
        database=f"inspection_{unique}",
        consumer_group=f"inspection-{unique}",
        topic_prefix=f"t{unique}.",
        auth_jwks=TEST_JWKS,
        outbox_poll_seconds=0.1,
        timer_poll_seconds=0.1,
    )
    before = datetime.now(UTC) - timedelta(minutes=1)
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    event = slot_assigned(f"m-{unique}", start, ["TQ-UBND", "TQ-STTTT"])

    async def readiness(service: Service) -> httpx.Response:
        transport = httpx.ASGITransport(app=service.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://inspection") as http:
            return await http.get(f"/meetings/m-{unique}/readiness", headers=auth())

    def replay() -> tuple[int, str]:
        result = runner.invoke(
            app,
            [
                *("replay", "--service", "inspection", "--group", settings.group_id),
                *("--from", before.isoformat(), "--bootstrap", infra.bootstrap_servers),
            ],
        )
        return result.exit_code, result.output

    service = build(settings)
    await service.start()
    try:
        producer = Producer(infra.bootstrap_servers, client_id="rebuild-test")
        await producer.start()
        try:
            topic = settings.topics.of(event)
            await producer.send([OutMessage(topic, event.meeting_id.encode(), event.to_json())])
        finally:
            await producer.stop()
        first = await eventually(lambda: readiness(service), until=lambda r: r.status_code == 200)
        assert {c["endpoint"] for c in first.json()} == {"TQ-UBND", "TQ-STTTT"}
        code, output = await asyncio.to_thread(replay)
        assert code == 1, output  # refused while the service runs
    finally:
        await service.stop()

    client = connect(infra.mongodb_url)
    try:
        await client.drop_database(settings.database_name)  # the read model is gone
        code, output = await asyncio.to_thread(replay)
        assert code == 0, output
        rebuilt = build(settings)
        await rebuilt.start()
        try:
            again = await eventually(
                lambda: readiness(rebuilt), until=lambda r: r.status_code == 200
            )
            assert {c["endpoint"] for c in again.json()} == {"TQ-UBND", "TQ-STTTT"}
            assert {c["state"] for c in again.json()} == {"pending"}
        finally:
            await rebuilt.stop()
    finally:
        await client.drop_database(settings.database_name)
        await client.close()
