"""The technical contact list circulated (rule 5, "known to all"), over the in-memory
store: a change to a technician or a standing contact sends every technician the updated
list once per window, however many changes and redeliveries the window holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from notification_memory import MemoryStore, MemoryTimers
from notification_samples import ENDPOINTS, TENANT, directory

from hnth_contracts import DIRECTORY_LOAD, Contact, EndpointUpdated, Event, UnitUpdated
from hnth_contracts.policy import load_policy
from hnth_kit.clock import ManualClock
from hnth_kit.settings import REPO_ROOT
from hnth_kit.timers import Timer
from notification.domain import technicians
from notification.domain.notices import Kind
from notification.domain.timers import TimerKind
from notification.usecases import Notifications

POLICY = load_policy(REPO_ROOT / "policies", TENANT)
NOW = datetime(2026, 12, 1, 1, 2, tzinfo=UTC)
WINDOW = timedelta(minutes=5)


@pytest.fixture
async def world() -> tuple[Notifications, MemoryStore, MemoryTimers]:
    store, timers = MemoryStore(), MemoryTimers()
    n = Notifications(store, timers, ManualClock(NOW), lambda _: POLICY, list_window=WINDOW)
    for event in directory():  # the province as loaded
        await n.directory_changed(event.model_copy(update=_loaded(event)))
    assert timers.timers == {}  # the first load is no change to circulate
    return n, store, timers


def _loaded(event: Event) -> dict[str, object]:
    return {"correlation_id": DIRECTORY_LOAD, "occurred_at": NOW - timedelta(hours=1)}


def new_technician(code: str, name: str, at: datetime) -> EndpointUpdated:
    return EndpointUpdated.create(
        tenant=TENANT,
        correlation_id="directory",
        producer="registration",
        occurred_at=at,
        code=code,
        name=f"Điểm cầu {code}",
        unit="VP-UBND",
        technician=Contact(name=name, phone="0912", email=f"{code.lower()}@tq.vn"),
    )


async def fire(n: Notifications, timers: MemoryTimers) -> None:
    for timer_id, (kind, due, tenant, payload) in sorted(timers.timers.items()):
        await n.circulate_technician_list(Timer(timer_id, kind, due, tenant, payload))


async def test_a_burst_of_changes_sends_every_technician_one_updated_list(world) -> None:
    n, store, timers = world
    first = new_technician("TQ-UBND", "Trần Văn Mới", NOW)
    await n.directory_changed(first)
    await n.directory_changed(first)  # redelivered
    second = new_technician("TQ-STTTT", "Lê Thị Hai", NOW + timedelta(minutes=2, seconds=59))
    await n.directory_changed(second)  # the window (01:00-01:05) is the same
    [(kind, due, tenant, _)] = timers.timers.values()
    assert (kind, tenant) == (TimerKind.TECHNICIAN_LIST, TENANT)
    assert due == NOW + WINDOW  # a window after the first change: the burst is over

    await fire(n, timers)
    await fire(n, timers)  # the timer fired twice (a claim taken over): nothing more
    notices = list(store.notices.values())
    assert sorted(x["recipient"] for x in notices) == sorted(f"technician:{c}" for c in ENDPOINTS)
    assert {x["kind"] for x in notices} == {Kind.TECHNICIAN_LIST}
    assert {x["rule"]["rule"] for x in notices} == {"directory.technician_list"}
    rows = {e["code"]: e for e in notices[0]["data"]["endpoints"]}
    assert (rows["TQ-UBND"]["technician"], rows["TQ-STTTT"]["technician"]) == (
        "Trần Văn Mới",
        "Lê Thị Hai",
    )  # both changes of the window, in one list
    assert set(notices[0]["data"]["contacts"]) == {*technicians.STANDING_ROLES}


async def test_a_change_in_the_next_window_sends_the_list_again(world) -> None:
    n, _, timers = world
    await n.directory_changed(new_technician("TQ-UBND", "A", NOW))
    await n.directory_changed(new_technician("TQ-UBND", "B", NOW + timedelta(minutes=3)))
    assert len(timers.timers) == 2


async def test_what_the_list_does_not_show_sends_nothing(world) -> None:
    n, _, timers = world
    [unit] = [e for e in directory() if isinstance(e, UnitUpdated)]
    await n.directory_changed(unit.model_copy(update={"name": "Văn phòng mới"}))
    [endpoint] = [e for e in directory() if isinstance(e, EndpointUpdated)][:1]
    moved = {"location": "Tầng 3", "occurred_at": NOW}
    await n.directory_changed(endpoint.model_copy(update=moved))  # not on the list
    assert timers.timers == {}


def test_a_change_long_past_or_older_than_the_entry_changes_nothing_now() -> None:
    old = new_technician("TQ-UBND", "Cũ", NOW - technicians.STALE_AFTER - WINDOW)
    assert not technicians.changes_the_list(old, None, NOW)  # a replay, long after
    recent = new_technician("TQ-UBND", "Mới", NOW - WINDOW)
    assert technicians.changes_the_list(recent, None, NOW)  # a new endpoint, named
    newer = {"occurred_at": NOW, "contact": None}
    assert not technicians.changes_the_list(recent, newer, NOW)  # overtaken


def test_an_endpoint_out_of_use_or_without_a_technician_gets_no_list() -> None:
    entries = [
        {"_id": f"{TENANT}:endpoint:A", "name": "A", "active": False, "contact": {"name": "x"}},
        {"_id": f"{TENANT}:endpoint:B", "name": "B", "active": True, "contact": None},
        {"_id": f"{TENANT}:endpoint:C", "name": "C", "active": True, "contact": {"name": "c"}},
    ]
    [notice] = technicians.plan_list("t", TENANT, entries, NOW)
    assert notice.recipient.key == "technician:C"
    assert [e["code"] for e in notice.data["endpoints"]] == ["B", "C"]  # B listed, unnamed
