"""Reads that need more than one query: what the availability engine needs, in a fixed number of queries."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, DateField, DateTimeField, F, Max, Q, QuerySet, Sum, Value
from django.utils import timezone

from backend.api.permissions import FRONT_DESK, MANAGER, PRACTITIONER, role_of
from scheduling import availability
from scheduling.availability import Busy, LocationCalendar, PractitionerCalendar, Slot, SlotRules, WeeklyHours
from scheduling.day_grid import Block, Grid, day_bounds, minute_of_day
from scheduling.models import (
    Appointment,
    Clinic,
    Closure,
    Location,
    Practitioner,
    Room,
    Service,
    TimeOff,
    WorkingHours,
)

# No zone is further than 14 hours from UTC, so a span widened by this much on each side covers every
# local date it can touch, plus an appointment of up to a working day running across an edge.
_MARGIN = timedelta(days=1, hours=14)


@dataclass
class EngineInputs:
    rules: SlotRules
    calendars: list[PractitionerCalendar]
    locations: dict[int, LocationCalendar]


@dataclass
class Availability:
    slots: list[Slot]
    zone: ZoneInfo


def slot_rules(*, clinic: Clinic, service: Service, now: datetime, source: str) -> SlotRules:
    """Notice and horizon protect the clinic from online surprises; the front desk books a walk-in now."""
    online = source == Appointment.Source.ONLINE
    return SlotRules(
        duration=service.duration,
        buffer=service.buffer,
        step=timedelta(minutes=clinic.slot_step_minutes),
        earliest=now + timedelta(hours=clinic.min_notice_hours) if online else now,
        latest=now + timedelta(days=clinic.horizon_days) if online else None,
    )


def active_appointments(now: datetime) -> QuerySet[Appointment]:
    """Appointments that occupy their practitioner and room: a hold only until it expires."""
    return Appointment.objects.filter(status__in=Appointment.ACTIVE_STATUSES).exclude(
        status=Appointment.Status.HELD, held_until__lt=now
    )


def engine_inputs(
    *,
    service: Service,
    span: tuple[datetime, datetime],
    now: datetime,
    source: str,
    practitioner_ids: Iterable[int] | None = None,
    location_id: int | None = None,
    exclude_appointment_id: int | None = None,
) -> EngineInputs:
    """Everything the engine needs around `span`, in five queries whatever its length."""
    clinic = Clinic.load()
    low, high = span[0] - _MARGIN, span[1] + _MARGIN

    hours = WorkingHours.objects.filter(practitioner__services=service, practitioner__active=True).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=high.date()),
        Q(valid_until__isnull=True) | Q(valid_until__gte=low.date()),
    )
    if practitioner_ids is not None:
        hours = hours.filter(practitioner_id__in=list(practitioner_ids))
    if location_id is not None:
        hours = hours.filter(location_id=location_id)
    hours_by_practitioner: dict[int, list[WeeklyHours]] = defaultdict(list)
    for row in hours.values_list(
        "practitioner_id", "location_id", "weekday", "start_time", "end_time", "valid_from", "valid_until"
    ):
        hours_by_practitioner[row[0]].append(WeeklyHours(*row[1:]))
    location_ids = {entry.location_id for entries in hours_by_practitioner.values() for entry in entries}
    practitioners = sorted(hours_by_practitioner)

    rooms = Room.objects.filter(location_id__in=location_ids, active=True).select_related("location").order_by("id")
    unavailable = _unavailable(practitioners, location_ids, low, high)
    appointments = (
        active_appointments(now)
        .filter(Q(practitioner_id__in=practitioners) | Q(location_id__in=location_ids))
        .filter(start__lt=high, blocked_until__gt=low)
        .exclude(pk=exclude_appointment_id)
        .values_list("practitioner_id", "room_id", "start", "blocked_until")
    )
    return _assemble(
        slot_rules(clinic=clinic, service=service, now=now, source=source),
        hours_by_practitioner,
        list(rooms),
        unavailable,
        list(appointments),
    )


def _unavailable(practitioner_ids: list[int], location_ids: set[int], low: datetime, high: datetime) -> list[tuple]:
    """Time off and closures in one query: (kind, owner id, start, end, date)."""
    # order_by() clears the models' default ordering, which SQLite refuses inside a UNION.
    time_off = (
        TimeOff.objects.filter(practitioner_id__in=practitioner_ids, start__lt=high, end__gt=low)
        .order_by()
        .annotate(kind=Value("time_off"), owner=F("practitioner_id"), day=Value(None, output_field=DateField()))
        .values_list("kind", "owner", "start", "end", "day")
    )
    closures = (
        Closure.objects.filter(location_id__in=location_ids, date__gte=low.date(), date__lte=high.date())
        .order_by()
        .annotate(
            kind=Value("closure"),
            owner=F("location_id"),
            from_=Value(None, output_field=DateTimeField()),
            to=Value(None, output_field=DateTimeField()),
        )
        .values_list("kind", "owner", "from_", "to", "date")
    )
    return list(time_off.union(closures, all=True))


def _assemble(
    rules: SlotRules,
    hours_by_practitioner: dict[int, list[WeeklyHours]],
    rooms: list[Room],
    unavailable: list[tuple],
    appointments: list[tuple],
) -> EngineInputs:
    time_off: dict[int, list[Busy]] = defaultdict(list)
    closed: dict[int, set[date]] = defaultdict(set)
    for kind, owner, start, end, day in unavailable:
        if kind == "time_off":
            time_off[owner].append(Busy(start, end))
        else:
            closed[owner].add(day)
    by_practitioner: dict[int, list[Busy]] = defaultdict(list)
    by_room: dict[int, list[Busy]] = defaultdict(list)
    for practitioner_id, room_id, start, blocked_until in appointments:
        by_practitioner[practitioner_id].append(Busy(start, blocked_until))
        by_room[room_id].append(Busy(start, blocked_until))

    locations: dict[int, LocationCalendar] = {}
    for room in rooms:
        calendar = locations.setdefault(
            room.location_id,
            LocationCalendar(room.location_id, room.location.zone, [], frozenset(closed[room.location_id]), by_room),
        )
        calendar.room_ids.append(room.id)
    calendars = [
        PractitionerCalendar(practitioner_id, hours, by_practitioner[practitioner_id], time_off[practitioner_id])
        for practitioner_id, hours in hours_by_practitioner.items()
    ]
    return EngineInputs(rules, calendars, locations)


def local_day_span(start_date: date, end_date: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From midnight starting `start_date` to midnight ending `end_date`, in `zone` (both dates inclusive)."""
    return (
        datetime.combine(start_date, time(0), tzinfo=zone),
        datetime.combine(end_date + timedelta(days=1), time(0), tzinfo=zone),
    )


