"""Inspection's consumer is back office: it yields the cores and gathers its fetches."""

from __future__ import annotations

from hnth_kit.service import consumer_options
from inspection.app import InspectionSettings


def test_its_fetches_gather_events_and_it_runs_below_scheduling() -> None:
    settings = InspectionSettings(auth_jwks='{"keys": []}')
    assert consumer_options(settings)["fetch_min_bytes"] == 32 * 1024
    assert settings.cpu_nice == 10
