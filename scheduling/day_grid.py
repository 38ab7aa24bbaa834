"""The geometry of the front desk's calendar: which grid rows a span of the day covers. No ORM here.

Rows are steps of wall-clock minutes from local midnight, as a clinic's paper diary is: 09:00 is the same row on
every day of the year. On the two nights a year the clocks change, a span across the change is drawn by its
wall-clock start and end; clinics are closed at 02:00, so nothing real is drawn there.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The day shown when nothing is booked and nobody works: a usual clinic day.
DEFAULT_FIRST, DEFAULT_LAST = 8 * 60, 18 * 60
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Block:
    """CSS grid placement: `grid-row: row / span rows` (rows are 1-based, row 1 is the first step)."""

    row: int
    rows: int


@dataclass(frozen=True)
class Row:
    row: int
    minute: int

    @property
    def label(self) -> str:
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"

    @property
    def on_the_hour(self) -> bool:
        return self.minute % 60 == 0


def minute_of_day(moment: datetime, day: date, zone: ZoneInfo) -> int:
    """Wall-clock minutes since `day`'s midnight in `zone`; before it is 0, after it is 24:00."""
    local = moment.astimezone(zone)
    if local.date() < day:
        return 0
    if local.date() > day:
        return MINUTES_PER_DAY
    return local.hour * 60 + local.minute


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of local midnight starting and ending `day` (23 or 25 hours apart on a change of clocks)."""
    return datetime.combine(day, time(0), tzinfo=zone), datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


class Grid:
    """The rows from the earliest thing shown to the latest, in steps of `step` minutes."""

    def __init__(self, spans: Iterable[tuple[int, int]], step: int):
        if step <= 0 or MINUTES_PER_DAY % step:
            raise ValueError("The step must divide a day (5, 10, 15, 30 or 60 minutes).")
        spans = list(spans)
        first = min([DEFAULT_FIRST, *(start for start, _end in spans)])
        last = max([DEFAULT_LAST, *(end for _start, end in spans)])
        self.step = step
        self.first = first - first % step
        self.last = min(MINUTES_PER_DAY, last + (-last % step))

    @property
    def rows(self) -> list[Row]:
        return [Row(index + 1, minute) for index, minute in enumerate(range(self.first, self.last, self.step))]

    @property
    def row_count(self) -> int:
        return (self.last - self.first) // self.step

    def block(self, start: int, end: int) -> Block | None:
        """The rows [start, end) covers, at least one; None when it lies outside the grid."""
        start, end = max(start, self.first), min(end, self.last)
        if end <= start:
            return None
        row = (start - self.first) // self.step
        last_row = -(-(end - self.first) // self.step)  # ceiling: a 50-minute visit fills its fourth quarter
        return Block(row + 1, max(1, last_row - row))

    def offset(self, minute: int) -> float | None:
        """How many rows down `minute` lies (the "now" line), or None off the grid."""
        if not self.first <= minute <= self.last:
            return None
        return (minute - self.first) / self.step
