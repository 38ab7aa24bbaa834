"""The availability engine: which start times are really bookable.

Pure computation (no ORM, no clock, no I/O) so it can be tested and benchmarked alone. The selector
`scheduling.selectors.bookable_slots` loads its inputs; the booking service asks `check_start` about the
one time a patient chose, so the list a patient sees and the rule a booking obeys are the same code.

Rules, in the order they are checked for a candidate start `s` of an appointment lasting `duration`
followed by `buffer`:
  * notice and horizon: `earliest <= s <= latest`;
  * working hours: weekly wall-clock intervals expanded per date in the location's zone, so a 09:00 shift
    starts at 09:00 local on both sides of a DST change; `s` lies on the slot grid that starts at the
    beginning of the interval (stepping in real minutes), and `[s, s + duration)` fits inside it;
  * the location is not closed that local day and the practitioner has no time off over `[s, s + duration)`;
  * the practitioner has no active appointment over `[s, s + duration + buffer)`, compared with each
    appointment's own `[start, end + buffer)` (exactly what the database's exclusion constraint compares);
  * a room of the location is free over `[s, s + duration + buffer)`.

Internally every instant is an integer of POSIX seconds: the engine runs once per request over up to
62 days, and integer arithmetic with `bisect` keeps that well under a few milliseconds.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class Problem(enum.StrEnum):
    """Why a start time is not bookable."""

    TOO_SOON = "too_soon"
    BEYOND_HORIZON = "beyond_horizon"
    OUTSIDE_HOURS = "outside_working_hours"
    CLOSED = "location_closed"
    TIME_OFF = "practitioner_time_off"
    PRACTITIONER_BUSY = "practitioner_busy"
    NO_ROOM = "no_room_free"


@dataclass(frozen=True)
class WeeklyHours:
    """Working hours on one weekday (0 = Monday) in the wall-clock time of a location."""

    location_id: int
    weekday: int
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or day >= self.valid_from)
            and (self.valid_until is None or day <= self.valid_until)
        )


@dataclass(frozen=True)
class Busy:
    """A half-open span of time [start, end), aware datetimes."""

    start: datetime
    end: datetime


@dataclass
class PractitionerCalendar:
    practitioner_id: int
    hours: Sequence[WeeklyHours]
    appointments: Sequence[Busy] = ()  # active appointments, each [start, end + its buffer)
    time_off: Sequence[Busy] = ()


@dataclass
class LocationCalendar:
    location_id: int
    zone: ZoneInfo
    room_ids: Sequence[int]
    closed_days: frozenset[date] = frozenset()
    room_appointments: Mapping[int, Sequence[Busy]] = field(default_factory=dict)  # by room id


@dataclass(frozen=True)
class SlotRules:
    """What is being booked and the policy that applies."""

    duration: timedelta
    buffer: timedelta
    step: timedelta
    earliest: datetime  # now + minimum notice
    latest: datetime | None = None  # now + horizon; None for no limit


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime
    practitioner_id: int
    location_id: int


@dataclass(frozen=True)
class Verdict:
    problem: Problem | None
    location_id: int | None = None
    room_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} is naive; the engine only takes aware datetimes.")
    return int(moment.timestamp())


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Timeline:
    """Busy spans merged into disjoint sorted runs; answers "is [start, end) free?" in O(log n)."""

    def __init__(self, spans: Iterable[tuple[int, int]]):
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in sorted(spans):
            if self._ends and start <= self._ends[-1]:
                self._ends[-1] = max(self._ends[-1], end)
            else:
                self._starts.append(start)
                self._ends.append(end)

    @classmethod
    def of(cls, spans: Iterable[Busy]) -> Timeline:
        return cls((_seconds(span.start), _seconds(span.end)) for span in spans)

    def is_free(self, start: int, end: int) -> bool:
        # Runs are disjoint and sorted, so only the last run starting at or before `start` and the run
        # after it can overlap [start, end).
        index = bisect_right(self._starts, start) - 1
        if index >= 0 and self._ends[index] > start:
            return False
        following = index + 1
        return following >= len(self._starts) or self._starts[following] >= end


@dataclass(frozen=True)
class _Shift:
    """One working interval on one date, as POSIX seconds."""

    location_id: int
    day: date
    start: int
    end: int


def wall_clock(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant a wall clock in `zone` shows `at` on `day`.

    In the spring-forward gap a time that never happens is read with the offset before the change, so
    it moves forward by the length of the gap (02:30 in New York becomes 03:30). In the fall-back
    overlap the first of the two instants is taken (fold=0).
    """
    return datetime.combine(day, at, tzinfo=zone)


