"""Every write to the schedule: hold, book, confirm a hold, cancel, reschedule, change status.

The API, the booking pages, the front desk and the admin all call these; no entry point checks a rule
of its own. Booking follows one pattern: lock the practitioners (sorted by id) and then their locations
(sorted by id), re-check every rule against fresh rows with the availability engine, then write. The
PostgreSQL exclusion constraints are the backstop: if anything slips past the locks, the insert fails
and the caller gets a clean 409, never a 500 and never a double booking.

Each change writes, in its own transaction, the messages it owes patients and staff (notifications/services.py):
rows in the outbox, delivered later by the sweeper, so a booking never waits on Redis or a mail server.
"""

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http import HTTPStatus

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from backend.api.permissions import PRACTITIONER, role_of
from backend.audit import SYSTEM, Actor, audit_write
from backend.errors import Conflict, ServiceError
from notifications.services import (
    messages_for_booking,
    messages_for_cancellation,
    messages_for_move,
    messages_for_status,
)
from patients.models import Patient
from patients.selectors import patients_visible_to
from patients.services import PatientDetails, patient_find, patient_find_or_create
from scheduling import availability
from scheduling.availability import Problem
from scheduling.models import Appointment, Clinic, Location, Practitioner, Service, TimeOff, WorkingHours
from scheduling.schedule_changes import listing, schedule_lock, stranded_by_time_off
from scheduling.selectors import active_appointments, engine_inputs, practitioner_zone

Status = Appointment.Status
Source = Appointment.Source

# SQLSTATEs that mean "someone else got there first": exclusion or unique violation, deadlock,
# serialization failure, lock timeout.
_LOST_RACE_STATES = {"23P01", "23505", "40P01", "40001", "55P03"}


# One message for every "someone has this time", whoever that someone is.
_TAKEN = "This time has just been taken. Please choose another."


class SlotUnavailable(Conflict):
    code = "slot_unavailable"


class NotBookable(ServiceError):
    """The requested time breaks a rule of the schedule (hours, notice, horizon, time off, closures)."""


_PROBLEM_MESSAGES = {
    Problem.TOO_SOON: "This time is too soon to book online; please choose a later time or call the clinic.",
    Problem.BEYOND_HORIZON: "This time is too far ahead; the clinic's calendar is not open that far yet.",
    Problem.OUTSIDE_HOURS: "This is not one of the practitioner's bookable start times.",
    Problem.CLOSED: "The clinic is closed that day.",
    Problem.TIME_OFF: "The practitioner is away at this time.",
}


class NotYourCalendar(ServiceError):
    """A practitioner books and moves appointments on their own calendar only, whichever door they come in by."""

    code = "not_your_calendar"
    status_code = HTTPStatus.FORBIDDEN


def _check_actor_calendar(
    actor: Actor, practitioner: Practitioner | None, patient: Patient | PatientDetails | None = None
) -> None:
    """A practitioner acts on their own calendar, for patients they can already see: a booking made from typed
    details must not turn a stranger's record (found by email and birth date) into one of their patients."""
    if actor.user is None or role_of(actor.user) != PRACTITIONER:
        return
    if practitioner is None or practitioner.user_id != actor.user.pk:
        raise NotYourCalendar(
            "Practitioners book and move appointments on their own calendar only.", field="practitioner"
        )
    known = patient_find(patient) if isinstance(patient, PatientDetails) else None
    if known is not None and not patients_visible_to(actor.user).filter(pk=known.pk).exists():
        raise NotYourCalendar(
            "This person already has a record at the clinic; please ask the front desk to book them.", field="email"
        )


def _raise_for(problem: Problem) -> None:
    if problem in (Problem.PRACTITIONER_BUSY, Problem.NO_ROOM):
        raise SlotUnavailable(_TAKEN, field="start")
    raise NotBookable(_PROBLEM_MESSAGES[problem], field="start", code=problem.value)


