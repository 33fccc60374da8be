"""Recording a merge or a rename (registration's domain): both provinces known, codes
that would collide renamed, a rename only into a province without data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hnth_contracts import TenantMerged, TenantRenamed
from hnth_kit.clock import ManualClock
from hnth_kit.refusal import Refusal
from hnth_kit.settings import REPO_ROOT
from registration.domain.tenants import Codes, plan_change, same_change
from registration.usecases.tenants import Outcome, TenantChanges

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
EMPTY = Codes(frozenset(), frozenset(), frozenset())
SHIPPED = Codes(frozenset({"VP-UBND", "STTTT"}), frozenset({"TQ-UBND"}), frozenset({"admin"}))
MADE_UP = Codes(frozenset({"VP-UBND", "SYT"}), frozenset({"BD-UBND"}), frozenset({"admin", "b"}))
KNOWN = {"tuyen-quang", "bien-dong", "hue", "thua-thien-hue"}


def plan(former: str, into: str, rename: bool, into_codes: Codes = SHIPPED) -> TenantMerged:
    return plan_change(
        former=former,
        into=into,
        rename=rename,
        source="Nghị quyết 202/2025/QH15",
        requested_by="op",
        former_codes=MADE_UP,
        into_codes=into_codes,
        known=KNOWN,
        now=NOW,
    )


def test_a_merge_renames_only_the_codes_the_province_it_joins_already_has() -> None:
    event = plan("bien-dong", "tuyen-quang", rename=False)
    assert type(event) is TenantMerged
    assert (event.tenant, event.into) == ("bien-dong", "tuyen-quang")
    assert event.units == {"VP-UBND": "BIEN-DONG-VP-UBND"}
    assert event.endpoints == {}
    assert event.accounts == {"admin": "BIEN-DONG-admin"}
    assert (event.rule.rule, event.rule.source) == ("tenant.merged", "Nghị quyết 202/2025/QH15")
    assert same_change(event, into="tuyen-quang", rename=False)
    assert not same_change(event, into="hue", rename=False)


def test_a_rename_goes_to_a_new_code_only() -> None:
    event = plan("thua-thien-hue", "hue", rename=True, into_codes=EMPTY)
    assert type(event) is TenantRenamed
    assert event.units == {}
    assert event.rule.rule == "tenant.renamed"
    with pytest.raises(Refusal) as refused:
        plan("thua-thien-hue", "tuyen-quang", rename=True)
    assert refused.value.status == 409


@pytest.mark.parametrize(
    ("former", "into", "field"),
    [("bien-dong", "bien-dong", "into"), ("nowhere", "hue", "tenant"), ("hue", "nowhere", "into")],
)
def test_a_change_names_two_known_provinces(former: str, into: str, field: str) -> None:
    with pytest.raises(Refusal) as refused:
        plan(former, into, rename=False)
    assert refused.value.status == 422
    assert refused.value.extra["field"] == field


class _Ops:
    """An in-memory `tenant_ops`: the recorded changes by former province."""

    def __init__(self) -> None:
        self.rows: dict[str, TenantMerged] = {}
        self.consents: set[tuple[str, str, str]] = set()

    async def codes(self, tenant: str) -> Codes:
        return {"tuyen-quang": SHIPPED, "bien-dong": MADE_UP}.get(tenant, EMPTY)

    async def recorded(self, former: str) -> TenantMerged | None:
        return self.rows.get(former)

    async def record(self, event: TenantMerged) -> bool:
        return self.rows.setdefault(event.tenant, event) is event

    async def agree(self, former: str, into: str, province: str, by: str, at: datetime) -> None:
        self.consents.add((former, into, province))

    async def agreed(self, former: str, into: str, province: str) -> bool:
        return (former, into, province) in self.consents


def _cases(learned: list[TenantMerged]) -> TenantChanges:
    async def learn(event: TenantMerged) -> None:
        learned.append(event)

    return TenantChanges(
        _Ops(),  # type: ignore[arg-type]
        REPO_ROOT / "policies",
        ManualClock(NOW),
        wake=lambda: None,
        learn=learn,
    )


ARGS = {"former": "lang-son", "into": "tuyen-quang", "source": "NQ", "requested_by": "op"}


async def test_a_merge_is_made_once_both_provinces_ask_and_asking_again_finds_it() -> None:
    learned: list[TenantMerged] = []
    cases = _cases(learned)
    _, waiting = await cases.change(rename=False, asker="tuyen-quang", **ARGS)
    _, still = await cases.change(rename=False, asker="tuyen-quang", **ARGS)
    assert (waiting, still) == (Outcome.WAITING, Outcome.WAITING)
    assert learned == []  # one province alone moves nothing
    first, made = await cases.change(rename=False, asker="lang-son", **ARGS)
    found, rerun = await cases.change(rename=False, asker="tuyen-quang", **ARGS)
    assert (made, rerun) == (Outcome.MADE, Outcome.FOUND)
    assert found.event_id == first.event_id
    assert learned == [first]  # this replica refuses lang-son at once
    with pytest.raises(Refusal) as refused:
        await cases.change(rename=False, asker="lang-son", **{**ARGS, "into": "thua-thien-hue"})
    assert refused.value.status == 409
    assert refused.value.extra["into"] == "tuyen-quang"


@pytest.mark.parametrize(
    ("rename", "asker"),
    [(False, "thua-thien-hue"), (True, "tuyen-quang"), (True, "thua-thien-hue")],
)
async def test_only_the_provinces_concerned_may_ask(rename: bool, asker: str) -> None:
    """A merge: either of its two provinces; a rename: the province renamed alone."""
    learned: list[TenantMerged] = []
    with pytest.raises(Refusal) as refused:
        await _cases(learned).change(rename=rename, asker=asker, **ARGS)
    assert (refused.value.status, refused.value.code) == (403, "tenant.both_agree")
    assert learned == []


async def test_the_renamed_province_renames_itself_at_once() -> None:
    learned: list[TenantMerged] = []
    args = {**ARGS, "into": "lao-cai", "former": "thua-thien-hue"}  # lao-cai: no data here
    event, outcome = await _cases(learned).change(rename=True, asker="thua-thien-hue", **args)
    assert outcome is Outcome.MADE
    assert learned == [event]
