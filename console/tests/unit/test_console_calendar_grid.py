"""The calendar's resource timeline, without I/O: blocks placed in the province's zone,
overlapping meetings stacked, meetings crossing a day's edge clipped."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from hnth_console import calendar_grid as cg

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 12, 2)  # a Wednesday
WORKDAY = (7, 18)


def meeting(
    ident: str, start: str, end: str, endpoints: tuple[str, ...] = ("A",), **more: object
) -> dict[str, object]:
    """A meeting between two local times `YYYY-MM-DD HH:MM`, as the services answer (UTC)."""

    def utc(text: str) -> str:
        local = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)
        return local.astimezone(ZoneInfo("UTC")).isoformat()

    return {
        "id": ident,
        "title": f"Họp {ident}",
        "status": "scheduled",
        "start": utc(start),
        "end": utc(end),
        "main_endpoint": endpoints[0],
        "endpoints": list(endpoints),
        **more,
    }


def test_a_block_sits_at_its_local_time_as_a_percent_of_the_hours_shown() -> None:
    # 08:00-10:00 in Tuyên Quang is 01:00-03:00 UTC: placed by the province's clock
    block = cg.place(meeting("m", "2026-12-02 08:00", "2026-12-02 10:00"), DAY, ZONE, (8, 18))
    assert block is not None
    assert (block.left, block.width) == (0.0, 20.0)
    assert (block.start.hour, block.end.hour) == (8, 10)
    assert (block.clipped_start, block.clipped_end) == (False, False)
    tomorrow = meeting("m", "2026-12-03 08:00", "2026-12-03 09:00")
    assert cg.place(tomorrow, DAY, ZONE, WORKDAY) is None


def test_overlapping_meetings_stack_in_lanes_and_back_to_back_ones_share_one() -> None:
    found = [
        meeting("a", "2026-12-02 08:00", "2026-12-02 10:00"),
        meeting("b", "2026-12-02 09:00", "2026-12-02 11:00"),
        meeting("c", "2026-12-02 10:00", "2026-12-02 12:00"),
        meeting("d", "2026-12-02 09:30", "2026-12-02 10:30"),
    ]
    [row] = cg.grid(found, "endpoint", [("A", "Điểm cầu A")], [DAY], ZONE, WORKDAY)
    [cell] = row.cells
    lanes = {b.meeting["id"]: b.lane for b in cell.blocks}
    assert lanes == {"a": 0, "b": 1, "d": 2, "c": 0}
    assert cell.lanes == 3


def test_a_meeting_crossing_midnight_is_clipped_in_each_days_cell() -> None:
    late = meeting("n", "2026-12-02 22:00", "2026-12-03 02:00")
    days = [DAY, date(2026, 12, 3)]
    hours = cg.visible_hours([late], days, ZONE)
    assert hours == (0, 24)  # the night is shown, not cut off
    [row] = cg.grid([late], "endpoint", [("A", "A")], days, ZONE, hours)
    first, second = (c.blocks[0] for c in row.cells)
    assert (first.clipped_start, first.clipped_end) == (False, True)
    assert first.left + first.width == 100.0
    assert (second.clipped_start, second.clipped_end) == (True, False)
    assert second.left == 0.0
    assert round(second.width, 3) == round(100 * 2 / 24, 3)
    assert (first.start.hour, second.end.hour) == (22, 2)  # the real times, in the zone


def test_the_hours_shown_widen_to_whole_hours_around_the_meetings() -> None:
    assert cg.visible_hours([], [DAY], ZONE) == WORKDAY
    early = meeting("e", "2026-12-02 06:30", "2026-12-02 07:30")
    evening = meeting("v", "2026-12-02 19:00", "2026-12-02 20:15")
    assert cg.visible_hours([early, evening], [DAY], ZONE) == (6, 21)
    assert cg.hour_marks((8, 12), 2) == [(8, 0.0), (10, 50.0)]


def test_rows_by_endpoint_or_bridge_and_meetings_that_hold_nothing_are_left_out() -> None:
    on_mcu = meeting("a", "2026-12-02 08:00", "2026-12-02 10:00", ("A", "B"))
    on_mcu["slot"] = {"bridge": "MCU-TQ", "virtual_room": "VR-1"}
    waiting = meeting("w", "2026-12-02 13:00", "2026-12-02 14:00", ("C",), status="pending")
    gone = meeting("x", "2026-12-02 13:00", "2026-12-02 14:00", ("A",), status="cancelled")
    found = [on_mcu, waiting, gone]
    by_endpoint = cg.grid(found, "endpoint", [("A", "A"), ("B", "B")], [DAY], ZONE, WORKDAY)
    assert [(r.key, [b.meeting["id"] for b in r.cells[0].blocks]) for r in by_endpoint] == [
        ("A", ["a"]),
        ("B", ["a"]),
        ("C", ["w"]),  # not in the list given (inactive): still drawn, under its code
    ]
    by_bridge = cg.grid(found, "bridge", [("MCU-TQ", "MCU-TQ")], [DAY], ZONE, WORKDAY)
    assert [(r.key, r.busy) for r in by_bridge] == [("MCU-TQ", True), (cg.NO_BRIDGE, True)]


def test_a_meeting_without_readable_times_is_not_drawn() -> None:
    broken = {"id": "z", "start": "soon", "end": None, "endpoints": ["A"]}
    assert cg.place(broken, DAY, ZONE, WORKDAY) is None
    assert cg.visible_hours([broken], [DAY], ZONE) == WORKDAY


def test_a_weeks_narrow_blocks_are_drawn_readable_and_kept_apart() -> None:
    found = [
        meeting("a", "2026-12-02 08:00", "2026-12-02 09:00"),
        meeting("b", "2026-12-02 10:00", "2026-12-02 11:00"),
        meeting("c", "2026-12-02 17:00", "2026-12-02 18:00"),
    ]
    [row] = cg.grid(found, "endpoint", [("A", "A")], [DAY], ZONE, WORKDAY, min_width=40)
    drawn = {b.meeting["id"]: b for b in row.cells[0].blocks}
    assert drawn["a"].shown_width == 40
    assert drawn["a"].shown_left == drawn["a"].left  # still starts at its time
    assert drawn["b"].lane == 1  # apart in time, but drawn over "a": stacked
    assert (drawn["c"].shown_left, drawn["c"].lane) == (60.0, 0)  # kept inside the cell
    [exact] = cg.grid(found[:2], "endpoint", [("A", "A")], [DAY], ZONE, WORKDAY)
    assert [b.lane for b in exact.cells[0].blocks] == [0, 0]
    assert [b.shown_width for b in exact.cells[0].blocks] == [
        b.width for b in exact.cells[0].blocks
    ]


def test_an_endpoint_a_group_reached_is_drawn_busy() -> None:
    communes = meeting("g", "2026-12-02 08:00", "2026-12-02 10:00", ("A",), reached=["A", "X"])
    rows = cg.grid([communes], "endpoint", [("A", "A"), ("X", "X")], [DAY], ZONE, WORKDAY)
    assert [(r.key, [b.meeting["id"] for b in r.cells[0].blocks]) for r in rows] == [
        ("A", ["g"]),
        ("X", ["g"]),
    ]


def test_a_technician_sees_only_the_rows_of_their_own_endpoints() -> None:
    shared = meeting("s", "2026-12-02 08:00", "2026-12-02 10:00", ("A", "B", "C"))
    rows = cg.grid([shared], "endpoint", [("A", "A"), ("B", "B")], [DAY], ZONE, WORKDAY, only={"B"})
    assert [(r.key, [b.meeting["id"] for b in r.cells[0].blocks]) for r in rows] == [("B", ["s"])]
