"""The IT department's duty officer in a real browser (Debian's Chromium) in front of the
real platform: the schedule as a calendar (a week by endpoint, a day by bridge, the
prepared meeting a block in both), then the directory, where an endpoint gets a new
technician; the next meeting of that endpoint notifies the new technician's address.
axe-core checks every page visited; screenshots 40-calendar-week, 41-calendar-day,
42-directory under test-artifacts/console/."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser_kit import DESKTOP, PHONE, assert_accessible, chromium, shot, sign_in, wait

pytestmark = pytest.mark.system
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "truc-ban-so-tttt-2026"
ENDPOINT = "TQ-H-SONDUONG"
NEW_TECHNICIAN = ("Hà Thị Thu Trang", "ha.thu.trang@tuyenquang.gov.vn")


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


def test_the_duty_officer_reads_the_calendar_and_changes_a_technician(
    browser, console_url, platform
) -> None:
    token = platform.token("--role", "operator", "--tenant", "tuyen-quang")
    api = Api(platform, token)
    api.post("registration", "/accounts", _operator())
    start = (datetime.now(UTC) + timedelta(days=1)).astimezone(ZONE)
    start = start.replace(hour=9, minute=0, second=0, microsecond=0)
    meeting_id = api.register("Giao ban trực tuyến quý IV", start, ["TQ-UBND", ENDPOINT])
    api.until(
        lambda: api.get("registration", f"/meetings/{meeting_id}"),
        lambda m: m.get("status") == "scheduled",
    )
    day = start.date().isoformat()

    sign_in(browser, console_url, "tuyen-quang", "truc-ban-2", PASSWORD)
    browser.find_element(By.ID, "nav-calendar").click()
    wait(browser, lambda d: d.find_elements(By.ID, "calendar"))
    # the week holding the meeting, a row per endpoint: a block on each of its endpoints
    browser.get(f"{console_url}/calendar?view=week&rows=endpoint&day={day}")
    blocks = browser.find_elements(By.CSS_SELECTOR, f'a.cal-block[data-meeting="{meeting_id}"]')
    assert len(blocks) == 2
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-row="{ENDPOINT}"]')
    block = row.find_element(By.CSS_SELECTOR, f'a.cal-block[data-meeting="{meeting_id}"]')
    assert "09:00–11:00" in (block.get_attribute("textContent") or "")
    assert "Giao ban trực tuyến quý IV" in (block.get_attribute("textContent") or "")
    assert_accessible(browser)
    shot(browser, "40-calendar-week")

    # on a phone's width the page keeps its width: the days scroll inside the table's box
    # under the endpoints' names, which stay in view, and the list is offered
    browser.set_window_size(*PHONE)
    try:
        wait(browser, lambda d: d.find_element(By.ID, "cal-narrow").is_displayed())
        wider = "return document.documentElement.scrollWidth - window.innerWidth"
        assert browser.execute_script(wider) <= 0
        browser.execute_script("document.querySelector('.cal-scroll').scrollLeft = 500")
        name = browser.find_element(By.CSS_SELECTOR, f'tr[data-row="{ENDPOINT}"] th')
        box = browser.find_element(By.CSS_SELECTOR, ".cal-scroll")
        assert abs(name.rect["x"] - box.rect["x"]) <= 2, (name.rect, box.rect)
        shot(browser, "40b-calendar-week-phone", PHONE)
    finally:
        browser.set_window_size(*DESKTOP)

    # the day, a row per bridge: the meeting on the province's MCU, reached by keyboard
    browser.find_element(By.ID, "cal-by-bridge").click()
    wait(browser, lambda d: "rows=bridge" in d.current_url)
    browser.find_element(
        By.CSS_SELECTOR, f'a[href="/calendar?view=day&rows=bridge&day={day}"]'
    ).click()  # the day's heading in the week
    wait(browser, lambda d: "view=day" in d.current_url)
    on_mcu = browser.find_element(
        By.CSS_SELECTOR, f'tr[data-row="MCU-TQ"] a.cal-block[data-meeting="{meeting_id}"]'
    )
    assert float(on_mcu.value_of_css_property("width").removesuffix("px")) > 40
    browser.find_element(By.ID, "cal-list").send_keys(Keys.TAB)  # the next stop: a block
    focused = browser.switch_to.active_element
    assert focused.get_attribute("data-meeting") == meeting_id
    assert_accessible(browser)
    shot(browser, "41-calendar-day")
    focused.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.current_url.endswith(f"/meetings/{meeting_id}"))

    # the directory: the endpoint gets a new technician
    browser.find_element(By.ID, "nav-directory").click()
    wait(browser, lambda d: d.find_elements(By.ID, f"endpoint-{ENDPOINT}"))
    old_email = _cell(browser, "tech-email")
    assert old_email
    assert old_email != NEW_TECHNICIAN[1]
    assert_accessible(browser)
    shot(browser, "42-directory")
    # on a phone the directory's and the reports' pages keep its width: a wide table
    # scrolls in its own box, a compliance bar's label goes above it
    browser.set_window_size(*PHONE)
    try:
        for path in ("/directory", "/reports", "/dead-letters"):
            browser.get(f"{console_url}{path}")
            wait(browser, lambda d: d.find_elements(By.TAG_NAME, "h1"))
            wider = "return document.documentElement.scrollWidth - window.innerWidth"
            assert browser.execute_script(wider) <= 0, path
    finally:
        browser.set_window_size(*DESKTOP)
    browser.get(f"{console_url}/directory")
    wait(browser, lambda d: d.find_elements(By.ID, f"endpoint-{ENDPOINT}"))
    directory_events = asyncio.run(platform.directory_end())
    browser.find_element(By.ID, f"edit-{ENDPOINT}").click()
    wait(browser, lambda d: d.find_elements(By.ID, "technician-email"))
    assert_accessible(browser)
    for field, value in zip(("technician-name", "technician-email"), NEW_TECHNICIAN, strict=True):
        box = browser.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    browser.find_element(By.ID, "save").click()
    wait(browser, lambda d: d.find_elements(By.ID, "done") or d.find_elements(By.ID, "form-error"))
    assert browser.find_elements(By.ID, "done"), browser.page_source[:3000]
    assert _cell(browser, "tech-name") == NEW_TECHNICIAN[0]
    assert _cell(browser, "tech-email") == NEW_TECHNICIAN[1]
    assert_accessible(browser)
    technician = api.get("registration", f"/endpoints/{ENDPOINT}")["technician"]
    assert (technician["name"], technician["email"]) == NEW_TECHNICIAN
    # the technical contact list every role reads shows the new technician
    browser.find_element(By.ID, "nav-technicians").click()
    wait(browser, lambda d: d.find_elements(By.ID, "technicians"))
    row = browser.find_element(By.CSS_SELECTOR, f'#technicians [data-endpoint="{ENDPOINT}"]')
    assert NEW_TECHNICIAN[0] in row.text
    assert NEW_TECHNICIAN[1] in row.text
    assert_accessible(browser)
    shot(browser, "43-technicians")

    # the next meeting of that endpoint: its notice goes to the new technician, once
    # notification has taken in the change (it looks addresses up when it sends)
    asyncio.run(platform.directory_taken_in("notification", expected=directory_events + 1))
    later = start + timedelta(hours=4)
    next_id = api.register("Họp triển khai phòng chống thiên tai", later, ["TQ-UBND", ENDPOINT])
    notices = api.until(
        lambda: api.get("notification", f"/meetings/{next_id}/notices", missing=[]),
        lambda ns: any(n.get("address") == NEW_TECHNICIAN[1] for n in ns),
    )
    assert not [n for n in notices if n.get("address") == old_email]
    # the address was never used before: a mail to it is this meeting's notice
    api.until(lambda: platform.smtp.inbox.to(NEW_TECHNICIAN[1]), lambda found: len(found) > 0)

    _books_a_rehearsal_then_moves_the_meeting_and_cancels_it(browser, console_url, api, start)


def _books_a_rehearsal_then_moves_the_meeting_and_cancels_it(
    browser: WebDriver, console_url: str, api: Api, tomorrow: datetime
) -> None:
    """The duty officer's levers on a meeting's page: a rehearsal booked in local time, then
    the meeting moved an hour later, its rehearsal cancelled with it by the choice asked."""
    start = tomorrow + timedelta(days=6)
    meeting_id = api.register("Hội nghị sơ kết toàn tỉnh", start, ["TQ-UBND", "TQ-SNV", "TQ-STP"])
    api.until(
        lambda: api.get("registration", f"/meetings/{meeting_id}"),
        lambda m: m.get("status") == "scheduled",
    )
    browser.get(f"{console_url}/meetings/{meeting_id}")
    wait(browser, lambda d: d.find_elements(By.ID, "rehearsal-form"))
    day_before = (start - timedelta(days=1)).replace(hour=14)
    box = browser.find_element(By.ID, "rehearsal-start")
    box.send_keys(f"{day_before:%Y-%m-%d %H:%M}")
    browser.find_element(By.ID, "book-rehearsal").click()
    wait(
        browser,
        lambda d: d.find_elements(By.ID, "done") or d.find_elements(By.ID, "rehearsal-error"),
    )
    assert browser.find_elements(By.ID, "done"), browser.page_source[:3000]
    [rehearsal] = api.get("registration", f"/meetings/{meeting_id}")["rehearsals"]
    assert rehearsal["start"] == day_before.isoformat()
    listed = browser.find_element(By.ID, "rehearsal-list").text
    assert f"{day_before:%d/%m/%Y %H:%M}" in listed
    assert_accessible(browser)
    shot(browser, "44-meeting-rehearsal")

    # the move asks what becomes of the rehearsal; the officer cancels it with the move
    later = start + timedelta(hours=1)
    moved = browser.find_element(By.ID, "move-start")
    moved.clear()
    moved.send_keys(f"{later:%Y-%m-%d %H:%M}")
    browser.find_element(By.ID, "move-reason").send_keys("Lãnh đạo tỉnh đổi lịch")
    form = browser.find_element(By.ID, "move-form")
    form.find_element(By.CSS_SELECTOR, 'input[name="rehearsals"][value="cancel"]').click()
    browser.find_element(By.ID, "do-move").click()
    wait(
        browser, lambda d: "done=moved_ok" in d.current_url or d.find_elements(By.ID, "move-error")
    )
    assert "done=moved_ok" in browser.current_url, browser.page_source[:3000]
    found = api.until(
        lambda: api.get("registration", f"/meetings/{meeting_id}"),
        lambda m: m.get("status") == "scheduled" and m["start"] == later.isoformat(),
    )
    assert [r["cancelled"] for r in found["rehearsals"]] == [True]


def _cell(browser: WebDriver, name: str) -> str:
    row = browser.find_element(By.ID, f"endpoint-{ENDPOINT}")
    return row.find_element(By.CLASS_NAME, name).text.strip()


def _operator() -> dict[str, str]:
    return {
        "username": "truc-ban-2",
        "display_name": "Trực ban Sở KH&CN (ca 2)",
        "role": "operator",
        "password": PASSWORD,
    }


class Api:
    """The services' APIs with the ops command's token (what the browser does not do)."""

    def __init__(self, platform: Any, token: str) -> None:
        self.urls = platform.urls
        self.http = httpx.Client(timeout=20, headers={"Authorization": f"Bearer {token}"})

    def post(self, service: str, path: str, body: dict[str, Any]) -> Any:
        answer = self.http.post(f"{self.urls[service]}{path}", json=body)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def get(self, service: str, path: str, missing: Any = None) -> Any:
        answer = self.http.get(f"{self.urls[service]}{path}")
        if answer.status_code == 404 and missing is not None:
            return missing
        assert answer.status_code == 200, answer.text
        return answer.json()

    def register(self, title: str, start: datetime, endpoints: list[str]) -> str:
        body = {
            "title": title,
            "host_unit": "VP-UBND",
            "chair": "Phó Chủ tịch UBND tỉnh",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=2)).isoformat(),
            "main_endpoint": endpoints[0],
            "endpoints": endpoints,
            "urgent_reason": "Chỉ đạo của tỉnh",
        }
        return str(self.post("registration", "/meetings", body)["id"])

    def until(
        self, read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60
    ) -> Any:
        """What `read` answers once `done` holds (the platform works asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            found = read()
            if done(found):
                return found
            assert time.monotonic() < deadline, f"never: {found!r}"[:2000]
            time.sleep(0.3)
