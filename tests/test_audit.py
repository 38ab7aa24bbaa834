"""Every read or change of an intake, and every change of an appointment, leaves a row in the audit log, and the
log cannot be rewritten."""

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from backend.audit import Actor
from backend.errors import ServiceError
from backend.models import AuditEntry
from scheduling.manage_tokens import manage_token
from scheduling.models import Appointment
from scheduling.services import appointment_book, appointment_set_status
from tests.conftest import local
from tests.factories import StaffUserFactory
from tests.test_api import booking
from tests.test_booking_pages import confirm_booking, details_of, hold_tuesday_ten, intake_post
from tests.test_intake_api import (  # noqa: F401 - fixtures
    actors,
    alices_intake,
    alices_visit,
    signed_in,
)

pytestmark = pytest.mark.django_db


def intake_entries():
    return AuditEntry.objects.filter(action__startswith="intake.").order_by("id")


def entries() -> list[tuple[str, str]]:
    return list(intake_entries().values_list("action", "actor_kind"))


def test_staff_reads_are_recorded_with_who_read_what(api, actors, alices_intake):  # noqa: F811
    signed_in(api, actors["manager"])
    api.get(f"/api/v1/intakes/{alices_intake.id}/")
    signed_in(api, actors["front_desk"])
    api.get(f"/api/v1/intakes/?patient={alices_intake.patient_id}")
    rows = list(intake_entries())
    assert [(row.action, row.actor) for row in rows] == [
        ("intake.read", actors["manager"]),
        ("intake.read_flags", actors["front_desk"]),
    ]
    assert {row.patient_id for row in rows} == {alices_intake.patient_id}
    assert all(row.client for row in rows)


def test_refused_reads_leave_no_trace_of_answers_seen(api, actors, alices_intake):  # noqa: F811
    signed_in(api, actors["dr_okafor"])
    assert api.get(f"/api/v1/intakes/{alices_intake.id}/").status_code == 404
    assert entries() == []


def test_the_booking_pages_record_submissions_and_reads(client, dr_chen, follow_up, alice, monday_morning):
    hold_tuesday_ten(client, follow_up)
    client.post(reverse("booking:details"), details_of(alice))
    landed = confirm_booking(client, alice)
    token = landed["Location"].split("/")[2]
    client.get(reverse("booking:manage-intake", args=[token]))
    client.post(reverse("booking:manage-intake", args=[token]), intake_post(alice))
    assert entries() == [
        ("intake.submit", "patient_link"),
        ("intake.read", "patient_link"),
        ("intake.submit", "patient_link"),
    ]


def test_a_patient_link_read_through_the_api_is_recorded(api, alices_visit, alices_intake):  # noqa: F811
    api.get(f"/api/v1/appointments/{alices_visit.pk}/intake/", HTTP_X_MANAGE_TOKEN=manage_token(alices_visit))
    assert entries() == [("intake.read", "patient_link")]


def test_the_log_cannot_be_rewritten(api, actors, alices_intake):  # noqa: F811
    signed_in(api, actors["manager"])
    api.get(f"/api/v1/intakes/{alices_intake.id}/")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.update(action="nothing happened")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all().delete()
    assert entries() == [("intake.read", "staff")]


# Appointment changes: every entry point writes one row per change, naming who acted and how.


def appointment_entries(appointment_id: int) -> list[tuple[str, str]]:
    rows = AuditEntry.objects.filter(action__startswith="appointment.", appointment_id=appointment_id).order_by("id")
    return list(rows.values_list("action", "actor_kind"))


def test_a_booking_through_the_pages_and_a_change_by_its_link_are_recorded(
    client, dr_chen, follow_up, alice, monday_morning
):
    hold_tuesday_ten(client, follow_up)
    client.post(reverse("booking:details"), details_of(alice))
    token = confirm_booking(client, alice)["Location"].split("/")[2]
    booked = Appointment.objects.get(patient__email=alice.email)
    client.post(reverse("booking:manage-cancel", args=[token]), {"reason": "Away that week"})
    assert appointment_entries(booked.pk) == [("appointment.book", "online"), ("appointment.cancel", "patient_link")]
    assert all(AuditEntry.objects.filter(appointment_id=booked.pk).values_list("client", flat=True))


def test_api_bookings_moves_and_cancellations_are_recorded(api, staff_api, dr_chen, follow_up, alice, monday_morning):
    created = api.post(
        "/api/v1/appointments/", booking(follow_up, dr_chen, "2027-03-02T10:00:00-05:00", alice), format="json"
    ).json()
    token = {"HTTP_X_MANAGE_TOKEN": created["manage_token"]}
    api.post(f"/api/v1/appointments/{created['id']}/reschedule/", {"start": "2027-03-02T13:00:00-05:00"}, **token)
    staff_api.post(f"/api/v1/appointments/{created['id']}/cancel/", {"reason": "Clinic closed early"})
    assert appointment_entries(created["id"]) == [
        ("appointment.book", "online"),
        ("appointment.reschedule", "patient_link"),
        ("appointment.cancel", "staff"),
    ]
    moved = AuditEntry.objects.get(action="appointment.reschedule")
    assert moved.detail == (
        "moved from 2027-03-02 10:00 (America/New_York) with Mei Chen, L.Ac. "
        "to 2027-03-02 13:00 (America/New_York) with Mei Chen, L.Ac."
    )
    assert AuditEntry.objects.get(action="appointment.cancel").actor.username == "frontdesk@example.org"


def test_status_changes_by_the_services_are_recorded_with_their_actor(dr_chen, follow_up, alice, monday_morning):
    staff = StaffUserFactory(username="desk@example.org", role="Front desk")
    visit = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    appointment_set_status(appointment=visit, status="arrived", actor=Actor("staff", staff, "a1b2"))
    entry = AuditEntry.objects.get(action="appointment.status")
    assert (entry.actor, entry.client, entry.detail, entry.patient_id) == (
        staff,
        "a1b2",
        "booked → arrived",
        visit.patient_id,
    )


def test_a_refused_change_leaves_no_row(dr_chen, follow_up, alice, monday_morning):
    visit = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    with pytest.raises(ServiceError):
        appointment_set_status(appointment=visit, status="no_show")  # before it starts
    assert appointment_entries(visit.pk) == [("appointment.book", "system")]