@contextmanager
def _lost_races_as_conflicts() -> Iterator[None]:
    """An exclusion violation, deadlock or lock timeout means another booking won: a 409, never a 500."""
    try:
        yield
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) in _LOST_RACE_STATES:
            raise SlotUnavailable(_TAKEN, field="start") from error
        raise


def _lock(practitioner_ids: Iterable[int]) -> list[int]:
    """Lock the practitioners, then every location they work at, always in id order (no deadlocks).

    The practitioner lock serialises bookings for one person; the location lock serialises the choice
    of a room, which practitioners at one location share. Returns the locked locations' ids.
    """
    ids = sorted(set(practitioner_ids))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '5s'")
    list(Practitioner.objects.filter(id__in=ids).order_by("id").select_for_update().values_list("id"))
    worked_at = WorkingHours.objects.filter(practitioner_id__in=ids).values("location_id")
    return list(
        Location.objects.filter(id__in=worked_at).order_by("id").select_for_update().values_list("id", flat=True)
    )


def _check_offer(service: Service, practitioner: Practitioner | None, source: str) -> list[Practitioner]:
    """The practitioners who may take this booking, in the order "no preference" tries them."""
    if not service.active:
        raise NotBookable("This treatment is no longer offered.", field="service", code="service_not_bookable")
    if source == Source.ONLINE and not service.bookable_online:
        raise NotBookable("This treatment cannot be booked online.", field="service", code="service_not_bookable")
    offering = service.practitioners.filter(active=True).order_by("display_order", "id")
    if practitioner is None:
        return list(offering)
    if not offering.filter(pk=practitioner.pk).exists():
        raise NotBookable(
            f"{practitioner.name} does not offer {service.name}.", field="practitioner", code="not_offered"
        )
    return [practitioner]


RETURNING_PATIENT_REVIEW = "A returning patient booked a treatment for new patients online."


def _check_new_patient(service: Service, patient: Patient | None, *, matched_on_details: bool) -> str:
    """Refuse a returning patient a new-patients-only treatment, or, when the record was only matched on
    an email and birth date someone typed, book it and return a note for the front desk instead: a refusal
    would tell a stranger that this person has been treated at the clinic."""
    if not service.new_patients_only or patient is None:
        return ""
    if not patient.appointments.filter(status__in=[Status.BOOKED, Status.ARRIVED, Status.COMPLETED]).exists():
        return ""
    if matched_on_details:
        return RETURNING_PATIENT_REVIEW
    raise NotBookable(
        f"{service.name} is for new patients; please choose a follow-up treatment.",
        field="service",
        code="new_patients_only",
    )


def _check_patient_free(
    patient: Patient | None, start: datetime, end: datetime, now: datetime, exclude: int | None
) -> None:
    """One person can't be in two treatment rooms at once (say, after a double submit to two practitioners)."""
    if patient is None:
        return
    clash = active_appointments(now).filter(patient=patient, start__lt=end, end__gt=start).exclude(pk=exclude)
    if clash.exists():
        raise SlotUnavailable(_TAKEN, field="start")


def _fail_fast_if_taken(
    practitioner: Practitioner, start: datetime, blocked_until: datetime, now: datetime, exclude: int | None
) -> None:
    """One indexed query before the full re-check: when a crowd races for one slot, each loser learns it
    lost from this alone instead of loading the whole calendar. Only ever refuses; never grants."""
    taken = (
        active_appointments(now)
        .filter(practitioner=practitioner, start__lt=blocked_until, blocked_until__gt=start)
        .exclude(pk=exclude)
    )
    if taken.exists():
        raise SlotUnavailable(_TAKEN, field="start")


def _check_not_past(start: datetime, now: datetime) -> None:
    if start <= now:
        raise NotBookable("This time is in the past.", field="start", code="in_the_past")


