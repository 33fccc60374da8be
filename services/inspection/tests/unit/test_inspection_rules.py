"""The rules of records people write, pure: no future times, incidents resolved after
they opened, and a problem that says what it is."""

from __future__ import annotations

from datetime import timedelta

from inspection_samples import T0

from hnth_contracts import CheckItem, ItemResult
from inspection.domain import checks, incidents


def test_a_recorded_time_may_be_now_or_earlier_never_later() -> None:
    assert incidents.in_future("opened_at", None, T0) is None
    assert incidents.in_future("opened_at", T0, T0) is None
    breach = incidents.in_future("opened_at", T0 + timedelta(seconds=1), T0)
    assert breach is not None
    assert (breach.rule, breach.field) == ("record.not_in_future", "opened_at")


def test_an_incident_is_resolved_at_or_after_it_opened() -> None:
    incident = incidents.new_incident("i1", "tq", {"endpoint": "A"}, T0, "op")
    assert (incident["state"], incident["opened_at"], incident["endpoint"]) == ("open", T0, "A")
    assert incidents.resolved_too_early(incident, T0) is None
    breach = incidents.resolved_too_early(incident, T0 - timedelta(seconds=1))
    assert breach is not None
    assert (breach.rule, breach.field) == ("incident.resolved_after_opened", "resolved_at")


def test_the_first_silent_problem_is_the_field_named() -> None:
    ok = {item: ItemResult(ok=True) for item in CheckItem}
    assert checks.note_breach(ok, "items") is None
    silent = {**ok, CheckItem.VIDEO: ItemResult(ok=False, note=" ")}
    breach = checks.note_breach(silent, "items")
    assert breach is not None
    assert (breach.rule, breach.field) == ("check.problem_note", "items.video.note")
