"""The host unit's clerk in a real browser (desktop Chromium) against the real platform:
finds a free window for two endpoints and an hour, registers the meeting in it, waits
until it is scheduled on its page, uploads the minutes, then cancels it with a reason.
axe-core checks every page visited; screenshots `30-free-slot-finder`, `31-meeting-page`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from tests.browser_kit import assert_accessible, chromium, shot, sign_in, until, wait

pytestmark = pytest.mark.system
PASSWORD = "lich-hop-vp-ubnd-2026-tq"
ENDPOINTS = ("TQ-UBND", "TQ-STTTT")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


def _click(driver: WebDriver, element_id: str) -> None:
    element = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def test_a_clerk_finds_a_window_registers_uploads_the_minutes_and_cancels(
    browser, console_url, platform, tmp_path
) -> None:
    token = platform.token("--role", "operator", "--tenant", "tuyen-quang")
    body = {
        "username": "van-thu",
        "display_name": "Văn thư VP UBND",
        "role": "registrar",
        "unit": "VP-UBND",
        "password": PASSWORD,
    }
    with httpx.Client(timeout=20, headers={"Authorization": f"Bearer {token}"}) as http:
        made = http.post(f"{platform.urls['registration']}/accounts", json=body)
        assert made.status_code == 201, made.text

    sign_in(browser, console_url, "tuyen-quang", "van-thu", PASSWORD)
    browser.get(f"{console_url}/meetings/new")
    assert_accessible(browser)

    # the finder: two endpoints, one hour
    for code in ENDPOINTS:
        _click(browser, f"find-ep-{code}")
    Select(browser.find_element(By.ID, "find_minutes")).select_by_value("60")
    _click(browser, "find")
    wait(
        browser,
        lambda d: d.find_elements(By.ID, "windows-form") or d.find_elements(By.CLASS_NAME, "error"),
    )
    errors = [e.text for e in browser.find_elements(By.CLASS_NAME, "error")]
    assert not errors, errors
    first = browser.find_element(By.ID, "window-0")
    label = browser.find_element(By.CSS_SELECTOR, 'label[for="window-0"]').text
    assert "MCU" in label, label
    assert "00:00" not in label, label  # office hours (07:30-17:00) by default, not the night
    assert "UTC" not in browser.page_source
    picked = first.get_attribute("value")
    assert picked
    assert_accessible(browser)
    shot(browser, "30-free-slot-finder")

    # pick it: the registration form is filled with the window
    _click(browser, "window-0")
    _click(browser, "pick")
    wait(browser, lambda d: d.find_elements(By.ID, "picked"))
    assert browser.find_element(By.ID, "start").get_attribute("value") == picked
    for code in ENDPOINTS:
        assert browser.find_element(By.ID, f"ep-{code}").is_selected()
    # the list filters as one types, accents aside; the ticked endpoints stay in view
    browser.find_element(By.ID, "ep-filter").send_keys("son duong")

    def shown(code: str) -> bool:
        return browser.find_element(By.ID, f"ep-{code}").is_displayed()

    wait(browser, lambda d: not shown("TQ-SYT"))
    assert shown("TQ-H-SONDUONG")
    assert all(shown(code) for code in ENDPOINTS)
    browser.find_element(By.ID, "ep-filter").clear()
    browser.execute_script("document.getElementById('ep-filter').dispatchEvent(new Event('input'))")
    wait(browser, lambda d: shown("TQ-SYT"))
    assert_accessible(browser)
    browser.find_element(By.ID, "title").send_keys("Họp giao ban văn phòng")
    browser.find_element(By.ID, "chair").send_keys("Chánh Văn phòng")
    _click(browser, "register")
    wait(
        browser,
        lambda d: (
            not d.current_url.split("?")[0].endswith("/meetings/new")
            or d.find_elements(By.CSS_SELECTOR, "p.error")
        ),
    )
    assert "/meetings/new" not in browser.current_url, [
        e.text for e in browser.find_elements(By.CSS_SELECTOR, "p.error")
    ]
    meeting_url = browser.current_url.split("?")[0]

    # scheduled on its page, in words
    until(browser, meeting_url, lambda d: "status-scheduled" in d.page_source)
    assert "MCU" in browser.find_element(By.TAG_NAME, "main").text
    assert "{" not in browser.find_element(By.ID, "timeline").text  # no JSON
    assert_accessible(browser)
    shot(browser, "31-meeting-page")

    # the live part answers on its own
    browser.get(f"{meeting_url}/live")
    assert browser.find_elements(By.ID, "meeting-live")
    browser.get(meeting_url)

    # upload the minutes
    minutes = tmp_path / "bien-ban.pdf"
    minutes.write_bytes(PDF)
    Select(browser.find_element(By.ID, "material-kind")).select_by_value("minutes")
    browser.find_element(By.ID, "material-file").send_keys(str(minutes))
    _click(browser, "upload")
    wait(
        browser, lambda d: d.find_elements(By.ID, "done") or d.find_elements(By.ID, "upload-error")
    )
    assert not browser.find_elements(By.ID, "upload-error"), browser.find_element(
        By.ID, "upload-error"
    ).text
    assert "bien-ban.pdf" in browser.find_element(By.ID, "materials").text
    assert_accessible(browser)

    # cancel with a reason: refused without one, then cancelled
    browser.execute_script(
        "document.getElementById('cancel-reason-field').removeAttribute('required')"
    )
    _click(browser, "cancel")
    wait(browser, lambda d: d.find_elements(By.ID, "cancel-error"))
    # the reason is where the form is, and has the focus (not the page's top)
    wait(browser, lambda d: d.switch_to.active_element.get_attribute("id") == "cancel-error")
    assert_accessible(browser)
    browser.find_element(By.ID, "cancel-reason-field").send_keys("Lãnh đạo đi công tác đột xuất")
    _click(browser, "cancel")
    wait(browser, lambda d: d.find_elements(By.ID, "cancel-reason"))
    assert "Lãnh đạo đi công tác đột xuất" in browser.find_element(By.ID, "cancel-reason").text
    until(browser, meeting_url, lambda d: "status-cancelled" in d.page_source)
    assert not browser.find_elements(By.ID, "cancel-form")
    assert_accessible(browser)
