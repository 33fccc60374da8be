"""A replica's copy of a province's directory, on the real database: the recipients of a
meeting's e-mails resolve from one read of it, present or not; a change saved through the
replica is seen at once, one saved through another within the copy's lifetime."""

from __future__ import annotations

import asyncio

import pytest
from notification_samples import ADDRESSES, ENDPOINTS, TENANT, directory, in_days

from hnth_contracts import Contact, EndpointUpdated
from notification import store as store_module
from notification.store import NotificationStore

pytestmark = pytest.mark.integration

RECIPIENTS = [
    "line_provider",
    "power_company",
    "it_department",
    "duty",
    "unit:VP-UBND",
    *(f"technician:{e}" for e in ENDPOINTS),
]


def counting_reads(store: NotificationStore) -> list[str]:
    """The provinces `store` reads its directory of, one item a read."""
    reads: list[str] = []
    read = store.directory_of

    async def counted(tenant: str) -> list:
        reads.append(tenant)
        return await read(tenant)

    store.directory_of = counted  # type: ignore[method-assign]
    return reads


def new_technician(code: str, email: str, days_after: float = 1) -> EndpointUpdated:
    return EndpointUpdated.create(
        tenant=TENANT,
        correlation_id="change",
        producer="registration",
        occurred_at=in_days(days_after),
        code=code,
        name=f"Điểm cầu {code}",
        unit="VP-UBND",
        technician=Contact(name="Kỹ thuật mới", email=email),
    )


async def stores(database, unique: str) -> tuple[NotificationStore, NotificationStore]:
    """Two replicas' stores over one database, its directory loaded."""
    db = database(f"notification_{unique}")
    one, other = NotificationStore(db), NotificationStore(db)
    await one.setup()
    for event in directory():
        await one.save_snapshot(event)
    return one, other


async def test_a_meetings_recipients_resolve_from_one_read(database, unique) -> None:
    one, _ = await stores(database, unique)
    reads = counting_reads(one)
    found = await asyncio.gather(
        *(one.contact(TENANT, r) for r in [*RECIPIENTS, "technician:TQ-NOWHERE"] * 3)
    )
    assert [c["email"] if c else None for c in found[: len(RECIPIENTS) + 1]] == [
        *(ADDRESSES[r] for r in RECIPIENTS),
        None,  # not in the directory: asked of the copy, not of the database again
    ]
    assert reads == [TENANT]
    assert await one.contact("lang-son", "line_provider") is None  # another province: its own
    assert reads == [TENANT, "lang-son"]


async def test_a_change_is_seen_at_once_here_and_within_the_copys_life_elsewhere(
    database, unique, monkeypatch
) -> None:
    one, other = await stores(database, unique)
    await asyncio.gather(one.contact(TENANT, "duty"), other.contact(TENANT, "duty"))

    await one.save_snapshot(new_technician("TQ-UBND", "moi@tuyenquang.gov.vn"))
    assert (await one.contact(TENANT, "technician:TQ-UBND"))["email"] == "moi@tuyenquang.gov.vn"
    still = await other.contact(TENANT, "technician:TQ-UBND")
    assert still["email"] == ADDRESSES["technician:TQ-UBND"]  # its copy is still fresh
    monkeypatch.setattr(store_module, "DIRECTORY_TTL", 0.0)  # ... until the copy's life ends
    now = await other.contact(TENANT, "technician:TQ-UBND")
    assert now["email"] == "moi@tuyenquang.gov.vn"


async def test_a_read_a_change_overtook_is_not_kept(database, unique) -> None:
    one, _ = await stores(database, unique)
    reads, read = [], one.directory_of
    started, go_on = asyncio.Event(), asyncio.Event()

    async def slow(tenant: str) -> list:
        reads.append(tenant)
        found = await read(tenant)
        if len(reads) == 1:  # the first read has what the database held before the change
            started.set()
            await go_on.wait()
        return found

    one.directory_of = slow  # type: ignore[method-assign]
    before = asyncio.create_task(one.contact(TENANT, "technician:TQ-STTTT"))
    await started.wait()
    await one.save_snapshot(new_technician("TQ-STTTT", "moi@tuyenquang.gov.vn", 2))
    go_on.set()
    assert (await before)["email"] == ADDRESSES["technician:TQ-STTTT"]  # read before the change
    after = await one.contact(TENANT, "technician:TQ-STTTT")
    assert after["email"] == "moi@tuyenquang.gov.vn"
    assert len(reads) == 2