def _find_place(
    service: Service,
    candidates: list[Practitioner],
    start: datetime,
    now: datetime,
    source: str,
    exclude: int | None,
    outside_hours: bool = False,
) -> tuple[Practitioner, availability.Verdict]:
    """The first candidate free at `start`, with the location and room the engine picked.

    `outside_hours`: staff chose, on purpose, a time outside the working hours; every other rule still holds.
    """
    check = availability.check_start_outside_hours if outside_hours else availability.check_start
    inputs = engine_inputs(
        service=service,
        span=(start, start + service.duration),
        now=now,
        source=source,
        practitioner_ids=[candidate.id for candidate in candidates],
        exclude_appointment_id=exclude,
    )
    calendars = {calendar.practitioner_id: calendar for calendar in inputs.calendars}
    verdicts = []
    for candidate in candidates:
        calendar = calendars.get(candidate.id)
        if calendar is None:
            verdicts.append(availability.Verdict(Problem.OUTSIDE_HOURS))
            continue
        verdict = check(inputs.rules, calendar, inputs.locations, start)
        if verdict.ok:
            return candidate, verdict
        verdicts.append(verdict)
    # Report the problem of the candidate who came closest: a clash beats "outside hours".
    order = list(Problem)
    _raise_for(max((verdict.problem for verdict in verdicts), key=order.index, default=Problem.OUTSIDE_HOURS))
    raise AssertionError("unreachable")


def appointments_release_expired_holds(
    *,
    now: datetime | None = None,
    practitioner_ids: Iterable[int] = (),
    location_ids: Iterable[int] = (),
    patient: Patient | None = None,
) -> int:
    """Cancel holds whose time ran out, so the exclusion constraints stop counting them.

    Without arguments, everywhere (the periodic task). A booking passes what it is about to be compared
    with by the constraints: its practitioners, the rooms of their locations, and its patient.
    """
    now = now or timezone.now()
    expired = Appointment.objects.filter(status=Status.HELD, held_until__lt=now)
    practitioner_ids, location_ids = list(practitioner_ids), list(location_ids)
    scope = Q(practitioner_id__in=practitioner_ids) | Q(location_id__in=location_ids)
    if patient is not None:
        scope |= Q(patient=patient)
    if practitioner_ids or location_ids or patient is not None:
        expired = expired.filter(scope)
    return expired.update(
        status=Status.CANCELLED,
        cancelled_at=now,
        cancellation_reason="Hold expired",
        version=F("version") + 1,
        updated_at=now,
    )


