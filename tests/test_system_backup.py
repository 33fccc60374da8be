"""A failing endpoint is switched to its backup in the meeting's last hour (issue 19, rule
6), on the running platform: the technician's T-1h check fails, the IT department
switches the endpoint to the backup the directory names in one action, scheduling
decides the change, the backup's technician gets the invitation (with a check due by the
opening) and the replaced endpoint's technician the notice that it is replaced.

Registration runs on a policy dir of the module's own with `backup.switch_window: PT3H`,
so a meeting two hours ahead (its check deadline still an hour away, the check on time)
is already in the window: no waiting for the clock. Real Kafka + FerretDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hnth_kit.testing import eventually
from notification.domain.notices import calendar_uid
from tests.policy_files import policies_with

pytestmark = pytest.mark.system
TENANT = "tuyen-quang"
WINDOW = "backup.switch_window"
MAIN, FAILING, BACKUP, LATE = "TQ-UBND", "TQ-SNV", "TQ-SKHDT", "TQ-STC"
FAILED_LINE = {
    **{item: {"ok": True} for item in ("audio", "video", "content", "power")},
    "line": {"ok": False, "note": "Mất kết nối đường truyền số liệu chuyên dùng"},
}


@pytest.fixture(scope="module")
def platform(module_platform, tmp_path_factory):
    folder = policies_with(tmp_path_factory.mktemp("policies"), TENANT, {WINDOW: "PT3H"})
    module_platform.restart("registration-0", HNTH_POLICY_DIR=str(folder))
    return module_platform


@pytest.mark.timeout(600)  # four services started, registration restarted: minutes when busy
async def test_a_failed_check_is_switched_to_the_backup_and_both_technicians_are_told(
    platform,
) -> None:
    token = platform.token("--role", "operator", "--tenant", TENANT)
    urls = platform.urls
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        meeting_id = await _named_and_registered(
            http,
            urls,
            FAILING,
            BACKUP,
            {
                "title": "Họp khẩn ứng phó mưa lũ",
                "chair": "Chủ tịch UBND tỉnh",
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
                "main_endpoint": MAIN,
                "endpoints": [FAILING, "TQ-STP"],
                "urgent_reason": "Chỉ đạo ứng phó mưa lũ",
            },
        )
        readiness = f"{urls['inspection']}/meetings/{meeting_id}/readiness"

        technician = platform.token("--role", "technician", "--endpoint", FAILING)
        failed = await http.post(
            f"{urls['inspection']}/meetings/{meeting_id}/checks/{FAILING}",
            json={"items": FAILED_LINE},
            headers={"Authorization": f"Bearer {technician}"},
        )
        assert failed.status_code in (200, 201), failed.text
        await eventually(
            lambda: http.get(readiness),
            until=lambda r: {c["endpoint"]: c["state"] for c in r.json()}.get(FAILING) == "failed",
        )

        switched = await http.post(
            f"{urls['registration']}/meetings/{meeting_id}/switch-backup",
            json={"endpoint": FAILING, "reason": "Kiểm tra T-1h không đạt: mất đường truyền"},
        )
        assert switched.status_code == 200, switched.text
        assert switched.json()["endpoints"] == [MAIN, BACKUP, "TQ-STP"]

        # scheduling re-decides; the backup gets its check, due by the opening, and the
        # replaced endpoint's is closed
        def switched_over(r: httpx.Response) -> bool:
            closed = {c["endpoint"]: c["closed"] for c in r.json()}
            return closed.get(BACKUP) is False and closed.get(FAILING) is True

        try:
            board = await eventually(lambda: http.get(readiness), until=switched_over, timeout=120)
        except AssertionError:
            raise AssertionError((await http.get(readiness)).json()) from None
        [backup_check] = [c for c in board.json() if c["endpoint"] == BACKUP]
        assert backup_check["state"] == "pending"
        assert datetime.fromisoformat(backup_check["due_at"]) == start  # not the passed T-1h
        [replaced_check] = [c for c in board.json() if c["endpoint"] == FAILING]
        assert (replaced_check["closed"], replaced_check["closed_reason"]) == (True, "changed")

        # a later change (the end moved, one more endpoint) keeps the backup's check due by
        # the opening: no false missed-check at the passed T-1h
        later = await http.patch(
            f"{urls['registration']}/meetings/{meeting_id}",
            json={
                "end": (start + timedelta(minutes=90)).isoformat(),
                "endpoints": [BACKUP, "TQ-STP", LATE],
                "urgent_reason": "Bổ sung điểm cầu, kéo dài cuộc họp",
            },
        )
        assert later.status_code == 200, later.text
        board = await eventually(
            lambda: http.get(readiness),
            until=lambda r: LATE in {c["endpoint"] for c in r.json()},
            timeout=120,
        )
        [backup_check] = [c for c in board.json() if c["endpoint"] == BACKUP]
        assert datetime.fromisoformat(backup_check["due_at"]) == start

        # the switch's e-mails to all three sent (the later change's may come before them)
        notices = await eventually(
            lambda: http.get(f"{urls['notification']}/meetings/{meeting_id}/notices"),
            until=_all_told,
            timeout=120,
        )
        mail = {
            code: (await http.get(f"{urls['registration']}/endpoints/{code}")).json()
            for code in (FAILING, BACKUP)
        }
    told = {n["recipient"]: n["kind"] for n in notices.json() if _told(n)}
    assert told[f"technician:{BACKUP}"] == "meeting_changed"  # its invitation (.ics REQUEST)
    assert told[f"technician:{FAILING}"] == "meeting_cancelled"
    assert told["line_provider"] == "meeting_changed"  # as for any change
    uid = calendar_uid(TENANT, meeting_id)
    invitation = _text(platform.smtp.inbox.about(mail[BACKUP]["technician"]["email"], uid))
    assert f"sang điểm cầu dự phòng {BACKUP}" in invitation
    assert "hoàn tất kiểm tra trước giờ khai mạc" in invitation
    replaced = _text(platform.smtp.inbox.about(mail[FAILING]["technician"]["email"], uid))
    assert f"bằng điểm cầu dự phòng {BACKUP}" in replaced


def _all_told(r: httpx.Response) -> bool:
    told = [n for n in r.json() if _told(n)]
    return len({n["recipient"] for n in told}) == 3 and all(n["status"] == "sent" for n in told)


def _told(notice: dict) -> bool:
    """A change's e-mail to the backup's or the replaced technician, or the line provider."""
    return (
        notice["channel"] == "email"
        and notice["recipient"]
        in (
            f"technician:{BACKUP}",
            f"technician:{FAILING}",
            "line_provider",
        )
        and notice["kind"] in ("meeting_changed", "meeting_cancelled")
    )


def _text(messages: list) -> str:
    """Every plain-text part of the messages, one line (the mail wraps long lines)."""
    parts = [
        part.get_content()
        for message in messages
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    ]
    return " ".join(" ".join(parts).split())


@pytest.mark.timeout(600)
async def test_an_endpoint_a_group_brought_in_is_switched_and_left_out_of_the_group(
    platform,
) -> None:
    """The meeting keeps its group, leaves the failing member out (`excluded`) and the
    backup joins as an extra endpoint; scheduling's expansion no longer reaches it."""
    token = platform.token("--role", "operator", "--tenant", TENANT)
    urls = platform.urls
    main, failing, other, backup = "TQ-SCT", "TQ-SGTVT", "TQ-SXD", "TQ-STNMT"
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        group = {"code": "CUM-DU-PHONG", "name": "Cụm thử dự phòng", "endpoints": [failing, other]}
        published = await platform.directory_end()
        made = await http.post(f"{urls['registration']}/groups", json=group)
        assert made.status_code == 201, made.text
        # scheduling expands the group from its own copy of the directory: wait for it
        await platform.directory_taken_in("scheduling", expected=published + 1)
        meeting_id = await _named_and_registered(
            http,
            urls,
            failing,
            backup,
            {
                "title": "Họp cụm khẩn",
                "chair": "Phó Chủ tịch UBND tỉnh",
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
                "main_endpoint": main,
                "groups": [group["code"]],
                "urgent_reason": "Chỉ đạo khẩn",
            },
        )
        readiness = f"{urls['inspection']}/meetings/{meeting_id}/readiness"
        # the switch is checked against registration's record, which takes the group's
        # expansion in from the decision on its own consumer, maybe after inspection
        await eventually(
            lambda: http.get(f"{urls['registration']}/meetings/{meeting_id}"),
            until=lambda r: any(failing in e["endpoints"] for e in r.json().get("expanded") or []),
        )

        switched = await http.post(
            f"{urls['registration']}/meetings/{meeting_id}/switch-backup",
            json={"endpoint": failing, "reason": "Mất điện tại phòng họp"},
        )
        assert switched.status_code == 200, switched.text
        assert switched.json()["endpoints"] == [main, backup]

        def switched_over(r: httpx.Response) -> bool:
            closed = {c["endpoint"]: c["closed"] for c in r.json()}
            return closed.get(backup) is False and closed.get(failing) is True

        try:
            board = await eventually(lambda: http.get(readiness), until=switched_over, timeout=120)
        except AssertionError:
            raise AssertionError((await http.get(readiness)).json()) from None
        due = {c["endpoint"]: c["due_at"] for c in board.json() if not c["closed"]}
        assert datetime.fromisoformat(due[backup]) == start
        assert datetime.fromisoformat(due[other]) == start - timedelta(hours=1)
        # registration's timeline follows the re-decision on its own consumer
        left_out = [{"group": group["code"], "endpoints": [other]}]
        await eventually(
            lambda: http.get(f"{urls['registration']}/meetings/{meeting_id}"),
            until=lambda r: r.json().get("expanded") == left_out,
        )


async def _named_and_registered(
    http: httpx.AsyncClient, urls: dict[str, str], failing: str, backup: str, meeting: dict
) -> str:
    """Name `backup` as `failing`'s in the directory, register the meeting (hosted by
    VP-UBND), and wait until inspection has its three checklists; returns its id."""
    named = await eventually(
        lambda: http.patch(f"{urls['registration']}/endpoints/{failing}", json={"backup": backup}),
        until=lambda r: r.status_code == 200,
    )
    assert named.json()["backup"] == backup
    registered = await http.post(
        f"{urls['registration']}/meetings", json={"host_unit": "VP-UBND", **meeting}
    )
    assert registered.status_code == 201, registered.text
    meeting_id = str(registered.json()["id"])
    readiness = f"{urls['inspection']}/meetings/{meeting_id}/readiness"
    await eventually(lambda: http.get(readiness), until=lambda r: len(r.json()) == 3)
    return meeting_id
