"""The booking services directly: holds, status changes, and what every entry point relies on."""

from datetime import time, timedelta

import pytest

from backend.errors import Conflict, ServiceError
from patients.models import Patient
from patients.services import patient_find_or_create
from scheduling.models import Appointment
from scheduling.selectors import bookable_slots
from scheduling.services import (
    NotBookable,
    SlotUnavailable,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_set_status,
    appointments_release_expired_holds,
)
from scheduling.tasks import release_expired_holds
from tests.conftest import local
from tests.factories import LocationFactory, PatientFactory, PractitionerFactory, RoomFactory, weekly_hours

pytestmark = pytest.mark.django_db

Status = Appointment.Status


def hold(practitioner, service, start, now, minutes=7) -> Appointment:
    """A hold as the booking pages will place it (issue 3): counted until `held_until`."""
    room = practitioner.hours.first().location.rooms.first()
    return Appointment.objects.create(
        patient=PatientFactory(),
        practitioner=practitioner,
        service=service,
        location=room.location,
        room=room,
        start=start,
        end=start + service.duration,
        blocked_until=start + service.duration + service.buffer,
        status=Status.HELD,
        source=Appointment.Source.ONLINE,
        held_until=now + timedelta(minutes=minutes),
    )


def starts_on_tuesday(service) -> list:
    found = bookable_slots(service=service, start_date=local(2027, 3, 2).date(), end_date=local(2027, 3, 2).date())
    return [slot.start for slot in found.slots]


def test_a_live_hold_blocks_its_time_and_an_expired_one_does_not(dr_chen, follow_up, alice, monday_morning):
    ten = local(2027, 3, 2, 10)
    hold(dr_chen, follow_up, ten, monday_morning)
    assert ten not in starts_on_tuesday(follow_up)
    with pytest.raises(SlotUnavailable):
        appointment_book(service=follow_up, practitioner=dr_chen, start=ten, patient=alice)

    later = monday_morning + timedelta(minutes=8)
    after_expiry = bookable_slots(service=follow_up, start_date=ten.date(), end_date=ten.date(), now=later)
    assert ten in [slot.start for slot in after_expiry.slots]
    appointment = appointment_book(service=follow_up, practitioner=dr_chen, start=ten, patient=alice, now=later)
    assert appointment.status == Status.BOOKED
    assert Appointment.objects.get(status=Status.CANCELLED).cancellation_reason == "Hold expired"


def test_the_periodic_task_releases_expired_holds_only(dr_chen, follow_up, monday_morning, time_machine):
    stale = hold(dr_chen, follow_up, local(2027, 3, 2, 10), monday_morning, minutes=5)
    fresh = hold(dr_chen, follow_up, local(2027, 3, 2, 13), monday_morning, minutes=30)
    time_machine.move_to(monday_morning + timedelta(minutes=10), tick=False)
    assert release_expired_holds() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, stale.version) == (Status.CANCELLED, 2)
    assert fresh.status == Status.HELD
    assert appointments_release_expired_holds() == 0


def test_it_books_through_the_service_with_staff_source(dr_chen, follow_up, alice, monday_morning):
    appointment = appointment_book(
        service=follow_up, practitioner=dr_chen, start=local(2027, 3, 1, 9), patient=alice, source="staff"
    )
    assert appointment.source == "staff"
    with pytest.raises(NotBookable) as refused:
        appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 1, 11), patient=alice)
    assert refused.value.code == "too_soon"


def test_it_walks_an_appointment_through_its_day(dr_chen, follow_up, alice, monday_morning, time_machine):
    appointment = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    time_machine.move_to(local(2027, 3, 2, 9, 55), tick=False)
    appointment = appointment_set_status(appointment=appointment, status=Status.ARRIVED)
    appointment = appointment_set_status(appointment=appointment, status=Status.BOOKED)  # undo a mistaken check-in
    appointment = appointment_set_status(appointment=appointment, status=Status.ARRIVED)
    appointment = appointment_set_status(appointment=appointment, status=Status.COMPLETED)
    assert (appointment.status, appointment.version) == (Status.COMPLETED, 5)
    time_machine.move_to(local(2027, 3, 2, 11, 5), tick=False)
    with pytest.raises(Conflict) as refused:
        appointment_set_status(appointment=appointment, status=Status.NO_SHOW)
    assert refused.value.code == "status_changed"


