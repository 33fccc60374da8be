"""Error bodies for people: Vietnamese by default, English on `Accept-Language: en`."""

from __future__ import annotations

from typing import Any

from fastapi import Request


def wants_english(request: Request | None) -> bool:
    if request is None:
        return False
    return request.headers.get("accept-language", "").lower().startswith("en")


def problem(request: Request | None, code: str, vi: str, en: str, **extra: Any) -> dict[str, Any]:
    """`{"code", "message", ...}` in the caller's language (the other language alongside)."""
    english = wants_english(request)
    return {
        "code": code,
        "message": en if english else vi,
        "message_vi": vi,
        "message_en": en,
        **extra,
    }
