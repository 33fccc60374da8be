"""What people send to manage accounts and sign in (pydantic models, the shapes the
OpenAPI document shows). Rules needing the policy or the directory are the domain's."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from registration.commands import not_null

Role = Literal["registrar", "operator", "technician", "viewer"]
Language = Literal["vi", "en"]
ROLE = f"Vai trò / role: {', '.join(get_args(Role))}"
EMAIL = r"^[^@\s]+@[^@\s]+$"


def secret(description: str) -> Any:
    """A password or token field: 1-1024 characters, described in both languages."""
    return Field(min_length=1, max_length=1024, description=description)


class AccountIn(BaseModel):
    """Tài khoản mới / a new account."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, description="Tên đăng nhập / username")
    display_name: str = Field(min_length=1, max_length=200, description="Họ tên / full name")
    role: Role = Field(description=ROLE)
    unit: str | None = Field(None, max_length=64, description="Đơn vị (registrar) / unit")
    endpoints: list[str] = Field(
        default_factory=list, max_length=500, description="Điểm cầu (technician) / endpoints"
    )
    email: str | None = Field(
        None,
        max_length=254,
        pattern=EMAIL,
        description="Thư điện tử, nhận liên kết đặt mật khẩu / e-mail, gets the set-password link",
    )
    phone: str | None = Field(None, max_length=32, description="Điện thoại / phone")
    password: str | None = Field(
        None,
        max_length=1024,
        description="Mật khẩu; bỏ trống thì gửi liên kết / password; none: a link is mailed",
    )
    language: Language = Field("vi", description="Ngôn ngữ thư gửi / language of mail: vi, en")


class AccountPatch(BaseModel):
    """Thay đổi tài khoản / a change: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(
        None, min_length=1, max_length=200, description="Họ tên / full name"
    )
    role: Role | None = Field(None, description=ROLE)
    unit: str | None = Field(None, max_length=64, description="Đơn vị (registrar) / unit")
    endpoints: list[str] | None = Field(
        None, max_length=500, description="Điểm cầu (technician) / endpoints"
    )
    email: str | None = Field(
        None, max_length=254, pattern=EMAIL, description="Thư điện tử / e-mail"
    )
    phone: str | None = Field(None, max_length=32, description="Điện thoại / phone")
    language: Language | None = Field(
        None, description="Ngôn ngữ thư gửi / language of mail: vi, en"
    )

    _not_null = field_validator("display_name", "role", "endpoints", "language")(not_null)


class LoginIn(BaseModel):
    """Đăng nhập / sign in."""

    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(
        min_length=2,
        max_length=32,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Tỉnh (vd. tuyen-quang) / province, e.g. tuyen-quang",
    )
    username: str = Field(min_length=1, max_length=64, description="Tên đăng nhập / username")
    password: str = secret("Mật khẩu / password")
    otp: str | None = Field(
        None,
        max_length=16,
        description="Mã TOTP nếu đã đăng ký / the TOTP code, once enrolled",
    )


class RefreshIn(BaseModel):
    """Mã làm mới / a refresh token."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: str = secret("Mã làm mới, dùng một lần / refresh token, used once")


class PasswordSetOut(BaseModel):
    """Tài khoản vừa đặt mật khẩu / whose password was set: a sign-in form fills them in."""

    tenant: str = Field(description="Tỉnh / province")
    username: str = Field(description="Tên đăng nhập / username")


class SetPasswordIn(BaseModel):
    """Đặt mật khẩu bằng liên kết / set a password through the mailed link."""

    model_config = ConfigDict(extra="forbid")

    token: str = secret("Mã trong liên kết / the token in the link")
    password: str = secret("Mật khẩu mới / new password")


class SetPasswordLinkIn(BaseModel):
    """Liên kết đặt mật khẩu còn dùng được không / is a set-password link still good."""

    model_config = ConfigDict(extra="forbid")

    token: str = secret("Mã trong liên kết / the token in the link")


class ChangePasswordIn(BaseModel):
    """Đổi mật khẩu / change my password."""

    model_config = ConfigDict(extra="forbid")

    current: str = secret("Mật khẩu hiện tại / current password")
    new: str = secret("Mật khẩu mới / new password")


class OtpIn(BaseModel):
    """Một mã TOTP / a TOTP code."""

    model_config = ConfigDict(extra="forbid")

    otp: str = Field(
        min_length=6, max_length=16, description="Mã đang hiện trong ứng dụng / the app's code"
    )
