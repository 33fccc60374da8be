"""Inputs the API fuzzer (tests/test_api_fuzz.py) once answered with a server error: each
now gets a clear 4xx and changes nothing."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/units/SYT", ("name", "kind", "active")),
        ("/endpoints/TQ-SYT", ("name", "unit", "kind", "active")),
    ],
)
async def test_a_null_for_a_required_directory_field_is_a_422_naming_it(
    registration, path, fields
) -> None:
    """Was 500: `{"active": null}` reached UnitUpdated/EndpointUpdated (ValidationError)."""
    auth = registration.headers()
    before = (await registration.http.get(path, headers=auth)).json()
    for field in fields:
        response = await registration.http.patch(path, json={field: None}, headers=auth)
        assert response.status_code == 422, (field, response.text)
        [error] = response.json()["errors"]
        assert error["field"] == field
        assert "null" in error["message"]
    assert (await registration.http.get(path, headers=auth)).json() == before


async def test_a_null_clears_an_optional_directory_field(registration) -> None:
    auth = registration.headers()
    unit = await registration.http.patch("/units/SYT", json={"contact": None}, headers=auth)
    assert unit.status_code == 200, unit.text
    assert unit.json().get("contact") is None
    cleared = {"location": None, "technician": None}
    endpoint = await registration.http.patch("/endpoints/TQ-SYT", json=cleared, headers=auth)
    assert endpoint.status_code == 200, endpoint.text
    assert endpoint.json().get("location") is None
    assert endpoint.json().get("technician") is None
