"""The year-end provincial report: a year of events seeded through Kafka (200 meetings
over 28 endpoints, changes, cancellations, checks on time, failed, late and missed),
incidents, inspections and evaluations over HTTP; the compiled figures must equal an
independent count made here from what was sent, and the XLSX and DOCX must hold them.
Incidents, inspections and evaluations go in over HTTP because the contracts have no
Kafka event for them."""

from __future__ import annotations

import io
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import docx
import httpx
import openpyxl
import pytest
from inspection_samples import (
    TENANT,
    auth,
    body,
    cancelled,
    check_submitted,
    endpoint_updated,
    handled,
    report_due,
    slot_assigned,
)

from hnth_contracts import NoticeAcknowledged, NoticeDelivered, ReportKind, UnitUpdated
from hnth_kit.auth import Role
from hnth_kit.testing import eventually
from inspection.store import InspectionStore

pytestmark = pytest.mark.integration
VN = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = 2026
ENDPOINTS = [f"TQ-E{n:02d}" for n in range(1, 29)]
UNIT = {code: f"U{code[-2:]}" for code in ENDPOINTS}
ITEMS = ("line", "audio", "video", "content", "power")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN).astimezone(UTC)


@dataclass
class Year:
    """What the test sends, and the figures it expects, counted independently."""

    slots: list = field(default_factory=list)
    cancels: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    outcome: dict = field(default_factory=dict)
    """(meeting, endpoint) -> on_time | failed | late | missed, for meetings held in YEAR."""
    checklists: int = 0
    revised: int = 0
    """Checklists of changed meetings at revision 1."""
    closed: int = 0
    missed_entries: int = 0


