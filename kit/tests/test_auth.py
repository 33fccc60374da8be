"""Tokens: signed, expiring, carrying role and scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hnth_kit.auth import InvalidToken, Role, issue_token, verify_token

SECRET = "unit-test-secret-0123456789-abcdef"


def test_token_round_trips_role_and_scope() -> None:
    token = issue_token(SECRET, role=Role.REGISTRAR, tenant="tuyen-quang", unit="VP-UBND")
    who = verify_token(SECRET, token)
    assert (who.role, who.tenant, who.unit, who.endpoint) == (
        Role.REGISTRAR,
        "tuyen-quang",
        "VP-UBND",
        None,
    )


def test_expired_token_is_refused() -> None:
    old = datetime.now(UTC) - timedelta(days=2)
    token = issue_token(SECRET, role=Role.VIEWER, tenant="tuyen-quang", now=old)
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)


def test_token_signed_with_another_secret_is_refused() -> None:
    token = issue_token(
        "another-secret-0123456789-abcdefgh", role=Role.OPERATOR, tenant="tuyen-quang"
    )
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)


def test_registrar_needs_a_unit_and_technician_an_endpoint() -> None:
    with pytest.raises(ValueError, match="unit"):
        issue_token(SECRET, role=Role.REGISTRAR, tenant="tuyen-quang")
    with pytest.raises(ValueError, match="endpoint"):
        issue_token(SECRET, role=Role.TECHNICIAN, tenant="tuyen-quang")
