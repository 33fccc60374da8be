"""The console's meeting page shows the meeting's materials with download links to those
who may read them, and "Thiếu biên bản / Record missing" while the minutes asked for are
not in (the real platform, as in test_console_pages)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hnth_contracts import ReportDue, ReportKind, RuleRef
from hnth_kit.auth import Role
from hnth_kit.testing import eventually
from tests.test_console_pages import (  # noqa: F401  (console, platform: fixtures)
    console,
    csrf_of,
    ops_token,
    platform,
    signed_in,
)

pytestmark = pytest.mark.system


async def test_meeting_page_lists_materials_per_role_and_flags_the_missing_record(
    console,  # noqa: F811
    platform,  # noqa: F811
) -> None:
    registration = platform.urls["registration"]
    operator = {"Authorization": f"Bearer {ops_token(platform)}"}
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    body = {
        "title": "Giao ban có tài liệu",
        "host_unit": "VP-UBND",
        "chair": "Phó Chủ tịch UBND tỉnh",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "main_endpoint": "TQ-UBND",
        "endpoints": ["TQ-STTTT"],
    }
    agenda = b"%PDF-1.7\n" + os.urandom(3000)
    async with httpx.AsyncClient(base_url=registration, timeout=10) as http:
        meeting = (await http.post("/meetings", json=body, headers=operator)).json()
        base = f"/meetings/{meeting['id']}"
        uploaded = await http.post(
            f"{base}/materials",
            files={"file": ("Chương trình.pdf", agenda, "application/pdf")},
            data={"kind": "agenda"},
            headers=operator,
        )
        assert uploaded.status_code == 201, uploaded.text
        material = uploaded.json()
        await platform.publish(
            ReportDue.create(
                tenant="tuyen-quang",
                correlation_id=meeting["id"],
                producer="scheduling",
                report_id=f"meeting_record:tuyen-quang:{meeting['id']}:console",
                kind=ReportKind.MEETING_RECORD,
                unit="VP-UBND",
                meeting_id=meeting["id"],
                period=start.date().isoformat(),
                due_at=start + timedelta(days=3),
                rule=RuleRef(rule="meeting_record.due_after", source="seeds/003"),
            )
        )
        await eventually(
            lambda: http.get(base, headers=operator),
            until=lambda r: r.json()["record_missing"],
        )

        link = f'href="{base}/materials/{material["id"]}"'
        await signed_in(console, Role.OPERATOR)
        page = await console.get(base)
        assert page.status_code == 200
        assert 'id="record-missing"' in page.text
        assert "Thiếu biên bản" in page.text
        assert link in page.text
        assert "Chương trình.pdf" in page.text
        downloaded = await console.get(f"{base}/materials/{material['id']}")
        assert downloaded.status_code == 200
        assert downloaded.content == agenda
        assert downloaded.headers["etag"] == f'"{material["sha256"]}"'
        console.cookies.set("lang", "en")
        assert "Record missing" in (await console.get(base)).text

        # a participating endpoint's technician reads them; a viewer is told to ask
        await signed_in(console, Role.TECHNICIAN)
        assert link in (await console.get(base)).text
        await signed_in(console, Role.VIEWER)
        viewer = await console.get(base)
        assert viewer.status_code == 200
        assert 'id="materials-refused"' in viewer.text
        assert link not in viewer.text
        refused = await console.get(f"{base}/materials/{material['id']}")
        assert refused.status_code == 403
        # ... and asks on the page; the IT department grants it there; then the viewer reads
        asked = await console.post(
            f"{base}/access-requests", data={"csrf": csrf_of(viewer), "reason": "Báo cáo tỉnh"}
        )
        assert asked.headers["location"] == f"{base}?done=access_asked", asked.text[:500]
        await signed_in(console, Role.OPERATOR)
        desk = await console.get(base)
        request_id = re.search(r'data-request="([^"]+)"', desk.text).group(1)
        granted = await console.post(
            f"{base}/access-requests/{request_id}/grant",
            data={"csrf": csrf_of(desk), "note": "Dùng nội bộ"},
        )
        assert granted.headers["location"] == f"{base}?done=access_decided", granted.text[:500]
        assert "đã đồng ý (operator-1" in (await console.get(base)).text
        await signed_in(console, Role.VIEWER)
        assert link in (await console.get(base)).text  # granted: the viewer reads them now

        minutes = b"PK\x03\x04" + os.urandom(2000)
        docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        done = await http.post(
            f"{base}/materials",
            files={"file": ("Biên bản.docx", minutes, docx)},
            data={"kind": "minutes"},
            headers=operator,
        )
        assert done.status_code == 201
    await signed_in(console, Role.OPERATOR)
    settled = await console.get(base)
    assert 'id="record-missing"' not in settled.text
    assert "Biên bản.docx" in settled.text
