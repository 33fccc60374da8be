"""Inputs the API fuzzer (tests/test_api_fuzz.py) once answered with a server error: each
now gets a clear 4xx and changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime

import pytest
from inspection_samples import TENANT

from hnth_contracts import ReportKind, Topics
from hnth_kit.auth import Role
from hnth_kit.testing import signed_token
from inspection.domain.tasks import handed_in
from inspection.store import INCIDENTS, INSPECTIONS, InspectionStore

pytestmark = pytest.mark.integration

OPERATOR = {"Authorization": f"Bearer {signed_token(role=Role.OPERATOR, tenant=TENANT)}"}
REPORT_ROUTES = (
    ("POST", "/reports/{}/compile"),
    ("GET", "/reports/{}"),
    ("GET", "/reports/{}.json"),
    ("GET", "/reports/{}.xlsx"),
    ("GET", "/reports/{}.docx"),
)


async def test_a_report_year_python_cannot_hold_is_a_422_naming_the_year(http) -> None:
    """Was 500: OverflowError / ValueError (year 1 starts in year 0 UTC; year 9999 ends in
    year 10000)."""
    for method, route in REPORT_ROUTES:
        for year in (0, 1, 9999, 10000, 99999999999999999999):
            response = await http.request(method, route.format(year), headers=OPERATOR)
            assert response.status_code == 422, (method, route, year, response.text)
            [error] = response.json()["errors"]
            assert error["field"] == "year"
            assert error["rule"].startswith("schema.")


async def test_the_first_and_last_years_python_can_hold_compile(http) -> None:
    for year in (2, 9998):
        response = await http.post(f"/reports/{year}/compile", headers=OPERATOR)
        assert response.status_code == 200, response.text
        assert response.json()["year"] == year


async def test_two_hand_ins_of_one_task_or_resolutions_of_one_incident_never_both_win(
    database,
) -> None:
    """FerretDB applies `update_one({"_id": x, "state": "open"}, ...)` as read-then-replace,
    so two people handing in one task (or resolving one incident) at once were both told
    it worked, the second result replaced the first, and two ReportSubmitted could go out.
    The move out of `open` is now claimed by an insert: exactly one wins, the other 409s."""
    store = InspectionStore(database(f"inspection_race_{uuid.uuid4().hex[:8]}"), Topics())
    now = datetime.now(UTC)
    ids = [f"task-{n}" for n in range(24)]
    opened = [{"_id": i, "tenant": TENANT, "state": "open", "result": None} for i in ids]
    await store.db[INSPECTIONS].insert_many(opened)
    await store.db[INCIDENTS].insert_many(opened)

    def hand_in(task_id: str, by: str) -> Awaitable[bool]:
        event = handed_in(
            {"_id": task_id, "tenant": TENANT}, ReportKind.PERIODIC_INSPECTION, by, now
        )
        changes = {"state": "done", "result": {"by": by}}
        return store.complete_task(INSPECTIONS, task_id, f"http:{by}", changes, [event])

    def resolve(incident_id: str, by: str) -> Awaitable[bool]:
        return store.resolve_incident(incident_id, {"state": "resolved", "resolved_by": by})

    outcome = await asyncio.gather(
        *(write(i, by) for write in (hand_in, resolve) for i in ids for by in "ab")
    )
    handed, resolved = outcome[: 2 * len(ids)], outcome[2 * len(ids) :]
    for n, i in enumerate(ids):
        [winner] = [by for k, by in enumerate("ab") if handed[2 * n + k]]
        task = await store.db[INSPECTIONS].find_one({"_id": i})
        assert task is not None
        assert (task["result"], task["_outbox_n"]) == ({"by": winner}, 1), task
        [winner] = [by for k, by in enumerate("ab") if resolved[2 * n + k]]
        incident = await store.db[INCIDENTS].find_one({"_id": i})
        assert incident is not None
        assert incident["resolved_by"] == winner, incident
