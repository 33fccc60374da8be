"""The IT department arranges the schedule in a real browser (issue 19), in front of the
running platform with Tuyên Quang on operator approval (`schedule.approval: operator`) and
a three-hour `backup.switch_window` (a policy dir of the module's own, as
test_system_approval and test_system_backup do): the duty officer approves one held
meeting and rejects another with a reason; registers a provincial-leadership meeting on the
form (its priority picked in words), which is refused as able to pre-empt the routine one
in its way, and lets it pre-empt; then, on the duty board, switches an endpoint whose check
failed to its backup. Each step reads what the page then says, in words and local time,
and its effect (status, notices, mail). axe-core checks every page; screenshots 45-48."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from tests.browser_kit import assert_accessible, chromium, shot, sign_in, until, wait
from tests.policy_files import policies_with
from tests.test_browser_operator import Api

pytestmark = pytest.mark.system
TENANT = "tuyen-quang"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "so-tttt-xep-lich-2026"
ENDPOINTS = ["TQ-UBND", "TQ-SNV", "TQ-STP"]
FAILING, BACKUP = "TQ-SNV", "TQ-SKHDT"
FAILED_LINE = {
    **{item: {"ok": True} for item in ("audio", "video", "content", "power")},
    "line": {"ok": False, "note": "Mất kết nối đường truyền số liệu chuyên dùng"},
}


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory) -> Path:
    values = {"schedule.approval": "operator", "backup.switch_window": "PT3H"}
    return policies_with(tmp_path_factory.mktemp("policies"), TENANT, values)


@pytest.fixture(scope="module")
def platform(module_platform, policy_dir):
    """The module's platform, scheduling (it holds) and registration (it decides the switch
    window) restarted once on the module's policies."""
    for name in ("scheduling-0", "registration-0"):
        module_platform.restart(name, HNTH_POLICY_DIR=str(policy_dir))
    return module_platform


@pytest.fixture
def console_env(console_env, policy_dir) -> dict[str, str]:
    """The console offers the switch in the same window registration allows."""
    return {**console_env, "HNTH_POLICY_DIR": str(policy_dir)}


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


