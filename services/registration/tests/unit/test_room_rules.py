"""An endpoint's room rules (rule 6) over stand-in stores: who attaches, which files, which
version is current. No database."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from hnth_contracts.policy import load_policy
from hnth_kit.auth import Principal, Role
from hnth_kit.clock import ManualClock
from hnth_kit.refusal import Refusal
from hnth_kit.settings import REPO_ROOT
from registration.usecases.materials import Upload
from registration.usecases.room_rules import RoomRules

TENANT = "tuyen-quang"
POLICY = load_policy(REPO_ROOT / "policies", TENANT)
PDF = b"%PDF-1.7 noi quy"


class Files:
    def __init__(self) -> None:
        self.saved: dict[str, tuple[dict[str, Any], bytes]] = {}

    async def save(self, doc: dict[str, Any], data: bytes) -> tuple[dict[str, Any], bool]:
        if doc["_id"] in self.saved:
            return self.saved[doc["_id"]][0], False
        self.saved[doc["_id"]] = (doc, data)
        return doc, True

    async def latest(self, tenant: str, endpoint: str) -> dict[str, Any] | None:
        mine = [
            d for d, _ in self.saved.values() if (d["tenant"], d["endpoint"]) == (tenant, endpoint)
        ]
        return max(mine, key=lambda d: d["version"], default=None)

    async def content(self, doc: dict[str, Any]) -> bytes:
        return self.saved[doc["_id"]][1]


class Endpoints:
    async def get(self, tenant: str, code: str) -> dict[str, Any] | None:
        return {"code": code} if code.startswith("TQ-") else None


@pytest.fixture
def rules() -> RoomRules:
    store: Any = SimpleNamespace(endpoints=Endpoints())
    clock = ManualClock(datetime(2026, 12, 1, tzinfo=UTC))
    return RoomRules(store, Files(), lambda _: POLICY, clock)  # type: ignore[arg-type]


def who(role: Role, *endpoints: str) -> Principal:
    return Principal(subject=f"{role}-1", role=role, tenant=TENANT, endpoints=endpoints)


def pdf(name: str = "noi-quy.pdf", data: bytes = PDF) -> Upload:
    return Upload("room_rules", name, "application/pdf", data)


async def test_each_attachment_is_the_next_version_and_the_newest_is_current(rules) -> None:
    first = await rules.attach(who(Role.OPERATOR), "TQ-SYT", pdf())
    second = await rules.attach(who(Role.TECHNICIAN, "TQ-SYT"), "TQ-SYT", pdf("v2.pdf", PDF + b"2"))
    assert (first["version"], second["version"]) == (1, 2)
    current, data = await rules.download(who(Role.VIEWER), "TQ-SYT")
    assert (current["filename"], data) == ("v2.pdf", PDF + b"2")


async def test_only_the_it_department_or_the_endpoints_technician_attaches(rules) -> None:
    for caller in (who(Role.TECHNICIAN, "TQ-STTTT"), who(Role.REGISTRAR), who(Role.VIEWER)):
        with pytest.raises(Refusal) as refused:
            await rules.attach(caller, "TQ-SYT", pdf())
        assert refused.value.status == 403


async def test_a_file_the_materials_rules_refuse_or_an_unknown_endpoint_is_refused(rules) -> None:
    with pytest.raises(Refusal) as refused:
        await rules.attach(
            who(Role.OPERATOR), "TQ-SYT", Upload("room_rules", "x", "text/html", b"<")
        )
    assert (refused.value.status, refused.value.violations[0].rule) == (415, "materials.types")
    with pytest.raises(Refusal) as unknown:
        await rules.current(who(Role.VIEWER), "NOWHERE")
    assert unknown.value.status == 404
    with pytest.raises(Refusal) as none_yet:
        await rules.current(who(Role.VIEWER), "TQ-SYT")
    assert none_yet.value.status == 404
