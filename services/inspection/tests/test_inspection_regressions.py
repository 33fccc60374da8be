"""Inputs the API fuzzer (tests/test_api_fuzz.py) once answered with a server error: each
now gets a clear 4xx and changes nothing."""

from __future__ import annotations

import pytest
from inspection_samples import TENANT

from hnth_kit.auth import Role
from hnth_kit.testing import signed_token

pytestmark = pytest.mark.integration

OPERATOR = {"Authorization": f"Bearer {signed_token(role=Role.OPERATOR, tenant=TENANT)}"}
REPORT_ROUTES = (
    ("POST", "/reports/{}/compile"),
    ("GET", "/reports/{}"),
    ("GET", "/reports/{}.json"),
    ("GET", "/reports/{}.xlsx"),
    ("GET", "/reports/{}.docx"),
)


async def test_a_report_year_python_cannot_hold_is_a_422_naming_the_year(http) -> None:
    """Was 500: OverflowError / ValueError (year 1 starts in year 0 UTC; year 9999 ends in
    year 10000)."""
    for method, route in REPORT_ROUTES:
        for year in (0, 1, 9999, 10000, 99999999999999999999):
            response = await http.request(method, route.format(year), headers=OPERATOR)
            assert response.status_code == 422, (method, route, year, response.text)
            [error] = response.json()["errors"]
            assert error["field"] == "year"
            assert error["rule"].startswith("schema.")


async def test_the_first_and_last_years_python_can_hold_compile(http) -> None:
    for year in (2, 9998):
        response = await http.post(f"/reports/{year}/compile", headers=OPERATOR)
        assert response.status_code == 200, response.text
        assert response.json()["year"] == year