@pytest.mark.timeout(900)  # four services started, two restarted, a browser: minutes when busy
def test_the_duty_officer_approves_rejects_preempts_and_switches_to_a_backup(
    browser, console_url, platform
) -> None:
    api = Api(platform, platform.token("--role", "operator", "--tenant", TENANT))
    api.post("registration", "/accounts", _operator())
    day = (datetime.now(UTC) + timedelta(days=5)).astimezone(ZONE)
    day = day.replace(hour=8, minute=0, second=0, microsecond=0)
    routine_id = api.register("Giao ban thường lệ các sở", day, ENDPOINTS)
    other_id = api.register("Họp rà soát kế hoạch", day + timedelta(hours=5), ENDPOINTS)
    for meeting_id in (routine_id, other_id):
        _status(api, meeting_id, "held")
    sign_in(browser, console_url, TENANT, "dieu-hanh", PASSWORD)

    # (a) approve one held meeting, reject the other with the reason its host is told
    _open(browser, console_url, routine_id, "approve-form")
    assert "chờ Sở KH&CN duyệt" in browser.find_element(By.ID, "meeting-status").text
    assert_accessible(browser)
    shot(browser, "45-meeting-held")
    browser.find_element(By.ID, "approve").click()
    _done(browser, "approved_ok", "Đã duyệt; đang xếp lịch.")
    _status(api, routine_id, "scheduled")
    until(browser, f"{console_url}/meetings/{routine_id}", lambda d: _pill(d) == "đã xếp lịch")

    reason = "Trùng lịch tiếp công dân của lãnh đạo tỉnh"
    _open(browser, console_url, other_id, "reject-form")
    browser.find_element(By.ID, "reject-reason").send_keys(reason)
    browser.find_element(By.ID, "reject").click()
    _done(browser, "rejected_ok", "Đã không duyệt; đã báo đơn vị chủ trì.")
    _status(api, other_id, "rejected")
    until(browser, f"{console_url}/meetings/{other_id}", lambda d: _pill(d) == "bị từ chối")
    assert reason in browser.find_element(By.ID, "timeline").text
    told = api.until(  # the host is told why, by mail
        lambda: api.get("notification", f"/meetings/{other_id}/notices", missing=[]),
        lambda ns: any(_mailed_rejection(n) and n["status"] == "sent" for n in ns),
        timeout=120,
    )
    [host] = {n["address"] for n in told if _mailed_rejection(n)}
    assert _mails_saying(platform, host, reason)

    # (b) a leadership meeting on the form, refused as able to pre-empt the routine one
    browser.get(f"{console_url}/meetings/new")
    wait(browser, lambda d: d.find_elements(By.ID, "meeting-form"))
    priority = Select(browser.find_element(By.ID, "priority"))
    assert priority.first_selected_option.text == "Thường lệ"  # the default
    assert [o.text for o in priority.options] == [
        "Lãnh đạo tỉnh",
        "Phòng chống thiên tai",
        "Thường lệ",
    ]
    _fill_meeting(browser, "Lãnh đạo tỉnh làm việc với các sở", day + timedelta(minutes=30))
    priority.select_by_value("lanh_dao")
    browser.find_element(By.ID, "register").click()
    _left(browser, lambda d: "/meetings/new" not in d.current_url)
    lead_id = browser.current_url.split("?")[0].rsplit("/", 1)[1]
    assert api.get("registration", f"/meetings/{lead_id}")["priority"] == "lanh_dao"
    _status(api, lead_id, "rejected")
    _open(browser, console_url, lead_id, "preempt-form")
    assert "Mức ưu tiên: Lãnh đạo tỉnh" in browser.find_element(By.ID, "meeting-priority").text
    # the meeting it may displace, by its title, a link to it (not its id)
    offered = browser.find_element(By.ID, "preempt")
    assert "«Giao ban thường lệ các sở»" in offered.text
    assert routine_id not in offered.text
    assert offered.find_elements(By.CSS_SELECTOR, f'a[href="/meetings/{routine_id}"]')
    assert_accessible(browser)
    shot(browser, "46-meeting-preempt")
    order = "Chủ tịch UBND tỉnh triệu tập các sở"
    browser.find_element(By.ID, "preempt-reason").send_keys(order)
    browser.find_element(By.ID, "do-preempt").click()
    _done(browser, "preempted_ok", "Đã cho thay chỗ; đang xếp lịch lại.")
    if _status(api, lead_id, "held", "scheduled") == "held":  # approval asked again
        _open(browser, console_url, lead_id, "approve-form")
        browser.find_element(By.ID, "approve").click()
        _done(browser, "approved_ok", "Đã duyệt; đang xếp lịch.")
    _status(api, lead_id, "scheduled")
    _status(api, routine_id, "rejected")
    until(browser, f"{console_url}/meetings/{routine_id}", lambda d: _pill(d) == "bị từ chối")
    assert order in browser.find_element(By.ID, "timeline").text
    # every party the routine meeting's invitation reached is told it is off
    notices = api.until(
        lambda: api.get("notification", f"/meetings/{routine_id}/notices", missing=[]),
        lambda ns: _parties(ns, "preempted:") == _parties(ns, "assigned:") != set(),
        timeout=120,
    )
    assert {n["kind"] for n in notices if str(n["cause"]).startswith("preempted:")} == {
        "meeting_cancelled"
    }

    # (c) in the last hours, a failed check: the board offers the backup, one action
    _switches_a_failed_endpoint_from_the_board(browser, console_url, api, platform)


def _switches_a_failed_endpoint_from_the_board(
    browser: WebDriver, console_url: str, api: Api, platform
) -> None:
    api.until(  # registration, just restarted, may still be taking in its directory
        lambda: (
            api.http.patch(
                f"{api.urls['registration']}/endpoints/{FAILING}", json={"backup": BACKUP}
            ).status_code
        ),
        lambda status: status == 200,
    )
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    meeting_id = api.register("Họp khẩn ứng phó mưa lũ", start.astimezone(ZONE), ENDPOINTS)
    _status(api, meeting_id, "held")
    assert api.http.post(f"{api.urls['registration']}/meetings/{meeting_id}/approve").is_success
    readiness = f"/meetings/{meeting_id}/readiness"
    api.until(lambda: api.get("inspection", readiness, missing=[]), lambda r: len(r) == 3)
    technician = platform.token("--role", "technician", "--endpoint", FAILING)
    failed = api.http.post(
        f"{api.urls['inspection']}/meetings/{meeting_id}/checks/{FAILING}",
        json={"items": FAILED_LINE},
        headers={"Authorization": f"Bearer {technician}"},
    )
    assert failed.status_code in (200, 201), failed.text

    offer = f'[data-meeting="{meeting_id}"] .board-switch[data-switch="{FAILING}"]'
    until(browser, f"{console_url}/board", lambda d: bool(d.find_elements(By.CSS_SELECTOR, offer)))
    said = browser.find_element(By.CSS_SELECTOR, offer).text
    assert f"Chuyển sang điểm cầu dự phòng: {BACKUP}" in said
    assert f"Điểm cầu {FAILING}" in said
    assert_accessible(browser)
    shot(browser, "47-board-backup")
    browser.find_element(By.CSS_SELECTOR, f"{offer} a").click()
    wait(browser, lambda d: d.find_elements(By.ID, "switch-form-1"))
    form = browser.find_element(By.ID, "switch-form-1")
    assert BACKUP in form.text
    assert_accessible(browser)
    shot(browser, "48-meeting-switch")
    form.find_element(By.TAG_NAME, "textarea").send_keys("Kiểm tra T-1h không đạt: mất đường")
    browser.find_element(By.ID, "do-switch-1").click()
    _done(browser, "switched_ok", "Đã chuyển sang điểm cầu dự phòng; chờ xếp lịch lại.")
    found = api.until(
        lambda: api.get("registration", f"/meetings/{meeting_id}"),
        lambda m: m["status"] == "scheduled" and BACKUP in m["endpoints"],
        timeout=120,
    )
    assert FAILING not in found["endpoints"]
    api.until(  # the backup's technician is invited, the replaced one told
        lambda: api.get("notification", f"/meetings/{meeting_id}/notices", missing=[]),
        lambda ns: (
            {f"technician:{BACKUP}", f"technician:{FAILING}"}
            <= {n["recipient"] for n in ns if n["kind"] in ("meeting_changed", "meeting_cancelled")}
        ),
        timeout=120,
    )


