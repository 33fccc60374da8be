"""Accounts and sign-in, pure: who may have an account with which role, which password is
acceptable, when an account is locked out, what the province's sign-in policy says.
Nothing here reads the clock, the database or a password hash.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hnth_contracts.policy import Policy
from hnth_kit.refusal import Violation

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
ROLES = ("registrar", "operator", "technician", "viewer")
MIN_PASSWORD = 12
PLATFORM = "HNTH Ops"
STRENGTH_SOURCE = (
    "HNTH Ops: mật khẩu ít nhất 12 ký tự, không chứa tên đăng nhập, không nằm trong danh "
    "sách mật khẩu phổ biến, vì mật khẩu ngắn hoặc phổ biến bị dò ra trong vài phút"
)
ROLE_SOURCE = (
    "HNTH Ops: cán bộ đăng ký thuộc một đơn vị, cán bộ kỹ thuật phụ trách điểm cầu, vì "
    "quyền của họ chỉ trong phạm vi đó"
)


@dataclass(frozen=True)
class SignInPolicy:
    """The province's sign-in knobs (`auth.*` in its policy file)."""

    lockout_failures: int
    lockout_window: timedelta
    totp_roles: frozenset[str]
    access_ttl: timedelta
    refresh_ttl: timedelta
    link_ttl: timedelta


def sign_in_policy(policy: Policy) -> SignInPolicy:
    def number(rule: str, default: int) -> int:
        return int(policy.value(rule)) if rule in policy.rules else default

    roles = policy.value("auth.totp_roles") if "auth.totp_roles" in policy.rules else []
    return SignInPolicy(
        lockout_failures=number("auth.lockout_failures", 5),
        lockout_window=policy.duration("auth.lockout_window"),
        totp_roles=frozenset(str(r) for r in roles),
        access_ttl=policy.duration("auth.access_token_ttl"),
        refresh_ttl=policy.duration("auth.refresh_token_ttl"),
        link_ttl=policy.duration("auth.link_ttl"),
    )


def username_violations(username: str) -> list[Violation]:
    if USERNAME.match(username):
        return []
    return [
        Violation(
            "username",
            "account.username",
            f"{PLATFORM}: tên đăng nhập dễ đọc, dễ gõ",
            "Tên đăng nhập gồm 3-64 ký tự a-z, 0-9, dấu chấm, gạch ngang, gạch dưới; "
            "bắt đầu bằng chữ hoặc số.",
            "A username is 3-64 characters a-z, 0-9, '.', '-', '_', starting with a "
            "letter or digit.",
        )
    ]


def password_violations(
    password: str, username: str, common: Collection[str], field: str = "password"
) -> list[Violation]:
    """Why `password` may not be used (empty when it may)."""

    def broken(rule: str, vi: str, en: str) -> Violation:
        return Violation(field, f"password.{rule}", STRENGTH_SOURCE, vi, en)

    found = []
    if len(password) < MIN_PASSWORD:
        found.append(
            broken(
                "min_length",
                f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.",
                f"A password needs at least {MIN_PASSWORD} characters.",
            )
        )
    if username and username.lower() in password.lower():
        found.append(
            broken(
                "contains_username",
                "Mật khẩu không được chứa tên đăng nhập.",
                "A password may not contain the username.",
            )
        )
    if password.lower() in common:
        found.append(
            broken(
                "common",
                "Mật khẩu này quá phổ biến, dễ bị dò ra; hãy chọn mật khẩu khác.",
                "This password is too common to be safe; choose another.",
            )
        )
    return found


def role_violations(
    role: str,
    unit: str | None,
    endpoints: Sequence[str],
    units: Mapping[str, bool],
    known_endpoints: Mapping[str, bool],
) -> list[Violation]:
    """A registrar needs an active unit, a technician at least one active endpoint
    (`units` / `known_endpoints`: code -> active, for the codes that exist)."""

    def broken(field: str, rule: str, vi: str, en: str) -> Violation:
        return Violation(field, rule, ROLE_SOURCE, vi, en)

    found = []
    if role == "registrar" and not unit:
        found.append(
            broken(
                "unit",
                "account.registrar_unit",
                "Cán bộ đăng ký cần đơn vị.",
                "A registrar needs a unit.",
            )
        )
    elif unit and not units.get(unit):
        found.append(
            broken(
                "unit",
                "directory.unit_active",
                f"Đơn vị {unit} không có hoặc đã ngừng hoạt động.",
                f"Unit {unit} does not exist or is inactive.",
            )
        )
    if role == "technician" and not endpoints:
        found.append(
            broken(
                "endpoints",
                "account.technician_endpoints",
                "Cán bộ kỹ thuật cần ít nhất một điểm cầu.",
                "A technician needs at least one endpoint.",
            )
        )
    unknown = [code for code in endpoints if not known_endpoints.get(code)]
    if unknown:
        found.append(
            broken(
                "endpoints",
                "directory.endpoint_active",
                f"Điểm cầu không có hoặc đã ngừng hoạt động: {', '.join(unknown)}.",
                f"Unknown or inactive endpoints: {', '.join(unknown)}.",
            )
        )
    return found


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt for an account: when, and whether it succeeded."""

    at: datetime
    ok: bool


def locked_until(
    attempts: Sequence[Attempt], now: datetime, failures: int, window: timedelta
) -> datetime | None:
    """When the account may try again, if `failures` failed attempts since its last
    successful sign-in fall within `window` of one another and the last of them is
    recent; else None. A sliding window: the lock ends when the oldest of those
    failures leaves it."""
    last_ok = max((a.at for a in attempts if a.ok), default=None)
    failed = sorted(
        a.at
        for a in attempts
        if not a.ok and a.at > now - window and (last_ok is None or a.at > last_ok)
    )
    if len(failed) < failures:
        return None
    until = failed[-failures] + window
    return until if until > now else None


def retry_after(until: datetime, now: datetime) -> int:
    """Seconds to wait, rounded up, at least 1 (for a `Retry-After` header)."""
    return max(1, math.ceil((until - now).total_seconds()))


def must_enrol(role: str, has_totp: bool, policy: SignInPolicy) -> bool:
    """A role the province lists (`auth.totp_roles`) without TOTP yet: it signs in
    without a code and is told to enrol (or nobody could ever enrol); once enrolled,
    every sign-in needs a code."""
    return role in policy.totp_roles and not has_totp