def bookable_slots(
    *,
    service: Service,
    start_date: date,
    end_date: date,
    tz: ZoneInfo | None = None,
    practitioner_id: int | None = None,
    location_id: int | None = None,
    now: datetime | None = None,
    source: str = Appointment.Source.ONLINE,
    exclude_appointment_id: int | None = None,
) -> Availability:
    """Bookable slots for `service` on the calendar dates [start_date, end_date] of `tz`.

    Without `tz` the dates are read in the zone of the location (the first one, by id, when the
    service is offered at several).
    """
    now = now or timezone.now()
    guess = tz or ZoneInfo("UTC")
    inputs = engine_inputs(
        service=service,
        span=local_day_span(start_date, end_date, guess),
        now=now,
        source=source,
        practitioner_ids=None if practitioner_id is None else [practitioner_id],
        location_id=location_id,
        exclude_appointment_id=exclude_appointment_id,
    )
    zone = tz or (inputs.locations[min(inputs.locations)].zone if inputs.locations else guess)
    slots = availability.bookable_slots(
        inputs.rules, inputs.calendars, inputs.locations, local_day_span(start_date, end_date, zone)
    )
    return Availability(slots, zone)


@dataclass
class Week:
    """A week of bookable times in the clinic's zone, as the booking page shows it."""

    monday: date
    zone: ZoneInfo
    days: list[tuple[date, list[Slot]]]
    next_slot: tuple[Slot, ZoneInfo] | None  # the first bookable time after this week ("next available")

    @property
    def next_available_day(self) -> date | None:
        if self.next_slot is None:
            return None
        slot, zone = self.next_slot
        return slot.start.astimezone(zone).date()

    @property
    def previous_monday(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next_monday(self) -> date:
        return self.monday + timedelta(days=7)

    @property
    def first_day_with_times(self) -> date | None:
        return next((day for day, slots in self.days if slots), None)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of_slots(
    *,
    service: Service,
    monday: date | None,
    practitioner_id: int | None = None,
    now: datetime | None = None,
    moving: int | None = None,
) -> Week:
    """The week starting `monday`, or, without one, the week of the next bookable time.

    One load of the engine's inputs from now to the horizon, one run of the engine: the first free time,
    the week and the next free time after it all come from that one list (online bookings can't fall
    outside it). `moving`: the appointment being rescheduled, whose own time does not stand in its way.
    """
    now = now or timezone.now()
    span = (now, now + timedelta(days=Clinic.load().horizon_days + 1))
    inputs = engine_inputs(
        service=service,
        span=span,
        now=now,
        source=Appointment.Source.ONLINE,
        practitioner_ids=None if practitioner_id is None else [practitioner_id],
        exclude_appointment_id=moving,
    )
    zone = inputs.locations[min(inputs.locations)].zone if inputs.locations else ZoneInfo("UTC")
    slots = availability.bookable_slots(inputs.rules, inputs.calendars, inputs.locations, span)

    def local_day(slot: Slot) -> date:
        return slot.start.astimezone(zone).date()

    if monday is None:
        monday = monday_of(local_day(slots[0]) if slots else now.astimezone(zone).date())
    by_day: dict[date, list[Slot]] = {monday + timedelta(days=offset): [] for offset in range(7)}
    for slot in slots:
        if local_day(slot) in by_day:
            by_day[local_day(slot)].append(slot)
    later = next((slot for slot in slots if local_day(slot) >= monday + timedelta(days=7)), None)
    return Week(monday, zone, sorted(by_day.items()), (later, zone) if later else None)


# How far back a practitioner's feed reaches: last month's visits stay in the phone's calendar.
FEED_DAYS_BACK = 31


def practitioner_by_feed_key(key: str) -> Practitioner | None:
    if not key:
        return None
    return Practitioner.objects.filter(calendar_feed_key=key, active=True).first()


def feed_appointments(practitioner: Practitioner, now: datetime | None = None) -> QuerySet[Appointment]:
    """The practitioner's visits from a month ago on, cancelled ones included (so phones drop them); no holds."""
    now = now or timezone.now()
    return (
        Appointment.objects.filter(practitioner=practitioner, start__gte=now - timedelta(days=FEED_DAYS_BACK))
        .exclude(status=Appointment.Status.HELD)
        .select_related("patient", "service", "location")
        .order_by("start")
    )


def appointments_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Appointment]:
    """The whole schedule for the front desk and managers; a practitioner's own appointments; nothing otherwise."""
    role = role_of(user)
    if role in (MANAGER, FRONT_DESK):
        return Appointment.objects.all()
    if role == PRACTITIONER:
        return Appointment.objects.filter(practitioner__user=user)
    return Appointment.objects.none()


