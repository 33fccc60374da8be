"""Sample directory and events for notification's tests (importable: on pytest's pythonpath)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hnth_contracts import (
    DIRECTORY_LOAD,
    AccessLinkIssued,
    AccessLinkPurpose,
    BridgeShare,
    CheckCompleted,
    CheckOutcome,
    Conflict,
    ConflictKind,
    Contact,
    ContactsUpdated,
    EndpointUpdated,
    Event,
    InspectionCancelled,
    InspectionPlan,
    InspectionScheduled,
    MeetingCancelled,
    ReportKind,
    ReportSubmitted,
    RuleRef,
    Slot,
    SlotAssigned,
    SlotRejected,
    UnitUpdated,
    Window,
)
from hnth_kit.testing import TEST_KEYS

TENANT = "tuyen-quang"
KEYS = TEST_KEYS  # registration signs with these; the services verify
WEBHOOK_SECRET = "webhook-test-secret"
ENDPOINTS = ("TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG")
ADDRESSES = {
    "it_department": "sotttt@tuyenquang.gov.vn",
    "line_provider": "vnpt@tuyenquang.vn",
    "power_company": "dienluc@tuyenquang.evn.vn",
    "duty": "trucban@tuyenquang.gov.vn",
    "unit:VP-UBND": "vanphong@tuyenquang.gov.vn",
    **{f"technician:{e}": f"kt.{e.lower()}@tuyenquang.gov.vn" for e in ENDPOINTS},
}


# ---------------------------------------------------------------- events


def directory(
    tenant: str = TENANT, *, skip: Sequence[str] = (), english: Sequence[str] = ()
) -> list[Event]:
    """The province's contacts, the host unit and the endpoints with their technicians;
    the recipients named in `english` read their notices in English."""
    env = {"tenant": tenant, "correlation_id": DIRECTORY_LOAD, "producer": "registration"}

    def contact(key: str, name: str) -> Contact:
        person = f"Cán bộ {name}"
        language = "en" if key in english else "vi"
        return Contact(
            name=name,
            person=person,
            phone="0207 3822 000",
            email=ADDRESSES[key],
            language=language,
        )

    events: list[Event] = [
        ContactsUpdated.create(
            **env,
            it_department=contact("it_department", "Sở KH&CN Tuyên Quang"),
            line_provider=contact("line_provider", "VNPT Tuyên Quang"),
            power_company=contact("power_company", "Công ty Điện lực Tuyên Quang"),
            duty=contact("duty", "Trực ban Sở KH&CN"),
        ),
        UnitUpdated.create(
            **env,
            code="VP-UBND",
            name="Văn phòng UBND tỉnh",
            contact=contact("unit:VP-UBND", "Văn phòng UBND tỉnh"),
        ),
    ]
    for code in ENDPOINTS:
        if code in skip:
            continue
        events.append(
            EndpointUpdated.create(
                **env,
                code=code,
                name=f"Điểm cầu {code}",
                unit="VP-UBND",
                technician=contact(f"technician:{code}", f"Kỹ thuật {code}"),
            )
        )
    return events


def assigned(
    meeting_id: str,
    start: datetime,
    *,
    revision: int = 0,
    endpoints: Sequence[str] = ENDPOINTS,
    late_notice: bool = False,
    **extra: Any,
) -> SlotAssigned:
    end = start + timedelta(hours=2)
    return SlotAssigned.create(
        tenant=TENANT,
        correlation_id=meeting_id,
        producer="scheduling",
        meeting_id=meeting_id,
        revision=revision,
        title="Hội nghị trực tuyến giao ban tháng",
        host_unit="VP-UBND",
        main_endpoint=endpoints[0],
        endpoints=tuple(endpoints),
        slot=Slot(
            bridge="MCU-TQ",
            virtual_room="VR-01",
            dial_in="sip:VR-01@mcu.tuyenquang.gov.vn",
            meeting=Window(start=start, end=end),
            reserved=Window(start=start - timedelta(hours=1), end=end + timedelta(minutes=15)),
        ),
        check_deadline=start - timedelta(hours=1),
        notice_deadline=start - timedelta(days=2),
        late_notice=late_notice,
        policy="tuyen-quang@2017-345",
        **extra,
    )


def missed_check(
    meeting_id: str,
    endpoint: str,
    start: datetime,
    outcome: CheckOutcome = CheckOutcome.MISSED,
    tenant: str = TENANT,
) -> CheckCompleted:
    """An endpoint's check not done (or failed) by its deadline, an hour before `start`."""
    return CheckCompleted.create(
        tenant=tenant,
        correlation_id=meeting_id,
        producer="inspection",
        meeting_id=meeting_id,
        endpoint=endpoint,
        outcome=outcome,
        failed_items=(),
        due_at=start - timedelta(hours=1),
        on_time=False,
    )


def in_days(days: float) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


