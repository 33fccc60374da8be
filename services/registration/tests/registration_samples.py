"""Tokens, times and meeting bodies shared by registration's tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from hnth_contracts import Topics
from hnth_kit.auth import Role, issue_token
from hnth_kit.clock import ManualClock
from hnth_kit.service import Service

SECRET = "registration-test-secret-0123456789abcdef"
TENANT = "tuyen-quang"
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Registration:
    service: Service
    http: httpx.AsyncClient
    clock: ManualClock
    topics: Topics
    bootstrap: str

    def headers(self, role: str = "operator", **claims: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(role, **claims)}"}


def token(role: str, ttl: timedelta = timedelta(hours=1), **claims: str) -> str:
    return issue_token(SECRET, role=Role(role), tenant=TENANT, ttl=ttl, **claims)


def meeting_body(days_ahead: float = 3, hours: float = 2, **changes: object) -> dict[str, object]:
    start = NOW + timedelta(days=days_ahead)
    return {
        "title": "Hội nghị giao ban trực tuyến",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=hours)).isoformat(),
        "main_endpoint": "TQ-UBND",
        "endpoints": ["TQ-STTTT", "TQ-H-SONDUONG"],
        **changes,
    }