# The front desk's calendar ------------------------------------------------------------------------------------

FlagReader = Callable[[set[int]], dict[int, tuple[str, ...]]]
# What the calendar draws: everything but a bare hold (nobody to show yet) and a cancellation (listed apart).
_DRAWN = [
    Appointment.Status.BOOKED,
    Appointment.Status.ARRIVED,
    Appointment.Status.COMPLETED,
    Appointment.Status.NO_SHOW,
]


@dataclass
class Card:
    """One appointment on the grid."""

    appointment: Appointment
    block: Block
    flags: tuple[str, ...]
    starts: datetime  # local
    ends: datetime


@dataclass
class Column:
    key: str
    name: str
    day: date
    practitioner: Practitioner | None = None
    working: list[Block] = field(default_factory=list)
    away: list[tuple[Block, str]] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)


@dataclass
class DeskCalendar:
    """A day across practitioners or rooms, or one practitioner's week: columns of the same rows."""

    grid: Grid
    columns: list[Column]
    zone: ZoneInfo
    closures: dict[date, str]
    cancelled: list[Appointment]
    now_offset: float | None


def drawn_appointments(user: AbstractBaseUser | AnonymousUser, low: datetime, high: datetime) -> QuerySet[Appointment]:
    return (
        appointments_visible_to(user)
        .filter(start__lt=high, end__gt=low, status__in=[*_DRAWN, Appointment.Status.CANCELLED], patient__isnull=False)
        .select_related("patient", "service", "practitioner", "room", "location")
        .order_by("start", "id")
    )


