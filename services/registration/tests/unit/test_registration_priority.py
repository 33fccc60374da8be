"""`priority` on a registration: a level the province has, set only by the roles it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from hnth_contracts import priority
from hnth_contracts.policy import load_policy
from registration.domain.meeting import Caller, priority_violations

POLICY = load_policy(Path(__file__).resolve().parents[4] / "policies", "tuyen-quang")
REGISTRAR = Caller("registrar", "SYT")
OPERATOR = Caller("operator")


def test_no_priority_is_the_default_level_and_always_allowed() -> None:
    assert priority_violations(None, POLICY, REGISTRAR) == []
    assert priority.level(POLICY, None) == priority.level(POLICY, priority.ROUTINE)


def test_an_unknown_level_is_refused_naming_field_rule_and_source() -> None:
    [broken] = priority_violations("khan_cap", POLICY, OPERATOR)
    assert (broken.field, broken.rule) == ("priority", "meeting.priorities")
    assert broken.source == POLICY.ref("meeting.priorities").source
    assert "lanh_dao" in broken.message_vi


@pytest.mark.parametrize(
    ("who", "code", "allowed"),
    [
        (REGISTRAR, "lanh_dao", False),
        (OPERATOR, "lanh_dao", True),
        (REGISTRAR, "thien_tai", True),
        (REGISTRAR, "thuong_le", True),
    ],
)
def test_only_the_roles_the_policy_names_set_a_level(who: Caller, code: str, allowed: bool) -> None:
    assert (priority_violations(code, POLICY, who) == []) is allowed


def test_levels_rank_highest_first_and_only_strictly_higher_outranks() -> None:
    assert priority.outranks(POLICY, "thien_tai", "thuong_le")
    assert priority.outranks(POLICY, "lanh_dao", None)
    assert not priority.outranks(POLICY, "thien_tai", "thien_tai")
    assert not priority.outranks(POLICY, None, "thuong_le")
