"""The public half of the keys that sign access tokens: every service verifies with it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from registration.http.deps import state

router = APIRouter(tags=["sign-in"])


@router.get(
    "/.well-known/jwks.json",
    summary="Khóa công khai xác minh mã truy cập / the public keys that verify access tokens",
)
async def jwks(request: Request, response: Response) -> dict[str, Any]:
    """Public (no token): the JSON Web Key Set of RFC 7517. After a rotation the new key
    signs and the older ones stay listed until their tokens have expired."""
    response.headers["Cache-Control"] = "public, max-age=60"
    return state(request).keys().public()
