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


def schema_violations(errors: Sequence[Mapping[str, Any]]) -> list[Violation]:
    """pydantic's errors as broken rules: `schema.<type>` of the OpenAPI document."""
    found = []
    for error in errors:
        field = field_path(tuple(error.get("loc", ())))
        message = str(error.get("msg", "invalid"))
        found.append(
            Violation(
                field,
                f"schema.{error.get('type', 'invalid')}",
                SCHEMA_SOURCE,
                f"Trường '{field}' không hợp lệ: {message}",
                message,
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
