"""A query parameter an operation does not take is refused with a 422 naming it, in the
caller's language; the declared ones (aliases included) pass."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Query

from hnth_kit.http import LENIENT, install_http_guards, refuse_unknown_query


def app() -> FastAPI:
    api = FastAPI(dependencies=[Depends(refuse_unknown_query)])
    install_http_guards(api)

    @api.get("/meetings")
    async def meetings(
        status: str | None = None,
        start_from: Annotated[str | None, Query(alias="from")] = None,
    ) -> dict[str, str | None]:
        return {"status": status, "from": start_from}

    @api.get("/ack/{token}", openapi_extra={LENIENT: True})
    async def ack(token: str) -> dict[str, str]:
        return {"token": token}

    return api


async def test_an_unknown_parameter_is_named_and_the_known_ones_pass() -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        ok = await http.get("/meetings", params={"status": "held", "from": "2026-12-01"})
        assert ok.status_code == 200
        assert ok.json() == {"status": "held", "from": "2026-12-01"}
        typo = await http.get("/meetings", params={"stauts": "held"})
        assert typo.status_code == 422
        [error] = typo.json()["errors"]
        assert error["field"] == "stauts"
        assert error["rule"] == "schema.unknown_parameter"
        assert "from, status" in error["message"]
        english = await http.get(
            "/meetings", params={"stauts": "held"}, headers={"Accept-Language": "en"}
        )
        assert english.json()["errors"][0]["message"].startswith("There is no parameter 'stauts'")
        # a link in an e-mail takes whatever a mail gateway added to it
        followed = await http.get("/ack/t0k", params={"utm_source": "gateway"})
        assert followed.status_code == 200
