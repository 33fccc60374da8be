"""`GET /availability`: the windows where a meeting of a given length fits, all its
endpoints and a bridge free, the province's rules applied (lead time, working hours if
the policy has them, setup and teardown buffers). Registrars (for any endpoints: a free
window reveals no meeting) and operators; the computation is `domain.availability`'s."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ValidationError

from hnth_contracts import Window
from hnth_contracts.policy import DURATION, Policy
from hnth_contracts.rules import zone
from hnth_kit.auth import Principal, Role, only
from hnth_kit.refusal import SCHEMA_SOURCE, Refusal, Violation
from scheduling.domain import availability, cascade, hours
from scheduling.store import SchedulingStore
from scheduling.usecases import Scheduling

router = APIRouter(tags=["availability"])

Booking = Annotated[Principal, Depends(only(Role.REGISTRAR, Role.OPERATOR))]
DEFAULT_RANGE = timedelta(days=7)
YEARS = (2000, 2100)
MAX_ENDPOINTS = 400
"""Endpoints per search: a whole province's meeting (Lạng Sơn: 153), cascaded if need be."""
SOURCE = "HNTH Ops: tìm khung giờ trống (GET /availability)"


class FreeWindow(BaseModel):
    start: datetime
    end: datetime
    bridge: str
    cascade: bool = False
    """The meeting fits here only cascaded over several bridges, `bridge` hosting."""


class Availability(BaseModel):
    """Các khung giờ trống / the free windows."""

    windows: list[FreeWindow]
    """A meeting of `duration` fits anywhere from `start` to `end`, on `bridge`."""
    truncated: bool
    """More windows exist in the range than the answer holds: ask for a later `from`."""
    start: datetime
    end: datetime
    duration: timedelta


def _bad(field: str, rule: str, vi: str, en: str, source: str = SCHEMA_SOURCE) -> Refusal:
    return Refusal.broken([Violation(field, rule, source, vi, en)])


def _too_many(policy: Policy, rooms: int, rule: str) -> Violation:
    """More endpoints than the bridges hold: the largest bridge's ports, or the cascade's."""
    largest = max(policy.all_bridges, key=lambda b: b.ports)
    if rule == "bridge.ports":
        return Violation(
            "endpoints",
            rule,
            largest.source,
            f"Cần {rooms} cổng, cầu lớn nhất {largest.name} chỉ có {largest.ports}",
            f"{rooms} ports are needed, the largest bridge {largest.name} has only {largest.ports}",
        )
    empty = cascade.too_big(policy, rooms, [(b, b.ports) for b in policy.all_bridges])
    return Violation("endpoints", rule, empty.rule.source, empty.message, empty.message_en or "")


def _duration(text: str) -> timedelta:
    try:
        length = DURATION.validate_python(text)
    except ValidationError:
        raise _bad(
            "duration",
            "schema.duration",
            f"Thời lượng '{text}' không hợp lệ: dùng dạng ISO 8601, ví dụ PT2H hoặc PT1H30M",
            f"Duration '{text}' is not valid: use ISO 8601, e.g. PT2H or PT1H30M",
        ) from None
    if length <= timedelta(0):
        raise _bad(
            "duration",
            "schema.duration",
            "Thời lượng phải lớn hơn 0",
            "The duration must be more than zero",
        )
    return length


def _moment(field: str, text: str | None, default: datetime, tz: Any) -> datetime:
    if text is None or not text.strip():
        return default
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _bad(
            field,
            "schema.datetime",
            f"Thời điểm '{text}' không hợp lệ: dùng dạng ISO 8601, ví dụ 2026-12-10T08:00",
            f"Time '{text}' is not valid: use ISO 8601, e.g. 2026-12-10T08:00",
        ) from None
    if not YEARS[0] <= moment.year <= YEARS[1]:  # and its range's end a year that exists
        raise _bad(
            field,
            "schema.range",
            f"Năm phải trong khoảng {YEARS[0]}–{YEARS[1]}",
            f"The year must be between {YEARS[0]} and {YEARS[1]}",
        )
    # a time without an offset is the province's local time
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _range(start: str | None, end: str | None, now: datetime, tz: Any) -> tuple[datetime, datetime]:
    """The range asked for (`from`, `to`): from now and a week long unless said, at most
    14 days."""
    first = _moment("from", start, now, tz)
    last = _moment("to", end, first + DEFAULT_RANGE, tz)
    if last <= first:
        raise _bad("to", "schema.range", "'to' phải sau 'from'", "'to' must be after 'from'")
    if last - first > availability.MAX_RANGE:
        raise _bad(
            "to",
            "schema.range",
            "Khoảng tìm tối đa 14 ngày",
            "The range is at most 14 days",
            SOURCE,
        )
    return first, last


