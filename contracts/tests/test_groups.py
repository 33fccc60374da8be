"""Endpoint groups: what a group stands for when a meeting naming it is decided."""

from __future__ import annotations

from hnth_contracts import EndpointGroupUpdated, UnitKind
from hnth_contracts.groups import BUILT_IN, Group, Member, expand, group_of

KINDS = {"X-A": "commune", "X-B": "commune", "P-C": "ward", "SNV": "department"}
ENDPOINTS = [
    Member("LS-X-A", "X-A", True),
    Member("LS-X-A-4G", "X-A", True),
    Member("LS-X-B", "X-B", False),
    Member("LS-P-C", "P-C", True),
    Member("LS-SNV", "SNV", True),
]


def test_all_communes_is_every_active_endpoint_of_a_commune() -> None:
    assert expand(BUILT_IN["ALL-COMMUNES"], ENDPOINTS, KINDS) == ("LS-X-A", "LS-X-A-4G")
    assert expand(BUILT_IN["ALL-WARDS"], ENDPOINTS, KINDS) == ("LS-P-C",)
    level = expand(BUILT_IN["ALL-COMMUNE-LEVEL"], ENDPOINTS, KINDS)
    assert level == ("LS-P-C", "LS-X-A", "LS-X-A-4G")


def test_a_kept_group_names_endpoints_and_units_and_keeps_only_active_ones() -> None:
    cluster = Group("CUM", "Cụm", "Cluster", endpoints=frozenset({"LS-X-B", "LS-SNV"}))
    assert expand(cluster, ENDPOINTS, KINDS) == ("LS-SNV",)  # LS-X-B is inactive
    by_unit = Group("U", "U", "U", units=frozenset({"X-A"}))
    assert expand(by_unit, ENDPOINTS, KINDS) == ("LS-X-A", "LS-X-A-4G")


def test_an_inactive_group_expands_to_nothing() -> None:
    event = EndpointGroupUpdated.create(
        tenant="lang-son",
        correlation_id="directory",
        producer="registration",
        code="CUM",
        name="Cụm",
        kinds=(UnitKind.COMMUNE,),
        active=False,
    )
    assert expand(group_of(event), ENDPOINTS, KINDS) == ()
    assert expand(group_of(event.model_copy(update={"active": True})), ENDPOINTS, KINDS) == (
        "LS-X-A",
        "LS-X-A-4G",
    )
