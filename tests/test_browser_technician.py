"""The endpoint technician's day in a real browser, on a phone-sized window (390x844,
touch, a phone's user agent), in front of the real platform: signs in, finds the meeting on
"Việc của tôi" with its check deadline counting down, signs off the five items with the
measured figures, sees the result at once, reports an incident; then the duty operator, on
a desktop, sees the check passed on the readiness board and the incident on /incidents.
axe-core checks every page visited."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser_kit import (
    PHONE,
    assert_accessible,
    chromium,
    shot,
    sign_in,
    until,
    wait,
)

pytestmark = pytest.mark.system
TENANT = "tuyen-quang"
PASSWORD = "so-tttt-tuyen-quang-2026"
ENDPOINT = "TQ-STTTT"
WHAT = "Mất tiếng micro chủ tọa"


def test_a_technician_signs_off_the_check_on_a_phone_and_the_operator_sees_it(
    console_url, platform
) -> None:
    token = platform.token("--role", "operator", "--tenant", TENANT)
    _account(platform, token, "truc-ban", "operator", "Trực ban Sở KH&CN")
    _account(platform, token, "ky-thuat", "technician", "Nguyễn Văn Kỹ", endpoints=[ENDPOINT])
    meeting_id = _meeting_soon(platform, token)

    with chromium(PHONE, mobile=True) as phone:
        sign_in(phone, console_url, TENANT, "ky-thuat", PASSWORD)
        wait(phone, lambda d: d.current_url.endswith("/my"))  # signed in, on to my work
        card = f'li[data-meeting="{meeting_id}"][data-endpoint="{ENDPOINT}"]'
        row = phone.find_element(By.CSS_SELECTOR, card)
        assert "chưa kiểm tra" in row.text
        assert "còn " in row.text  # the deadline counting down, in words
        assert "alarm-late" in (row.get_attribute("class") or "")  # 25 minutes: red
        _fits_the_phone(phone)
        assert_accessible(phone)
        _top(phone)
        shot(phone, "20-phone-my-work", PHONE)

        phone.find_element(By.ID, f"check-{meeting_id}-{ENDPOINT}").click()
        wait(phone, lambda d: d.find_elements(By.ID, "check-form"))
        for item in ("line", "audio", "video", "content", "power"):
            _tap(phone, phone.find_element(By.ID, f"{item}-yes"))
        phone.find_element(By.ID, "latency_ms").send_keys("38")
        phone.find_element(By.ID, "loss_pct").send_keys("0,5")
        _fits_the_phone(phone)
        assert_accessible(phone)
        _top(phone)
        shot(phone, "21-phone-check-form", PHONE)
        _tap(phone, phone.find_element(By.ID, "submit-check"))
        wait(phone, lambda d: d.find_elements(By.ID, "check-result"))
        result = phone.find_element(By.ID, "check-result").text
        assert "đạt" in result, result
        assert "đúng hạn" in result, result
        assert "38" in phone.find_element(By.ID, "recorded-items").text
        assert_accessible(phone)

        _tap(phone, phone.find_element(By.ID, "report-incident"))
        wait(phone, lambda d: d.find_elements(By.ID, "incident-form"))
        phone.find_element(By.ID, "what").send_keys(WHAT)
        _tap(phone, phone.find_element(By.ID, "severity-high"))
        _fits_the_phone(phone)
        assert_accessible(phone)
        _top(phone)
        shot(phone, "22-phone-incident", PHONE)
        _tap(phone, phone.find_element(By.ID, "submit-incident"))
        wait(phone, lambda d: "done=incident_reported" in d.current_url)
        assert phone.find_element(By.ID, "done").text == "Đã báo sự cố."
        assert WHAT in phone.find_element(By.ID, "my-incidents").text
        row = phone.find_element(By.CSS_SELECTOR, card)
        assert "đạt" in row.text
        assert_accessible(phone)

    with chromium() as desk:
        sign_in(desk, console_url, TENANT, "truc-ban", PASSWORD)

        def passed(driver: WebDriver) -> bool:
            """The endpoint's tile says its check passed, carries the serious incident
            reported from the phone since, and is red for it (not ready, whatever the
            check said)."""
            tiles = driver.find_elements(By.CSS_SELECTOR, f'[data-meeting="{meeting_id}"] .tile')
            return any(
                t.text.startswith(ENDPOINT)
                and "alarm-bad" in (t.get_attribute("class") or "")
                and "đạt" in t.text
                and WHAT in t.text
                for t in tiles
            )

        until(desk, f"{console_url}/board", passed)
        assert_accessible(desk)
        shot(desk, "23-board-check-and-incident")
        until(desk, f"{console_url}/incidents", lambda d: WHAT in d.page_source)
        opened = desk.find_element(By.ID, "open-incidents").text
        assert ENDPOINT in opened
        assert_accessible(desk)


def _top(driver: WebDriver) -> None:
    """The page from its top, for a phone's screenshot (its window does not grow)."""
    driver.execute_script("window.scrollTo(0, 0)")


def _tap(driver: WebDriver, element) -> None:  # type: ignore[no-untyped-def]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def _fits_the_phone(driver: WebDriver) -> None:
    """One column: nothing wider than the phone's screen (no sideways scrolling)."""
    wide = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, f"{driver.current_url} scrolls sideways by {wide}px"


def _account(platform, token: str, username: str, role: str, name: str, **extra: object) -> None:
    body = {"username": username, "display_name": name, "role": role, "password": PASSWORD}
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=20, headers=auth) as http:
        made = http.post(f"{platform.urls['registration']}/accounts", json={**body, **extra})
        assert made.status_code == 201, made.text


def _meeting_soon(platform, token: str) -> str:
    """A meeting in 85 minutes on the technician's endpoint: its check deadline (T-1h) is
    25 minutes away; its checklist open before the phone looks."""
    start = (datetime.now(UTC) + timedelta(minutes=85)).replace(second=0, microsecond=0)
    body = {
        "title": "Họp trực tuyến ứng phó mưa lũ",
        "host_unit": "VP-UBND",
        "chair": "Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "main_endpoint": "TQ-UBND",
        "endpoints": ["TQ-UBND", ENDPOINT],
        "urgent_reason": "Mưa lũ",
    }
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=10, headers=auth) as http:
        created = http.post(f"{platform.urls['registration']}/meetings", json=body)
        assert created.status_code == 201, created.text
        meeting_id = str(created.json()["id"])
        readiness = f"{platform.urls['inspection']}/meetings/{meeting_id}/readiness"
        deadline = time.monotonic() + 40
        while http.get(readiness).status_code != 200:
            assert time.monotonic() < deadline, "the checklist never opened"
            time.sleep(0.3)
    return meeting_id