def _hours(
    opens: str | None, closes: str | None, weekdays: str | None
) -> hours.WorkingHours | None:
    """The hours the person searches within (`day_from`, `day_to`, `weekdays`), if any."""
    if opens is None and closes is None and weekdays is None:
        return None
    clock: dict[str, time] = {}
    for field, text, default in (("day_from", opens, time(0)), ("day_to", closes, time.max)):
        try:
            clock[field] = time.fromisoformat(text.strip()) if text else default
            if clock[field].tzinfo is not None:  # the province's hours: no offset of its own
                raise ValueError(text)
        except ValueError:
            raise _bad(
                field,
                "schema.time",
                f"Giờ '{text}' không hợp lệ: dùng dạng HH:MM, ví dụ 07:30",
                f"Time '{text}' is not valid: use HH:MM, e.g. 07:30",
            ) from None
    if clock["day_to"] <= clock["day_from"]:
        raise _bad(
            "day_to",
            "schema.range",
            "Giờ cuối của khung tìm phải sau giờ đầu",
            "The search's last hour must be after its first",
        )
    days = [d.strip() for d in (weekdays or "1,2,3,4,5,6,7").split(",") if d.strip()]
    if not days or any(d not in "1234567" or len(d) != 1 for d in days):
        raise _bad(
            "weekdays",
            "schema.weekdays",
            "Ngày trong tuần là các số 1 (Thứ Hai) đến 7 (Chủ Nhật), cách nhau dấu phẩy",
            "Weekdays are numbers 1 (Monday) to 7 (Sunday), separated by commas",
        )
    return hours.WorkingHours(frozenset(int(d) for d in days), clock["day_from"], clock["day_to"])


def _endpoints(text: str) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))
    if not codes:
        raise _bad(
            "endpoints",
            "schema.endpoints",
            "Hãy chọn ít nhất một điểm cầu",
            "Choose at least one endpoint",
        )
    if len(codes) > MAX_ENDPOINTS:
        raise _bad(
            "endpoints",
            "schema.endpoints",
            f"Tối đa {MAX_ENDPOINTS} điểm cầu mỗi lần tìm",
            f"At most {MAX_ENDPOINTS} endpoints per search",
        )
    return codes


