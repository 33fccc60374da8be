"""What every browser test needs: Debian's Chromium (desktop or phone-sized), screenshots,
waits on conditions, signing in through the page, and axe-core's accessibility check.

axe-core comes from its npm package (`tests/axe/`, installed by `make browser`) and is
injected into the page under test; a page passes when axe finds no serious or critical
violation."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("HNTH_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "console"
AXE = ROOT / "tests" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = (1400, 1000)
PHONE = (390, 844)
"""A phone's CSS viewport (iPhone 12-15): the technician's pages are built for it first."""


def _system(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError(f"none of {names} is installed: run `make browser` (apt-get)")


@contextmanager
def chromium(size: tuple[int, int] = DESKTOP, *, mobile: bool = False) -> Iterator[WebDriver]:
    """Headless Chromium at `size`; `mobile`: emulates a phone (touch, its viewport, its
    user agent), as a technician's browser is."""
    options = webdriver.ChromeOptions()
    options.binary_location = _system("chromium", "chromium-browser")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=vi"):
        options.add_argument(argument)
    if mobile:
        metrics = {"width": size[0], "height": size[1], "pixelRatio": 2.0}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    else:
        options.add_argument(f"--window-size={size[0]},{size[1]}")
    driver = webdriver.Chrome(
        service=ChromeService(executable_path=_system("chromedriver")), options=options
    )
    driver.set_page_load_timeout(60)  # a loaded 2-core machine answers slowly
    # a find right after a click may run before the next page is in: look for up to 10 s
    driver.implicitly_wait(10)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: WebDriver, name: str, size: tuple[int, int] = DESKTOP) -> Path:
    """The whole page (not only the window) as test-artifacts/console/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(size[0], max(size[1], min(int(height) + 40, 4000)))
    assert driver.save_screenshot(str(path)), path
    driver.set_window_size(*size)
    return path


def wait(driver: WebDriver, condition: Callable[[WebDriver], object], timeout: float = 40) -> None:
    """After a click: the click returns once the request is sent, not once the next page
    has arrived (a loaded platform may take seconds to answer). An element found on the
    old page goes stale when the new one arrives: that is "not yet", so look again."""
    WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(
        condition
    )


def until(
    driver: WebDriver, url: str, condition: Callable[[WebDriver], bool], timeout: float = 60
) -> None:
    """Reload `url` until `condition` holds (the platform works asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        driver.get(url)
        if condition(driver):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} never showed what was expected")
        time.sleep(0.5)


def sign_in(driver: WebDriver, console_url: str, tenant: str, username: str, password: str) -> None:
    """Through the sign-in page, as a person does; back on the console's first page."""
    driver.get(f"{console_url}/signin")
    Select(driver.find_element(By.ID, "tenant")).select_by_value(tenant)
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()
    wait(driver, lambda d: "/signin" not in d.current_url or d.find_elements(By.ID, "error"))
    errors = driver.find_elements(By.ID, "error")
    assert "/signin" not in driver.current_url, errors[0].text if errors else driver.page_source


SERIOUS = ("serious", "critical")


def accessibility_violations(driver: WebDriver) -> list[dict[str, object]]:
    """axe-core's serious and critical violations on the page now shown (WCAG 2.1 A/AA)."""
    assert AXE.exists(), f"{AXE} is missing: run `make browser` (npm ci in tests/axe)"
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => done(r.violations)).catch(e => done([{id: 'axe-error', impact: 'critical',"
        " help: String(e), nodes: []}]));"
    )
    return [v for v in result if v.get("impact") in SERIOUS]


def assert_accessible(driver: WebDriver) -> None:
    """No serious or critical axe-core violation on the page now shown."""
    driver.set_script_timeout(60)
    found = accessibility_violations(driver)
    summary = [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v.get("help"),
            "where": [n.get("target") for n in v.get("nodes", [])][:5],  # type: ignore[union-attr]
        }
        for v in found
    ]
    assert not found, f"{driver.current_url}: " + json.dumps(summary, ensure_ascii=False, indent=1)