def test_a_no_show_needs_the_appointment_to_have_started_and_frees_the_slot(
    dr_chen, follow_up, alice, bob, time_machine
):
    time_machine.move_to(local(2027, 3, 1, 8), tick=False)
    appointment = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    with pytest.raises(ServiceError, match="before the appointment starts"):
        appointment_set_status(appointment=appointment, status=Status.NO_SHOW)
    time_machine.move_to(local(2027, 3, 2, 10, 10), tick=False)
    appointment_set_status(appointment=appointment, status=Status.NO_SHOW)
    walk_in = appointment_book(
        service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10, 15), patient=bob, source="staff"
    )
    assert walk_in.status == Status.BOOKED


def test_it_refuses_unknown_status_changes(dr_chen, follow_up, alice, monday_morning):
    appointment = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    with pytest.raises(ServiceError) as refused:
        appointment_set_status(appointment=appointment, status=Status.HELD)
    assert refused.value.code == "invalid_status"


def test_a_stale_copy_loses_the_race_cleanly(dr_chen, follow_up, alice, monday_morning):
    appointment = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    stale = Appointment.objects.get(pk=appointment.pk)
    appointment_cancel(appointment=appointment, by_staff=True, reason="Called")
    with pytest.raises(Conflict):
        appointment_reschedule(appointment=stale, start=local(2027, 3, 3, 10), by_staff=True)
    with pytest.raises(Conflict):
        appointment_set_status(appointment=stale, status=Status.ARRIVED)
    assert Appointment.objects.get(pk=appointment.pk).status == Status.CANCELLED


def test_it_reschedules_to_another_practitioner_who_offers_the_service(
    dr_chen, dr_okafor, follow_up, alice, monday_morning
):
    appointment = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    moved = appointment_reschedule(
        appointment=appointment, start=local(2027, 3, 2, 10), practitioner=dr_okafor, by_staff=True
    )
    assert (moved.practitioner, moved.start, moved.version) == (dr_okafor, local(2027, 3, 2, 10), 2)


def test_it_refuses_an_inactive_practitioner(dr_chen, follow_up, alice, monday_morning):
    dr_chen.active = False
    dr_chen.save()
    with pytest.raises(NotBookable) as refused:
        appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    assert refused.value.code == "not_offered"


def test_a_failed_booking_leaves_no_patient_behind(dr_chen, follow_up, alice, monday_morning):
    with pytest.raises(NotBookable):
        appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 20), patient=alice)
    assert not Patient.objects.exists()


def test_a_patient_is_never_booked_twice_at_once(dr_chen, dr_okafor, follow_up, alice, monday_morning):
    appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    with pytest.raises(SlotUnavailable):
        appointment_book(service=follow_up, practitioner=dr_okafor, start=local(2027, 3, 2, 10, 30), patient=alice)
    later = appointment_book(service=follow_up, practitioner=dr_okafor, start=local(2027, 3, 2, 11), patient=alice)
    with pytest.raises(SlotUnavailable):
        appointment_reschedule(appointment=later, start=local(2027, 3, 2, 9, 30), by_staff=True)


def test_a_patients_own_expired_hold_elsewhere_does_not_block_their_booking(dr_chen, follow_up, alice, monday_morning):
    uptown = LocationFactory(slug="uptown", timezone="America/New_York")
    RoomFactory(location=uptown)
    dr_wu = PractitionerFactory(slug="lin-wu", services=[follow_up])
    weekly_hours(dr_wu, uptown, range(5), time(9), time(17))
    ten = local(2027, 3, 2, 10)
    patient = patient_find_or_create(alice)
    stale = hold(dr_wu, follow_up, ten, monday_morning)
    stale.patient = patient
    stale.save()
    later = monday_morning + timedelta(minutes=8)
    appointment = appointment_book(service=follow_up, practitioner=dr_chen, start=ten, patient=alice, now=later)
    assert appointment.patient == patient
    stale.refresh_from_db()
    assert stale.status == Status.CANCELLED
