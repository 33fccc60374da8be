"""Every service's `/metrics` after a real flow (services as processes, real Kafka and
database): the counters moved where the work happened, and a poison message shows up as
a dead letter with its reason."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from hnth_contracts import Topics
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.testing import eventually

pytestmark = pytest.mark.system


TENANT = "thua-thien-hue"
"""No other test on the shared platform meets in Thừa Thiên Huế: its rule 2 figures (per
province, of the whole year) are this test's meeting's alone."""


@pytest.fixture
def platform(shared_platform):
    """The shared platform: the counters are read as deltas over this test's flow (other
    tests' work is in them too), the per-province figures of a province of its own."""
    return shared_platform


def _meeting(start: datetime) -> dict[str, object]:
    return {
        "title": "Hội nghị trực tuyến đo số liệu",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "main_endpoint": "TTH-UBND",
        "endpoints": ["TTH-UBND", "TTH-SNV", "TTH-STP"],
    }


def _samples(text: str) -> list[Sample]:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def _total(samples: Iterable[Sample], name: str, **labels: str) -> float:
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def _delta(before: Iterable[Sample], after: Iterable[Sample], name: str, **labels: str) -> float:
    """How far a counter moved between two scrapes of one service."""
    return _total(after, name, **labels) - _total(before, name, **labels)


async def test_metrics_of_every_service_move_with_a_flow(infra, platform, own_day) -> None:
    topics = Topics(prefix=platform.topic_prefix)
    auth = {"Authorization": f"Bearer {platform.token('--role', 'operator', '--tenant', TENANT)}"}
    async with httpx.AsyncClient(timeout=10) as http:

        async def scrape(service: str) -> list[Sample]:
            response = await http.get(f"{platform.urls[service]}/metrics", headers=auth)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("text/plain")
            return _samples(response.text)

        before = {service: await scrape(service) for service in platform.urls}
        created = await http.post(
            f"{platform.urls['registration']}/meetings", json=_meeting(own_day), headers=auth
        )
        assert created.status_code == 201, created.text
        meeting_id = created.json()["id"]
        await eventually(
            lambda: http.get(
                f"{platform.urls['inspection']}/meetings/{meeting_id}/readiness", headers=auth
            ),
            until=lambda r: len(r.json()) == 3,
        )

        registration = await scrape("registration")
        produced = "hnth_events_produced_total"
        assert _delta(before["registration"], registration, produced, topic=topics.meetings) >= 1

        # the outbox drains: besides this meeting's decision, the year-end report tasks of
        # every endpoint are announced at start when today is in the report window
        scheduling = await eventually(
            lambda: scrape("scheduling"),
            until=lambda s: (
                _delta(before["scheduling"], s, produced, topic=topics.slots) >= 1
                and _total(s, "hnth_outbox_backlog") == 0
            ),
            timeout=180,
        )
        assert (
            _delta(
                before["scheduling"],
                scheduling,
                "hnth_events_consumed_total",
                topic=topics.meetings,
                type="MeetingRequested",
                outcome="handled",
            )
            == 1
        )
        handler = "hnth_handler_seconds_count"
        assert _delta(before["scheduling"], scheduling, handler, type="MeetingRequested") == 1
        assert _total(scheduling, "hnth_outbox_backlog") == 0
        decided = {"command": "insert", "collection": "decisions"}
        db = "hnth_db_command_seconds_count"
        assert _delta(before["scheduling"], scheduling, db, **decided) >= 1
        lag = [s for s in scheduling if s.name == "hnth_consumer_lag"]
        assert {s.labels["topic"] for s in lag} >= {topics.meetings}  # its assigned partitions
        assert all(s.value >= 0 for s in lag)

        consumed = "hnth_events_consumed_total"
        for consumer in ("notification", "inspection"):
            # each in its own time: notification may still be taking in the year-end report
            # tasks announced at start when today is in the report window
            samples = await eventually(
                lambda c=consumer: scrape(c),
                until=lambda s, c=consumer: (
                    _delta(before[c], s, consumed, type="SlotAssigned") >= 1
                ),
                timeout=180,
            )
            handled = _delta(
                before[consumer], samples, consumed, type="SlotAssigned", outcome="handled"
            )
            assert handled == 1, consumer
            assert _total(samples, "hnth_timers_pending") >= 1, consumer  # reminders, T-1h

        await eventually(
            lambda: scrape("notification"),
            # one attempt per notice
            until=lambda s: _delta(before["notification"], s, "hnth_notices_total") >= 7,
        )
        # rule 2's figures: every notice of a meeting days away went out by the lead time
        tenant = {"tenant": TENANT}
        inspection = await eventually(
            lambda: scrape("inspection"),
            until=lambda s: _total(s, "hnth_notices_lead_time_compliance", **tenant) == 1.0,
        )
        assert _total(inspection, "hnth_notices_acknowledged_share", **tenant) == 0.0

        dead = {"reason": "invalid_json"}
        undecodable = {"type": "undecodable", "outcome": "dead_lettered"}
        # the baseline right before this test's poison: earlier tests' (the console's,
        # replayed) was dead-lettered while the flow above ran
        settled = await scrape("scheduling")
        producer = Producer(infra.bootstrap_servers, client_id="metrics-test")
        await producer.start()
        try:
            await producer.send([OutMessage(topics.meetings, b"poison", b"{not json")])
        finally:
            await producer.stop()
        # both counters move in one pass over the message, but a scrape may fall between
        await eventually(
            lambda: scrape("scheduling"),
            until=lambda s: (
                _delta(settled, s, "hnth_dead_letters_total", **dead)
                == _delta(settled, s, consumed, **undecodable)
                == 1
            ),
        )

        spec = (await http.get(f"{platform.urls['scheduling']}/openapi.json")).json()
        assert "/metrics" in spec["paths"]

        # like every route but health and docs, the figures need the IT department's token
        url = f"{platform.urls['inspection']}/metrics"
        assert (await http.get(url)).status_code == 401
        viewer = {"Authorization": f"Bearer {platform.token('--role', 'viewer')}"}
        assert (await http.get(url, headers=viewer)).status_code == 403