def cancelled(meeting_id: str, reason: str = "Thay đổi kế hoạch") -> MeetingCancelled:
    """Registration says the meeting is cancelled."""
    return MeetingCancelled.create(
        tenant=TENANT,
        correlation_id=meeting_id,
        producer="registration",
        meeting_id=meeting_id,
        reason=reason,
    )


BUSY = "Điểm cầu TQ-STTTT đã có lịch họp khác"


def rejected(
    meeting_id: str,
    *,
    title: str | None = None,
    message_en: str | None = None,
    alternatives: Sequence[Window] = (),
) -> SlotRejected:
    """Scheduling could not place the meeting: TQ-STTTT is busy."""
    return SlotRejected.create(
        tenant=TENANT,
        correlation_id=meeting_id,
        producer="scheduling",
        meeting_id=meeting_id,
        host_unit="VP-UBND",
        title=title,
        conflicts=[
            Conflict(
                kind=ConflictKind.ENDPOINT_BUSY,
                resource="TQ-STTTT",
                message=BUSY,
                message_en=message_en,
                rule=RuleRef(rule="notice.lead_time", source="QĐ 345/QĐ-UBND 2017 Tuyên Quang"),
            )
        ],
        alternatives=tuple(alternatives),
    )


def submitted(report_id: str, kind: ReportKind, at: datetime, **who: str) -> ReportSubmitted:
    """What a ReportDue asked for was handed in (`who`: endpoint, unit, meeting_id)."""
    return ReportSubmitted.create(
        tenant=TENANT,
        correlation_id=report_id,
        producer="test",
        report_id=report_id,
        kind=kind,
        submitted_by="test",
        submitted_at=at,
        **who,
    )


def access_link(
    purpose: str = "invite",
    language: str = "vi",
    link: str = "https://console.example/set-password?token=t0ken-only-in-the-mail",
    expires_at: datetime = datetime(2026, 12, 1, 17, 30, tzinfo=UTC),
    tenant: str = TENANT,
) -> AccessLinkIssued:
    """Registration's one-time link to set a password (an invite or a reset)."""
    return AccessLinkIssued.create(
        tenant=tenant,
        correlation_id="account:tran.thi.binh",
        producer="registration",
        subject="tran.thi.binh",
        display_name="Trần Thị Bình",
        email="binh.tt@tuyenquang.gov.vn",
        purpose=AccessLinkPurpose(purpose),
        link=link,
        expires_at=expires_at,
        language=language,
    )


INSPECTION = "periodic_inspection:tuyen-quang:TQ-STTTT:2026-Q4"
LEAD = RuleRef(rule="notice.lead_time", source="seeds/000")


def inspection_plan(at: datetime, *endpoints: str, line_provider: bool = True) -> InspectionPlan:
    return InspectionPlan(
        planned_at=at,
        endpoints=list(endpoints or ("TQ-STTTT",)),
        with_line_provider=line_provider,
    )


def inspection_scheduled(at: datetime, *, previous: bool = False) -> InspectionScheduled:
    """Revision 1 at TQ-STTTT and TQ-UBND with the line provider; with `previous`, revision
    2 at TQ-STTTT alone without it (so TQ-UBND and the line provider are told it is off)."""
    first = inspection_plan(at, "TQ-STTTT", "TQ-UBND")
    return InspectionScheduled.create(
        tenant=TENANT,
        correlation_id=INSPECTION,
        producer="inspection",
        inspection_id=INSPECTION,
        revision=2 if previous else 1,
        period="2026-Q4",
        due_at=at + timedelta(days=7),
        plan=inspection_plan(at, line_provider=False) if previous else first,
        previous=first if previous else None,
        rule=LEAD,
    )


def inspection_cancelled(at: datetime) -> InspectionCancelled:
    return InspectionCancelled.create(
        tenant=TENANT,
        correlation_id=INSPECTION,
        producer="inspection",
        inspection_id=INSPECTION,
        revision=1,
        period="2026-Q4",
        plan=inspection_plan(at, "TQ-STTTT", "TQ-UBND"),
        reason="Phòng họp đang sửa",
    )


def cascaded(meeting_id: str, start: datetime, **kw: Any) -> SlotAssigned:
    """`assigned`, cascaded: TQ-UBND and TQ-STTTT on the host MCU-TQ, TQ-H-SONDUONG on MCU-TQ-2."""
    event = assigned(meeting_id, start, **kw)
    shares = (
        BridgeShare(
            bridge="MCU-TQ",
            endpoints=ENDPOINTS[:2],
            ports=3,
            dial_in=event.slot.dial_in,
            host=True,
        ),
        BridgeShare(
            bridge="MCU-TQ-2",
            endpoints=ENDPOINTS[2:],
            ports=2,
            dial_in="sip:VR-01@mcu2.tuyenquang.gov.vn",
        ),
    )
    return event.model_copy(update={"slot": event.slot.model_copy(update={"cascade": shares})})
