"""Signing in to the console with the province's account against a REAL OpenID provider
(zitadel/oidc, started here with the console's callback as its redirect URI) and a real
registration (in-process, on the real Kafka and FerretDB): the console's redirect, the
provider's login form filled in as a browser would, the callback, and the session open;
a person registration does not know reads so in plain words."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from console_fakes import csrf_of
from fastapi import FastAPI
from pydantic import SecretStr
from registration_samples import TENANT, running
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait

from hnth_console.app import build as build_console
from hnth_console.backends import Backends
from hnth_console.settings import ConsoleSettings
from hnth_console.sso import Sso, secret_name
from hnth_kit.settings import REPO_ROOT
from infra import stack

pytestmark = pytest.mark.integration

AN = stack.OidcUser("u-an", "an.nguyen", secrets.token_urlsafe(12), "an.nguyen@tuyenquang.gov.vn")
STRANGER = stack.OidcUser("u-x", "stranger", secrets.token_urlsafe(12), "stranger@example.org")


@pytest.fixture(scope="module")
def console_port() -> int:
    return stack.free_port()


@pytest.fixture(scope="module")
def provider(tmp_path_factory, console_port) -> Iterator[stack.OidcProvider]:
    callback = f"http://127.0.0.1:{console_port}/signin/sso/callback"
    try:
        started = stack.start_oidc_provider(
            tmp_path_factory.mktemp("oidc"), [AN, STRANGER], [callback]
        )
    except stack.StackError as exc:
        pytest.fail(f"cannot start the OpenID provider: {exc}", pytrace=False)
    try:
        yield started
    finally:
        started.stop()


def data_dir(tmp: Path, provider: stack.OidcProvider) -> Path:
    document = yaml.safe_load((REPO_ROOT / "data" / f"{TENANT}.yaml").read_text("utf-8"))
    document["sso"] = {"issuer": provider.issuer, "client_id": provider.client_id}
    (tmp / f"{TENANT}.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    return tmp


@contextlib.asynccontextmanager
async def console_and_registration(
    infra: Any, unique: str, tmp: Path, provider: stack.OidcProvider, port: int
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]]:
    """The console (in-process, as reached on 127.0.0.1:`port`) in front of registration,
    which knows the account `an.nv` with AN's e-mail address."""
    console_settings = ConsoleSettings(console_session_secret=SecretStr("integration-secret"))
    console = build_console(console_settings)
    console.state.sso = Sso({secret_name(TENANT): provider.client_secret})
    async with running(infra, unique, directory_dir=data_dir(tmp, provider)) as registration:
        registration.clock.set(datetime.now(UTC))  # the provider's tokens carry real times
        to_registration = httpx.ASGITransport(app=registration.service.api)
        console.state.backends = Backends(console_settings, transport=to_registration)
        made = await registration.http.post(
            "/accounts",
            json={"username": "an.nv", "display_name": "Nguyễn Văn An", "role": "viewer",
                  "email": AN.email},
            headers=registration.headers("operator"),
        )  # fmt: skip
        assert made.status_code == 201, made.text
        reached = f"http://127.0.0.1:{port}"
        browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=console), base_url=reached)
        async with browser:
            yield browser, registration.http, console
        await console.state.backends.close()


async def at_the_provider(
    provider: stack.OidcProvider, authorize: str, person: stack.OidcUser
) -> str:
    """The person signs in on the provider's login form: the console URL it sends them to."""
    async with httpx.AsyncClient(base_url=provider.issuer, timeout=10) as browser:
        page = await browser.get(authorize, follow_redirects=True)
        page.raise_for_status()
        found = re.search(r'name="id"\s+value="([^"]*)"', page.text)
        assert found, page.text[:2000]
        form = {"id": found.group(1), "username": person.username, "password": person.password}
        answer = await browser.post("/login/username", data=form)
        assert answer.is_redirect, answer.text[:2000]
        location = answer.headers["location"]
        while not location.startswith(provider.redirect_uris[0]):  # the provider's own hops
            location = (await browser.get(location)).headers["location"]
    return location


async def test_a_person_signs_in_to_the_console_with_the_province_s_account(
    infra, unique, tmp_path, provider, console_port
) -> None:
    started = console_and_registration(infra, unique, tmp_path, provider, console_port)
    async with started as (console, api, _):
        listed = await api.get("/auth/sso/providers", params={"tenant": TENANT})
        assert listed.json() == [
            {"tenant": TENANT, "issuer": provider.issuer, "client_id": provider.client_id}
        ]
        page = await console.get("/signin")
        assert f'id="sso-{TENANT}"' in page.text
        off = await console.get(f"/signin/sso/{TENANT}", params={"next": "/account"})
        assert off.status_code == 303, off.text
        assert off.headers["location"].startswith(provider.issuer)
        back = await at_the_provider(provider, off.headers["location"], AN)
        signed = await console.get(back)
        assert (signed.status_code, signed.headers.get("location")) == (303, "/account")
        mine = await console.get("/account")
        assert mine.status_code == 200
        assert "an.nv" in mine.text
        signed_out = await console.post("/signout", data={"csrf": csrf_of(mine)})
        assert signed_out.status_code == 303

        off = await console.get(f"/signin/sso/{TENANT}")
        refused = await console.get(
            await at_the_provider(provider, off.headers["location"], STRANGER)
        )
        assert refused.status_code == 403
        assert "chưa gắn với tài khoản HNTH Ops" in refused.text
        assert (await console.get("/account")).status_code == 303  # nobody signed in


def _signs_in_with_chromium(console: str, person: stack.OidcUser) -> str:
    """Debian's Chromium: the sign-in page's button, the provider's form, back signed in;
    the account page's text."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=vi"):
        options.add_argument(argument)
    service = ChromeService(executable_path=shutil.which("chromedriver") or "chromedriver")
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    try:
        driver.get(f"{console}/account")
        assert "/signin" in driver.current_url  # not signed in yet
        driver.find_element(By.ID, f"sso-{TENANT}").click()
        wait = WebDriverWait(driver, 40)
        wait.until(lambda d: d.find_elements(By.ID, "username"))
        driver.find_element(By.ID, "username").send_keys(person.username)
        driver.find_element(By.ID, "password").send_keys(person.password, Keys.RETURN)
        wait.until(lambda d: d.current_url == f"{console}/account")
        return str(driver.find_element(By.TAG_NAME, "body").text)
    finally:
        driver.quit()


async def test_in_a_browser_the_province_s_account_signs_in(
    infra, unique, tmp_path, provider, console_port
) -> None:
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.fail("Chromium is not installed: run `make browser` (apt-get)", pytrace=False)
    started = console_and_registration(infra, unique, tmp_path, provider, console_port)
    async with started as (_, _, app):
        config = uvicorn.Config(
            app, host="127.0.0.1", port=console_port, lifespan="off", log_level="warning"
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                assert not serving.done(), serving.exception()
                await asyncio.sleep(0.05)
            url = f"http://127.0.0.1:{console_port}"
            shown = await asyncio.to_thread(_signs_in_with_chromium, url, AN)
        finally:
            server.should_exit = True
            await serving
        assert "an.nv" in shown