def plan_meetings(rng: random.Random) -> Year:
    year = Year()
    starts = [
        local(YEAR, 1, 1, 8) + timedelta(days=i * 364 // 200, hours=6 * (i % 2)) for i in range(200)
    ]
    starts += [local(2025, 12, 31, 23, 30), local(2026, 1, 1, 0, 30), local(2027, 1, 1, 0, 30)]
    for n, start in enumerate(starts):
        meeting = f"m-{n:03d}"
        endpoints = rng.sample(ENDPOINTS, rng.randint(2, 4))
        year.slots.append(slot_assigned(meeting, start, endpoints))
        year.checklists += len(endpoints)
        if n % 25 == 7:
            year.cancels.append(cancelled(meeting))
            year.closed += len(endpoints)
            continue
        if n % 30 == 11:  # moved two days, one endpoint swapped for another
            start += timedelta(days=2)
            extra = next(e for e in ENDPOINTS if e not in endpoints)
            endpoints = [*endpoints[1:], extra]
            year.slots.append(slot_assigned(meeting, start, endpoints, revision=1))
            year.checklists += 1
            year.revised += len(endpoints)
            year.closed += 1
        due = start - timedelta(hours=1)
        for endpoint in endpoints:
            outcome = _submissions(year, rng, meeting, endpoint, due)
            if start.astimezone(VN).year == YEAR:
                year.outcome[(meeting, endpoint)] = outcome
    return year


def _submissions(year: Year, rng: random.Random, meeting: str, endpoint: str, due: datetime) -> str:
    r = rng.random()

    def send(at: datetime, failing: tuple[str, ...] = ()) -> None:
        year.checks.append(check_submitted(meeting, endpoint, at, failing, by=f"kt-{endpoint}"))

    if r < 0.6:
        send(due - timedelta(minutes=rng.randint(1, 600)))
        return "on_time"
    if r < 0.7:
        send(due - timedelta(minutes=20), ("audio",))
        return "failed"
    if r < 0.75:  # failed, fixed, passed before the deadline
        send(due - timedelta(hours=3), ("video",))
        send(due - timedelta(hours=1))
        return "on_time"
    if r < 0.87:
        send(due + timedelta(minutes=rng.randint(1, 50)))
        return "late"
    year.missed_entries += 1
    return "missed"


def _hours(incidents: list) -> float | None:
    spans = [
        (i["resolved_at"] - i["opened_at"]).total_seconds() / 3600
        for i in incidents
        if i.get("resolved_at")
    ]
    return round(sum(spans) / len(spans), 2) if spans else None


def expected_rows(year: Year, incidents: list, inspections: list, reported: set) -> dict:
    """Per endpoint, counted from what was sent."""
    in_year = [i for i in incidents if i["opened_at"].astimezone(VN).year == YEAR]
    rows = {}
    for code in ENDPOINTS:
        mine = [o for (_, e), o in year.outcome.items() if e == code]
        own = [i for i in in_year if i["endpoint"] == code]
        tasks = [t for t in inspections if t["endpoint"] == code]
        rows[code] = {
            "meetings": len(mine),
            **{f"checks_{k}": mine.count(k) for k in ("on_time", "late", "missed", "failed")},
            "incidents": len(own),
            "incidents_resolved": sum(1 for i in own if i.get("resolved_at")),
            "hours_to_resolve": _hours(own),
            "inspections_due": len(tasks),
            "inspections_done": sum(1 for t in tasks if t["done"]),
            "inspections_on_schedule": sum(1 for t in tasks if t["on_schedule"]),
            "reported": code in reported,
            "effectiveness": reported.get(code),
        }
    return rows


def expected_figures(year: Year, incidents: list, inspections: list, reported: dict) -> dict:
    meetings: dict[str, list[str]] = defaultdict(list)
    for (meeting, _), outcome in year.outcome.items():
        meetings[meeting].append(outcome)
    counts = {
        k: sum(1 for o in year.outcome.values() if o == k)
        for k in ("on_time", "late", "missed", "failed")
    }
    finished = sum(1 for os in meetings.values() if all(o in ("on_time", "failed") for o in os))
    in_year = [i for i in incidents if i["opened_at"].astimezone(VN).year == YEAR]
    resolved = [i for i in in_year if i.get("resolved_at")]
    on_schedule = {
        e: all(t["on_schedule"] for t in inspections if t["endpoint"] == e) for e in ENDPOINTS
    }
    return {
        "meetings_held": len(meetings),
        "checks": len(year.outcome),
        **{f"checks_{k}": v for k, v in counts.items()},
        "meetings_checked_on_time": finished,
        "checks_compliance": round(finished / len(meetings), 4),
        "incidents": len(in_year),
        "incidents_resolved": len(resolved),
        "incidents_open": len(in_year) - len(resolved),
        "hours_to_resolve": _hours(in_year),
        "inspections_due": len(inspections),
        "inspections_done": sum(1 for t in inspections if t["done"]),
        "inspections_on_schedule": sum(1 for t in inspections if t["on_schedule"]),
        "endpoints_inspected_on_schedule": sum(on_schedule.values()),
        "inspections_compliance": round(sum(on_schedule.values()) / len(ENDPOINTS), 4),
        "endpoints_reported": len(reported),
    }


async def fired(service) -> int:
    return service.timers.fired  # in memory: polling the database would slow it down


async def wait(service, topic: str, messages: int) -> None:
    await eventually(lambda: handled(service, topic), until=lambda n: n == messages, timeout=120)


async def test_year_end_report_matches_an_independent_count(
    services, publish, topics, clock
) -> None:
    # polls every 0.5 s: FerretDB scans whole collections for the timers' and relay's queries
    service = await services(poll=0.5)
    transport = httpx.ASGITransport(app=service.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://inspection") as http:
        await _seed_and_compile(service, http, publish, topics, clock)


async def _seed_and_compile(service, http, publish, topics, clock) -> None:
    rng = random.Random(2026)
    clock.set(local(YEAR - 1, 12, 1))  # before every deadline
    directory = [endpoint_updated(e, UNIT[e], f"Điểm cầu {e}") for e in ENDPOINTS]
    directory += [
        UnitUpdated.create(
            tenant=TENANT,
            correlation_id=u,
            producer="test",
            occurred_at=clock.now(),
            code=u,
            name=f"Đơn vị {u}",
        )
        for u in UNIT.values()
    ]
    quarter_ends = [
        local(YEAR, 3, 31, 17),
        local(YEAR, 6, 30, 17),
        local(YEAR, 9, 30, 17),
        local(YEAR, 12, 31, 17),
    ]
    dues = [
        report_due(ReportKind.PERIODIC_INSPECTION, e, UNIT[e], f"{YEAR}-Q{q + 1}", quarter_ends[q])
        for e in ENDPOINTS
        for q in range(4)
    ]
    dues += [
        report_due(
            ReportKind.ANNUAL_ENDPOINT_REPORT, e, UNIT[e], str(YEAR), local(YEAR, 12, 15, 17)
        )
        for e in ENDPOINTS
    ]
    year = plan_meetings(rng)
    await publish([*directory, *dues, *year.slots], topics)
    await wait(service, topics.slots, len(year.slots))
    await wait(service, topics.directory, len(directory))
    await wait(service, topics.reports, len(dues))
    await publish([*year.cancels, *year.checks], topics)
    await wait(service, topics.meetings, len(year.cancels))
    await wait(service, topics.checks, len(year.checks))

    clock.set(local(YEAR + 1, 1, 5))  # every deadline has passed: the timers say `missed`
    deadlines = len({s.meeting_id for s in year.slots}) - len(year.cancels)  # one timer each
    await eventually(lambda: fired(service), until=lambda n: n == deadlines, timeout=90)
    assert await service.timers.pending() == 0
    missed = {"kind": "missed"}
    assert await service.db["check_results"].count_documents(missed) == year.missed_entries
    checklists = service.db["checklists"]
    assert await checklists.count_documents({}) == year.checklists
    assert await checklists.count_documents({"closed": True}) == year.closed
    assert await checklists.count_documents({"revision": 1}) == year.revised
    incidents = []
    for n in range(24):
        opened = local(YEAR - (n == 0), rng.randint(1, 12), rng.randint(1, 28), rng.randint(7, 16))
        form = {
            "endpoint": rng.choice(ENDPOINTS),
            "what": "mất tín hiệu",
            "opened_at": opened.isoformat(),
        }
        made = body(await http.post("/incidents", json=form, headers=auth()))
        record = {"opened_at": opened, "endpoint": form["endpoint"]}
        if n % 4:
            record["resolved_at"] = opened + timedelta(
                hours=rng.randint(1, 72), minutes=rng.randint(0, 59)
            )
            fix = {
                "cause": "đứt cáp",
                "fix": "nối lại",
                "resolved_at": record["resolved_at"].isoformat(),
            }
            body(await http.patch(f"/incidents/{made['id']}", json=fix, headers=auth()))
        incidents.append(record)

    inspections = []
    tasks = body(await http.get("/inspections", headers=auth()))
    assert len(tasks) == len(ENDPOINTS) * 4
    for task in tasks:
        r = rng.random()
        due = datetime.fromisoformat(task["due_at"])
        done_at = due - timedelta(days=3) if r < 0.85 else due + timedelta(days=2)
        if r < 0.93:
            result = {
                "items": {i: {"ok": True} for i in ITEMS},
                "inspected_at": done_at.isoformat(),
            }
            body(await http.post(f"/inspections/{task['id']}/result", json=result, headers=auth()))
        inspections.append(
            {"endpoint": task["endpoint"], "on_schedule": r < 0.85, "done": r < 0.93}
        )

    grades = ("very_effective", "effective", "partly_effective", "ineffective")
    reported = {e: grades[n % 4] for n, e in enumerate(sorted(rng.sample(ENDPOINTS, 22)))}
    proposals = []
    for task in body(await http.get(f"/annual-reports?year={YEAR}", headers=auth())):
        if task["endpoint"] in reported:
            evaluation = {
                "effectiveness": reported[task["endpoint"]],
                "problems": f"đường truyền {task['endpoint']} chập chờn",
                "proposals": f"nâng cấp {task['endpoint']}",
            }
            unit = auth(Role.REGISTRAR, unit=task["unit"])
            body(await http.post(f"/annual-reports/{task['id']}", json=evaluation, headers=unit))
            proposals.append(
                {"endpoint": task["endpoint"], "unit": task["unit"], "text": "", **evaluation}
            )

    expected = expected_figures(year, incidents, inspections, reported)
    report = body(await http.post(f"/reports/{YEAR}/compile", headers=auth()))
    assert {k: report["province"][k] for k in expected} == expected
    assert sorted(report["not_reported"]) == sorted(set(ENDPOINTS) - set(reported))
    assert report["proposals"] == sorted(proposals, key=lambda p: p["endpoint"])
    exported = body(await http.get(f"/reports/{YEAR}.json", headers=auth(Role.VIEWER)))
    assert exported["province"] == report["province"]
    assert exported["language"] == "vi"
    heading = exported["headings"]["province"]["checks_compliance"]
    assert heading == "Tỷ lệ cuộc họp kiểm tra xong trước 1 giờ"
    rows = {row["endpoint"]: row for row in report["endpoints"]}
    expected_by_endpoint = expected_rows(year, incidents, inspections, reported)
    assert {code: {k: rows[code][k] for k in expected_by_endpoint[code]} for code in ENDPOINTS} == (
        expected_by_endpoint
    )

    # what the files show besides the counted figures: no quality ratings were sent
    province = {**expected, "endpoints": len(ENDPOINTS), "feedback": 0}
    province |= {"quality_average": None, "host_overall_average": None}
    # no notice facts were sent: nothing delivered, no share to measure
    province |= {"notices_delivered": 0, "notices_on_time": 0, "notices_acknowledged": 0}
    province |= {"notices_lead_time_compliance": None, "notices_acknowledged_share": None}
    # no meeting came with an official letter, and Tuyên Quang requires none: no share
    province |= {"meetings_with_letter": 0, "letters_compliance": None}
    by_endpoint = {
        code: {
            **expected_by_endpoint[code],
            "endpoint": code,
            "name": f"Điểm cầu {code}",
            "unit_name": f"Đơn vị {UNIT[code]}",
            "feedback": 0,
            "quality_average": None,
        }
        for code in ENDPOINTS
    }
    xlsx = (await http.get(f"/reports/{YEAR}.xlsx", headers=auth())).content
    word = (await http.get(f"/reports/{YEAR}.docx", headers=auth())).content
    check_files(xlsx, word, exported["headings"], province, by_endpoint, "vi")
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert {r[0] for r in workbook["Chưa báo cáo"].iter_rows(min_row=2, values_only=True)} == set(
        ENDPOINTS
    ) - set(reported)
    document = docx.Document(io.BytesIO(word))
    assert f"NĂM {YEAR}" in document.paragraphs[0].text
    # part III: all each endpoint wrote, its problems as well as its proposals
    header, *written_in = [[c.text for c in r.cells] for r in document.tables[2].rows]
    assert header[2:4] == ["Tồn tại, hạn chế", "Kiến nghị, đề xuất"]
    assert {r[0]: (r[2], r[3]) for r in written_in} == {
        p["endpoint"]: (p["problems"], p["proposals"]) for p in report["proposals"]
    }
    await _english_exports(http, province, by_endpoint, reported)


GRADES_VI = {
    "very_effective": "Rất hiệu quả",
    "effective": "Hiệu quả",
    "partly_effective": "Hiệu quả một phần",
    "ineffective": "Chưa hiệu quả",
}


def written(key: str, value: object, lang: str) -> object:
    """A figure as the files must write it, spelled out here (not taken from `exports`)."""
    if value is None:
        return ""
    if key.endswith(("_compliance", "_share")):
        assert isinstance(value, float)
        return f"{value * 100:.1f}%"
    if isinstance(value, bool):
        return ("Yes" if value else "No") if lang == "en" else ("Có" if value else "Không")
    if key == "effectiveness":
        assert isinstance(value, str)
        return value.replace("_", " ").capitalize() if lang == "en" else GRADES_VI[value]
    return value


def check_files(
    xlsx: bytes, word: bytes, headings: dict, province: dict, by_endpoint: dict, lang: str
) -> None:
    """Every summary line and every endpoint row of the XLSX and the DOCX equals the
    expected figures, found through the JSON export's headings map (key -> heading)."""
    line, column = headings["province"], headings["endpoints"]
    assert set(line) == set(province), "every summary line is expected"
    summary = {line[k]: written(k, v, lang) for k, v in province.items()}
    rows = {}
    for code, row in by_endpoint.items():
        assert set(column) <= set(row), "every endpoint column is expected"
        rows[code] = {column[k]: written(k, row[k], lang) for k in column}
    code_heading = column["endpoint"]

    def blank(value: object) -> object:
        return "" if value is None else value  # an empty string comes back as an empty cell

    workbook = openpyxl.load_workbook(io.BytesIO(xlsx))
    lines = workbook.worksheets[0].iter_rows(min_row=4, values_only=True)
    assert {r[0]: blank(r[1]) for r in lines} == summary
    header, *sheet = workbook.worksheets[1].iter_rows(values_only=True)
    assert len(sheet) == len(rows)
    table = [{h: blank(v) for h, v in zip(header, r, strict=True)} for r in sheet]
    assert {r[code_heading]: r for r in table} == rows

    document = docx.Document(io.BytesIO(word))
    _, *figures = document.tables[0].rows
    assert {r.cells[0].text: r.cells[1].text for r in figures} == {
        h: str(v) for h, v in summary.items()
    }
    header, *cells = [[c.text for c in r.cells] for r in document.tables[1].rows]
    assert len(cells) == len(rows)
    table = [dict(zip(header, r, strict=True)) for r in cells]
    assert {r[code_heading]: r for r in table} == {
        code: {h: str(v) for h, v in row.items()} for code, row in rows.items()
    }


async def _english_exports(http, province: dict, by_endpoint: dict, reported: dict) -> None:
    """The same figures under English headings: `?lang=en` or `Accept-Language: en`."""
    english = body(await http.get(f"/reports/{YEAR}.json?lang=en", headers=auth(Role.VIEWER)))
    assert english["language"] == "en"
    assert english["headings"]["province"]["checks_compliance"] == (
        "Share of meetings checked 1 hour before"
    )
    assert english["title"].endswith(f"IN {YEAR}")
    xlsx = await http.get(f"/reports/{YEAR}.xlsx?lang=en", headers=auth())
    assert 'filename="hnth-report-' in xlsx.headers["content-disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames == [
        "Summary",
        "Endpoints",
        "Proposals",
        "Not reported",
        "Quality complaints",
        "Meetings",
    ]
    header, *endpoint_rows = workbook["Endpoints"].iter_rows(values_only=True)
    reported_column = header.index("Reported")
    assert {r[0]: r[reported_column] for r in endpoint_rows} == {
        e: "Yes" if e in reported else "No" for e in ENDPOINTS
    }
    graded = {r[0]: r[1] for r in workbook["Proposals"].iter_rows(min_row=2, values_only=True)}
    assert graded == {e: g.replace("_", " ").capitalize() for e, g in reported.items()}

    word = await http.get(
        f"/reports/{YEAR}.docx", headers={**auth(Role.VIEWER), "Accept-Language": "en"}
    )
    document = docx.Document(io.BytesIO(word.content))
    assert document.paragraphs[0].text.startswith("REPORT ON THE EFFECTIVENESS")
    assert [c.text for c in document.tables[0].rows[0].cells] == ["Figure", "Value"]
    check_files(xlsx.content, word.content, english["headings"], province, by_endpoint, "en")


async def test_the_report_counts_notices_delivered_on_time_and_acknowledged(
    services, publish, topics, clock
) -> None:
    """Rule 2's figures from notification's facts on Kafka; a redelivered fact counts once,
    and the report's files carry them."""
    service = await services(poll=0.5)
    clock.set(local(YEAR + 1, 1, 5))

    def delivered(n: int, on_time: bool) -> NoticeDelivered:
        return NoticeDelivered.create(
            tenant=TENANT,
            correlation_id=f"m-n{n % 3}",
            producer="notification",
            notice_id=f"notice-{n}",
            meeting_id=f"m-n{n % 3}",
            kind="meeting_notice",
            recipient_role="technician",
            delivered_at=local(YEAR, 3, 1 + n, 9),
            on_time=on_time,
        )

    def acknowledged(fact: NoticeDelivered, after: timedelta) -> NoticeAcknowledged:
        return NoticeAcknowledged.create(
            tenant=TENANT,
            correlation_id=fact.meeting_id,
            producer="notification",
            notice_id=fact.notice_id,
            meeting_id=fact.meeting_id,
            acknowledged_at=fact.delivered_at + after,
        )

    facts = [delivered(n, on_time=n % 4 != 0) for n in range(10)]  # 0, 4, 8 late: 7 on time
    acks = [acknowledged(f, timedelta(hours=2)) for f in facts[:6]]
    # a notice of the last evening of the year, acknowledged in the next: counted
    new_year = delivered(10, on_time=True).model_copy(
        update={"notice_id": "notice-eve", "delivered_at": local(YEAR, 12, 31, 22)}
    )
    acks.append(acknowledged(new_year, timedelta(days=2)))
    # a notice of the year before and its acknowledgement: neither counted, nor read
    year_before = new_year.model_copy(
        update={"notice_id": "notice-old", "delivered_at": local(YEAR - 1, 3, 1, 9)}
    )
    acks.append(acknowledged(year_before, timedelta(hours=2)))
    facts += [new_year, year_before]
    await publish([*facts, *acks, facts[1], acks[1]], topics)  # the last two: redelivered
    await wait(service, topics.notices, len(facts) + len(acks) + 2)
    read = await InspectionStore(service.db, topics).notice_facts(
        local(YEAR, 1, 1), local(YEAR + 1, 1, 1), TENANT
    )
    assert {f["notice_id"] for f in read} == {f.notice_id for f in facts[:-1]}

    transport = httpx.ASGITransport(app=service.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://inspection") as http:
        report = body(await http.post(f"/reports/{YEAR}/compile", headers=auth()))
        figures = {k: v for k, v in report["province"].items() if k.startswith("notices_")}
        assert figures == {
            "notices_delivered": 11,
            "notices_on_time": 8,
            "notices_lead_time_compliance": 0.7273,
            "notices_acknowledged": 7,
            "notices_acknowledged_share": 0.6364,
        }
        assert "notice.lead_time" in {r["rule"] for r in report["rules"]}
        exported = body(await http.get(f"/reports/{YEAR}.json", headers=auth(Role.VIEWER)))
        heading = exported["headings"]["province"]["notices_lead_time_compliance"]
        assert heading == "Tỷ lệ thông báo gửi trước thời hạn quy định"


async def test_the_report_lists_each_meeting_with_its_official_letter(
    services, publish, topics, clock
) -> None:
    """Rule 1's letters in the year report: each meeting held with its số, ngày công văn,
    in the report and both files, and how many came with one (no share where the province
    does not require one: Tuyên Quang)."""
    service = await services(poll=0.5)
    clock.set(local(YEAR + 1, 1, 5))
    with_letter = slot_assigned("m-l1", local(YEAR, 4, 2, 8), ["TQ-E01"]).model_copy(
        update={"document_number": "45/UBND-TH", "document_date": date(YEAR, 3, 28)}
    )
    without = slot_assigned("m-l2", local(YEAR, 5, 6, 14), ["TQ-E02"])
    await publish([with_letter, without], topics)
    await wait(service, topics.slots, 2)

    transport = httpx.ASGITransport(app=service.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://inspection") as http:
        report = body(await http.post(f"/reports/{YEAR}/compile", headers=auth()))
        listed = {m["meeting_id"]: m for m in report["meetings"]}
        assert (listed["m-l1"]["document_number"], listed["m-l1"]["document_date"]) == (
            "45/UBND-TH",
            f"{YEAR}-03-28",
        )
        assert listed["m-l2"]["document_number"] is None
        province = report["province"]
        assert (province["meetings_with_letter"], province["letters_required"]) == (1, False)
        assert province["letters_compliance"] is None
        assert "registration.official_letter" in {r["rule"] for r in report["rules"]}

        xlsx = await http.get(f"/reports/{YEAR}.xlsx", headers=auth(Role.VIEWER))
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["Cuộc họp"]
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == (
            "Thời gian",
            "Cuộc họp",
            "Đơn vị chủ trì",
            "Số công văn",
            "Ngày công văn",
        )
        assert rows[1] == (
            "08:00 02/04/2026",
            "Hội nghị giao ban",
            "VP-UBND",
            "45/UBND-TH",
            "28/03/2026",
        )
        word = await http.get(f"/reports/{YEAR}.docx", headers=auth(Role.VIEWER))
        last = docx.Document(io.BytesIO(word.content)).tables[-1]
        assert [c.text for c in last.rows[1].cells][3:] == ["45/UBND-TH", "28/03/2026"]

        # a meeting learnt of after the report was kept: the files of the kept report are
        # the record as kept, those compiled now have it
        await publish([slot_assigned("m-l3", local(YEAR, 6, 9, 8), ["TQ-E03"])], topics)
        await wait(service, topics.slots, 3)

        async def meetings_in(params: dict[str, str]) -> int:
            got = await http.get(f"/reports/{YEAR}.xlsx", params=params, headers=auth())
            assert got.status_code == 200, got.text
            return openpyxl.load_workbook(io.BytesIO(got.content))["Cuộc họp"].max_row - 1

        assert await meetings_in({"fresh": "false"}) == 2
        assert await meetings_in({}) == 3
        kept_word = await http.get(f"/reports/{YEAR}.docx?fresh=false", headers=auth())
        assert kept_word.status_code == 200, kept_word.text
