"""The operator console over the real platform (services as processes, real Kafka and
database), driven at the HTTP level: people sign in with a username and a password
(registration's `/auth/login`), every page for the roles that may see it, refused to the
others; a meeting registered through the form reaches the board; an operator manages
accounts and reads the audit."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pyotp
import pytest

from hnth_console.app import build
from hnth_console.settings import ConsoleSettings
from hnth_contracts import Topics
from hnth_kit.auth import Role
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.testing import eventually, headers_of, read_topic

pytestmark = pytest.mark.system
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
ENDPOINTS = ["TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG"]


TENANT = "tuyen-quang"
PASSWORD = "mat-khau-cua-bang-dieu-hanh-2026"
PEOPLE = {
    # role: the account's scope
    Role.OPERATOR: {},
    Role.VIEWER: {},
    Role.REGISTRAR: {"unit": "VP-UBND"},
    Role.TECHNICIAN: {"endpoints": ["TQ-STTTT"]},
}


def ops_token(platform) -> str:
    """The ops command's token (`python -m registration token`): only to make the first
    accounts; the console itself is signed into with a password."""
    return platform.token("--role", "operator", "--tenant", TENANT)


@pytest.fixture
def platform(shared_platform):
    """The console tests share a platform: each keeps to its own meetings (on days and
    endpoints of its own), its own dead letters and accounts (the people below are made
    once and never locked or disabled)."""
    return shared_platform


@pytest.fixture
async def console(console_env, platform, monkeypatch) -> AsyncIterator[httpx.AsyncClient]:
    for key, value in console_env.items():
        monkeypatch.setenv(key, value)
    auth = {"Authorization": f"Bearer {ops_token(platform)}"}
    async with httpx.AsyncClient(base_url=platform.urls["registration"], timeout=20) as http:
        for role, scope in PEOPLE.items():
            body = {"username": f"{role}-1", "display_name": f"Cán bộ {role}", "role": role}
            made = await http.post(
                "/accounts", json={**body, **scope, "password": PASSWORD}, headers=auth
            )
            assert made.status_code in (201, 409), made.text  # 409: an earlier test made it
    app = build(ConsoleSettings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        yield client


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:1000]
    return found.group(1)


async def sign_in(
    console: httpx.AsyncClient, username: str, password: str = PASSWORD, next: str = "/board"
) -> httpx.Response:
    """As a browser: the sign-in page, then its form with the province, name, password."""
    console.cookies.clear()
    page = await console.get("/signin", params={"next": next})
    form = {"csrf": csrf_of(page), "tenant": TENANT, "username": username, "password": password}
    return await console.post("/signin", data={**form, "next": next})


async def signed_in(console: httpx.AsyncClient, role: Role) -> None:
    response = await sign_in(console, f"{role}-1")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/board"


async def post_form(
    console: httpx.AsyncClient, page: str, action: str, data: dict
) -> httpx.Response:
    """`action` posted as the form on `page` posts it (with the page's CSRF token)."""
    shown = await console.get(page)
    return await console.post(action, data={"csrf": csrf_of(shown), **data})


def meeting_form(start: datetime, **extra: str) -> dict[str, object]:
    return {
        "title": "Giao ban trực tuyến qua bảng điều hành",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.astimezone(ZONE).strftime("%Y-%m-%d %H:%M"),
        "minutes": "90",
        "main_endpoint": ENDPOINTS[0],
        "endpoints": ENDPOINTS[1:],
        **extra,
    }


async def test_pages_need_a_sign_in_with_the_right_password(console, platform) -> None:
    response = await console.get("/board")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fboard"
    bad = await sign_in(console, "viewer-1", "khong-phai-mat-khau")
    assert bad.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in bad.text
    # an account of this test's own to lock (the shared ones serve the other tests)
    async with httpx.AsyncClient(base_url=platform.urls["registration"], timeout=20) as http:
        body = {"username": "bi-khoa", "display_name": "Bị khoá", "role": Role.OPERATOR}
        made = await http.post(
            "/accounts",
            json={**body, "password": PASSWORD},
            headers={"Authorization": f"Bearer {ops_token(platform)}"},
        )
        assert made.status_code == 201, made.text
    for _ in range(5):  # the policy's auth.lockout_failures
        await sign_in(console, "bi-khoa", "khong-phai-mat-khau")
    locked = await sign_in(console, "bi-khoa", "khong-phai-mat-khau")
    assert locked.status_code == 429
    assert "Hãy thử lại sau" in locked.text  # and when, in the province's time
    away = await sign_in(console, "viewer-1", next="//evil")
    assert away.headers["location"] == "/"  # never redirected off the console
    board = await console.get("/board")
    # the display name (the token's `name`), or the username while tokens carry no name
    shown = re.search(r'id="nav-account">([^<]+)<', board.text)
    assert shown, board.text[:2000]
    assert shown.group(1) in ("Cán bộ viewer", "viewer-1")
    out = await post_form(console, "/board", "/signout", {})
    assert out.headers["location"] == "/signin?why=signed_out"
    assert (await console.get("/board")).status_code == 303


async def test_a_meeting_registered_through_the_form_reaches_board_and_schedule(
    console,
) -> None:
    await signed_in(console, Role.OPERATOR)
    form = await console.get("/meetings/new")
    assert form.status_code == 200
    assert 'value="TQ-STTTT"' in form.text  # the directory's endpoints to pick from
    start = (datetime.now(UTC) + timedelta(hours=20)).replace(second=0, microsecond=0)
    csrf = {"csrf": csrf_of(form)}
    refused = await console.post("/meetings/new", data={**meeting_form(start), **csrf})
    assert refused.status_code == 422  # inside the notice lead time without a reason
    assert "2 ngày" in refused.text
    created = await console.post(
        "/meetings/new",
        data={**meeting_form(start, urgent_reason="Chỉ đạo khẩn của tỉnh"), **csrf},
    )
    assert created.status_code == 303, created.text
    meeting_page = created.headers["location"].split("?")[0]  # ?done=registered_ok
    meeting_id = meeting_page.rsplit("/", 1)[1]

    detail = await eventually(
        lambda: console.get(meeting_page),
        until=lambda r: "MCU-TQ" in r.text and r.text.count("alarm-") >= 3,
    )
    assert "Đã xếp lịch" in detail.text  # the timeline in words (SlotAssigned)
    assert "SlotAssigned" not in detail.text
    board = await console.get("/board")
    assert board.status_code == 200
    assert f'data-meeting="{meeting_id}"' in board.text
    row = board.text.split(f'data-meeting="{meeting_id}"')[1].split("</section>")[0]
    assert row.count('class="tile alarm-waiting"') == 3  # nothing in, deadline not near
    # the rows come again every 5 s (htmx, HNTH_BOARD_REFRESH_SECONDS); no full-page reload
    assert 'hx-get="/board/live" hx-trigger="every 5s [' in board.text
    assert 'http-equiv="refresh"' not in board.text
    live = await console.get("/board/live", headers={"HX-Request": "true"})
    assert f'data-meeting="{meeting_id}"' in live.text
    assert "<html" not in live.text  # only the rows
    # the parties' notices, once sent, wait for acknowledgement: the row and the line above
    # the rows say so (notification's own record of them)
    marker = f'<a href="/meetings/{meeting_id}#notices">'
    live = await eventually(
        lambda: console.get("/board/live"),
        until=lambda r: marker in r.text and "thông báo chưa được xác nhận" in r.text,
    )
    assert 'id="attention-waiting"' in live.text
    day = start.astimezone(ZONE).date().isoformat()
    week = await console.get("/schedule", params={"day": day, "endpoint": "TQ-STTTT"})
    assert f'href="/meetings/{meeting_id}"' in week.text
    other = await console.get("/schedule", params={"day": day, "endpoint": "TQ-H-NAHANG"})
    assert f'href="/meetings/{meeting_id}"' not in other.text

    await console.get("/lang/en", params={"next": "/board"})
    english = await console.get("/board")
    assert "Readiness board" in english.text
    assert "Bảng sẵn sàng" not in english.text


async def test_reports_incidents_notices_pages(console, platform) -> None:
    await signed_in(console, Role.OPERATOR)
    auth = {"Authorization": f"Bearer {ops_token(platform)}"}
    async with httpx.AsyncClient(timeout=10) as http:
        # the directory reaches inspection as events: retry until it knows the endpoint
        opened = await eventually(
            lambda: http.post(
                f"{platform.urls['inspection']}/incidents",
                json={"endpoint": "TQ-STTTT", "what": "Mất tín hiệu đường truyền"},
                headers=auth,
            ),
            until=lambda r: r.status_code != 404,
        )
    assert opened.status_code == 201, opened.text
    incidents = await console.get("/incidents")
    assert incidents.status_code == 200
    assert "Mất tín hiệu đường truyền" in incidents.text

    year = datetime.now(UTC).year
    reports = await console.get("/reports", params={"year": year})
    assert reports.status_code == 200
    assert re.search(r'id="compliance"', reports.text)
    assert "Họp được kiểm tra đúng hạn" in reports.text
    xlsx = await console.get(f"/reports/{year}.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    assert "attachment" in xlsx.headers["content-disposition"]
    # the year's report kept as compiled, by whom, from the page
    # (the endpoints that have not reported yet, if it is the season, are said and accepted)
    kept = await post_form(console, "/reports", f"/reports/{year}/keep", {"despite_missing": "yes"})
    assert kept.status_code == 303, kept.text
    shown = await console.get(kept.headers["location"])
    assert re.search(r'id="kept">Đã chốt lúc \d\d:\d\d \d\d/\d\d/\d{4} · ', shown.text)

    notices = await console.get("/notices")
    assert notices.status_code == 200
    assert "Thông báo" in notices.text


PENDING_REF = re.compile(r'name="ref" value="([^"]+)"')
"""A dead letter's reference in the page's forms (only pending ones have forms)."""


async def poisoned(console, infra, platform) -> tuple[httpx.Response, str]:
    """Publish a message no service can read; the dead-letters page once it lists a new
    pending dead letter (earlier tests' are there too), and that letter's reference."""
    topics = Topics(prefix=platform.topic_prefix)
    await signed_in(console, Role.OPERATOR)
    before = set(re.findall(r"<code>([^<]+)</code>", (await console.get("/dead-letters")).text))
    producer = Producer(infra.bootstrap_servers, client_id="console-test")
    await producer.start()
    try:
        await producer.send([OutMessage(topics.meetings, b"poison", b"{not json")])
    finally:
        await producer.stop()
    page = await eventually(
        lambda: console.get("/dead-letters"),
        until=lambda r: "invalid_json" in r.text and set(PENDING_REF.findall(r.text)) - before,
        timeout=120,
    )
    return page, sorted(set(PENDING_REF.findall(page.text)) - before)[0]


async def test_dead_letters_are_listed_and_replayed(console, infra, platform) -> None:
    topics = Topics(prefix=platform.topic_prefix)
    page, ref = await poisoned(console, infra, platform)
    assert ref.startswith(topics.meetings + ".dlq:")
    # the page says what to do with bytes no service reads, and replays them only when told
    # the service was upgraded to read them
    assert "Bên gửi đã gửi dữ liệu hỏng" in page.text
    form = {"ref": ref, "csrf": csrf_of(page)}
    refused = await console.post("/dead-letters/replay", data=form)
    assert refused.status_code == 422
    assert "gửi lại sẽ lỗi lại" in refused.text
    replayed = await console.post("/dead-letters/replay", data={**form, "anyway": "on"})
    assert replayed.status_code == 303
    assert (await console.get(replayed.headers["location"])).text.count(ref) >= 1
    messages = await read_topic(
        infra.bootstrap_servers,
        topics.meetings,
        until=lambda ms: any(headers_of(m).get("hnth-replayed-from") == ref for m in ms),
    )
    again = [m for m in messages if headers_of(m).get("hnth-replayed-from") == ref]
    assert [m.value for m in again] == [b"{not json"]


ACCESS = [
    # role, pages shown, pages refused
    (
        Role.OPERATOR,
        ["/dead-letters", "/notices", "/reports", "/meetings/new", "/accounts", "/audit"],
        [],
    ),
    (
        Role.VIEWER,
        ["/schedule", "/board", "/incidents", "/notices", "/reports", "/account"],
        ["/meetings/new", "/dead-letters", "/accounts", "/audit"],
    ),
    (
        Role.REGISTRAR,
        ["/schedule", "/board", "/meetings/new", "/account"],
        ["/notices", "/reports", "/dead-letters", "/accounts", "/audit"],
    ),
    (
        Role.TECHNICIAN,
        ["/schedule", "/board", "/incidents", "/account"],
        ["/meetings/new", "/notices", "/reports", "/dead-letters", "/accounts"],
    ),
]


async def test_each_page_is_shown_to_its_roles_and_refused_to_the_others(console) -> None:
    for role, allowed, refused in ACCESS:
        await signed_in(console, role)
        for path in allowed:
            response = await console.get(path)
            assert response.status_code == 200, (role, path, response.text[:500])
        for path in refused:
            response = await console.get(path)
            assert response.status_code == 403, (role, path)
            assert "không được xem trang này" in response.text
        home = await console.get("/board")
        for path in refused:  # the navigation does not offer what is refused
            assert f'href="{path}"' not in home.text, (role, path)


async def test_an_operator_makes_an_account_that_then_signs_in(console) -> None:
    await signed_in(console, Role.OPERATOR)
    made = await post_form(
        console,
        "/accounts",
        "/accounts",
        {
            "username": "le.thi.b",
            "display_name": "Lê Thị B",
            "role": "technician",
            "endpoints": "TQ-H-SONDUONG",
            "password": "mot-mat-khau-cho-le-thi-b",
        },
    )
    assert made.headers["location"] == "/accounts?done=created&who=le.thi.b", made.text
    listed = await console.get(made.headers["location"])
    assert 'id="account-le.thi.b"' in listed.text
    assert "TQ-H-SONDUONG" in listed.text

    their = await sign_in(console, "le.thi.b", "mot-mat-khau-cho-le-thi-b")
    assert their.status_code == 303, their.text
    mine = await console.get("/account")
    assert "Lê Thị B" in mine.text
    enrol = await post_form(console, "/account", "/account/totp", {})
    assert "<svg" in enrol.text  # the QR code for the authenticator app
    secret = re.search(r'id="secret">([A-Z2-7]+)<', enrol.text).group(1)
    uri = re.search(r'name="uri" value="([^"]+)"', enrol.text).group(1)
    confirmed = await console.post(
        "/account/totp/confirm",
        data={
            "csrf": csrf_of(enrol),
            "otp": pyotp.TOTP(secret).now(),
            "secret": secret,
            "uri": uri,
        },
    )
    assert confirmed.headers["location"] == "/account?done=totp_enrolled", confirmed.text
    asked = await sign_in(console, "le.thi.b", "mot-mat-khau-cho-le-thi-b")
    assert asked.headers["location"] == "/signin/otp?next=%2Fboard"
    step = await console.get(asked.headers["location"])
    code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))  # not the one used
    done = await console.post("/signin/otp", data={"csrf": csrf_of(step), "otp": code})
    assert done.headers["location"] == "/", done.text  # home: the role decides

    await signed_in(console, Role.OPERATOR)
    # moved to another commune's endpoint, an e-mail added: only that is sent and audited
    edit = "/accounts/le.thi.b/edit"
    changed = {"display_name": "Lê Thị B", "role": "technician", "unit": "", "phone": ""}
    changed |= {"endpoints": "TQ-STTTT", "email": "le.thi.b@tuyenquang.gov.vn"}
    saved = await post_form(console, edit, edit, changed)
    assert saved.headers["location"] == "/accounts?done=changed&who=le.thi.b", saved.text
    listed = await console.get("/accounts")
    row = listed.text.split('id="account-le.thi.b"')[1].split("</tr>")[0]
    assert "TQ-STTTT" in row
    assert "TQ-H-SONDUONG" not in row
    assert "le.thi.b@tuyenquang.gov.vn" in row
    audit = await console.get("/audit", params={"username": "le.thi.b"})
    # the audit in words, from what to what
    assert "E-mail: — → le.thi.b@tuyenquang.gov.vn" in audit.text
    assert "Các điểm cầu: TQ-H-SONDUONG → TQ-STTTT" in audit.text
    disabled = await post_form(console, "/accounts", "/accounts/le.thi.b/disable", {})
    assert disabled.headers["location"] == "/accounts?done=disabled&who=le.thi.b"
    refused = await sign_in(console, "le.thi.b", "mot-mat-khau-cho-le-thi-b")
    assert refused.status_code == 401  # a disabled account reads as a wrong password

    await signed_in(console, Role.OPERATOR)
    audit = await console.get("/audit", params={"username": "le.thi.b"})
    assert audit.status_code == 200
    assert "audit-login" in audit.text
    assert "audit-account_disabled" in audit.text
    assert "audit-login_failed" in audit.text