def calendar_stamp(
    user: AbstractBaseUser | AnonymousUser,
    low: datetime,
    high: datetime,
    *,
    location_id: int | None = None,
    practitioner_id: int | None = None,
) -> str:
    """Changes whenever an appointment the calendar draws in [low, high) is booked, moved in or out, or changes
    status (each raises its `version`; a move out lowers the count and the sum): the desk polls this one
    aggregate and fetches the calendar again only when it differs. Holds and other locations don't count: each
    fetch reads (and audits) the safety flags of everyone shown."""
    drawn = drawn_appointments(user, low, high).order_by()
    if location_id is not None:
        drawn = drawn.filter(location_id=location_id)
    if practitioner_id is not None:
        drawn = drawn.filter(practitioner_id=practitioner_id)
    found = drawn.aggregate(count=Count("id"), versions=Sum("version"), latest=Max("updated_at"))
    latest = found["latest"].timestamp() if found["latest"] else 0
    return f"{found['count']}-{found['versions'] or 0}-{latest}"


def practitioner_zone(practitioner: Practitioner) -> ZoneInfo:
    """The zone of the location a practitioner works at first (by id): where their week and day sheet are drawn."""
    location = Location.objects.filter(hours__practitioner=practitioner).order_by("id").first()
    return location.zone if location else ZoneInfo("UTC")


def desk_practitioners(user: AbstractBaseUser | AnonymousUser, location: Location) -> list[Practitioner]:
    """Columns of the day view: a practitioner sees their own; the desk, everyone working at this location."""
    if role_of(user) == PRACTITIONER:
        return list(Practitioner.objects.filter(user=user))
    works_here = WorkingHours.objects.filter(location=location).values("practitioner_id")
    return list(Practitioner.objects.filter(active=True, id__in=works_here))


def day_calendar(
    *,
    user: AbstractBaseUser | AnonymousUser,
    location: Location,
    day: date,
    by_room: bool,
    step: int,
    flags_for: FlagReader,
    now: datetime | None = None,
) -> DeskCalendar:
    """One day at one location: a column per practitioner (or per room), in a fixed number of queries."""
    zone = location.zone
    low, high = day_bounds(day, zone)
    appointments = list(drawn_appointments(user, low, high).filter(location=location))
    practitioners = desk_practitioners(user, location)
    known = {practitioner.id for practitioner in practitioners}
    practitioners += _sorted_unique(a.practitioner for a in appointments if a.practitioner_id not in known)
    if by_room:
        rooms = list(Room.objects.filter(location=location, active=True))
        room_ids = {room.id for room in rooms}
        rooms += _sorted_unique(a.room for a in appointments if a.room_id not in room_ids)
        columns = [Column(f"room-{room.id}", room.name, day) for room in rooms]
        placed = lambda appointment: f"room-{appointment.room_id}"  # noqa: E731
    else:
        columns = [Column(f"practitioner-{p.id}", p.name, day, p) for p in practitioners]
        placed = lambda appointment: f"practitioner-{appointment.practitioner_id}"  # noqa: E731
    hours = _hours_on(practitioners, [day], location_id=location.id)
    time_off = _time_off(practitioners, low, high)
    closures = dict(Closure.objects.filter(location=location, date=day).values_list("date", "reason"))
    return _calendar(columns, placed, appointments, hours, time_off, closures, zone, step, flags_for, now)


def week_calendar(
    *,
    user: AbstractBaseUser | AnonymousUser,
    practitioner: Practitioner,
    monday: date,
    step: int,
    flags_for: FlagReader,
    days: int = 7,
    now: datetime | None = None,
) -> DeskCalendar:
    """One practitioner's week (or `days` days from `monday`: one for the day sheet), a column per day, in the
    zone of the location they work at first."""
    zone = practitioner_zone(practitioner)
    days = [monday + timedelta(days=offset) for offset in range(days)]
    low, high = day_bounds(days[0], zone)[0], day_bounds(days[-1], zone)[1]
    appointments = list(drawn_appointments(user, low, high).filter(practitioner=practitioner))
    columns = [Column(f"day-{day.isoformat()}", f"{day:%a %-d %b}", day, practitioner) for day in days]
    hours = _hours_on([practitioner], days)
    time_off = _time_off([practitioner], low, high)
    closures = dict(
        Closure.objects.filter(location__hours__practitioner=practitioner, date__in=days)
        .distinct()
        .values_list("date", "reason")
    )
    placed = lambda appointment: f"day-{appointment.start.astimezone(zone).date().isoformat()}"  # noqa: E731
    return _calendar(columns, placed, appointments, hours, time_off, closures, zone, step, flags_for, now)


