"""Book, cancel and reschedule at random across a DST change; every answer must match a naive model.

Hypothesis drives the real services (`appointment_book`, `appointment_cancel`, `appointment_reschedule`)
on the three days around a change of the clocks in New York. Two practitioners share ONE room and both
work 09:00-12:00 local every day; the service lasts 45 minutes with a 15-minute buffer, on a 15-minute
grid. The model beside them knows nothing of the engine: it turns 09:00 and 12:00 into instants with
zoneinfo for each date, checks the grid, and compares plain intervals (the practitioner's and the room's
with the buffer; the patient's, who can't be in two treatments at once, without). After every step the
rows in the database must be the model's, one for one.

Start times are drawn as UTC instants between 12:45 and 16:40, so the same UTC time is 08:00 local on
one side of the change (too early) and 09:00 on the other (bookable).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule, run_state_machine_as_test

from backend.errors import Conflict, ServiceError
from notifications.models import Message
from patients.models import Patient
from scheduling.models import Appointment, Practitioner, Room, Service
from scheduling.services import (
    NotBookable,
    SlotUnavailable,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from tests.conftest import NEW_YORK
from tests.factories import (
    LocationFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    ServiceFactory,
    weekly_hours,
)

DURATION = timedelta(minutes=45)
BUFFER = timedelta(minutes=15)
STEP = timedelta(minutes=15)
OPENS, CLOSES = time(9), time(12)
# The services take `now`; a clock long before the test week keeps minimum notice and the horizon out of
# the way (staff bookings have no horizon), so every decision is about hours, the grid and clashes.
LONG_AGO = datetime(2027, 1, 1, tzinfo=UTC)

SPRING_FORWARD = date(2027, 3, 14)  # a Sunday: 02:00 EST becomes 03:00 EDT
FALL_BACK = date(2027, 11, 7)  # a Sunday: 02:00 EDT becomes 01:00 EST


@dataclass
class World:
    """The rows the machine books against; created once per test, kept across Hypothesis examples."""

    days: list[date]
    service: Service
    practitioners: list[Practitioner]  # in the order "no preference" tries them
    room: Room
    patients: list[Patient]


@dataclass(frozen=True)
class When:
    """A start time drawn by Hypothesis: the `day`-th day of the test, `minutes` after 12:45 UTC."""

    day: int
    minutes: int


whens = st.builds(
    When,
    day=st.integers(0, 2),
    # Quarter hours from 12:45 to 16:30 UTC, which hold every bookable start on both sides of the change
    # and some on neither; now and then ten minutes off the grid.
    minutes=st.builds(lambda quarter, nudge: quarter * 15 + nudge, st.integers(0, 15), st.sampled_from([0] * 7 + [10])),
)


@dataclass
class Booked:
    """The model's appointment: for whom, with whom, from when, and whether it still holds its time."""

    patient_id: int
    practitioner_id: int
    start: datetime
    active: bool = True

    @property
    def end(self) -> datetime:
        return self.start + DURATION

    @property
    def blocked_until(self) -> datetime:
        return self.end + BUFFER


