"""Many people, one slot: the booking service and the database together never double-book.

The race tests run real threads against the real API on PostgreSQL. Each thread has its own client and
its own database connection; a `threading.Barrier` releases them together so their transactions really
overlap. They use real dates a few days ahead (not a frozen clock) because every thread, and the
database, must agree on "now".
"""

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from patients.services import PatientDetails
from scheduling import services
from scheduling.manage_tokens import manage_token
from scheduling.models import Appointment, Location, Practitioner, Room, Service
from scheduling.selectors import bookable_slots
from scheduling.services import SlotUnavailable, appointment_book
from tests.conftest import NEW_YORK, WEEKDAYS
from tests.factories import LocationFactory, PatientFactory, PractitionerFactory, RoomFactory, weekly_hours

ACTIVE = [str(status) for status in Appointment.ACTIVE_STATUSES]
THREADS = 20
ROUNDS = 20
BARRIER_TIMEOUT = 30  # seconds; a stuck round fails the test instead of hanging it
BOOK_URL = "/api/v1/appointments/"


# --- what the database holds --------------------------------------------------------------------------


def overlapping_pairs() -> list[tuple[int, int]]:
    """Pairs of active appointments sharing a practitioner or a room over [start, blocked_until)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, b.id
            FROM scheduling_appointment a
            JOIN scheduling_appointment b
              ON a.id < b.id
             AND (a.practitioner_id = b.practitioner_id OR a.room_id = b.room_id)
             AND tstzrange(a.start, a.blocked_until) && tstzrange(b.start, b.blocked_until)
            WHERE a.status = ANY(%s) AND b.status = ANY(%s)
            """,
            [ACTIVE, ACTIVE],
        )
        return cursor.fetchall()


# --- dates and slots ------------------------------------------------------------------------------------


def weekdays_ahead(count: int, *, skip_days: int = 3) -> list[date]:
    """The next `count` weekdays in New York, starting `skip_days` from today: past notice, inside the horizon."""
    day = timezone.now().astimezone(NEW_YORK).date() + timedelta(days=skip_days)
    days = []
    while len(days) < count:
        if day.weekday() in WEEKDAYS:
            days.append(day)
        day += timedelta(days=1)
    return days


def back_to_back_starts(days: list[date]) -> list[datetime]:
    """A 60-minute service with a 15-minute buffer in a 09:00-17:00 day: six starts, each touching the last."""
    return [
        datetime.combine(day, time(9), tzinfo=NEW_YORK) + timedelta(minutes=75 * index)
        for day in days
        for index in range(6)
    ]


def patient_json(name: str) -> dict:
    return {
        "first_name": "Pat",
        "last_name": name,
        "email": f"{name}@example.org",
        "phone": "+1 555 010 0100",
        "date_of_birth": "1985-04-12",
    }


def booking_json(service: Service, practitioner: Practitioner, start: datetime, patient: str) -> dict:
    return {
        "service": service.id,
        "practitioner": practitioner.id,
        "start": start.isoformat(),
        "patient": patient_json(patient),
    }


# --- racing threads --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: int
    body: dict
    start_after: datetime | None = None  # a rescheduler's appointment as read after the round


