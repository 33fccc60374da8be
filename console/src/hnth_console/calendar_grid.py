"""The schedule as a resource timeline (as MRBS and LibreBooking draw rooms): a row per
endpoint or per bridge, a cell per day, each meeting a block placed in its time.

Pure functions, given the meetings as the services answer them: every position is a
percent of the cell's visible hours (in the province's zone), so the template only writes
`left`, `width` and the lane (overlapping meetings stack in lanes)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hnth_console.views import endpoints_of, parse_time

Row = Mapping[str, Any]

DEFAULT_HOURS = (7, 18)
"""The hours a cell shows when every meeting of the view fits in them (a working day)."""
HIDDEN = frozenset({"cancelled", "rejected"})
"""Meetings that hold no endpoint or bridge: not drawn."""
NO_BRIDGE = ""
"""The bridge row of meetings not given a slot yet."""


@dataclass(frozen=True)
class Block:
    """One meeting in one day's cell: where it sits (percent of the cell), its lane, and
    whether it goes on before (`clipped_start`) or after (`clipped_end`) what the cell shows."""

    meeting: Row
    start: datetime
    end: datetime
    left: float
    width: float
    lane: int = 0
    clipped_start: bool = False
    clipped_end: bool = False
    shown_left: float = 0.0
    shown_width: float = 0.0
    """Where the block is drawn: its time, widened to a readable minimum (a week's narrow
    cells) and kept inside the cell; the lanes keep widened blocks apart too."""


@dataclass
class Cell:
    day: date
    blocks: list[Block] = field(default_factory=list)

    @property
    def lanes(self) -> int:
        return max((b.lane for b in self.blocks), default=-1) + 1


@dataclass
class GridRow:
    key: str
    label: str
    cells: list[Cell]

    @property
    def busy(self) -> bool:
        return any(c.blocks for c in self.cells)


def span(meeting: Row) -> tuple[datetime, datetime] | None:
    """The meeting's start and end (aware), or None when they do not read or are reversed."""
    start, end = parse_time(meeting.get("start")), parse_time(meeting.get("end"))
    if start is None or end is None or end <= start:
        return None
    return start, end


def visible_hours(
    meetings: Iterable[Row],
    days: Sequence[date],
    zone: ZoneInfo,
    default: tuple[int, int] = DEFAULT_HOURS,
) -> tuple[int, int]:
    """The hours each cell shows: the working day, widened to whole hours until every
    part of a meeting in the view's days fits (a meeting crossing midnight: 0 or 24)."""
    first, last = default
    for meeting in meetings:
        found = span(meeting)
        if found is None:
            continue
        for day in days:
            bounds = _day_bounds(day, zone, 0, 24)
            start, end = max(found[0], bounds[0]), min(found[1], bounds[1])
            if start >= end:
                continue
            local_start, local_end = start.astimezone(zone), end.astimezone(zone)
            first = min(first, local_start.hour)
            ends_at = 24 if end == bounds[1] else local_end.hour + (local_end.minute > 0)
            last = max(last, ends_at)
    return first, last


def hour_marks(hours: tuple[int, int], step: int = 1) -> list[tuple[int, float]]:
    """Each whole hour `step` apart and its offset (percent) in a cell showing `hours`."""
    first, last = hours
    return [(h, 100 * (h - first) / (last - first)) for h in range(first, last, step)]


def place(meeting: Row, day: date, zone: ZoneInfo, hours: tuple[int, int]) -> Block | None:
    """The meeting's block in `day`'s cell (clipped to the hours shown), None when no part
    of it falls in them."""
    found = span(meeting)
    if found is None:
        return None
    shown_from, shown_to = _day_bounds(day, zone, *hours)
    start, end = max(found[0], shown_from), min(found[1], shown_to)
    if start >= end:
        return None
    whole = (shown_to - shown_from).total_seconds()
    left = 100 * (start - shown_from).total_seconds() / whole
    width = 100 * (end - start).total_seconds() / whole
    return Block(
        meeting=meeting,
        start=found[0].astimezone(zone),
        end=found[1].astimezone(zone),
        left=round(left, 3),
        width=round(width, 3),
        clipped_start=found[0] < shown_from,
        clipped_end=found[1] > shown_to,
    )


def stacked(blocks: Iterable[Block], min_width: float = 0.0) -> list[Block]:
    """The blocks with lanes: each in the first lane free where it is drawn (overlapping
    meetings one above the other; one ending as the next starts shares its lane). A block
    is drawn at least `min_width` percent wide, shifted left if that passes the cell's end."""
    drawn = []
    for block in blocks:
        width = min(max(block.width, min_width), 100.0)
        drawn.append(replace(block, shown_left=min(block.left, 100.0 - width), shown_width=width))
    drawn.sort(key=lambda b: (b.shown_left, -b.width, str(b.meeting.get("id"))))
    lane_ends: list[float] = []
    placed = []
    for block in drawn:
        lane = next(
            (n for n, ends in enumerate(lane_ends) if ends <= block.shown_left + 1e-9),
            len(lane_ends),
        )
        if lane == len(lane_ends):
            lane_ends.append(0.0)
        lane_ends[lane] = block.shown_left + block.shown_width
        placed.append(replace(block, lane=lane))
    return placed


def bridge_of(meeting: Row) -> list[str]:
    """The bridge a meeting's slot is on (NO_BRIDGE while it has none)."""
    return [str((meeting.get("slot") or {}).get("bridge") or NO_BRIDGE)]


def grid(
    meetings: Iterable[Row],
    rows_by: str,
    resources: Sequence[tuple[str, str]],
    days: Sequence[date],
    zone: ZoneInfo,
    hours: tuple[int, int],
    min_width: float = 0.0,
    only: Collection[str] | None = None,
) -> list[GridRow]:
    """A row per resource (`(key, label)`, in order; `rows_by` "endpoint" or "bridge"),
    then a row for any other resource a meeting holds, each with a cell per day (blocks
    drawn at least `min_width` percent wide); `only` those resources, when given (a
    technician's own endpoints)."""
    key_of = endpoints_of if rows_by == "endpoint" else bridge_of
    rows = {
        key: GridRow(key, label, [Cell(d) for d in days])
        for key, label in resources
        if only is None or key in only
    }
    for meeting in meetings:
        if meeting.get("status") in HIDDEN:
            continue
        for key in key_of(meeting):
            if only is not None and key not in only:
                continue
            row = rows.setdefault(key, GridRow(key, key, [Cell(d) for d in days]))
            for cell in row.cells:
                block = place(meeting, cell.day, zone, hours)
                if block is not None:
                    cell.blocks.append(block)
    for row in rows.values():
        for cell in row.cells:
            cell.blocks = stacked(cell.blocks, min_width)
    return list(rows.values())


def _day_bounds(day: date, zone: ZoneInfo, first: int, last: int) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), zone) + timedelta(hours=first)
    return start, datetime.combine(day, time(0), zone) + timedelta(hours=last)