async def test_a_refusal_offers_only_the_free_times_still_free(console, shared_days) -> None:
    """A refused meeting's page offers scheduling's free times as they stand when it is
    read: one taken by another meeting since the refusal is no longer offered."""
    await signed_in(console, Role.OPERATOR)
    start = shared_days.take() + timedelta(hours=1)  # 09:00 in Việt Nam, a day of its own

    async def registered(at: datetime) -> str:
        form = await console.get("/meetings/new")
        made = await console.post("/meetings/new", data={**meeting_form(at), "csrf": csrf_of(form)})
        assert made.status_code == 303, made.text
        return str(made.headers["location"].split("?")[0])

    first = await registered(start)
    await eventually(lambda: console.get(first), until=lambda r: "MCU-TQ" in r.text)
    refused = await registered(start)
    page = await eventually(
        lambda: console.get(refused), until=lambda r: 'id="alternatives"' in r.text
    )
    offered = re.findall(
        r'href="\?pick=([^"#]+)#change-form"', page.text.split('id="alternatives"')[1]
    )
    assert offered, page.text
    taken = datetime.strptime(httpx.URL(f"?pick={offered[0]}").params["pick"], "%d/%m/%Y %H:%M")
    third = await registered(taken.replace(tzinfo=ZONE))
    await eventually(lambda: console.get(third), until=lambda r: "MCU-TQ" in r.text)
    again = await console.get(refused)
    still = re.findall(r'href="\?pick=([^"#]+)#change-form"', again.text)
    assert offered[0] not in still
    assert set(still) <= set(offered)