def _status(api: Api, meeting_id: str, *statuses: str) -> str:
    """The meeting's status once it is one of `statuses` (scheduling decides by itself)."""
    found = api.until(
        lambda: api.get("registration", f"/meetings/{meeting_id}"),
        lambda m: m.get("status") in statuses,
        timeout=120,
    )
    return str(found["status"])


def _open(browser: WebDriver, console_url: str, meeting_id: str, form: str) -> None:
    """The meeting's page, once it shows `form` (the page reads what the services say)."""
    url = f"{console_url}/meetings/{meeting_id}"
    until(browser, url, lambda d: bool(d.find_elements(By.ID, form)), timeout=90)


def _pill(browser: WebDriver) -> str:
    return browser.find_element(By.ID, "meeting-status").text.strip()


def _done(browser: WebDriver, done: str, words: str) -> None:
    """Back on the page after a lever, saying in words what it did (or the refusal)."""
    _left(browser, lambda d: f"done={done}" in d.current_url)
    assert browser.find_element(By.ID, "done").text == words
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "{" not in text  # no JSON on the page
    assert "UTC" not in text
    assert "+00:00" not in text  # times in the province's zone, in words
    assert_accessible(browser)


def _left(browser: WebDriver, arrived: Callable[[WebDriver], bool]) -> None:
    """Wait for the page a form leads to; a refusal keeps the form: say what it said."""
    try:
        wait(browser, arrived)
    except TimeoutException:
        errors = [e.text for e in browser.find_elements(By.CLASS_NAME, "error")]
        raise AssertionError(f"{browser.current_url}: {errors}") from None


def _fill_meeting(browser: WebDriver, title: str, start: datetime) -> None:
    """The registration form: the title, the provincial office as host, the start in local
    time, two hours, the three endpoints."""
    browser.find_element(By.ID, "title").send_keys(title)
    Select(browser.find_element(By.ID, "host_unit")).select_by_value("VP-UBND")
    browser.find_element(By.ID, "chair").send_keys("Chủ tịch UBND tỉnh")
    browser.find_element(By.ID, "start").send_keys(f"{start.astimezone(ZONE):%Y-%m-%d %H:%M}")
    Select(browser.find_element(By.ID, "minutes")).select_by_value("120")
    Select(browser.find_element(By.ID, "main_endpoint")).select_by_value(ENDPOINTS[0])
    for code in ENDPOINTS[1:]:
        browser.find_element(By.ID, f"ep-{code}").click()


def _parties(notices: list[dict], cause: str) -> set[tuple[str, str]]:
    return {(n["recipient"], n["channel"]) for n in notices if str(n["cause"]).startswith(cause)}


def _mailed_rejection(notice: dict) -> bool:
    return notice["kind"] == "meeting_rejected" and notice["channel"] == "email"


def _mails_saying(platform, address: str, words: str) -> list[str]:
    """The mails to `address` whose text says `words` (the mail wraps long lines)."""
    texts = [
        " ".join(str(part.get_content()).split())
        for message in platform.smtp.inbox.to(address)
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    ]
    return [t for t in texts if words in t]


def _operator() -> dict[str, str]:
    return {
        "username": "dieu-hanh",
        "display_name": "Trực ban điều hành lịch Sở KH&CN",
        "role": "operator",
        "password": PASSWORD,
    }
