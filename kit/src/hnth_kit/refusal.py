"""The one way a use case says no, mapped to HTTP once (`install_http_guards`).

A use case raises `Refusal`; a route never builds an error body itself. Two shapes, the
same as the rest of the API:
- a problem: `{"code", "message", "message_vi", "message_en", ...extra}` with its status;
- broken rules: `{"errors": [{"field", "rule", "source", "message"}]}` (422, or 413/415
  for a file over a policy's limits), each naming the rule and where it comes from.
Event handlers catch the same type to dead-letter or ignore what they cannot apply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Violation:
    """A broken rule: which field, which rule, its source, and why, in both languages."""

    field: str
    rule: str
    source: str
    message_vi: str
    message_en: str

    def body(self, english: bool) -> dict[str, str]:
        """The `errors[]` entry in the caller's language."""
        return {
            "field": self.field,
            "rule": self.rule,
            "source": self.source,
            "message": self.message_en if english else self.message_vi,
        }


SCHEMA_SOURCE = "OpenAPI (/docs)"
"""Where a request's shape is defined: the service's OpenAPI document."""


def field_path(loc: Sequence[Any]) -> str:
    """A validation error's location as the field a person reads (`endpoints[0]`)."""
    path = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or str(loc[0] if loc else "body")


_DATE = ("Cần ngày dạng YYYY-MM-DD.", "A date as YYYY-MM-DD is expected.")
_DATETIME = (
    "Cần ngày giờ dạng ISO 8601, ví dụ 2026-12-15T08:00:00+07:00.",
    "A date and time in ISO 8601 is expected, e.g. 2026-12-15T08:00:00+07:00.",
)
_WHOLE = ("Cần một số nguyên.", "A whole number is expected.")
_YES_NO = ("Cần true hoặc false.", "true or false is expected.")
_ONE_OF = ("Phải là một trong: {expected}.", "Must be one of: {expected}.")
_OBJECT = ("Cần một đối tượng JSON.", "A JSON object is expected.")
SCHEMA_WORDS: dict[str, tuple[str, str]] = {
    "missing": ("Chưa có: trường này là bắt buộc.", "Missing: this field is required."),
    "string_too_short": ("Cần ít nhất {min_length} ký tự.", "At least {min_length} characters."),
    "string_too_long": ("Dài quá {max_length} ký tự.", "At most {max_length} characters."),
    "string_pattern_mismatch": ("Không đúng dạng quy định.", "Not in the expected form."),
    "string_type": ("Cần một đoạn chữ.", "Text is expected."),
    "int_parsing": _WHOLE,
    "int_type": _WHOLE,
    "int_from_float": _WHOLE,
    "float_parsing": ("Cần một số.", "A number is expected."),
    "bool_parsing": _YES_NO,
    "bool_type": _YES_NO,
    "date_parsing": _DATE,
    "date_type": _DATE,
    "date_from_datetime_parsing": _DATE,
    "datetime_parsing": _DATETIME,
    "datetime_type": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "timezone_aware": ("Cần ghi múi giờ, ví dụ +07:00.", "The time zone is needed, e.g. +07:00."),
    "enum": _ONE_OF,
    "literal_error": _ONE_OF,
    "extra_forbidden": (
        "Trường này không có trong mẫu yêu cầu (xem /docs).",
        "This field is not part of the request (see /docs).",
    ),
    "too_short": ("Cần ít nhất {min_length} mục.", "At least {min_length} items."),
    "too_long": ("Nhiều nhất {max_length} mục.", "At most {max_length} items."),
    "greater_than": ("Phải lớn hơn {gt}.", "Must be greater than {gt}."),
    "greater_than_equal": ("Phải từ {ge} trở lên.", "Must be at least {ge}."),
    "less_than": ("Phải nhỏ hơn {lt}.", "Must be less than {lt}."),
    "less_than_equal": ("Phải không quá {le}.", "Must be at most {le}."),
    "list_type": ("Cần một danh sách.", "A list is expected."),
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "json_invalid": ("Nội dung JSON không đọc được.", "The JSON does not parse."),
}
"""pydantic's error types in plain words, both languages (`{…}`: the error's context)."""


def schema_words(error: Mapping[str, Any]) -> tuple[str, str]:
    """A pydantic error in plain words (Vietnamese, English): the library's text only for a
    validator's own reason (ours) and error types without words here."""
    kind, message = str(error.get("type", "")), str(error.get("msg", "invalid"))
    if kind == "value_error":  # our validators' reasons: "Value error, <reason>"
        reason = message.removeprefix("Value error, ")
        return f"Giá trị không hợp lệ: {reason}", reason
    if kind not in SCHEMA_WORDS:  # a rarer check: its own words beat none
        return f"Giá trị không hợp lệ ({message}).", f"The value is not valid ({message})."
    vi, en = SCHEMA_WORDS[kind]
    context = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    # pydantic lists the choices in English ("'a', 'b' or 'c'")
    said = {k: v.replace("' or '", "' hoặc '") for k, v in context.items()}
    try:
        return vi.format(**said), en.format(**context)
    except (KeyError, IndexError):
        return vi.split("{")[0].rstrip(": ") + ".", en.split("{")[0].rstrip(": ") + "."


def schema_violations(errors: Sequence[Mapping[str, Any]]) -> list[Violation]:
    """pydantic's errors as broken rules: `schema.<type>` of the OpenAPI document, in
    plain words (the field is beside them)."""
    found = []
    for error in errors:
        vi, en = schema_words(error)
        found.append(
            Violation(
                field_path(tuple(error.get("loc", ()))),
                f"schema.{error.get('type', 'invalid')}",
                SCHEMA_SOURCE,
                vi,
                en,
            )
        )
    return found


class _Sourced(Protocol):
    def ref(self, rule: str) -> Any: ...


class Refusal(Exception):
    """A request refused: an HTTP status and a bilingual reason, or the rules it breaks."""

    def __init__(
        self,
        status: int,
        code: str,
        vi: str,
        en: str,
        *,
        violations: Sequence[Violation] = (),
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(en)
        self.status, self.code, self.vi, self.en = status, code, vi, en
        self.violations = tuple(violations)
        self.headers = dict(headers or {})
        self.extra = extra

    @classmethod
    def broken(cls, violations: Sequence[Violation], status: int = 422) -> Refusal:
        """The rules a request breaks (at least one)."""
        first = violations[0]
        return cls(status, first.rule, first.message_vi, first.message_en, violations=violations)

    @classmethod
    def rule(cls, policy: _Sourced, rule: str, field: str, vi: str, en: str) -> Refusal:
        """A 422 naming the field, the policy rule it breaks and the rule's source."""
        return cls.broken([Violation(field, rule, policy.ref(rule).source, vi, en)])

    @classmethod
    def not_found(cls, what_vi: str, what_en: str) -> Refusal:
        return cls(404, "not_found", f"Không tìm thấy {what_vi}.", f"No such {what_en}.")

    def body(self, english: bool) -> dict[str, Any]:
        """The response body in the caller's language (the other alongside for problems)."""
        if self.violations:
            return {"errors": [v.body(english) for v in self.violations]}
        return {
            "code": self.code,
            "message": self.en if english else self.vi,
            "message_vi": self.vi,
            "message_en": self.en,
            **self.extra,
        }
