"""Which booked appointments a change to the clinic's schedule would strand: the one place that answers it.

The admin and the clinic file ask before they write, and refuse a change that would leave a patient booked
with a practitioner who is no longer working then, in a room that is gone, on a day the clinic is closed.
Only appointments still to come that a patient is counting on count: booked or arrived, ending after now.

A change is judged by what it newly strands. An appointment that already sat outside the old schedule (booked
on purpose outside hours by staff, or written before this check existed) is the desk's to sort out; it does
not stop a manager from saving an unrelated change. Reads only, apart from `schedule_lock`, which takes row
locks (and writes nothing).
"""

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from scheduling.availability import Busy, WeeklyHours, wall_clock
from scheduling.models import Appointment, Closure, Location, Practitioner, Service, TimeOff, WorkingHours

# Held times lapse on their own, and completed, cancelled and no-show visits have nothing left to strand.
STRANDABLE_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.ARRIVED)
LISTED_AT_MOST = 20


def upcoming_appointments(now: datetime | None = None) -> QuerySet[Appointment]:
    """Booked or arrived appointments that have not ended, with what a person needs to recognise them."""
    return (
        Appointment.objects.filter(status__in=STRANDABLE_STATUSES, end__gt=now or timezone.now())
        .select_related("patient", "service", "practitioner", "location", "room")
        .order_by("start", "id")
    )


def schedule_lock(*, practitioner_ids: Iterable[int] = (), location_ids: Iterable[int] = ()) -> None:
    """Hold off bookings while a change is checked and saved, so none slips in between. Inside a transaction.

    The booking service locks the practitioners, then their locations, each in id order; taking them in the
    same order here means the two never deadlock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '5s'")
    list(Practitioner.objects.filter(id__in=set(practitioner_ids)).order_by("id").select_for_update().values("id"))
    list(Location.objects.filter(id__in=set(location_ids)).order_by("id").select_for_update().values("id"))


# --- Working hours --------------------------------------------------------------------------------------------


def weekly_hours_of(row: WorkingHours) -> WeeklyHours:
    return WeeklyHours(row.location_id, row.weekday, row.start_time, row.end_time, row.valid_from, row.valid_until)


def stranded_by_hours(
    practitioner: Practitioner, hours: Iterable[WeeklyHours], now: datetime | None = None
) -> list[Appointment]:
    """Appointments inside the practitioner's saved hours that `hours`, their whole new set, leave outside.

    An appointment booked outside hours on purpose (`outside_hours`) never strands on an hours change.
    """
    new_hours = list(hours)
    old_hours = [weekly_hours_of(row) for row in practitioner.hours.all()]
    appointments = upcoming_appointments(now).filter(practitioner=practitioner, outside_hours=False)
    return [
        appointment
        for appointment in appointments
        if within_hours(appointment, old_hours) and not within_hours(appointment, new_hours)
    ]


def within_hours(appointment: Appointment, hours: Iterable[WeeklyHours]) -> bool:
    """Whether the appointment lies wholly inside one shift at its location on its local date.

    Each shift is built as wall-clock times of that date in the location's zone, as the engine builds
    them, so a 09:00 start is 09:00 local on both sides of a DST change.
    """
    zone = appointment.location.zone
    day = appointment.start.astimezone(zone).date()
    return any(
        wall_clock(day, entry.start, zone) <= appointment.start and appointment.end <= wall_clock(day, entry.end, zone)
        for entry in hours
        if entry.location_id == appointment.location_id and entry.applies_on(day)
    )


# --- Time off and closures ------------------------------------------------------------------------------------


def stranded_by_time_off(
    practitioner: Practitioner, periods: Iterable[Busy], now: datetime | None = None
) -> list[Appointment]:
    """The practitioner's appointments that `periods` cover and their saved time off did not.

    `periods` may be one new or widened period, or the practitioner's whole new set.
    """
    new_periods = list(periods)
    old_periods = [Busy(row.start, row.end) for row in TimeOff.objects.filter(practitioner=practitioner)]
    appointments = upcoming_appointments(now).filter(practitioner=practitioner)
    return [
        appointment
        for appointment in appointments
        if _overlaps_any(appointment, new_periods) and not _overlaps_any(appointment, old_periods)
    ]


def _overlaps_any(appointment: Appointment, periods: Sequence[Busy]) -> bool:
    return any(period.start < appointment.end and appointment.start < period.end for period in periods)


def stranded_by_closures(location: Location, days: Iterable[date], now: datetime | None = None) -> list[Appointment]:
    """Appointments at `location` on those of `days` (its local dates) on which it is not closed already."""
    already_closed = set(Closure.objects.filter(location=location).values_list("date", flat=True))
    newly_closed = sorted(set(days) - already_closed)
    if not newly_closed:
        return []
    appointments = upcoming_appointments(now).filter(location=location)
    first = _local_midnight(newly_closed[0], location)
    last = _local_midnight(newly_closed[-1] + timedelta(days=1), location)
    return [
        appointment
        for appointment in appointments.filter(start__gte=first, start__lt=last)
        if appointment.start.astimezone(location.zone).date() in newly_closed
    ]


def _local_midnight(day: date, location: Location) -> datetime:
    return wall_clock(day, time(0), location.zone)


# --- Rooms, services, practitioners ---------------------------------------------------------------------------


def stranded_by_rooms(room_ids: Collection[int], now: datetime | None = None) -> list[Appointment]:
    """Appointments in rooms about to be deactivated or deleted."""
    return list(upcoming_appointments(now).filter(room_id__in=room_ids)) if room_ids else []


def stranded_by_service(service: Service, now: datetime | None = None) -> list[Appointment]:
    """Appointments of a service about to be deactivated."""
    return list(upcoming_appointments(now).filter(service=service))


def stranded_by_services_withdrawn(
    practitioner: Practitioner, service_ids: Collection[int], now: datetime | None = None
) -> list[Appointment]:
    """The practitioner's appointments of services about to be taken off their list."""
    if not service_ids:
        return []
    return list(upcoming_appointments(now).filter(practitioner=practitioner, service_id__in=service_ids))


def stranded_by_practitioner_leaving(practitioner: Practitioner, now: datetime | None = None) -> list[Appointment]:
    """The appointments of a practitioner about to be deactivated."""
    return list(upcoming_appointments(now).filter(practitioner=practitioner))


# --- In words -------------------------------------------------------------------------------------------------


def describe(appointment: Appointment) -> str:
    """One line a manager recognises: "Tue 2 Mar 10:00 (America/New_York) · Follow-up acupuncture · Mei Chen ·
    patient initials A.M.". Initials only: this text is shown in the admin and printed by commands."""
    zone = appointment.location.zone
    start = appointment.start.astimezone(zone)
    year = f" {start.year}" if start.year != timezone.now().astimezone(zone).year else ""
    when = f"{start:%a} {start.day} {start:%b}{year} {start:%H:%M} ({zone.key})"
    return f"{when} · {appointment.service.name} · {appointment.practitioner.name} · {_initials(appointment)}"


def _initials(appointment: Appointment) -> str:
    patient = appointment.patient
    if patient is None:
        return "no patient yet"
    return f"patient initials {patient.initials}"


def listing(appointments: Sequence[Appointment], at_most: int = LISTED_AT_MOST) -> list[str]:
    """The appointments described one per line, the first `at_most` of them, then "and N more"."""
    lines = [describe(appointment) for appointment in appointments[:at_most]]
    if len(appointments) > at_most:
        lines.append(f"and {len(appointments) - at_most} more")
    return lines
