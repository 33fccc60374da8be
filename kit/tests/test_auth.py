"""Tokens: signed by registration's keys alone, expiring, carrying role and scope; verified
with the public keys only; a rotation keeps older tokens valid until they expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from joserfc.jwk import KeySet

from hnth_kit.auth import (
    InvalidToken,
    Role,
    SigningKeys,
    StaticKeys,
    issue_token,
    rotated,
    verify_token,
)

KEYS = SigningKeys.generate()


def public(keys: SigningKeys) -> KeySet:
    return KeySet.import_key_set(keys.public())


def test_token_round_trips_role_scope_and_name() -> None:
    token = issue_token(
        KEYS, role=Role.TECHNICIAN, tenant="tuyen-quang", endpoints=["A", "B"], name="An"
    )
    who = verify_token(public(KEYS), token)
    assert (who.role, who.tenant, who.unit, who.endpoints, who.name) == (
        Role.TECHNICIAN,
        "tuyen-quang",
        None,
        ("A", "B"),
        "An",
    )
    assert who.serves("B")
    assert not who.serves("C")
    assert not who.serves(None)


def test_the_public_keys_hold_no_private_part() -> None:
    assert all("d" not in key for key in KEYS.public()["keys"])
    assert all("d" in key for key in KEYS.private()["keys"])


def test_expired_token_is_refused() -> None:
    old = datetime.now(UTC) - timedelta(days=2)
    token = issue_token(KEYS, role=Role.VIEWER, tenant="tuyen-quang", now=old)
    with pytest.raises(InvalidToken):
        verify_token(public(KEYS), token)


def test_token_signed_with_other_keys_is_refused() -> None:
    token = issue_token(SigningKeys.generate(), role=Role.OPERATOR, tenant="tuyen-quang")
    with pytest.raises(InvalidToken):
        verify_token(public(KEYS), token)
    with pytest.raises(InvalidToken):
        verify_token(public(KEYS), "not.a.token")


def test_after_a_rotation_the_new_key_signs_and_old_tokens_still_verify() -> None:
    before = issue_token(KEYS, role=Role.OPERATOR, tenant="tuyen-quang")
    after_keys = SigningKeys(rotated(KEYS.private()))
    after = issue_token(after_keys, role=Role.OPERATOR, tenant="tuyen-quang")
    assert verify_token(public(after_keys), before).role is Role.OPERATOR
    assert verify_token(public(after_keys), after).role is Role.OPERATOR
    with pytest.raises(InvalidToken):
        verify_token(public(KEYS), after)  # a service that never reread the keys
    # three rotations later the first key is gone, and so are its tokens
    gone = after_keys
    for _ in range(3):
        gone = SigningKeys(rotated(gone.private()))
    with pytest.raises(InvalidToken):
        verify_token(public(gone), before)


async def test_static_keys_read_the_current_set_each_time() -> None:
    current = [KEYS]
    keys = StaticKeys(lambda: current[0].public())
    token = issue_token(KEYS, role=Role.VIEWER, tenant="tuyen-quang")
    assert verify_token(await keys.for_token(token), token).role is Role.VIEWER
    current[0] = SigningKeys.generate()
    with pytest.raises(InvalidToken):
        verify_token(await keys.for_token(token), token)


def test_registrar_needs_a_unit_and_technician_an_endpoint() -> None:
    with pytest.raises(ValueError, match="unit"):
        issue_token(KEYS, role=Role.REGISTRAR, tenant="tuyen-quang")
    with pytest.raises(ValueError, match="endpoint"):
        issue_token(KEYS, role=Role.TECHNICIAN, tenant="tuyen-quang")
