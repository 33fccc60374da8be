"""Inputs the API fuzzer (tests/test_api_fuzz.py) once answered with a server error: each
now gets a clear 4xx and changes nothing."""

from __future__ import annotations

from urllib.parse import quote

import pytest

pytestmark = pytest.mark.integration


async def test_an_acknowledgement_link_with_non_ascii_characters_is_a_404(notification) -> None:
    """Was 500: hmac.compare_digest raised TypeError on a str with non-ASCII characters."""
    h = await notification()
    for token in ("\x19.)¡ñèÓÅûÕ", "bm90aWNl.é", "é"):
        for method in ("GET", "POST"):
            response = await h.http.request(method, f"/ack/{quote(token)}")
            assert response.status_code == 404, (method, token, response.text)
            assert response.json()["code"] == "unknown_acknowledgement"
    assert await h.all_notices() == []
