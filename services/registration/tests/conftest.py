"""Registration running in-process on the real broker and database, with a hand-set clock."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from registration_samples import Registration, meeting_body, running


@pytest.fixture
async def registration(infra, unique) -> AsyncIterator[Registration]:
    """Registration as it ships (JSON routes 256 KiB, the materials upload 21 MiB)."""
    async with running(infra, unique) as started:
        yield started


@pytest.fixture
async def materials_registration(infra, unique) -> AsyncIterator[Registration]:
    """Registration with its default body limit, room for meeting materials."""
    async with running(infra, unique) as started:
        yield started


@pytest.fixture
def start_registration(infra, unique) -> Callable[..., Any]:
    """Start registration with other settings: `async with start_registration(**overrides)`."""
    return lambda **overrides: running(infra, unique, **overrides)


@pytest.fixture
def register(registration: Registration) -> Callable[..., object]:
    async def post(body: dict[str, object] | None = None, **headers: str) -> httpx.Response:
        return await registration.http.post(
            "/meetings",
            json=body or meeting_body(),
            headers={**registration.headers("operator"), **headers},
        )

    return post


@pytest.fixture
def restartable(
    infra, unique
) -> Callable[[], contextlib.AbstractAsyncContextManager[Registration]]:
    """Start registration (default body limit) as often as a test likes, always on the same
    database and topics: a test stops it and starts it again as after a crash."""
    return lambda: running(infra, unique)