class Model:
    """What a careful person with a calendar and zoneinfo would decide. No engine code."""

    def __init__(self, world: World):
        self.world = world
        self.booked: dict[int, Booked] = {}

    def others(self, moving: int | None) -> list[Booked]:
        return [other for pk, other in self.booked.items() if pk != moving and other.active]

    def on_grid(self, start: datetime) -> bool:
        day = start.astimezone(NEW_YORK).date()
        opens = datetime.combine(day, OPENS, tzinfo=NEW_YORK).astimezone(UTC)
        closes = datetime.combine(day, CLOSES, tzinfo=NEW_YORK).astimezone(UTC)
        start = start.astimezone(UTC)
        return opens <= start and start + DURATION <= closes and (start - opens) % STEP == timedelta(0)

    def patient_elsewhere(self, patient_id: int, start: datetime, moving: int | None) -> bool:
        """Is the patient in another treatment over [start, end)? (Buffers are the practitioner's, not theirs.)"""
        end = start + DURATION
        return any(
            other.patient_id == patient_id and other.start < end and start < other.end for other in self.others(moving)
        )

    def clashes(self, practitioner_id: int, start: datetime, moving: int | None) -> bool:
        """Does [start, end + buffer) meet another active appointment of this practitioner or of the room?"""
        blocked_until = start + DURATION + BUFFER
        for other in self.others(moving):
            same_practitioner = other.practitioner_id == practitioner_id
            same_room = True  # there is one room
            if (same_practitioner or same_room) and other.start < blocked_until and start < other.blocked_until:
                return True
        return False

    def practitioner_busy(self, practitioner_id: int, start: datetime, moving: int | None) -> bool:
        blocked_until = start + DURATION + BUFFER
        return any(
            other.practitioner_id == practitioner_id and other.start < blocked_until and start < other.blocked_until
            for other in self.others(moving)
        )

    def decide(
        self, patient_id: int, practitioner_id: int, start: datetime, moving: int | None = None, named: bool = True
    ):
        """The error class to expect, or None.

        As the service does: when one practitioner is named, a clash with their own calendar is answered
        first (the losers of a race learn it in one query); then hours; then rooms; and the patient's own
        calendar last, so that a refusal for a rule never depends on who asked.
        """
        error = self.decide_time(practitioner_id, start, moving, named)
        if error is None and self.patient_elsewhere(patient_id, start, moving):
            return SlotUnavailable
        return error

    def decide_time(self, practitioner_id: int, start: datetime, moving: int | None, named: bool):
        if named and self.practitioner_busy(practitioner_id, start, moving):
            return SlotUnavailable
        if not self.on_grid(start):
            return NotBookable
        if self.clashes(practitioner_id, start, moving):
            return SlotUnavailable
        return None

    def decide_booking(self, patient_id: int, practitioner: Practitioner | None, start: datetime):
        """The error to expect, or the practitioner who gets the booking ("no preference": the first free)."""
        candidates = [practitioner] if practitioner else self.world.practitioners
        errors = []
        for candidate in candidates:
            error = self.decide_time(candidate.id, start, None, named=practitioner is not None)
            if error is None:
                if self.patient_elsewhere(patient_id, start, None):
                    return SlotUnavailable, None
                return None, candidate.id
            errors.append(error)
        # A clash with one practitioner is a better answer than "outside hours" with another.
        return (SlotUnavailable if SlotUnavailable in errors else NotBookable), None


def attempt(action: str, call: Callable[[], Appointment]) -> tuple[Appointment | None, ServiceError | None]:
    """Run one service call; return what it made or the error it refused with (and count which, for -s)."""
    try:
        appointment = call()
    except ServiceError as error:
        event(f"{action}: refused ({error.code})")
        return None, error
    event(f"{action}: done")
    return appointment, None


def assert_decided_as(expected: type[ServiceError] | None, refusal: ServiceError | None, code: str | None = None):
    if expected is None:
        assert refusal is None, f"refused with {refusal!r} ({refusal.code}); the model accepts"
        return
    assert refusal is not None, f"accepted; the model expects {expected.__name__}"
    assert type(refusal) is expected, (
        f"refused with {type(refusal).__name__} ({refusal.code}); expected {expected.__name__}"
    )
    if code:
        assert refusal.code == code