def _sorted_unique(items: Iterable) -> list:
    return sorted(
        {item.id: item for item in items}.values(), key=lambda item: (getattr(item, "display_order", 0), item.name)
    )


def _hours_on(practitioners: list[Practitioner], days: list[date], location_id: int | None = None) -> list[tuple]:
    """(practitioner id, day, start time, end time) of each shift on `days`."""
    rows = WorkingHours.objects.filter(practitioner__in=practitioners)
    if location_id is not None:
        rows = rows.filter(location_id=location_id)
    shifts = []
    for practitioner_id, *entry in rows.values_list(
        "practitioner_id", "location_id", "weekday", "start_time", "end_time", "valid_from", "valid_until"
    ):
        weekly = WeeklyHours(*entry)
        shifts += [(practitioner_id, day, weekly.start, weekly.end) for day in days if weekly.applies_on(day)]
    return shifts


def _time_off(practitioners: list[Practitioner], low: datetime, high: datetime) -> list[TimeOff]:
    return list(TimeOff.objects.filter(practitioner__in=practitioners, start__lt=high, end__gt=low))


def _calendar(
    columns: list[Column],
    placed: Callable[[Appointment], str],
    appointments: list[Appointment],
    hours: list[tuple],
    time_off: list[TimeOff],
    closures: dict[date, str],
    zone: ZoneInfo,
    step: int,
    flags_for: FlagReader,
    now: datetime | None,
) -> DeskCalendar:
    drawn = [a for a in appointments if a.status != Appointment.Status.CANCELLED]
    spans = [(start.hour * 60 + start.minute, end.hour * 60 + end.minute) for _p, _d, start, end in hours]
    spans += [
        (
            minute_of_day(a.start, a.start.astimezone(zone).date(), zone),
            minute_of_day(a.end, a.start.astimezone(zone).date(), zone),
        )
        for a in drawn
    ]
    grid = Grid(spans, step)
    flags = flags_for({a.patient_id for a in drawn})
    by_key = {column.key: column for column in columns}
    for column in columns:
        _shade(column, grid, hours, time_off, zone)
    for appointment in drawn:
        column = by_key.get(placed(appointment))
        day = appointment.start.astimezone(zone).date()
        starts = minute_of_day(appointment.start, day, zone)
        # On the night the clocks go back a visit can end "before" it starts on the wall clock: one row at least.
        block = grid.block(starts, max(minute_of_day(appointment.end, day, zone), starts + grid.step))
        if column is not None and block is not None:
            card = Card(
                appointment,
                block,
                flags.get(appointment.patient_id, ()),
                appointment.start.astimezone(zone),
                appointment.end.astimezone(zone),
            )
            column.cards.append(card)
    now = (now or timezone.now()).astimezone(zone)
    today = any(column.day == now.date() for column in columns)
    return DeskCalendar(
        grid=grid,
        columns=columns,
        zone=zone,
        closures=closures,
        cancelled=[a for a in appointments if a.status == Appointment.Status.CANCELLED],
        now_offset=grid.offset(now.hour * 60 + now.minute) if today else None,
    )


def _shade(column: Column, grid: Grid, hours: list[tuple], time_off: list[TimeOff], zone: ZoneInfo) -> None:
    """Working hours lit, time off marked, for a practitioner's column (a room's column has neither)."""
    if column.practitioner is None:
        return
    for practitioner_id, day, start, end in hours:
        if practitioner_id == column.practitioner.id and day == column.day:
            block = grid.block(start.hour * 60 + start.minute, end.hour * 60 + end.minute)
            if block:
                column.working.append(block)
    for away in time_off:
        if away.practitioner_id == column.practitioner.id:
            block = grid.block(minute_of_day(away.start, column.day, zone), minute_of_day(away.end, column.day, zone))
            if block:
                column.away.append((block, away.reason or "Time off"))


def is_first_visit(appointment: Appointment) -> bool:
    """No earlier visit that happened or is still to happen: the patient has not been seen before this one."""
    earlier = Appointment.objects.filter(patient_id=appointment.patient_id, start__lt=appointment.start).exclude(
        status__in=[Appointment.Status.CANCELLED, Appointment.Status.HELD, Appointment.Status.NO_SHOW]
    )
    return not earlier.exclude(pk=appointment.pk).exists()
