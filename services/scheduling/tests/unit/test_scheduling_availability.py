"""Free windows, pure: lead time, buffers around other meetings, bridges, working hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from scheduling_samples import NOW, small_bridges, tuyen_quang

from hnth_contracts import Window
from hnth_contracts.policy import Policy, Rule
from scheduling.domain import availability as av
from scheduling.domain.buckets import buckets, reserved_window
from scheduling.domain.hours import WORKING_HOURS

ROOMS = ("TQ-A", "TQ-B")
# NOW is 08:00 local on 1/12; the lead time is 2 days: the first start is 08:00 on 3/12
FIRST = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)


def claims_of(
    meeting: str, start: datetime, end: datetime, policy: Policy, *rooms: str, bridge: str = ""
) -> list[dict[str, Any]]:
    """The claims a meeting holds (as the decision path inserts them)."""
    held: list[dict[str, Any]] = []
    base = {"meeting_id": meeting, "revision": 0, "start": start, "end": end}
    for b in buckets(reserved_window(start, end, policy)):
        held += [{"kind": "endpoint", "resource": r, "bucket": b, **base} for r in rooms]
        if bridge:
            held += [{"kind": "port", "resource": bridge, "bucket": b, **base} for _ in rooms]
    return held


def windows(
    policy: Policy, claims: list[dict[str, Any]], span: Window, length: timedelta = H, **kw: Any
) -> tuple[list[av.FreeWindow], bool]:
    bridges = [b for b in policy.all_bridges if b.ports >= len(ROOMS)]
    occupancy = av.occupancy_of(claims, bridges, av.spans_of(span, policy))
    return av.free_windows("tuyen-quang", ROOMS, length, span, policy, NOW, occupancy, **kw)


def test_an_empty_calendar_is_one_window_per_local_day_from_the_lead_time_on() -> None:
    policy = tuyen_quang()
    span = Window(start=NOW, end=NOW + timedelta(days=4))
    found, more = windows(policy, [], span)
    assert not more
    assert found[0] == av.FreeWindow(FIRST, datetime(2026, 12, 3, 17, 0, tzinfo=UTC), "MCU-TQ")
    # the next local day (midnight local = 17:00 UTC) starts a new window
    assert found[1].start == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    assert found[-1].end == span.end
    assert all(w.end - w.start >= H for w in found)


def test_another_meeting_and_its_buffers_split_the_day() -> None:
    policy = tuyen_quang()  # setup 1 h before, teardown 15 min after
    start = FIRST + 4 * H  # 12:00 - 13:00 local on 3/12
    held = claims_of("m-1", start, start + H, policy, "TQ-B")
    span = Window(start=FIRST, end=FIRST + 12 * H)
    found, _ = windows(policy, held, span)
    # before: our setup hour cannot touch m-1's setup hour; our teardown ends before it
    assert found[0] == av.FreeWindow(FIRST, start - H - timedelta(minutes=15), "MCU-TQ")
    # after: m-1's teardown (15 min) ends before our setup hour starts
    assert found[1].start == start + H + timedelta(minutes=15) + H
    assert found[1].end == span.end


def test_a_full_bridge_moves_the_meeting_to_the_next_bridge() -> None:
    policy = small_bridges(tuyen_quang(), 2, 4)
    start = FIRST + 4 * H
    held = claims_of("m-1", start, start + H, policy, "TQ-X", "TQ-Y", bridge="MCU-1")
    span = Window(start=FIRST, end=FIRST + 12 * H)
    found, _ = windows(policy, held, span)
    assert [w.bridge for w in found] == ["MCU-1", "MCU-2", "MCU-1"]
    assert found[1].start < start < found[1].end


def test_working_hours_keep_meetings_inside_the_day() -> None:
    rules = dict(tuyen_quang().rules)
    rules[WORKING_HOURS] = Rule(
        value={"days": [1, 2, 3, 4, 5], "from": "07:30", "to": "17:00"}, source="test"
    )
    policy = tuyen_quang().model_copy(update={"rules": rules})
    span = Window(start=NOW, end=NOW + timedelta(days=6))  # Thu 3/12 .. Sun 6/12
    found, _ = windows(policy, [], span, 2 * H)
    local = [
        (w.start.astimezone(av.zone(policy)), w.end.astimezone(av.zone(policy))) for w in found
    ]
    # the lead time ends at 08:00 on Thursday; Friday whole; no weekend; on Monday
    # 07:30 + 2 h is past the range's end (08:00)
    assert [(s.day, s.hour, s.minute, e.hour) for s, e in local] == [
        (3, 8, 0, 17),
        (4, 7, 30, 17),
    ]


def test_windows_are_capped() -> None:
    policy = small_bridges(tuyen_quang(), 2)
    # a meeting every other hour: windows alternate
    held: list[dict[str, Any]] = []
    for n in range(0, 48, 3):
        start = FIRST + n * H
        held += claims_of(f"m-{n}", start, start + timedelta(minutes=15), policy, "TQ-A")
    span = Window(start=FIRST, end=FIRST + timedelta(days=2))
    found, more = windows(policy, held, span, timedelta(minutes=15), limit=3)
    assert len(found) == 3
    assert more


def test_lengths_the_province_refuses_are_named() -> None:
    policy = tuyen_quang()
    assert [b.rule for b in av.length_breaches(timedelta(minutes=5), policy)] == [
        "meeting.min_duration"
    ]
    assert [b.rule for b in av.length_breaches(13 * H, policy)] == ["meeting.max_duration"]
    assert av.length_breaches(2 * H, policy) == []


def test_within_hours_refuses_a_meeting_past_midnight() -> None:
    hours = av.WorkingHours(frozenset(range(1, 8)), time(0), time(23, 59))
    tz = av.zone(tuyen_quang())
    late = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 23:00 local
    assert not av.within_hours(late, late + H, hours, tz)
    assert av.within_hours(late - H, late, hours, tz)


def test_the_searchers_office_hours_narrow_the_windows() -> None:
    policy = tuyen_quang()  # no working hours of its own
    office = av.WorkingHours(frozenset({1, 2, 3, 4, 5}), time(7, 30), time(17, 0))
    span = Window(start=NOW, end=NOW + timedelta(days=6))  # Thu 3/12 .. Mon 7/12 08:00
    found, _ = windows(policy, [], span, 2 * H, preferred=office)
    local = [
        (w.start.astimezone(av.zone(policy)), w.end.astimezone(av.zone(policy))) for w in found
    ]
    assert [(s.day, s.hour, s.minute, e.hour) for s, e in local] == [
        (3, 8, 0, 17),
        (4, 7, 30, 17),
    ]


def test_a_window_that_fits_only_cascaded_says_so_where_the_province_cascades() -> None:
    """Four endpoints, two bridges of four ports: one bridge holds them, unless another
    meeting takes a port on each; then only the cascade does (3 + 3 less a link's port on
    each side), hosted by the first bridge with most free ports."""
    rooms = ("TQ-A", "TQ-B", "TQ-C", "TQ-D")
    policy = small_bridges(tuyen_quang(), 4, 4)
    start = FIRST + 4 * H
    held = claims_of("m-1", start, start + H, policy, "TQ-X", bridge="MCU-1")
    held += claims_of("m-2", start, start + H, policy, "TQ-Y", bridge="MCU-2")
    span = Window(start=FIRST, end=FIRST + 12 * H)

    def found_on(policy: Policy) -> list[av.FreeWindow]:
        bridges = av.searched_bridges(policy, len(rooms))
        occupancy = av.occupancy_of(held, bridges, av.spans_of(span, policy))
        return av.free_windows("tuyen-quang", rooms, H, span, policy, NOW, occupancy)[0]

    found = found_on(policy)
    assert [(w.bridge, w.cascade) for w in found] == [
        ("MCU-1", False),
        ("MCU-1", True),
        ("MCU-1", False),
    ]
    assert found[1].start < start < found[1].end
    # the cascade's first start is the candidate after the single bridge's last
    assert found[0].end == found[1].start + H - timedelta(minutes=15)

    rules = {**policy.rules, "bridge.cascade": Rule(value=False, source="test")}
    alone = found_on(policy.model_copy(update={"rules": rules}))
    assert [(w.bridge, w.cascade) for w in alone] == [("MCU-1", False), ("MCU-1", False)]
    assert alone[0].end <= start
    assert alone[1].start >= start + H


def test_the_most_endpoints_a_search_may_name_is_the_cascades_where_the_province_cascades() -> None:
    policy = small_bridges(tuyen_quang(), 128, 64)
    assert av.most_endpoints(policy) == (190, "bridge.cascade")
    rules = {**policy.rules, "bridge.cascade": Rule(value=False, source="test")}
    assert av.most_endpoints(policy.model_copy(update={"rules": rules})) == (128, "bridge.ports")


def test_held_times_give_each_endpoints_meetings_once_without_ports() -> None:
    policy = tuyen_quang()
    first = FIRST + 2 * H
    held = claims_of("m-1", first, first + H, policy, "TQ-A", "TQ-B")
    held += claims_of("m-2", first + 3 * H, first + 4 * H, policy, "TQ-A")
    span = Window(start=FIRST, end=FIRST + timedelta(days=1))
    got = av.held_times(held, span)
    assert [(room, w.start - FIRST) for room, w in got] == [
        ("TQ-A", 2 * H),
        ("TQ-A", 5 * H),
        ("TQ-B", 2 * H),
    ]
    assert av.held_times(held, Window(start=first + 5 * H, end=first + 6 * H)) == []
