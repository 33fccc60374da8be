"""What people send to manage accounts and sign in (pydantic models, the shapes the
OpenAPI document shows). Rules needing the policy or the directory are the domain's."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from registration.commands import not_null

Role = Literal["registrar", "operator", "technician", "viewer"]
Language = Literal["vi", "en"]
Secret = Field(min_length=1, max_length=1024)


class AccountIn(BaseModel):
    """Tài khoản mới / a new account."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, description="Tên đăng nhập / username")
    display_name: str = Field(min_length=1, max_length=200, description="Họ tên / full name")
    role: Role
    unit: str | None = Field(None, max_length=64, description="Đơn vị (registrar) / unit")
    endpoints: list[str] = Field(
        default_factory=list, max_length=500, description="Điểm cầu (technician) / endpoints"
    )
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(None, max_length=32)
    password: str | None = Field(None, max_length=1024, description="Mật khẩu / password")
    language: Language = "vi"


class AccountPatch(BaseModel):
    """Thay đổi tài khoản / a change: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(None, min_length=1, max_length=200)
    role: Role | None = None
    unit: str | None = Field(None, max_length=64)
    endpoints: list[str] | None = Field(None, max_length=500)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(None, max_length=32)
    language: Language | None = None

    _not_null = field_validator("display_name", "role", "endpoints", "language")(not_null)


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(min_length=2, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    username: str = Field(min_length=1, max_length=64)
    password: str = Secret
    otp: str | None = Field(None, max_length=16)


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Secret


class SetPasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Secret
    password: str = Secret


class ChangePasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current: str = Secret
    new: str = Secret


class OtpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    otp: str = Field(min_length=6, max_length=16)
