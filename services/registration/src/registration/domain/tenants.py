"""Provinces that merge or rename (issue 18): what a merge or a rename records, decided
from both provinces' codes. Pure: the use case loads, this decides, the use case writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hnth_contracts import RuleRef, TenantMerged, TenantRenamed
from hnth_kit.refusal import Refusal
from hnth_kit.tenants import collision_free

PRODUCER = "registration"
MERGED = "tenant.merged"
RENAMED = "tenant.renamed"
BOTH_AGREE = "tenant.both_agree"


@dataclass(frozen=True)
class Codes:
    """A province's codes that must stay unique once it shares a tenant with another."""

    units: frozenset[str]
    endpoints: frozenset[str]
    accounts: frozenset[str]


def plan_change(
    *,
    former: str,
    into: str,
    rename: bool,
    source: str,
    requested_by: str,
    former_codes: Codes,
    into_codes: Codes,
    known: set[str],
    now: datetime,
) -> TenantMerged:
    """The `TenantMerged` / `TenantRenamed` event for `former` -> `into`, or a Refusal:
    both provinces must have a policy file (`known`), differ, and a rename needs a province
    with no data yet."""
    if former == into:
        raise Refusal(
            422,
            "tenant.same",
            "Tỉnh nguồn và tỉnh đích trùng nhau.",
            "The province and the one it goes to are the same.",
            field="into",
        )
    for field, tenant in (("tenant", former), ("into", into)):
        if tenant not in known:
            raise Refusal(
                422,
                "tenant.unknown",
                f"Không có tệp chính sách policies/{tenant}.yaml.",
                f"No policy file policies/{tenant}.yaml.",
                field=field,
            )
    if rename and (into_codes.units or into_codes.endpoints or into_codes.accounts):
        raise Refusal(
            409,
            "tenant.rename_into_existing",
            f"Tỉnh {into} đã có dữ liệu: đổi mã chỉ sang mã mới; hãy dùng hợp nhất (merge).",
            f"Province {into} already has data: a rename needs a new code; merge instead.",
            field="into",
        )
    kind = TenantRenamed if rename else TenantMerged
    return kind.create(
        tenant=former,
        into=into,
        units=collision_free(set(into_codes.units), set(former_codes.units), former),
        endpoints=collision_free(set(into_codes.endpoints), set(former_codes.endpoints), former),
        accounts=collision_free(set(into_codes.accounts), set(former_codes.accounts), former),
        rule=RuleRef(rule=RENAMED if rename else MERGED, source=source),
        requested_by=requested_by,
        correlation_id=f"tenant:{former}",
        producer=PRODUCER,
        occurred_at=now,
    )


def may_ask(*, former: str, into: str, rename: bool, asker: str) -> None:
    """Who may ask for a change not yet recorded, or a Refusal: a rename, the province
    renamed; a merge, either of the two provinces, and it is made once both have asked
    (the accounts of the one that joins become the other's: neither province's IT
    department takes over or gives away the other's data alone)."""
    allowed = (former,) if rename else (former, into)
    if asker not in allowed:
        raise Refusal(
            403,
            BOTH_AGREE,
            "Chỉ Sở KH&CN của tỉnh đổi mã được đổi mã tỉnh."
            if rename
            else "Chỉ Sở KH&CN của một trong hai tỉnh được đề nghị hợp nhất.",
            "Only the renamed province's IT department may rename it."
            if rename
            else "Only the IT department of one of the two provinces may ask for a merge.",
        )


def other_province(*, former: str, into: str, asker: str) -> str:
    """The province whose agreement a merge asked for by `asker` still needs."""
    return into if asker == former else former


def same_change(recorded: TenantMerged, *, into: str, rename: bool) -> bool:
    """Asking again for the change already recorded (a rerun) is no conflict."""
    return recorded.into == into and isinstance(recorded, TenantRenamed) == rename