def appointment_book(
    *,
    service: Service,
    start: datetime,
    patient: Patient | PatientDetails,
    practitioner: Practitioner | None = None,
    source: str = Source.ONLINE,
    outside_hours: bool = False,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> Appointment:
    """Book `start` for `patient`: with `practitioner`, or with whoever offers `service` ("no preference").

    `outside_hours` (staff only, one practitioner): book although `start` is outside their working hours;
    never over another booking, time off or a closure. Raises NotBookable (a rule says no) or
    SlotUnavailable (someone else has the time).
    """
    if outside_hours and (source != Source.STAFF or practitioner is None):
        raise NotBookable(
            "Only staff can book outside working hours, for a chosen practitioner.", field="outside_hours"
        )
    _check_actor_calendar(actor, practitioner, patient)
    return _take(service, start, patient, practitioner, source, now or timezone.now(), outside_hours, actor)


# How many times one client may hold at once: a family booking together needs a few, not a day's worth.
MAX_LIVE_HOLDS_PER_CLIENT = 3


def appointment_hold(
    *,
    service: Service,
    start: datetime,
    practitioner: Practitioner | None = None,
    held_by: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Keep `start` for a patient still filling in the booking form, for the clinic's hold minutes.

    A live hold counts like a booking (for availability and for the exclusion constraints); once it
    runs out it counts for nothing, and the periodic task or the next booking nearby releases it.
    `held_by` names the client (a keyed hash); one client holds at most MAX_LIVE_HOLDS_PER_CLIENT times.
    """
    now = now or timezone.now()
    if held_by and _live_holds(held_by, now) >= MAX_LIVE_HOLDS_PER_CLIENT:
        raise Conflict(
            "You are already holding several times. Please finish one booking, or wait a few minutes.",
            code="too_many_holds",
        )
    held = _take(service, start, None, practitioner, Source.ONLINE, now, False, SYSTEM)
    if held_by:
        Appointment.objects.filter(pk=held.pk).update(held_by=held_by)
        held.held_by = held_by
    return held


def _live_holds(held_by: str, now: datetime) -> int:
    return Appointment.objects.filter(status=Status.HELD, held_until__gte=now, held_by=held_by).count()


def _take(
    service: Service,
    start: datetime,
    patient: Patient | PatientDetails | None,
    practitioner: Practitioner | None,
    source: str,
    now: datetime,
    outside_hours: bool,
    actor: Actor,
) -> Appointment:
    candidates = _check_offer(service, practitioner, source)
    _check_not_past(start, now)
    if len(candidates) == 1:
        # Before queueing for the lock: whoever arrives after the winner committed leaves at once.
        _fail_fast_if_taken(candidates[0], start, start + service.duration + service.buffer, now, exclude=None)
    with _lost_races_as_conflicts():
        return _book(service, start, patient, candidates, source, now, outside_hours, actor)


@transaction.atomic(durable=True)
def _book(
    service: Service,
    start: datetime,
    patient: Patient | PatientDetails | None,
    candidates: list[Practitioner],
    source: str,
    now: datetime,
    outside_hours: bool,
    actor: Actor,
) -> Appointment:
    """Insert a booking, or a hold when there is no patient yet."""
    location_ids = _lock(candidate.id for candidate in candidates)
    if len(candidates) == 1:
        _fail_fast_if_taken(candidates[0], start, start + service.duration + service.buffer, now, exclude=None)
    known = patient_find(patient) if isinstance(patient, PatientDetails) else patient
    appointments_release_expired_holds(
        now=now, practitioner_ids=[candidate.id for candidate in candidates], location_ids=location_ids, patient=known
    )
    chosen, verdict = _find_place(service, candidates, start, now, source, exclude=None, outside_hours=outside_hours)
    held_until, review = None, ""
    if patient is None:
        held_until = now + timedelta(minutes=Clinic.load().hold_minutes)
    else:
        known, review = _patient_for(service, start, patient, known, now, exclude=None, source=source)
    booked = Appointment.objects.create(
        patient=known,
        practitioner=chosen,
        service=service,
        location_id=verdict.location_id,
        room_id=verdict.room_id,
        start=start,
        end=start + service.duration,
        blocked_until=start + service.duration + service.buffer,
        status=Status.BOOKED if held_until is None else Status.HELD,
        held_until=held_until,
        source=source,
        review_reason=review,
        outside_hours=outside_hours and not _within_hours(service, chosen, start, now, source),
    )
    if booked.status == Status.BOOKED:
        _audit(actor, "appointment.book", booked, f"booked for {_when(booked)}" + _OUTSIDE[booked.outside_hours])
        messages_for_booking(appointment=booked, online=source == Source.ONLINE, now=now)
    return booked


_OUTSIDE = {True: ", outside working hours", False: ""}


def _within_hours(
    service: Service, practitioner: Practitioner, start: datetime, now: datetime, source: str, moving: int | None = None
) -> bool:
    """Whether an override was needed at all: a time inside the hours is recorded as an ordinary booking.

    `moving`: the appointment being moved, whose old time must not count against its new one."""
    inputs = engine_inputs(
        service=service,
        span=(start, start + service.duration),
        now=now,
        source=source,
        practitioner_ids=[practitioner.id],
        exclude_appointment_id=moving,
    )
    calendar = next(iter(inputs.calendars), None)
    return calendar is not None and availability.check_start(inputs.rules, calendar, inputs.locations, start).ok


def _when(appointment: Appointment) -> str:
    zone = appointment.location.zone
    return f"{appointment.start.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key}) with {appointment.practitioner.name}"


def _audit(actor: Actor, action: str, appointment: Appointment, detail: str) -> None:
    audit_write(actor, action, patient_id=appointment.patient_id, appointment_id=appointment.pk, detail=detail)


def _patient_for(
    service: Service,
    start: datetime,
    patient: Patient | PatientDetails,
    known: Patient | None,
    now: datetime,
    exclude: int | None,
    source: str,
) -> tuple[Patient, str]:
    """The patient's own rules, then their record (created only now, when the booking will be made), and
    a note for the front desk if a rule was left to them.

    Consulted only once the time itself is known to be bookable, so the answer to a time that breaks a
    rule never depends on who asked.
    """
    unproven = source == Source.ONLINE and isinstance(patient, PatientDetails)  # staff know who is calling
    review = _check_new_patient(service, known, matched_on_details=unproven)
    _check_patient_free(known, start, start + service.duration, now, exclude=exclude)
    return (known if known is not None else patient_find_or_create(patient)), review


def appointment_confirm_hold(
    *, appointment: Appointment, patient: Patient | PatientDetails, actor: Actor = SYSTEM, now: datetime | None = None
) -> Appointment:
    """Turn a hold into a booking for `patient`.

    If the hold ran out meanwhile, the same time is booked afresh when it is still free (a new
    appointment); when it is gone, SlotUnavailable lets the page offer the nearest alternatives.
    """
    now = now or timezone.now()
    with _lost_races_as_conflicts():
        confirmed = _confirm_hold(appointment, patient, now, actor)
    if confirmed is not None:
        return confirmed
    return appointment_book(
        service=appointment.service,
        start=appointment.start,
        patient=patient,
        practitioner=appointment.practitioner,
        actor=actor,
        now=now,
    )


@transaction.atomic(durable=True)
def _confirm_hold(
    appointment: Appointment, patient: Patient | PatientDetails, now: datetime, actor: Actor
) -> Appointment | None:
    _lock([appointment.practitioner_id])
    held = Appointment.objects.select_related("service").get(pk=appointment.pk)
    if held.status != Status.HELD or held.held_until is None or held.held_until < now:
        return None
    known = patient_find(patient) if isinstance(patient, PatientDetails) else patient
    known, review = _patient_for(held.service, held.start, patient, known, now, exclude=held.pk, source=held.source)
    updated = Appointment.objects.filter(pk=held.pk, status=Status.HELD, version=held.version).update(
        patient=known,
        status=Status.BOOKED,
        held_until=None,
        review_reason=review,
        version=F("version") + 1,
        updated_at=now,
    )
    if updated != 1:
        return None
    held.refresh_from_db()
    _audit(actor, "appointment.book", held, f"booked for {_when(held)}")
    messages_for_booking(appointment=held, online=held.source == Source.ONLINE, now=now)
    return held


def appointment_release_hold(*, appointment: Appointment, now: datetime | None = None) -> bool:
    """Free a held time at once (the patient chose another time or left). False if it was no longer held."""
    now = now or timezone.now()
    released = Appointment.objects.filter(pk=appointment.pk, status=Status.HELD).update(
        status=Status.CANCELLED,
        cancelled_at=now,
        cancellation_reason="Hold released",
        version=F("version") + 1,
        updated_at=now,
    )
    return released == 1


def inside_late_window(appointment: Appointment, now: datetime, clinic: Clinic) -> bool:
    return appointment.start - now < timedelta(hours=clinic.late_cancel_hours)


def _refuse_late_patient_change(appointment: Appointment, now: datetime, clinic: Clinic, verb: str) -> None:
    if inside_late_window(appointment, now, clinic):
        phone = f" on {clinic.phone}" if clinic.phone else ""
        raise Conflict(
            f"Appointments can't be {verb} online less than {clinic.late_cancel_hours} hours before they start. "
            f"Please call the clinic{phone}.",
            code="late_change_not_allowed",
        )


def appointment_cancel(
    *,
    appointment: Appointment,
    by_staff: bool,
    reason: str = "",
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> Appointment:
    """Cancel and free the time. Patients can't cancel online inside the late-cancellation window; staff can,
    and a cancellation inside it is flagged as late."""
    now = now or timezone.now()
    clinic = Clinic.load()
    if not by_staff:
        _refuse_late_patient_change(appointment, now, clinic, "cancelled")
    late = inside_late_window(appointment, now, clinic)
    with transaction.atomic():
        updated = Appointment.objects.filter(pk=appointment.pk, status__in=[Status.HELD, Status.BOOKED]).update(
            status=Status.CANCELLED,
            cancelled_at=now,
            cancellation_reason=reason[:300],
            late_cancellation=late,
            version=F("version") + 1,
            updated_at=now,
        )
        if updated != 1:
            raise Conflict("This appointment can no longer be cancelled.", code="not_cancellable")
        appointment.refresh_from_db()
        # The reason stays on the appointment: people write health details there ("migraine since Tuesday").
        _audit(actor, "appointment.cancel", appointment, "cancelled late" if late else "cancelled")
        if appointment.patient_id is not None:  # a released hold owes nobody a message
            messages_for_cancellation(appointment=appointment, by_patient=not by_staff, now=now)
    return appointment


def appointment_reschedule(
    *,
    appointment: Appointment,
    start: datetime,
    by_staff: bool,
    practitioner: Practitioner | None = None,
    outside_hours: bool = False,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> Appointment:
    """Move to `start` in one update: the old time is released only if the new one is obtained.

    `outside_hours` as for `appointment_book`: staff only, on purpose, never over anything else."""
    now = now or timezone.now()
    if not by_staff:
        _refuse_late_patient_change(appointment, now, Clinic.load(), "moved")
    if outside_hours and not by_staff:
        raise NotBookable("Only staff can book outside working hours.", field="outside_hours")
    _check_actor_calendar(actor, practitioner or appointment.practitioner)
    source = Source.STAFF if by_staff else Source.ONLINE
    practitioner = practitioner or appointment.practitioner
    _check_offer(appointment.service, practitioner, source)
    _check_not_past(start, now)
    with _lost_races_as_conflicts():
        return _reschedule(appointment, start, practitioner, source, now, outside_hours, actor)


@transaction.atomic(durable=True)
def _reschedule(
    appointment: Appointment,
    start: datetime,
    practitioner: Practitioner,
    source: str,
    now: datetime,
    outside_hours: bool,
    actor: Actor,
) -> Appointment:
    location_ids = _lock([appointment.practitioner_id, practitioner.id])
    current = Appointment.objects.select_related("service", "patient", "location", "practitioner").get(
        pk=appointment.pk
    )
    if current.status != Status.BOOKED:
        raise Conflict("Only a booked appointment can be moved.", code="not_reschedulable")
    service = current.service
    _fail_fast_if_taken(practitioner, start, start + service.duration + service.buffer, now, exclude=current.pk)
    appointments_release_expired_holds(
        now=now, practitioner_ids=[practitioner.id], location_ids=location_ids, patient=current.patient
    )
    _chosen, verdict = _find_place(
        service, [practitioner], start, now, source, exclude=current.pk, outside_hours=outside_hours
    )
    _check_patient_free(current.patient, start, start + service.duration, now, exclude=current.pk)
    updated = Appointment.objects.filter(pk=current.pk, version=current.version, status=Status.BOOKED).update(
        practitioner=practitioner,
        location_id=verdict.location_id,
        room_id=verdict.room_id,
        start=start,
        end=start + service.duration,
        blocked_until=start + service.duration + service.buffer,
        outside_hours=outside_hours and not _within_hours(service, practitioner, start, now, source, current.pk),
        version=F("version") + 1,
        updated_at=now,
    )
    if updated != 1:
        raise SlotUnavailable("This appointment changed while you were moving it; please try again.")
    before = _when(current)
    current = Appointment.objects.select_related("service", "patient", "location", "practitioner").get(pk=current.pk)
    moved = f"moved from {before} to {_when(current)}" + _OUTSIDE[current.outside_hours]
    _audit(actor, "appointment.reschedule", current, moved)
    messages_for_move(appointment=current, online=source == Source.ONLINE, now=now)
    return current


# Which status may follow which. Undoing a mistaken check-in is arrived -> booked.
_TRANSITIONS = {
    Status.ARRIVED: (Status.BOOKED,),
    Status.COMPLETED: (Status.ARRIVED, Status.BOOKED),
    Status.NO_SHOW: (Status.BOOKED,),
    Status.BOOKED: (Status.ARRIVED,),
}


def appointment_set_status(
    *, appointment: Appointment, status: str, actor: Actor = SYSTEM, now: datetime | None = None
) -> Appointment:
    """Check in, complete, mark a no-show, or undo a check-in, as one conditional update."""
    now = now or timezone.now()
    allowed_from = _TRANSITIONS.get(status)
    if allowed_from is None:
        raise ServiceError(f"An appointment can't be set to {status!r} here.", field="status", code="invalid_status")
    if status == Status.NO_SHOW and appointment.start > now:
        raise ServiceError("A patient can't be a no-show before the appointment starts.", code="too_early")
    with transaction.atomic():
        previous = (
            Appointment.objects.select_for_update().filter(pk=appointment.pk).values_list("status", flat=True).first()
        )
        updated = Appointment.objects.filter(Q(pk=appointment.pk), Q(status__in=allowed_from)).update(
            status=status, version=F("version") + 1, updated_at=now
        )
        if updated != 1:
            appointment.refresh_from_db(fields=["status"])
            raise Conflict(
                f"The appointment is {appointment.get_status_display().lower()}; it can't become {status}.",
                code="status_changed",
            )
        appointment.refresh_from_db()
        _audit(actor, "appointment.status", appointment, f"{previous} → {status}")
        messages_for_status(appointment=appointment, now=now)
    return appointment


def practitioner_feed_renew(*, practitioner: Practitioner) -> str:
    """A new secret address for the practitioner's calendar feed; the old address stops working at once."""
    key = secrets.token_urlsafe(32)
    Practitioner.objects.filter(pk=practitioner.pk).update(calendar_feed_key=key)
    practitioner.calendar_feed_key = key
    return key


def practitioner_feed_revoke(*, practitioner: Practitioner) -> None:
    Practitioner.objects.filter(pk=practitioner.pk).update(calendar_feed_key="")
    practitioner.calendar_feed_key = ""


class StrandsAppointments(Conflict):
    """A change to the schedule would leave booked patients with nobody to see them: move or cancel those first."""

    code = "strands_appointments"

    def __init__(self, appointments: list[Appointment]):
        self.appointments = appointments
        lines = "; ".join(listing(appointments))
        message = (
            f"This would leave booked appointments without their practitioner: {lines}. Move or cancel them first."
        )
        super().__init__(message, field="start")


def time_off_add(
    *, practitioner: Practitioner, start: datetime, end: datetime, reason: str = "", actor: Actor = SYSTEM
) -> TimeOff:
    """Time away for a practitioner; refused, listing them, if it covers appointments patients have booked."""
    if end <= start:
        raise ServiceError("The end must be after the start.", field="end")
    with transaction.atomic():
        schedule_lock(practitioner_ids=[practitioner.id])
        stranded = stranded_by_time_off(practitioner, [availability.Busy(start, end)])
        if stranded:
            raise StrandsAppointments(stranded)
        away = TimeOff.objects.create(practitioner=practitioner, start=start, end=end, reason=reason[:200])
        audit_write(actor, "schedule.time_off_add", detail=_time_off_words(away))
    return away


def time_off_remove(*, time_off: TimeOff, actor: Actor = SYSTEM) -> None:
    with transaction.atomic():
        deleted, _ = TimeOff.objects.filter(pk=time_off.pk).delete()
        if deleted:
            audit_write(actor, "schedule.time_off_remove", detail=_time_off_words(time_off))


def _time_off_words(away: TimeOff) -> str:
    zone = practitioner_zone(away.practitioner)
    start, end = away.start.astimezone(zone), away.end.astimezone(zone)
    return f"{away.practitioner.name}: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} ({zone.key})"
