"""The operator console in a real browser: Debian's Chromium driven by Selenium through
Debian's chromedriver (`make browser` installs both), in front of the real platform.
Signs in with the province, a username and a password (an account the ops command's token
made), registers a meeting through the page, watches it reach the readiness board (red:
its check deadline is near and nothing is in), creates an account on the accounts page,
and saves screenshots of the main pages under `test-artifacts/console/`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from tests.browser_kit import SHOTS, assert_accessible, chromium
from tests.browser_kit import shot as _shot
from tests.browser_kit import until as _until
from tests.browser_kit import wait as _wait

pytestmark = pytest.mark.system
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "so-tttt-tuyen-quang-2026"


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


def test_operator_registers_a_meeting_and_watches_it_on_the_board(
    browser, console_url, platform
) -> None:
    # the ops command's token makes the first account; the browser only knows its password
    token = platform.token("--role", "operator", "--tenant", "tuyen-quang")
    _make_operator(platform, token)
    _prepare_tomorrow(platform, token)

    browser.get(f"{console_url}/board")
    assert "/signin" in browser.current_url  # not signed in yet
    Select(browser.find_element(By.ID, "tenant")).select_by_value("tuyen-quang")
    browser.find_element(By.ID, "username").send_keys("truc-ban")
    browser.find_element(By.ID, "password").send_keys("not-the-password")
    browser.find_element(By.ID, "login").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "error"))
    assert "không đúng" in browser.find_element(By.ID, "error").text
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    assert_accessible(browser)
    _shot(browser, "01-signin")
    browser.find_element(By.ID, "login").click()
    _wait(
        browser,
        lambda d: d.current_url.endswith("/board") and d.find_elements(By.ID, "nav-new_meeting"),
    )

    # a meeting in 85 minutes: its check deadline (T-1h) is 25 minutes away
    start = (datetime.now(UTC) + timedelta(minutes=85)).astimezone(ZONE)
    browser.find_element(By.ID, "nav-new_meeting").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "title"))
    browser.find_element(By.ID, "title").send_keys("Họp khẩn phòng chống lụt bão")
    browser.find_element(By.ID, "chair").send_keys("Chủ tịch UBND tỉnh")
    browser.find_element(By.ID, "start").send_keys(start.strftime("%Y-%m-%d %H:%M"))
    browser.find_element(By.ID, "urgent_reason").send_keys("Bão số 3 đổ bộ")
    # the IT department has no room of its own: it names the host and its room
    Select(browser.find_element(By.ID, "host_unit")).select_by_value("VP-UBND")
    Select(browser.find_element(By.ID, "main_endpoint")).select_by_value("TQ-UBND")
    for code in ("TQ-STTTT", "TQ-H-SONDUONG"):
        box = browser.find_element(By.ID, f"ep-{code}")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        box.click()
    assert_accessible(browser)
    _shot(browser, "02-register-meeting")
    browser.find_element(By.ID, "register").click()
    _wait(
        browser,
        lambda d: (
            not d.current_url.endswith("/meetings/new") or d.find_elements(By.CLASS_NAME, "error")
        ),
    )
    meeting_url = browser.current_url.split("?")[0]  # ?done=registered_ok
    # the errors only on a refused form (a look for them on the meeting page waits 10 s)
    errors = (
        [e.text for e in browser.find_elements(By.CLASS_NAME, "error")]
        if meeting_url.endswith("/meetings/new")
        else []
    )
    meeting_id = meeting_url.rsplit("/", 1)[1]
    assert "/meetings/" in meeting_url
    assert meeting_id != "new", errors

    _until(browser, meeting_url, lambda d: "MCU-TQ" in d.page_source)
    assert browser.find_element(By.ID, "meeting-title").text == "Họp khẩn phòng chống lụt bão"

    def on_board(driver: WebDriver) -> bool:
        rows = driver.find_elements(By.CSS_SELECTOR, f'[data-meeting="{meeting_id}"] .tile')
        return len(rows) == 3

    _until(browser, f"{console_url}/board", on_board)
    # the rows come again by htmx, not by a full-page reload; the console for a browser does
    # not poll under the reads below (conftest: every 300 s)
    live = browser.find_element(By.ID, "board-live")
    # and not while the keyboard's focus is in them (a swap would drop it)
    trigger = live.get_attribute("hx-trigger")
    assert trigger == "every 300s [!this.contains(document.activeElement)]"
    assert 'http-equiv="refresh"' not in browser.page_source
    assert browser.execute_script("return typeof htmx") == "object"  # served by the console
    tiles = browser.find_elements(By.CSS_SELECTOR, f'[data-meeting="{meeting_id}"] .tile')
    assert {t.get_attribute("class") for t in tiles} == {"tile alarm-late"}  # red: nothing in
    row = browser.find_element(By.CSS_SELECTOR, f'section[data-meeting="{meeting_id}"]')
    assert "alarm-late" in (row.get_attribute("class") or "")
    assert_accessible(browser)
    _shot(browser, "03-readiness-board")

    browser.get(meeting_url)
    assert_accessible(browser)
    _shot(browser, "04-meeting-detail")
    browser.get(f"{console_url}/schedule?day={start.date().isoformat()}")
    assert meeting_id in browser.page_source
    assert_accessible(browser)
    _shot(browser, "05-schedule-week")
    browser.get(f"{console_url}/reports")
    assert browser.find_element(By.ID, "compliance").is_displayed()
    assert_accessible(browser)
    _shot(browser, "06-reports")
    browser.get(f"{console_url}/incidents")
    assert_accessible(browser)
    _shot(browser, "07-incidents")
    browser.get(f"{console_url}/notices")
    assert_accessible(browser)
    _shot(browser, "08-notices")
    browser.get(f"{console_url}/dead-letters")
    assert_accessible(browser)
    _shot(browser, "09-dead-letters")

    browser.get(f"{console_url}/accounts")
    for field, value in (
        ("new-username", "le.thi.b"),
        ("new-display_name", "Lê Thị B"),
        ("new-email", "le.thi.b@tuyenquang.gov.vn"),
    ):
        browser.find_element(By.ID, field).send_keys(value)
    Select(browser.find_element(By.ID, "new-role")).select_by_value("registrar")
    Select(browser.find_element(By.ID, "new-unit")).select_by_value("VP-UBND")
    browser.find_element(By.ID, "create-account").click()
    _wait(
        browser, lambda d: d.find_elements(By.ID, "done") or d.find_elements(By.CLASS_NAME, "error")
    )
    assert browser.find_elements(By.ID, "account-le.thi.b"), browser.page_source[:3000]
    assert_accessible(browser)
    _shot(browser, "11-accounts")
    browser.get(f"{console_url}/audit")
    assert browser.find_elements(By.CSS_SELECTOR, "tr.audit-login")
    assert_accessible(browser)
    _shot(browser, "12-audit")

    browser.get(f"{console_url}/board")
    browser.find_element(By.ID, "lang-en").click()
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text.startswith("Readiness board"))
    assert_accessible(browser)
    _shot(browser, "10-readiness-board-en")
    for name in ("01-signin", "03-readiness-board", "10-readiness-board-en", "11-accounts"):
        assert (SHOTS / f"{name}.png").stat().st_size > 5_000

    browser.find_element(By.ID, "signout").click()
    _wait(browser, lambda d: "/signin" in d.current_url)
    browser.get(f"{console_url}/board")
    assert "/signin" in browser.current_url  # the session is over


def _make_operator(platform, token: str) -> None:
    """The duty operator's account (with a password), made with the ops command's token."""
    body = {
        "username": "truc-ban",
        "display_name": "Trực ban Sở KH&CN",
        "role": "operator",
        "password": PASSWORD,
    }
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=20, headers=auth) as http:
        made = http.post(f"{platform.urls['registration']}/accounts", json=body)
        assert made.status_code == 201, made.text


def _prepare_tomorrow(platform, token: str) -> None:
    """Another meeting tomorrow, one endpoint of it already checked: the board then shows
    green, grey and red side by side."""
    auth = {"Authorization": f"Bearer {token}"}
    start = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    body = {
        "title": "Giao ban công tác chuyển đổi số",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "main_endpoint": "TQ-UBND",
        "endpoints": ["TQ-UBND", "TQ-STTTT", "TQ-H-YENSON"],
        "urgent_reason": "Chỉ đạo của tỉnh",
    }
    with httpx.Client(timeout=10, headers=auth) as http:
        created = http.post(f"{platform.urls['registration']}/meetings", json=body)
        assert created.status_code == 201, created.text
        meeting_id = created.json()["id"]
        readiness = f"{platform.urls['inspection']}/meetings/{meeting_id}/readiness"
        deadline = time.monotonic() + 40
        while http.get(readiness).status_code != 200:
            assert time.monotonic() < deadline, "the checklist never opened"
            time.sleep(0.3)
        items = {k: {"ok": True} for k in ("line", "audio", "video", "content", "power")}
        checked = http.post(
            f"{platform.urls['inspection']}/meetings/{meeting_id}/checks/TQ-UBND",
            json={"items": items},
        )
        assert checked.status_code == 201, checked.text
