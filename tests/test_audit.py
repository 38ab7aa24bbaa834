"""Every read or change of an intake leaves a row in the audit log, and the log cannot be rewritten."""

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from backend.models import AuditEntry
from scheduling.manage_tokens import manage_token
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