@dataclass
class Race:
    """`THREADS` workers run `rounds` rounds; in each, all of them send their request at the same moment.

    `attempt(round, thread, client)` sends one request; `after(round, thread, outcome)` (optional) reads what
    the thread needs to know once every request of the round is answered and before the next starts.
    """

    rounds: int
    attempt: Callable[[int, int, APIClient], Outcome]
    after: Callable[[int, int, Outcome], None] | None = None
    threads: int = THREADS
    results: list[list[Outcome | None]] = field(init=False)
    failures: list[BaseException] = field(init=False, default_factory=list)

    def run(self) -> list[list[Outcome]]:
        self.results = [[None] * self.threads for _ in range(self.rounds)]
        self._go = threading.Barrier(self.threads, timeout=BARRIER_TIMEOUT)
        self._done = threading.Barrier(self.threads, timeout=BARRIER_TIMEOUT)
        workers = [threading.Thread(target=self._work, args=(index,)) for index in range(self.threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert self.failures == [], self.failures
        return self.results  # type: ignore[return-value]

    def _work(self, index: int) -> None:
        client = APIClient(raise_request_exception=False)  # a 500 must show up as a status, not an exception
        try:
            for number in range(self.rounds):
                self._go.wait()
                outcome = self.attempt(number, index, client)
                self._done.wait()
                if self.after:
                    self.after(number, index, outcome)
                self.results[number][index] = outcome
        except BaseException as error:  # reported by the main thread
            self.failures.append(error)
            self._go.abort()
            self._done.abort()
        finally:
            connection.close()  # this thread's own connection


def post(client: APIClient, url: str, payload: dict, **headers: str) -> Outcome:
    response = client.post(url, payload, format="json", headers=headers)
    body = response.json() if response.get("Content-Type", "").startswith("application/json") else {}
    return Outcome(response.status_code, body)


def assert_one_winner_per_round(results: list[list[Outcome]], winning: set[int]) -> None:
    for number, outcomes in enumerate(results):
        statuses = sorted(outcome.status for outcome in outcomes)
        winners = [outcome for outcome in outcomes if outcome.status in winning]
        losers = [outcome for outcome in outcomes if outcome.status not in winning]
        assert len(winners) == 1, f"round {number}: {statuses}"
        assert all(outcome.status == 409 for outcome in losers), f"round {number}: {statuses}"
        assert all(outcome.body.get("error") == "slot_unavailable" for outcome in losers), [
            outcome.body for outcome in losers if outcome.body.get("error") != "slot_unavailable"
        ]


# --- the races ------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_books_a_contested_slot_exactly_once(follow_up, dr_chen):
    slots = back_to_back_starts(weekdays_ahead(4))[:ROUNDS]

    def attempt(number: int, index: int, client: APIClient) -> Outcome:
        payload = booking_json(follow_up, dr_chen, slots[number], f"patient-{number}-{index}")
        return post(client, BOOK_URL, payload)

    results = Race(ROUNDS, attempt).run()

    assert_one_winner_per_round(results, winning={201})
    booked = list(Appointment.objects.filter(status__in=ACTIVE).order_by("start").values_list("start", flat=True))
    assert booked == slots
    assert overlapping_pairs() == []


@pytest.fixture
def one_room_clinic(clinic, follow_up) -> tuple[Location, Room, list[Practitioner]]:
    """Uptown: one room shared by two practitioners, so they compete for the room, not for each other."""
    uptown = LocationFactory(slug="uptown", name="Uptown", timezone="America/New_York")
    room = RoomFactory(location=uptown, slug="the-room", name="The room")
    practitioners = []
    for slug in ("lin-wu", "sam-ortiz"):
        practitioner = PractitionerFactory(slug=slug, services=[follow_up])
        weekly_hours(practitioner, uptown, WEEKDAYS, time(9), time(17))
        practitioners.append(practitioner)
    return uptown, room, practitioners


@pytest.mark.django_db(transaction=True)
def test_it_gives_the_last_room_to_exactly_one_of_two_practitioners(follow_up, one_room_clinic):
    _uptown, room, practitioners = one_room_clinic
    rounds = 10
    slots = back_to_back_starts(weekdays_ahead(2))[:rounds]

    def attempt(number: int, index: int, client: APIClient) -> Outcome:
        practitioner = practitioners[index % 2]
        payload = booking_json(follow_up, practitioner, slots[number], f"patient-{number}-{index}")
        return post(client, BOOK_URL, payload)

    results = Race(rounds, attempt).run()

    assert_one_winner_per_round(results, winning={201})
    assert Appointment.objects.filter(status__in=ACTIVE, room=room).count() == rounds
    assert overlapping_pairs() == []


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_reschedule_or_new_booking_take_a_slot(follow_up, dr_chen, dr_okafor):
    """Half the threads move their own appointment onto the slot, half book it new; one of them wins.

    Five movers start with Dr Chen and five with Dr Okafor (who move to Dr Chen, so their service
    locks two practitioners). A loser keeps its old time; a winner keeps the slot and races again
    from there in the next round.
    """
    first_day, *target_days = weekdays_ahead(5)
    movers = THREADS // 2
    origins = back_to_back_starts([first_day])[: movers // 2]
    appointments = [
        appointment_book(
            service=follow_up,
            practitioner=practitioner,
            start=start,
            patient=PatientDetails(
                "Mo", f"Ver{index}", f"mover-{index}@example.org", "+1 555 010 0100", date(1980, 1, 1)
            ),
        )
        for index, (practitioner, start) in enumerate(
            (practitioner, start) for practitioner in (dr_chen, dr_okafor) for start in origins
        )
    ]
    tokens = [manage_token(appointment) for appointment in appointments]
    targets = back_to_back_starts(target_days)[:ROUNDS]

    def attempt(number: int, index: int, client: APIClient) -> Outcome:
        if index < movers:
            url = f"/api/v1/appointments/{appointments[index].pk}/reschedule/"
            payload = {"start": targets[number].isoformat(), "practitioner": dr_chen.id}
            return post(client, url, payload, **{"X-Manage-Token": tokens[index]})
        return post(client, BOOK_URL, booking_json(follow_up, dr_chen, targets[number], f"new-{number}-{index}"))

    def after(number: int, index: int, outcome: Outcome) -> None:
        if index < movers:
            outcome.start_after = Appointment.objects.get(pk=appointments[index].pk).start

    results = Race(ROUNDS, attempt, after).run()

    assert_one_winner_per_round(results, winning={200, 201})
    # Replay the rounds: a winning mover's appointment is at the target; every losing one where it was.
    expected = [appointment.start for appointment in appointments]
    booked_new = []
    for number, outcomes in enumerate(results):
        for index in range(movers):
            if outcomes[index].status == 200:
                expected[index] = targets[number]
            assert outcomes[index].start_after == expected[index], f"round {number}, mover {index}"
        if any(outcome.status == 201 for outcome in outcomes):
            booked_new.append(targets[number])
    assert 0 < len(booked_new) < ROUNDS, "both kinds of request should win some rounds, or the race is not a race"
    active = Appointment.objects.filter(status__in=ACTIVE).order_by("start")
    assert list(active.values_list("start", flat=True)) == sorted(expected + booked_new)
    assert overlapping_pairs() == []


# --- the database's own guarantee ------------------------------------------------------------------------

BLOCKING = ["held", "booked", "arrived", "completed"]
FREEING = ["cancelled", "no_show"]


@pytest.fixture
def tuesday_ten() -> datetime:
    return datetime(2027, 3, 2, 10, tzinfo=NEW_YORK)


def insert(practitioner: Practitioner, room: Room, service: Service, start: datetime, status="booked") -> Appointment:
    """An appointment written straight through the ORM, as an import or a careless script would."""
    return Appointment.objects.create(
        patient=PatientFactory(),
        practitioner=practitioner,
        service=service,
        location=room.location,
        room=room,
        start=start,
        end=start + service.duration,
        blocked_until=start + service.duration + service.buffer,
        status=status,
        source=Appointment.Source.STAFF,
    )


def assert_refused(constraint: str, make: Callable[[], Appointment]) -> None:
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        make()
    assert refused.value.__cause__.sqlstate == "23P01"  # exclusion_violation
    assert refused.value.__cause__.diag.constraint_name == constraint


@pytest.mark.django_db
@pytest.mark.parametrize("status", BLOCKING)
def test_it_has_the_database_refuse_two_appointments_of_one_practitioner_at_once(
    status, downtown, follow_up, dr_chen, tuesday_ten
):
    room_1, room_2 = downtown.rooms.order_by("slug")
    insert(dr_chen, room_1, follow_up, tuesday_ten, status=status)
    # In the other room, starting inside the first one's 15-minute buffer (11:00-11:15).
    assert_refused(
        "no_overlap_per_practitioner",
        lambda: insert(dr_chen, room_2, follow_up, tuesday_ten + timedelta(minutes=70)),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("status", BLOCKING)
def test_it_has_the_database_refuse_two_appointments_in_one_room_at_once(
    status, downtown, follow_up, dr_chen, dr_okafor, tuesday_ten
):
    room_1 = downtown.rooms.get(slug="room-1")
    insert(dr_chen, room_1, follow_up, tuesday_ten, status=status)
    assert_refused(
        "no_overlap_per_room",
        lambda: insert(dr_okafor, room_1, follow_up, tuesday_ten - timedelta(minutes=30)),
    )


@pytest.mark.django_db
def test_it_has_the_database_accept_an_appointment_starting_when_the_last_buffer_ends(
    downtown, follow_up, dr_chen, tuesday_ten
):
    room_1 = downtown.rooms.get(slug="room-1")
    first = insert(dr_chen, room_1, follow_up, tuesday_ten)
    second = insert(dr_chen, room_1, follow_up, first.blocked_until)  # [start, blocked_until) is half-open
    assert second.pk


@pytest.mark.django_db
@pytest.mark.parametrize("status", FREEING)
def test_it_has_the_database_accept_the_same_time_once_the_first_is_cancelled(
    status, downtown, follow_up, dr_chen, dr_okafor, tuesday_ten
):
    room_1, room_2 = downtown.rooms.order_by("slug")
    first = insert(dr_chen, room_1, follow_up, tuesday_ten)
    assert_refused("no_overlap_per_practitioner", lambda: insert(dr_chen, room_2, follow_up, tuesday_ten))
    assert_refused("no_overlap_per_room", lambda: insert(dr_okafor, room_1, follow_up, tuesday_ten))

    Appointment.objects.filter(pk=first.pk).update(status=status)

    assert insert(dr_chen, room_1, follow_up, tuesday_ten).pk
    assert_refused("no_overlap_per_practitioner", lambda: insert(dr_chen, room_2, follow_up, tuesday_ten))


# --- holds that ran out ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_books_a_room_whose_only_occupant_is_a_hold_that_ran_out(downtown, follow_up, dr_chen, dr_okafor):
    now = timezone.now()
    ten = datetime.combine(weekdays_ahead(1)[0], time(10), tzinfo=NEW_YORK)
    room_1 = downtown.rooms.get(slug="room-1")
    hold = insert(dr_okafor, room_1, follow_up, ten, status=Appointment.Status.HELD)
    Appointment.objects.filter(pk=hold.pk).update(held_until=now - timedelta(minutes=1))
    # Availability (rightly) ignores the hold that ran out: 10:00 is offered with Dr Chen.
    offered = bookable_slots(service=follow_up, start_date=ten.date(), end_date=ten.date(), practitioner_id=dr_chen.id)
    assert ten in [slot.start for slot in offered.slots]

    # Room 2 is empty and room 1 only holds a hold that ran out a minute ago, yet this raised SlotUnavailable.
    appointment = appointment_book(
        service=follow_up, practitioner=dr_chen, start=ten, patient=PatientFactory(), now=now
    )

    assert appointment.start == ten


# --- one patient, two places at once ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_never_books_one_patient_at_two_locations_at_once(monkeypatch, follow_up, dr_chen, one_room_clinic):
    _uptown, _room, (dr_wu, _dr_ortiz) = one_room_clinic
    patient = PatientFactory()
    ten = datetime.combine(weekdays_ahead(1)[0], time(10), tzinfo=NEW_YORK)
    # Hold each booking just after its checks until the other has made them too (or 2 s have passed, which is
    # what happens once the check is serialised): the interleaving a double submit can produce by chance.
    both_checked = threading.Barrier(2, timeout=2)
    find_place = services._find_place

    def find_place_after_the_other_checked(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait()
        return find_place(*args, **kwargs)

    monkeypatch.setattr(services, "_find_place", find_place_after_the_other_checked)
    outcomes: list[str] = []

    def book(practitioner: Practitioner) -> None:
        try:
            appointment_book(service=follow_up, practitioner=practitioner, start=ten, patient=patient)
            outcomes.append("booked")
        except SlotUnavailable:
            outcomes.append("slot_unavailable")
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(practitioner,)) for practitioner in (dr_chen, dr_wu)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["booked", "slot_unavailable"]
    assert Appointment.objects.filter(patient=patient, status__in=ACTIVE).count() == 1