def _days(first: date, last: date) -> Iterator[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def _shifts(
    calendar: PractitionerCalendar, locations: Mapping[int, LocationCalendar], window: tuple[datetime, datetime]
) -> Iterator[_Shift]:
    """Working intervals of the local dates that touch `window`, per location zone."""
    for location_id, location in locations.items():
        hours = [entry for entry in calendar.hours if entry.location_id == location_id]
        if not hours:
            continue
        first = window[0].astimezone(location.zone).date()
        last = window[1].astimezone(location.zone).date()
        for day in _days(first, last):
            for entry in hours:
                if entry.applies_on(day):
                    start = _seconds(wall_clock(day, entry.start, location.zone))
                    end = _seconds(wall_clock(day, entry.end, location.zone))
                    if end > start:
                        yield _Shift(location_id, day, start, end)


_RoomTimelines = dict[int, list[tuple[int, Timeline]]]


def _room_timelines(locations: Mapping[int, LocationCalendar]) -> _RoomTimelines:
    """Per location, (room id, timeline) in the order rooms are offered. Built once per call: rooms are shared."""
    return {
        location_id: [
            (room_id, Timeline.of(location.room_appointments.get(room_id, ()))) for room_id in location.room_ids
        ]
        for location_id, location in locations.items()
    }


class _Checker:
    """Everything `check_start` and `bookable_slots` need, prepared once per practitioner."""

    def __init__(
        self,
        rules: SlotRules,
        calendar: PractitionerCalendar,
        locations: Mapping[int, LocationCalendar],
        rooms: _RoomTimelines,
    ):
        self.duration = int(rules.duration.total_seconds())
        self.blocked = self.duration + int(rules.buffer.total_seconds())
        self.step = int(rules.step.total_seconds())
        if self.step <= 0 or self.duration <= 0:
            raise ValueError("The slot step and the duration must be positive.")
        self.earliest = _seconds(rules.earliest)
        self.latest = _seconds(rules.latest) if rules.latest else None
        self.calendar = calendar
        self.locations = locations
        self.appointments = Timeline.of(calendar.appointments)
        self.time_off = Timeline.of(calendar.time_off)
        self.rooms = rooms

    def problem_at(self, start: int, shift: _Shift) -> tuple[Problem | None, int | None]:
        """Check a start already known to lie on `shift`'s grid; return the problem or a free room."""
        if start < self.earliest:
            return Problem.TOO_SOON, None
        if self.latest is not None and start > self.latest:
            return Problem.BEYOND_HORIZON, None
        if shift.day in self.locations[shift.location_id].closed_days:
            return Problem.CLOSED, None
        if not self.time_off.is_free(start, start + self.duration):
            return Problem.TIME_OFF, None
        if not self.appointments.is_free(start, start + self.blocked):
            return Problem.PRACTITIONER_BUSY, None
        for room_id, timeline in self.rooms[shift.location_id]:
            if timeline.is_free(start, start + self.blocked):
                return None, room_id
        return Problem.NO_ROOM, None

    def grid(self, shift: _Shift) -> range:
        return range(shift.start, shift.end - self.duration + 1, self.step)


def bookable_slots(
    rules: SlotRules,
    calendars: Iterable[PractitionerCalendar],
    locations: Mapping[int, LocationCalendar],
    window: tuple[datetime, datetime],
) -> list[Slot]:
    """Every bookable start in [window[0], window[1]) for each practitioner, merged and sorted by time.

    With several practitioners ("no preference") each slot names its practitioner; the same start may
    appear once per practitioner who is free then.
    """
    window_start, window_end = _seconds(window[0]), _seconds(window[1])
    duration = rules.duration
    slots = []
    rooms = _room_timelines(locations)
    for calendar in calendars:
        checker = _Checker(rules, calendar, locations, rooms)
        low = max(window_start, checker.earliest)
        offered: set[int] = set()  # overlapping hours (refused on entry, but be safe) never list a time twice
        for shift in _shifts(calendar, locations, window):
            for start in checker.grid(shift):
                if start < low or start >= window_end or start in offered:
                    continue
                offered.add(start)
                problem, _room = checker.problem_at(start, shift)
                if problem is None:
                    moment = _instant(start)
                    slots.append(Slot(moment, moment + duration, calendar.practitioner_id, shift.location_id))
    slots.sort()
    return slots


def check_start(
    rules: SlotRules,
    calendar: PractitionerCalendar,
    locations: Mapping[int, LocationCalendar],
    start: datetime,
) -> Verdict:
    """Is `start` bookable with this practitioner? If so, at which location and in which free room."""
    checker = _Checker(rules, calendar, locations, _room_timelines(locations))
    moment = _seconds(start)
    if start.timestamp() != moment:
        return Verdict(Problem.OUTSIDE_HOURS)  # 10:00:00.5 is not 10:00: no fractions of a grid
    window = (start - timedelta(days=1), start + timedelta(days=1))
    for shift in _shifts(calendar, locations, window):
        if shift.start <= moment <= shift.end - checker.duration and (moment - shift.start) % checker.step == 0:
            problem, room_id = checker.problem_at(moment, shift)
            return Verdict(problem, shift.location_id, room_id)
    if moment < checker.earliest:
        return Verdict(Problem.TOO_SOON)
    if checker.latest is not None and moment > checker.latest:
        return Verdict(Problem.BEYOND_HORIZON)
    return Verdict(Problem.OUTSIDE_HOURS)


def check_start_outside_hours(
    rules: SlotRules,
    calendar: PractitionerCalendar,
    locations: Mapping[int, LocationCalendar],
    start: datetime,
) -> Verdict:
    """Staff's explicit "outside hours" booking: any whole minute, at the practitioner's usual location.

    Only the working hours are waived. A closure, time off, another booking and a full set of rooms still
    say no, exactly as in `check_start`.
    """
    verdict = check_start(rules, calendar, locations, start)
    if verdict.problem is not Problem.OUTSIDE_HOURS or start.second or start.microsecond:
        return verdict
    location_id = _usual_location(calendar, locations, start)
    if location_id is None:
        return verdict
    checker = _Checker(rules, calendar, locations, _room_timelines(locations))
    moment = _seconds(start)
    day = start.astimezone(locations[location_id].zone).date()
    problem, room_id = checker.problem_at(moment, _Shift(location_id, day, moment, moment + checker.duration))
    return Verdict(problem, location_id, room_id)


def _usual_location(
    calendar: PractitionerCalendar, locations: Mapping[int, LocationCalendar], start: datetime
) -> int | None:
    """Where the practitioner works on that weekday, else where they work at all (lowest id first)."""
    worked = sorted({entry.location_id for entry in calendar.hours if entry.location_id in locations})
    for location_id in worked:
        day = start.astimezone(locations[location_id].zone).date()
        if any(entry.location_id == location_id and entry.applies_on(day) for entry in calendar.hours):
            return location_id
    return worked[0] if worked else None
