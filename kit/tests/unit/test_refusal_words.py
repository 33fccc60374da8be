"""A request's broken shape read as plain words in both languages, the field beside them:
never pydantic's English inside a Vietnamese sentence."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, ValidationError, field_validator

from hnth_kit.refusal import schema_violations


class Account(BaseModel):
    username: str = Field(min_length=3)
    display_name: str = Field(max_length=5)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    start: datetime
    count: int
    language: str = "vi"

    @field_validator("language")
    @classmethod
    def known(cls, value: str) -> str:
        if value not in ("vi", "en"):
            raise ValueError("vi or en")
        return value


def words(**fields: object) -> dict[str, tuple[str, str, str]]:
    try:
        Account.model_validate(fields)
    except ValidationError as invalid:
        found = schema_violations(invalid.errors(include_url=False))
        return {v.field: (v.rule, v.message_vi, v.message_en) for v in found}
    raise AssertionError("valid")


def test_each_broken_field_reads_as_words_with_its_rule() -> None:
    found = words(
        username="ab",
        display_name="Nguyễn Văn A",
        email="a@",
        start="tomorrow",
        count="two",
        language="fr",
    )
    assert found == {
        "username": ("schema.string_too_short", "Cần ít nhất 3 ký tự.", "At least 3 characters."),
        "display_name": ("schema.string_too_long", "Dài quá 5 ký tự.", "At most 5 characters."),
        "email": (
            "schema.string_pattern_mismatch",
            "Không đúng dạng quy định.",
            "Not in the expected form.",
        ),
        "start": (
            "schema.datetime_from_date_parsing",
            "Cần ngày giờ dạng ISO 8601, ví dụ 2026-12-15T08:00:00+07:00.",
            "A date and time in ISO 8601 is expected, e.g. 2026-12-15T08:00:00+07:00.",
        ),
        "count": ("schema.int_parsing", "Cần một số nguyên.", "A whole number is expected."),
        "language": ("schema.value_error", "Giá trị không hợp lệ: vi or en", "vi or en"),
    }


def test_a_missing_field_says_it_is_required() -> None:
    found = words(username="abc", display_name="A", email="a@b", start="2026-12-15T08:00:00Z")
    assert found == {
        "count": (
            "schema.missing",
            "Chưa có: trường này là bắt buộc.",
            "Missing: this field is required.",
        )
    }


def test_the_choices_of_a_set_read_in_the_readers_language() -> None:
    from typing import Literal

    class Asked(BaseModel):
        status: Literal["held", "scheduled", "rejected"]

    try:
        Asked.model_validate({"status": "helt"})
    except ValidationError as exc:
        [broken] = schema_violations(exc.errors())
    assert broken.message_vi == "Phải là một trong: 'held', 'scheduled' hoặc 'rejected'."
    assert broken.message_en == "Must be one of: 'held', 'scheduled' or 'rejected'."