class BookingMachine(RuleBasedStateMachine):
    appointments = Bundle("appointments")

    def __init__(self, world: World):
        super().__init__()
        self.world = world
        self.model = Model(world)

    def teardown(self) -> None:
        # The services open durable transactions, so an example cannot run inside a savepoint of its own:
        # the rows it wrote are deleted instead (their outbox messages first: those protect their appointments).
        Message.objects.all().delete()
        Appointment.objects.all().delete()

    def start_at(self, when: When) -> datetime:
        start = datetime.combine(self.world.days[when.day], time(12, 45), tzinfo=UTC) + timedelta(minutes=when.minutes)
        note(f"start {start:%Y-%m-%d %H:%M} UTC = {start.astimezone(NEW_YORK):%a %H:%M %Z} in New York")
        return start

    def practitioner(self, choice: int | None) -> Practitioner | None:
        return None if choice is None else self.world.practitioners[choice]

    @rule(
        target=appointments,
        when=whens,
        practitioner=st.sampled_from([0, 1, None]),
        patient=st.sampled_from([0, 1]),
    )
    def book(self, when: When, practitioner: int | None, patient: int):
        start = self.start_at(when)
        patient_id = self.world.patients[patient].id
        expected, expected_practitioner = self.model.decide_booking(patient_id, self.practitioner(practitioner), start)
        appointment, refusal = attempt(
            "book",
            lambda: appointment_book(
                service=self.world.service,
                practitioner=self.practitioner(practitioner),
                start=start,
                patient=self.world.patients[patient],
                source=Appointment.Source.STAFF,
                now=LONG_AGO,
            ),
        )
        assert_decided_as(expected, refusal)
        if appointment is None:
            return multiple()
        assert appointment.practitioner_id == expected_practitioner
        self.model.booked[appointment.pk] = Booked(patient_id, appointment.practitioner_id, start)
        return appointment.pk

    @rule(appointment=appointments)
    def cancel(self, appointment: int):
        expected = None if self.model.booked[appointment].active else Conflict
        _, refusal = attempt(
            "cancel",
            lambda: appointment_cancel(
                appointment=Appointment.objects.get(pk=appointment), by_staff=True, now=LONG_AGO
            ),
        )
        assert_decided_as(expected, refusal, code="not_cancellable")
        self.model.booked[appointment].active = False

    @rule(appointment=appointments, when=whens, practitioner=st.sampled_from([None, 0, 1]))
    def reschedule(self, appointment: int, when: When, practitioner: int | None):
        start = self.start_at(when)
        booked = self.model.booked[appointment]
        moving_to = booked.practitioner_id if practitioner is None else self.world.practitioners[practitioner].id
        if booked.active:
            expected = self.model.decide(booked.patient_id, moving_to, start, moving=appointment)
        else:
            expected = Conflict
        _, refusal = attempt(
            "reschedule",
            lambda: appointment_reschedule(
                appointment=Appointment.objects.get(pk=appointment),
                start=start,
                practitioner=self.practitioner(practitioner),
                by_staff=True,
                now=LONG_AGO,
            ),
        )
        assert_decided_as(expected, refusal, code=None if booked.active else "not_reschedulable")
        if refusal is None:
            booked.practitioner_id, booked.start = moving_to, start

    @invariant()
    def the_database_holds_what_the_model_holds(self):
        rows = {
            row.pk: (
                row.patient_id,
                row.practitioner_id,
                row.start,
                row.end,
                row.blocked_until,
                row.status,
                row.room_id,
            )
            for row in Appointment.objects.all()
        }
        expected = {
            pk: (
                booked.patient_id,
                booked.practitioner_id,
                booked.start,
                booked.end,
                booked.blocked_until,
                Appointment.Status.BOOKED if booked.active else Appointment.Status.CANCELLED,
                self.world.room.id,
            )
            for pk, booked in self.model.booked.items()
        }
        assert rows == expected


def clinic_around(change: date, *, follow_up_name: str = "Short follow-up") -> World:
    """Northside: one room, two practitioners working 09:00-12:00 every day of the week."""
    northside = LocationFactory(slug="northside", name="Northside", timezone="America/New_York")
    room = RoomFactory(location=northside, slug="only-room", name="The only room")
    service = ServiceFactory(
        slug="short-follow-up", name=follow_up_name, duration_minutes=45, buffer_minutes=15, bookable_online=True
    )
    practitioners = [PractitionerFactory(slug=slug, services=[service]) for slug in ("lin-wu", "sam-ortiz")]
    for practitioner in practitioners:
        weekly_hours(practitioner, northside, range(7), OPENS, CLOSES)
    return World(
        days=[change - timedelta(days=1), change, change + timedelta(days=1)],
        service=service,
        practitioners=practitioners,
        room=room,
        patients=[PatientFactory(), PatientFactory()],
    )


MACHINE_SETTINGS = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.django_db
@pytest.mark.parametrize("change", [SPRING_FORWARD, FALL_BACK], ids=["spring-forward", "fall-back"])
def test_it_decides_every_booking_like_a_naive_model_across_a_dst_change(clinic, change):
    assert clinic.slot_step_minutes == STEP.total_seconds() / 60
    world = clinic_around(change)
    run_state_machine_as_test(lambda: BookingMachine(world), settings=MACHINE_SETTINGS)
