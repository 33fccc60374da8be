"""Registration running in-process on the real broker and database, with a hand-set clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from registration_samples import NOW, SECRET, Registration, meeting_body

from hnth_kit.clock import ManualClock
from registration.app import RegistrationSettings, build


@pytest.fixture
async def registration(infra, unique) -> AsyncIterator[Registration]:
    settings = RegistrationSettings(
        kafka_bootstrap_servers=infra.bootstrap_servers,
        mongodb_url=infra.mongodb_url,
        database=f"registration_{unique}",
        topic_prefix=f"t{unique}.",
        auth_secret=SECRET,
        outbox_poll_seconds=0.1,
        max_body_bytes=64 * 1024,
    )
    clock = ManualClock(NOW)
    service = build(settings, clock=clock)
    await service.start()
    transport = httpx.ASGITransport(app=service.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://registration") as http:
        yield Registration(service, http, clock, settings.topics, infra.bootstrap_servers)
    await service.stop()


@pytest.fixture
def register(registration: Registration) -> Callable[..., object]:
    async def post(body: dict[str, object] | None = None, **headers: str) -> httpx.Response:
        return await registration.http.post(
            "/meetings",
            json=body or meeting_body(),
            headers={**registration.headers("operator"), **headers},
        )

    return post
