"""Tenant changes, the pure parts: re-keying, renaming codes, translating events in
flight, chains of changes and the refusal naming the new province."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest

from hnth_contracts import MeetingRequested, RuleRef, TenantMerged, TenantRenamed, UnitUpdated
from hnth_kit.auth import Principal, Role
from hnth_kit.refusal import Refusal
from hnth_kit.tenants import CodeFields, TenantChange, TenantMover, collision_free

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
RULE = RuleRef(rule="tenant.merged", source="Nghị quyết 202/2025/QH15")
CHANGE = TenantChange(
    former="bien-dong",
    into="tuyen-quang",
    renamed=False,
    rule=RULE,
    units={"VP-UBND": "BIEN-DONG-VP-UBND"},
    accounts={"admin": "BIEN-DONG-admin"},
)


def test_ids_that_embed_the_tenant_are_rekeyed_and_a_singleton_stays() -> None:
    assert CHANGE.rekey("bien-dong|m-1") == "tuyen-quang|m-1"
    assert CHANGE.rekey("bien-dong:BD-UBND", "BD-UBND", {}) == "tuyen-quang:BD-UBND"
    assert CHANGE.rekey("bien-dong/x") == "tuyen-quang/x"
    assert CHANGE.rekey("bien-dong") is None  # the province's contacts stay its record
    assert CHANGE.rekey("9f1c-event-id") == "9f1c-event-id"
    assert CHANGE.rekey("bien-dongx:1") == "bien-dongx:1"  # another tenant sharing a prefix


def test_a_moved_document_names_its_former_province_and_renames_colliding_codes() -> None:
    unit = {"_id": "bien-dong:VP-UBND", "tenant": "bien-dong", "code": "VP-UBND"}
    moved = CHANGE.moved(unit, CodeFields(units=("code",), key="code"))
    assert moved == {
        "_id": "tuyen-quang:BIEN-DONG-VP-UBND",
        "tenant": "tuyen-quang",
        "code": "BIEN-DONG-VP-UBND",
        "former_tenant": "bien-dong",
    }
    meeting = {
        "_id": "bien-dong|m-1",
        "tenant": "bien-dong",
        "host_unit": "VP-UBND",
        "endpoints": ["BD-UBND"],
    }
    fields = CodeFields(units=("host_unit",), endpoints=("endpoints",))
    assert CHANGE.moved(meeting, fields) == {
        **meeting,
        "_id": "tuyen-quang|m-1",
        "tenant": "tuyen-quang",
        "host_unit": "BIEN-DONG-VP-UBND",
        "former_tenant": "bien-dong",
    }
    # a reference to another document keyed by the province follows it
    result = {"_id": "bien-dong:m-1:BD-UBND#00001", "tenant": "bien-dong",
              "checklist_id": "bien-dong:m-1:BD-UBND"}  # fmt: skip
    assert CHANGE.moved(result, CodeFields(ids=("checklist_id",)))["checklist_id"] == (
        "tuyen-quang:m-1:BD-UBND"
    )
    marker = {"_id": "bien-dong:m-1"}  # no tenant field: none is added
    assert CHANGE.moved(marker, CodeFields()) == {
        "_id": "tuyen-quang:m-1",
        "former_tenant": "bien-dong",
    }


def test_a_key_taken_unforeseen_moves_under_the_former_provinces_prefix() -> None:
    moved = {"_id": "tuyen-quang:ALL", "tenant": "tuyen-quang", "code": "ALL"}
    apart = CHANGE.apart(moved, CodeFields(key="code"))
    assert (apart["_id"], apart["code"]) == ("tuyen-quang:BIEN-DONG-ALL", "BIEN-DONG-ALL")


def test_only_colliding_codes_are_renamed_deterministically() -> None:
    renamed = collision_free({"VP-UBND", "STTTT", "BD-X-VP-UBND"}, {"VP-UBND", "SYT"}, "bd-x")
    assert renamed == {"VP-UBND": "BD-X-BD-X-VP-UBND"}
    assert collision_free({"A"}, {"B"}, "x") == {}


def test_an_event_in_flight_becomes_the_new_provinces_with_its_codes() -> None:
    start = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    request = MeetingRequested.create(
        tenant="bien-dong",
        meeting_id="m-1",
        title="Họp",
        host_unit="VP-UBND",
        chair="Chủ tịch",
        start=start,
        end=start.replace(hour=3),
        main_endpoint="BD-UBND",
        endpoints=["BD-UBND", "BD-SYT"],
        correlation_id="m-1",
        producer="registration",
    )
    moved = CHANGE.translate(request)
    assert isinstance(moved, MeetingRequested)
    assert (moved.tenant, moved.host_unit) == ("tuyen-quang", "BIEN-DONG-VP-UBND")
    assert moved.endpoints == ("BD-UBND", "BD-SYT")
    unit = UnitUpdated.create(
        tenant="bien-dong", code="VP-UBND", name="VP", correlation_id="d", producer="registration"
    )
    assert CHANGE.translate(unit).model_dump()["code"] == "BIEN-DONG-VP-UBND"


def _merged(former: str, into: str) -> TenantMerged:
    return TenantMerged.create(
        tenant=former,
        into=into,
        rule=RULE,
        requested_by="test",
        correlation_id=f"tenant:{former}",
        producer="registration",
        occurred_at=NOW,
    )


def test_a_retired_province_resolves_through_a_chain_and_is_refused_naming_the_last() -> None:
    mover = TenantMover(db=defaultdict(object), service="test")  # type: ignore[arg-type]
    mover._known["aa"] = TenantChange.of(_merged("aa", "bb"))
    mover._known["bb"] = TenantChange.of(_merged("bb", "cc"))
    change = mover.retired("aa")
    assert change is not None
    assert change.into == "cc"
    assert mover.retired("cc") is None
    refusal = change.refusal()
    assert refusal.status == 409
    assert "cc" in refusal.en
    assert refusal.extra["source"] == RULE.source
    merged = _merged("aa", "bb")
    assert mover.translate(merged) is merged  # the change itself is never translated


def test_a_renamed_provinces_caller_speaks_for_the_new_code_and_a_merged_ones_is_refused() -> None:
    mover = TenantMover(db=defaultdict(object), service="test")  # type: ignore[arg-type]
    renamed = TenantRenamed.create(
        tenant="thua-thien-hue",
        into="hue",
        rule=RuleRef(rule="tenant.renamed", source="Nghị quyết 175/2024/QH15"),
        requested_by="test",
        correlation_id="tenant:thua-thien-hue",
        producer="registration",
        occurred_at=NOW,
    )
    mover._known["thua-thien-hue"] = TenantChange.of(renamed)
    mover._known["aa"] = TenantChange.of(_merged("aa", "bb"))
    who = Principal(subject="op", role=Role.OPERATOR, tenant="thua-thien-hue")
    assert mover.current(who).tenant == "hue"
    with pytest.raises(Refusal) as refused:
        mover.current(who.model_copy(update={"tenant": "aa"}))
    assert (refused.value.status, refused.value.extra["into"]) == (409, "bb")
    untouched = who.model_copy(update={"tenant": "lang-son"})
    assert mover.current(untouched) is untouched
