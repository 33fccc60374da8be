"""Quality feedback after meetings (rule 9) on the real broker and database: one rating per
endpoint per meeting (a change replaces it), the host unit's overall rating, who may rate,
and the figures the year-end report draws from them; another province sees none of it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import docx
import openpyxl
import pytest
from inspection_samples import T0, auth, body, cancelled, slot_assigned

from hnth_kit.auth import Role
from hnth_kit.testing import eventually, signed_token
from inspection.domain.report import recurring_complaints

pytestmark = pytest.mark.integration
Q1 = T0 + timedelta(days=3)  # 2026-03-05
Q2 = datetime(2026, 5, 11, 1, 0, tzinfo=UTC)
ENDPOINTS = ["TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG"]


async def known(http, meeting_id: str) -> None:
    async def readiness() -> int:
        return (await http.get(f"/meetings/{meeting_id}/readiness", headers=auth())).status_code

    await eventually(readiness, until=lambda code: code == 200)


def rate(http, meeting_id: str, endpoint: str, headers, line=5, audio=5, video=5, comment=""):
    scores = {"line": line, "audio": audio, "video": video, "comment": comment}
    url = f"/meetings/{meeting_id}/feedback/endpoints/{endpoint}"
    return http.put(url, json=scores, headers=headers)


async def test_feedback_once_per_endpoint_and_host_feeds_the_year_report(
    http, publish, topics, clock
) -> None:
    await publish(
        [
            slot_assigned("m-q1", Q1, ENDPOINTS),
            slot_assigned("m-q2", Q2, ENDPOINTS),
            slot_assigned("m-off", Q1, ENDPOINTS),
            cancelled("m-off"),
        ],
        topics,
    )
    for meeting in ("m-q1", "m-q2"):
        await known(http, meeting)
    sttt = auth(Role.TECHNICIAN, endpoint="TQ-STTTT", subject="kt-stttt")

    early = await rate(http, "m-q1", "TQ-STTTT", sttt)
    assert early.status_code == 409
    assert early.json()["code"] == "not_over"

    clock.set(Q2 + timedelta(hours=3))  # both meetings are over
    first = await rate(http, "m-q1", "TQ-STTTT", sttt, line=2, audio=4, comment="chập chờn")
    assert first.status_code == 201, first.text
    changed = await rate(http, "m-q1", "TQ-STTTT", sttt, line=1, audio=4, comment="mất tiếng")
    assert changed.status_code == 200
    stored = body(await http.get("/meetings/m-q1/feedback", headers=auth(Role.VIEWER)))
    assert [(f["endpoint"], f["line"], f["comment"]) for f in stored] == [
        ("TQ-STTTT", 1, "mất tiếng")
    ]

    # who may rate what
    other = auth(Role.TECHNICIAN, endpoint="TQ-SYT")
    assert (await rate(http, "m-q1", "TQ-STTTT", other)).status_code == 403
    assert (await rate(http, "m-q1", "TQ-SYT", auth())).status_code == 404
    assert (await rate(http, "m-q1", "TQ-UBND", sttt, line=6)).status_code == 422
    assert (await rate(http, "m-off", "TQ-STTTT", sttt)).status_code == 409
    host = auth(Role.REGISTRAR, unit="VP-UBND")
    not_host = auth(Role.REGISTRAR, unit="SYT")
    overall = {"overall": 4, "comment": "Hội nghị thông suốt"}
    assert (
        await http.put("/meetings/m-q1/feedback/host", json=overall, headers=not_host)
    ).status_code == 403
    hosted = await http.put("/meetings/m-q1/feedback/host", json=overall, headers=host)
    assert hosted.status_code == 201
    assert hosted.json()["unit"] == "VP-UBND"

    await rate(http, "m-q2", "TQ-STTTT", sttt, line=2, audio=3, video=3, comment="rớt mạng")
    ubnd = auth(Role.TECHNICIAN, endpoint="TQ-UBND")
    assert (await rate(http, "m-q2", "TQ-UBND", ubnd)).status_code == 201

    report = body(await http.get("/reports/2026", headers=auth()))
    rows = {r["endpoint"]: r for r in report["endpoints"]}
    assert rows["TQ-STTTT"]["feedback"] == 2
    assert rows["TQ-STTTT"]["quality_average"] == 3.0  # (1+4+5)/3 and (2+3+3)/3
    assert rows["TQ-STTTT"]["line_average"] == 1.5
    assert rows["TQ-STTTT"]["quality_by_quarter"] == {
        "Q1": 3.33,
        "Q2": 2.67,
        "Q3": None,
        "Q4": None,
    }
    assert rows["TQ-UBND"]["quality_average"] == 5.0
    assert rows["TQ-H-SONDUONG"]["feedback"] == 0
    quality = report["quality"]
    assert [w["endpoint"] for w in quality["worst_endpoints"]] == ["TQ-STTTT", "TQ-UBND"]
    assert quality["by_quarter"]["Q1"] == 3.33
    assert quality["by_quarter"]["Q2"] == 3.83
    assert quality["recurring_complaints"] == [
        {
            "endpoint": "TQ-STTTT",
            "aspect": "line",
            "count": 2,
            "meetings": ["m-q1", "m-q2"],
            "comments": ["mất tiếng", "rớt mạng"],
        }
    ]
    province = report["province"]
    assert (province["feedback"], province["host_ratings"]) == (3, 1)
    assert province["host_overall_average"] == 4.0
    xlsx = await http.get("/reports/2026.xlsx", headers=auth())
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["Phản ánh chất lượng"]
    assert [c.value for c in sheet[2]] == ["TQ-STTTT", "Đường truyền", 2, "mất tiếng; rớt mạng"]
    word = docx.Document(io.BytesIO((await http.get("/reports/2026.docx", headers=auth())).content))
    text = "\n".join(p.text for p in word.paragraphs)
    assert "thấp nhất: TQ-STTTT (3.0), TQ-UBND (5.0)" in text

    # Lạng Sơn shares the platform and sees none of Tuyên Quang's meetings or ratings
    lang_son = {"Authorization": "Bearer " + signed_token(role=Role.OPERATOR, tenant="lang-son")}
    assert body(await http.get("/meetings/m-q1/feedback", headers=lang_son)) == []
    assert (await rate(http, "m-q1", "TQ-STTTT", lang_son)).status_code == 404
    assert (await http.get("/meetings/m-q1/readiness", headers=lang_son)).status_code == 404
    theirs = body(await http.get("/reports/2026", headers=lang_son))
    assert theirs["province"]["feedback"] == 0
    assert theirs["endpoints"] == []


def test_a_single_bad_rating_is_not_a_recurring_complaint() -> None:
    one = {"endpoint": "TQ-A", "meeting_id": "m", "meeting_start": Q1, "comment": ""}
    assert recurring_complaints([{**one, "line": 1, "audio": 5, "video": 5}]) == []
    two = [
        {**one, "line": 5, "audio": 2, "video": 5},
        {**one, "meeting_id": "n", "line": 5, "audio": 1, "video": 3},
    ]
    assert [(c["aspect"], c["count"]) for c in recurring_complaints(two)] == [("audio", 2)]