@router.get(
    "/availability",
    summary="Tìm khung giờ trống cho các điểm cầu / free windows for endpoints and a bridge",
    description="Các khung giờ trong [from, to) mà mọi điểm cầu và một cầu MCU đều trống cho "
    "một cuộc họp dài `duration`, theo quy định của tỉnh (thời hạn thông báo tính từ bây giờ, "
    "giờ làm việc nếu có, thời gian chuẩn bị trước và sau họp). / The windows in [from, to) "
    "where every endpoint and one bridge are free for a meeting of `duration`, the "
    "province's rules applied (notice lead time counted from now, working hours if the "
    "policy has them, setup and teardown buffers). `day_from`, `day_to` and `weekdays` "
    "narrow the search to the hours the person wants (office hours). A meeting fits "
    "anywhere from a window's `start` to its `end`. `from` defaults to now, `to` to 7 "
    "days later; at most 14 days; times without an offset are the province's local time. "
    "Where no one bridge has the ports and the province cascades (`bridge.cascade`), a "
    "window that fits only cascaded over several bridges says `cascade: true`, `bridge` "
    "naming the one that would host.",
    responses={422: {"description": "Tham số sai / a parameter is not valid (field, reason)"}},
)
async def free_windows(
    request: Request,
    who: Booking,
    endpoints: Annotated[str, Query(description="Mã điểm cầu, cách nhau dấu phẩy / codes")],
    duration: Annotated[str, Query(description="ISO 8601, ví dụ / e.g. PT2H")],
    start: Annotated[str | None, Query(alias="from", description="ISO 8601")] = None,
    end: Annotated[str | None, Query(alias="to", description="ISO 8601")] = None,
    day_from: Annotated[
        str | None, Query(description="Chỉ tìm từ giờ này mỗi ngày / local, e.g. 07:30")
    ] = None,
    day_to: Annotated[
        str | None, Query(description="Chỉ tìm đến giờ này mỗi ngày / local, e.g. 17:00")
    ] = None,
    weekdays: Annotated[
        str | None, Query(description="Ngày trong tuần 1-7 / ISO weekdays, e.g. 1,2,3,4,5")
    ] = None,
) -> Availability:
    cases: Scheduling = request.app.state.scheduling
    store: SchedulingStore = request.app.state.store
    policy = cases.policy_for(who.tenant)
    tz = zone(policy)
    now = cases.clock.now()
    rooms = _endpoints(endpoints)
    length = _duration(duration)
    preferred = _hours(day_from, day_to, weekdays)
    first, last = _range(start, end, now, tz)
    breaches = availability.length_breaches(length, policy)
    if breaches:
        raise Refusal.broken(
            [Violation("duration", b.rule, policy.ref(b.rule).source, b.vi, b.en) for b in breaches]
        )
    most, rule = availability.most_endpoints(policy)
    if len(rooms) > most:
        raise Refusal.broken([_too_many(policy, len(rooms), rule)])
    directory = await store.directory_view(who.tenant, rooms)
    if directory is not None:
        missing = [code for code in rooms if directory.get(code) is not True]
        if missing:
            raise Refusal.broken(
                [
                    Violation(
                        "endpoints",
                        "directory.endpoint_active",
                        policy.ref("directory.endpoint_active").source,
                        f"Điểm cầu {code} không có trong danh bạ hoặc đang ngừng hoạt động",
                        f"Endpoint {code} is not in the directory or is inactive",
                    )
                    for code in missing
                ]
            )
    span = Window(start=first, end=last)
    spans = availability.spans_of(span, policy)
    claims = await store.reservations(who.tenant, rooms, spans)
    bridges = availability.searched_bridges(policy, len(rooms))
    occupancy = availability.occupancy_of(claims, bridges, spans)
    windows, truncated = availability.free_windows(
        who.tenant, rooms, length, span, policy, now, occupancy, preferred=preferred
    )
    return Availability(
        windows=[
            FreeWindow(
                start=w.start.astimezone(tz),
                end=w.end.astimezone(tz),
                bridge=w.bridge,
                cascade=w.cascade,
            )
            for w in windows
        ],
        truncated=truncated,
        start=first.astimezone(tz),
        end=last.astimezone(tz),
        duration=length,
    )


class BusyTime(BaseModel):
    """Một điểm cầu bận / an endpoint held by a meeting (which one is not said)."""

    endpoint: str
    start: datetime
    end: datetime
    """The meeting's own times (the endpoint is held from `slot.setup_buffer` before to
    `slot.teardown_buffer` after them)."""


class Busy(BaseModel):
    """Các khoảng bận / the busy times."""

    busy: list[BusyTime]


@router.get(
    "/busy",
    summary="Khi nào các điểm cầu bận / when endpoints are held",
    description="Các cuộc họp đang giữ mỗi điểm cầu trong [from, to), chỉ thời gian, không "
    "nêu cuộc họp nào: lịch của văn thư cho thấy điểm cầu của đơn vị mình bận dù cuộc họp do "
    "đơn vị khác chủ trì. / When each endpoint is held by a meeting in [from, to), times "
    "only, not which meeting: a clerk's calendar shows their endpoints busy with another "
    "unit's meeting they may not read. `from` defaults to now, `to` to 7 days later; at "
    "most 14 days; times without an offset are the province's local time.",
    responses={422: {"description": "Tham số sai / a parameter is not valid (field, reason)"}},
)
async def busy_times(
    request: Request,
    who: Booking,
    endpoints: Annotated[str, Query(description="Mã điểm cầu, cách nhau dấu phẩy / codes")],
    start: Annotated[str | None, Query(alias="from", description="ISO 8601")] = None,
    end: Annotated[str | None, Query(alias="to", description="ISO 8601")] = None,
) -> Busy:
    cases: Scheduling = request.app.state.scheduling
    store: SchedulingStore = request.app.state.store
    policy = cases.policy_for(who.tenant)
    tz = zone(policy)
    rooms = _endpoints(endpoints)
    first, last = _range(start, end, cases.clock.now(), tz)
    spans = availability.spans_of(Window(start=first, end=last), policy)
    # the endpoints' claims alone: a calendar asks this on every page it draws
    claims = await store.reservations(who.tenant, rooms, spans, ports=False)
    held = availability.held_times(claims, Window(start=first, end=last))
    return Busy(
        busy=[
            BusyTime(endpoint=room, start=w.start.astimezone(tz), end=w.end.astimezone(tz))
            for room, w in held
        ]
    )
