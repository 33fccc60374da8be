"""One realistic sample per event type; `python -m contracts.tests.samples` rewrites golden/."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

from hnth_contracts import (
    AccessLinkIssued,
    AccessLinkPurpose,
    BrokenRule,
    CheckCompleted,
    CheckItem,
    CheckOutcome,
    CheckSubmitted,
    Conflict,
    ConflictKind,
    Contact,
    ContactsUpdated,
    EndpointGroupUpdated,
    EndpointKind,
    EndpointUpdated,
    Event,
    GroupExpansion,
    HoldDecided,
    InspectionCancelled,
    InspectionPlan,
    InspectionScheduled,
    ItemResult,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    MeetingSubmitted,
    NoticeAcknowledged,
    NoticeDelivered,
    ReportDue,
    ReportKind,
    ReportSubmitted,
    RuleRef,
    Slot,
    SlotAssigned,
    SlotHeld,
    SlotRejected,
    SlotReleased,
    SubmissionAccepted,
    SubmissionRefused,
    TenantMerged,
    TenantRenamed,
    TokensRevoked,
    UnitKind,
    UnitUpdated,
    Window,
)

GOLDEN = Path(__file__).parent / "golden"
T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 08:00 in Asia/Ho_Chi_Minh
ENVELOPE = {
    "occurred_at": datetime(2026, 11, 30, 2, 15, tzinfo=UTC),
    "tenant": "tuyen-quang",
    "correlation_id": "mtg-2026-0001",
    "producer": "registration",
}
SYSTEM = {**ENVELOPE, "producer": "sys-tuyen-quang-vpdt-3f9a"}
NOTICE = RuleRef(rule="notice.lead_time", source="QĐ 345/QĐ-UBND 2017 (Tuyên Quang), Điều 6")
CHECK = RuleRef(rule="check.lead_time", source="QĐ 345/QĐ-UBND 2017 (Tuyên Quang), Điều 7")
INSPECTION_ID = "periodic_inspection:2026-Q4:TQ-STTTT"
INSPECTION_PLAN = InspectionPlan(
    planned_at=datetime(2026, 12, 10, 1, 30, tzinfo=UTC),
    endpoints=["TQ-STTTT", "TQ-UBND-SONDUONG"],
    with_line_provider=True,
)
MEETING = Window(start=T0, end=T0 + timedelta(hours=3))


def _id(n: int) -> UUID:
    return UUID(int=n)


def samples() -> list[Event]:
    details = {
        "meeting_id": "mtg-2026-0001",
        "title": "Hội nghị trực tuyến triển khai nhiệm vụ năm 2027",
        "host_unit": "VP-UBND",
        "chair": "Chủ tịch UBND tỉnh",
        "start": T0,
        "end": T0 + timedelta(hours=3),
        "main_endpoint": "TQ-UBND",
        "endpoints": ("TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG"),
        "agenda": "Triển khai kế hoạch phát triển kinh tế - xã hội",
        "document_number": "1234/UBND-KGVX",
        "document_date": date(2026, 11, 28),
    }
    slot = Slot(
        bridge="MCU-1",
        virtual_room="VR-01",
        dial_in="sip:vr01@mcu1.tuyenquang.gov.vn",
        meeting=MEETING,
        reserved=Window(start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=3, minutes=15)),
    )
    return [
        MeetingRequested.create(
            event_id=_id(1), requested_by="registrar:VP-UBND", **ENVELOPE, **details
        ),
        MeetingChanged.create(
            event_id=_id(2), revision=1, reason="Sở TT&TT dời lịch", **ENVELOPE, **details
        ),
        MeetingCancelled.create(
            event_id=_id(3), meeting_id="mtg-2026-0001", reason="Hoãn họp", **ENVELOPE
        ),
        SlotAssigned.create(
            event_id=_id(4),
            causation_id=str(_id(1)),
            meeting_id="mtg-2026-0001",
            title=details["title"],
            host_unit="VP-UBND",
            main_endpoint="TQ-UBND",
            endpoints=(*details["endpoints"], "TQ-X-MINHXUAN"),
            groups=(GroupExpansion(group="ALL-WARDS", endpoints=("TQ-X-MINHXUAN",)),),
            slot=slot,
            check_deadline=T0 - timedelta(hours=1),
            notice_deadline=T0 - timedelta(days=2),
            rules=(NOTICE, CHECK),
            policy="tuyen-quang@1",
            **{**ENVELOPE, "producer": "scheduling"},
        ),
        SlotRejected.create(
            event_id=_id(5),
            meeting_id="mtg-2026-0001",
            host_unit="VP-UBND",
            conflicts=(
                Conflict(
                    kind=ConflictKind.ENDPOINT_BUSY,
                    resource="TQ-STTTT",
                    other_meeting_id="mtg-2026-0000",
                    other_window=MEETING,
                    rule=RuleRef(rule="endpoint.one_meeting_at_a_time", source="policy default"),
                    message="Điểm cầu TQ-STTTT đã có cuộc họp khác trong khung giờ này",
                ),
            ),
            alternatives=(Window(start=T0 + timedelta(hours=4), end=T0 + timedelta(hours=7)),),
            **{**ENVELOPE, "producer": "scheduling"},
        ),
        SlotReleased.create(
            event_id=_id(6),
            meeting_id="mtg-2026-0001",
            reason="cancelled",
            cancel_reason="Lãnh đạo tỉnh bận họp đột xuất",
            **{**ENVELOPE, "producer": "scheduling"},
        ),
        SlotHeld.create(
            event_id=_id(20),
            meeting_id="mtg-2026-0001",
            title=details["title"],
            host_unit="VP-UBND",
            endpoints=details["endpoints"],
            slot=slot,
            expires_at=T0 - timedelta(days=3),
            rules=(RuleRef(rule="schedule.approval", source="QĐ 345/QĐ-UBND 2017"),),
            **{**ENVELOPE, "producer": "scheduling"},
        ),
        HoldDecided.create(
            event_id=_id(21),
            meeting_id="mtg-2026-0001",
            revision=0,
            approved=True,
            decided_by="operator:it",
            rule=RuleRef(rule="schedule.approval", source="QĐ 345/QĐ-UBND 2017"),
            **ENVELOPE,
        ),
        CheckCompleted.create(
            event_id=_id(7),
            meeting_id="mtg-2026-0001",
            endpoint="TQ-STTTT",
            outcome=CheckOutcome.FAILED,
            failed_items=(CheckItem.AUDIO,),
            due_at=T0 - timedelta(hours=1),
            checked_at=T0 - timedelta(hours=1, minutes=20),
            checked_by="technician:TQ-STTTT",
            on_time=True,
            rule=CHECK,
            **{**ENVELOPE, "producer": "inspection"},
        ),
        ReportDue.create(
            event_id=_id(8),
            report_id="annual_endpoint_report:2026:TQ-STTTT",
            kind=ReportKind.ANNUAL_ENDPOINT_REPORT,
            endpoint="TQ-STTTT",
            unit="STTTT",
            period="2026",
            due_at=datetime(2026, 12, 15, 10, 0, tzinfo=UTC),
            rule=RuleRef(rule="report.annual", source="Quy chế 001, Điều 9"),
            **{**ENVELOPE, "producer": "scheduling", "correlation_id": "report-2026"},
        ),
        ReportSubmitted.create(
            event_id=_id(9),
            report_id="annual_endpoint_report:2026:TQ-STTTT",
            kind=ReportKind.ANNUAL_ENDPOINT_REPORT,
            endpoint="TQ-STTTT",
            unit="STTTT",
            submitted_by="technician:TQ-STTTT",
            submitted_at=datetime(2026, 12, 10, 3, 0, tzinfo=UTC),
            **{**ENVELOPE, "producer": "inspection", "correlation_id": "report-2026"},
        ),
        CheckSubmitted.create(
            event_id=_id(10),
            meeting_id="mtg-2026-0001",
            endpoint="TQ-STTTT",
            items={
                CheckItem.LINE: ItemResult(ok=True),
                CheckItem.AUDIO: ItemResult(ok=False, note="Micro bàn chủ tọa rè"),
            },
            submitted_by="mcu-probe",
            submitted_at=T0 - timedelta(hours=1, minutes=20),
            **{**ENVELOPE, "producer": "mcu-probe"},
        ),
        UnitUpdated.create(
            event_id=_id(11),
            code="STTTT",
            name="Sở Thông tin và Truyền thông",
            kind=UnitKind.DEPARTMENT,
            contact=Contact(name="Văn phòng Sở TT&TT", email="vanphong.stttt@tuyenquang.gov.vn"),
            **{**ENVELOPE, "correlation_id": "directory"},
        ),
        EndpointUpdated.create(
            event_id=_id(12),
            code="TQ-STTTT",
            name="Điểm cầu Sở Thông tin và Truyền thông",
            unit="STTTT",
            kind=EndpointKind.ROOM,
            location="Phòng họp tầng 3, Sở TT&TT",
            technician=Contact(
                name="Nguyễn Văn An", phone="0912345678", email="an.nv@tuyenquang.gov.vn"
            ),
            **{**ENVELOPE, "correlation_id": "directory"},
        ),
        EndpointGroupUpdated.create(
            event_id=_id(99),
            code="CUM-PHIA-BAC",
            name="Cụm các xã phía Bắc",
            endpoints=("TQ-H-NAHANG",),
            units=("H-LAMBINH",),
            **{**ENVELOPE, "correlation_id": "directory"},
        ),
        ContactsUpdated.create(
            event_id=_id(13),
            it_department=Contact(name="Sở TT&TT Tuyên Quang", email="stttt@tuyenquang.gov.vn"),
            line_provider=Contact(name="VNPT Tuyên Quang", email="kythuat@vnpt-tq.vn"),
            power_company=Contact(name="Công ty Điện lực Tuyên Quang", email="dieudo@pc-tq.vn"),
            duty=Contact(name="Trực kỹ thuật Sở TT&TT", person="Trần Thị Bình", phone="0987654321"),
            **{**ENVELOPE, "correlation_id": "directory"},
        ),
        TokensRevoked.create(
            event_id=_id(14),
            subject="nguyen.van.an",
            not_before=datetime(2026, 11, 30, 2, 15, tzinfo=UTC),
            reason="disabled",
            **{**ENVELOPE, "correlation_id": "account:nguyen.van.an"},
        ),
        AccessLinkIssued.create(
            event_id=_id(15),
            subject="tran.thi.binh",
            display_name="Trần Thị Bình",
            email="binh.tt@tuyenquang.gov.vn",
            purpose=AccessLinkPurpose.INVITE,
            link="https://hnth.tuyenquang.gov.vn/set-password#token=example-only",
            expires_at=datetime(2026, 12, 1, 2, 15, tzinfo=UTC),
            **{**ENVELOPE, "correlation_id": "account:tran.thi.binh"},
        ),
        NoticeDelivered.create(
            event_id=_id(16),
            notice_id="assigned:mtg-2026-0001@1|technician:TQ-STTTT|email",
            meeting_id="mtg-2026-0001",
            kind="meeting_notice",
            recipient_role="technician",
            delivered_at=datetime(2026, 12, 1, 2, 16, tzinfo=UTC),
            notice_deadline=datetime(2026, 12, 8, 1, 0, tzinfo=UTC),
            on_time=True,
            rule=NOTICE,
            **{**ENVELOPE, "producer": "notification", "correlation_id": "mtg-2026-0001"},
        ),
        NoticeAcknowledged.create(
            event_id=_id(17),
            notice_id="assigned:mtg-2026-0001@1|technician:TQ-STTTT|email",
            meeting_id="mtg-2026-0001",
            acknowledged_at=datetime(2026, 12, 1, 3, 40, tzinfo=UTC),
            **{**ENVELOPE, "producer": "notification", "correlation_id": "mtg-2026-0001"},
        ),
        InspectionScheduled.create(
            event_id=_id(18),
            inspection_id=INSPECTION_ID,
            revision=2,
            period="2026-Q4",
            due_at=datetime(2026, 12, 15, 10, 0, tzinfo=UTC),
            plan=INSPECTION_PLAN,
            previous=InspectionPlan(
                planned_at=datetime(2026, 12, 9, 1, 30, tzinfo=UTC),
                endpoints=["TQ-STTTT"],
                with_line_provider=False,
            ),
            rule=NOTICE,
            **{**ENVELOPE, "producer": "inspection", "correlation_id": INSPECTION_ID},
        ),
        InspectionCancelled.create(
            event_id=_id(19),
            inspection_id=INSPECTION_ID,
            revision=2,
            period="2026-Q4",
            plan=INSPECTION_PLAN,
            reason="Điểm cầu đang sửa chữa phòng họp",
            **{**ENVELOPE, "producer": "inspection", "correlation_id": INSPECTION_ID},
        ),
        TenantMerged.create(
            event_id=_id(20),
            into="tuyen-quang",
            units={"VP-UBND": "HA-GIANG-VP-UBND"},
            rule=RuleRef(
                rule="tenant.merged",
                source="Nghị quyết 202/2025/QH15 về sắp xếp đơn vị hành chính cấp tỉnh",
            ),
            requested_by="hnth-cli",
            **{**ENVELOPE, "tenant": "ha-giang", "correlation_id": "tenant:ha-giang"},
        ),
        TenantRenamed.create(
            event_id=_id(21),
            into="hue",
            rule=RuleRef(
                rule="tenant.renamed",
                source="Nghị quyết 175/2024/QH15 về thành lập thành phố Huế trực thuộc trung ương",
            ),
            requested_by="hnth-cli",
            **{**ENVELOPE, "tenant": "thua-thien-hue", "correlation_id": "tenant:thua-thien-hue"},
        ),
        MeetingSubmitted.create(
            event_id=_id(22),
            request_id="VPDT-2026-00417",
            system="sys-tuyen-quang-vpdt-3f9a",
            meeting={
                "title": details["title"],
                "host_unit": "VP-UBND",
                "chair": details["chair"],
                "start": T0.isoformat(),
                "end": (T0 + timedelta(hours=3)).isoformat(),
                "main_endpoint": "TQ-UBND",
                "endpoints": ["TQ-STTTT"],
                "document_number": "417/UBND-VX",
                "document_date": "2026-11-28",
            },
            **{**SYSTEM, "correlation_id": "VPDT-2026-00417"},
        ),
        SubmissionAccepted.create(
            event_id=_id(23),
            request_id="VPDT-2026-00417",
            system="sys-tuyen-quang-vpdt-3f9a",
            meeting_id="mtg-2026-0001",
            causation_id=str(_id(22)),
            **{**ENVELOPE, "correlation_id": "VPDT-2026-00417"},
        ),
        SubmissionRefused.create(
            event_id=_id(24),
            request_id="VPDT-2026-00418",
            system="sys-tuyen-quang-vpdt-3f9a",
            status=422,
            code="notice.urgent_override",
            message_vi="Chỉ Sở TT&TT đăng ký họp khẩn trong thời hạn thông báo.",
            message_en="Only the IT department registers an urgent meeting inside the notice time.",
            errors=[
                BrokenRule(
                    field="urgent_reason",
                    rule="notice.urgent_override",
                    source="QĐ 345/QĐ-UBND 2017 (Tuyên Quang), Điều 6",
                    message_vi="Chỉ Sở TT&TT đăng ký họp khẩn trong thời hạn thông báo.",
                    message_en="Only the IT department registers an urgent meeting inside the "
                    "notice time.",
                )
            ],
            causation_id=str(_id(25)),
            **{**ENVELOPE, "correlation_id": "VPDT-2026-00418"},
        ),
    ]


def write_golden() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for event in samples():
        body = json.loads(event.to_json())
        path = GOLDEN / f"{event.type}.json"
        path.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_golden()
