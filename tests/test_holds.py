"""Holds: a chosen time is kept while the patient fills in the form, and only while the hold lasts."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from scheduling.models import Appointment
from scheduling.selectors import bookable_slots
from scheduling.services import (
    NotBookable,
    SlotUnavailable,
    appointment_book,
    appointment_confirm_hold,
    appointment_hold,
    appointment_release_hold,
)
from tests.conftest import local
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

Status = Appointment.Status
TEN = local(2027, 3, 2, 10)


def offered(service, now) -> list:
    found = bookable_slots(service=service, start_date=TEN.date(), end_date=TEN.date(), now=now)
    return [slot.start for slot in found.slots]


def test_a_hold_keeps_the_time_for_the_clinics_hold_minutes(dr_chen, follow_up, bob, monday_morning):
    held = appointment_hold(service=follow_up, practitioner=dr_chen, start=TEN)
    assert (held.status, held.patient, held.held_until) == (Status.HELD, None, monday_morning + timedelta(minutes=7))
    assert TEN not in offered(follow_up, monday_morning)
    with pytest.raises(SlotUnavailable):
        appointment_book(service=follow_up, practitioner=dr_chen, start=TEN, patient=bob)
    assert TEN in offered(follow_up, monday_morning + timedelta(minutes=8))


def test_a_confirmed_hold_becomes_the_patients_booking(dr_chen, follow_up, alice, monday_morning, time_machine):
    held = appointment_hold(service=follow_up, practitioner=dr_chen, start=TEN)
    time_machine.move_to(monday_morning + timedelta(minutes=5), tick=False)
    booked = appointment_confirm_hold(appointment=held, patient=alice)
    assert booked.pk == held.pk
    assert (booked.status, booked.held_until, booked.version) == (Status.BOOKED, None, 2)
    assert booked.patient.email == alice.email


def test_a_lapsed_hold_is_booked_afresh_while_the_time_is_free(dr_chen, follow_up, alice, monday_morning, time_machine):
    held = appointment_hold(service=follow_up, practitioner=dr_chen, start=TEN)
    time_machine.move_to(monday_morning + timedelta(minutes=20), tick=False)
    booked = appointment_confirm_hold(appointment=held, patient=alice)
    assert booked.pk != held.pk
    assert (booked.status, booked.start) == (Status.BOOKED, TEN)
    held.refresh_from_db()
    assert (held.status, held.cancellation_reason) == (Status.CANCELLED, "Hold expired")


def test_a_lapsed_hold_whose_time_was_taken_says_so(dr_chen, follow_up, alice, bob, monday_morning, time_machine):
    held = appointment_hold(service=follow_up, practitioner=dr_chen, start=TEN)
    time_machine.move_to(monday_morning + timedelta(minutes=20), tick=False)
    appointment_book(service=follow_up, practitioner=dr_chen, start=TEN, patient=bob)
    with pytest.raises(SlotUnavailable):
        appointment_confirm_hold(appointment=held, patient=alice)


def test_releasing_a_hold_frees_the_time_at_once(dr_chen, follow_up, monday_morning):
    held = appointment_hold(service=follow_up, practitioner=dr_chen, start=TEN)
    assert appointment_release_hold(appointment=held) is True
    assert TEN in offered(follow_up, monday_morning)
    assert appointment_release_hold(appointment=held) is False


def test_a_hold_obeys_the_same_rules_as_a_booking(dr_chen, follow_up, monday_morning):
    with pytest.raises(NotBookable) as refused:
        appointment_hold(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 1, 10))
    assert refused.value.code == "too_soon"


def test_confirming_flags_a_returning_patient_for_a_new_patient_treatment(dr_chen, downtown, alice, monday_morning):
    initial = ServiceFactory(slug="initial", duration_minutes=90, new_patients_only=True)
    dr_chen.services.add(initial)
    appointment_book(service=initial, practitioner=dr_chen, start=local(2027, 3, 3, 10), patient=alice)
    held = appointment_hold(service=initial, practitioner=dr_chen, start=TEN)
    booked = appointment_confirm_hold(appointment=held, patient=alice)
    assert booked.status == Status.BOOKED
    assert booked.review_reason.startswith("A returning patient")


def test_confirming_checks_the_patients_own_calendar(dr_chen, dr_okafor, follow_up, alice, monday_morning):
    appointment_book(service=follow_up, practitioner=dr_okafor, start=TEN, patient=alice)
    held = appointment_hold(service=follow_up, practitioner=dr_chen, start=TEN)
    with pytest.raises(SlotUnavailable):
        appointment_confirm_hold(appointment=held, patient=alice)
    held.refresh_from_db()
    assert held.status == Status.HELD  # nothing half-done: the hold is still there for another choice


def test_no_preference_holds_with_whoever_is_free(dr_chen, dr_okafor, follow_up, bob, monday_morning):
    appointment_book(service=follow_up, practitioner=dr_chen, start=TEN, patient=bob)
    held = appointment_hold(service=follow_up, start=TEN)
    assert held.practitioner == dr_okafor


def test_the_database_refuses_a_booking_without_a_patient(dr_chen, follow_up, monday_morning):
    held = appointment_hold(service=follow_up, practitioner=dr_chen, start=TEN)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=held.pk).update(status=Status.BOOKED)
