"""The front desk's workspace: the day at a glance, booking a phone patient, moving, checking in, no-shows,
cancelling; a practitioner's own day; every change through the booking services and in the audit log."""

import pytest
from django.urls import reverse

from backend.api.permissions import FRONT_DESK, MANAGER, PRACTITIONER
from backend.models import AuditEntry
from patients.services import intake_submit
from scheduling.models import Appointment
from scheduling.services import appointment_book
from tests.conftest import local
from tests.factories import StaffUserFactory, TimeOffFactory
from tests.test_intake import answers

pytestmark = pytest.mark.django_db

Status = Appointment.Status


@pytest.fixture
def desk(client, monday_morning):
    """Signed in after the clock is set: a session from today would have expired by March 2027."""
    client.force_login(StaffUserFactory(username="desk@example.org", role=FRONT_DESK))
    return client


@pytest.fixture
def chen_login(dr_chen, monday_morning):
    user = StaffUserFactory(username="mei@example.org", role=PRACTITIONER)
    dr_chen.user = user
    dr_chen.save()
    return user


@pytest.fixture
def tuesday(dr_chen, dr_okafor, follow_up, alice, bob, monday_morning):
    """Tuesday 2 March 2027: Alice with Dr Chen at 10:00 (she is pregnant), Bob with Dr Okafor at 11:00."""
    alices = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    intake_submit(patient=alices.patient, answers=answers(pregnant=True), consent_name="Alice Moreau")
    bobs = appointment_book(service=follow_up, practitioner=dr_okafor, start=local(2027, 3, 2, 11), patient=bob)
    return alices, bobs


def day_view(client, **params):
    return client.get(reverse("desk:day"), {"date": "2027-03-02", **params})


def test_it_sends_strangers_to_the_staff_login(client, tuesday):
    response = day_view(client)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_it_refuses_staff_without_a_role(client, tuesday):
    client.force_login(StaffUserFactory(username="norole@example.org"))
    assert day_view(client).status_code == 403


def test_it_shows_the_day_with_a_column_per_practitioner_and_safety_badges(desk, tuesday):
    page = day_view(desk).content.decode()
    assert "Mei Chen, L.Ac." in page
    assert "Ada Okafor, L.Ac." in page
    assert "Alice Moreau" in page
    assert "Bob Lindqvist" in page
    assert "10:00\N{EN DASH}11:00" in page
    assert "Safety: Pregnant" in page
    flags_read = AuditEntry.objects.filter(action="intake.read_flags", actor__username="desk@example.org")
    assert list(flags_read.values_list("patient_id", flat=True)) == [tuesday[0].patient_id]


def test_it_shows_rooms_as_columns_when_asked(desk, tuesday):
    page = day_view(desk, by="room").content.decode()
    assert "Room 1" in page
    assert "Room 2" in page


def test_it_marks_working_hours_time_off_and_the_step(desk, dr_chen, tuesday):
    TimeOffFactory(practitioner=dr_chen, start=local(2027, 3, 2, 14), end=local(2027, 3, 2, 16), reason="Training")
    page = day_view(desk, step="5").content.decode()
    assert "Away: Training" in page
    assert 'class="working"' in page
    assert "--rows: 120" in page  # 08:00 to 18:00 in five-minute rows


def test_a_practitioner_sees_only_their_own_column(client, chen_login, tuesday):
    client.force_login(chen_login)
    page = day_view(client).content.decode()
    assert "Alice Moreau" in page
    assert "Bob Lindqvist" not in page
    assert client.get(reverse("desk:appointment", args=[tuesday[1].pk])).status_code == 404


def test_it_checks_in_undoes_and_completes_through_the_services_with_audit(desk, tuesday):
    alices = tuesday[0]
    url = reverse("desk:appointment-status", args=[alices.pk])
    desk.post(url, {"to": "arrived"})
    desk.post(url, {"to": "booked"})
    desk.post(url, {"to": "arrived"})
    desk.post(url, {"to": "completed"})
    alices.refresh_from_db()
    assert alices.status == Status.COMPLETED
    details = list(
        AuditEntry.objects.filter(action="appointment.status", appointment_id=alices.pk)
        .order_by("id")
        .values_list("detail", flat=True)
    )
    assert details == ["booked → arrived", "arrived → booked", "booked → arrived", "arrived → completed"]


def test_a_no_show_before_the_start_is_refused_kindly(desk, tuesday):
    response = desk.post(reverse("desk:appointment-status", args=[tuesday[0].pk]), {"to": "no_show"}, follow=True)
    assert "can&#x27;t be a no-show before" in response.content.decode()
    tuesday[0].refresh_from_db()
    assert tuesday[0].status == Status.BOOKED


def test_it_moves_an_appointment_by_the_form(desk, dr_okafor, tuesday):
    alices = tuesday[0]
    desk.post(
        reverse("desk:appointment-move", args=[alices.pk]),
        {"practitioner": dr_okafor.pk, "day": "2027-03-02", "time": "14:00"},
    )
    alices.refresh_from_db()
    assert (alices.practitioner, alices.start) == (dr_okafor, local(2027, 3, 2, 14))
    entry = AuditEntry.objects.get(action="appointment.reschedule", appointment_id=alices.pk)
    assert entry.detail.startswith("moved from 2027-03-02 10:00 (America/New_York) with Mei Chen")
    assert entry.actor.username == "desk@example.org"


def test_it_never_moves_onto_another_appointment(desk, dr_okafor, tuesday):
    alices = tuesday[0]
    response = desk.post(
        reverse("desk:appointment-move", args=[alices.pk]),
        {"practitioner": dr_okafor.pk, "day": "2027-03-02", "time": "11:00", "outside_hours": "on"},
    )
    assert response.status_code == 409
    alices.refresh_from_db()
    assert alices.start == local(2027, 3, 2, 10)


def test_a_cancellation_inside_the_window_is_flagged_late(desk, tuesday, time_machine):
    time_machine.move_to(local(2027, 3, 1, 16), tick=False)
    desk.post(reverse("desk:appointment-cancel", args=[tuesday[0].pk]), {"reason": "Called in sick"})
    tuesday[0].refresh_from_db()
    assert (tuesday[0].status, tuesday[0].late_cancellation) == (Status.CANCELLED, True)
    assert "late cancellation" in day_view(desk).content.decode()


def booking_post(**fields):
    return {
        "first_name": "Carmen",
        "last_name": "Ruiz",
        "email": "carmen@example.org",
        "phone": "+1 555 010 0177",
        "date_of_birth": "1990-01-05",
        "action": "book",
        **fields,
    }


def test_it_offers_the_free_times_and_books_a_new_phone_patient(desk, dr_chen, follow_up, tuesday):
    common = {"service": follow_up.pk, "practitioner": dr_chen.pk, "day": "2027-03-02"}
    offered = desk.post(reverse("desk:book"), booking_post(action="times", **common)).content.decode()
    assert 'value="2027-03-02T11:15:00-05:00"' in offered  # after Alice and the room's buffer
    assert 'value="2027-03-02T10:00:00-05:00"' not in offered  # Alice's
    response = desk.post(reverse("desk:book"), booking_post(start="2027-03-02T12:00:00-05:00", **common))
    assert response.status_code == 302
    booked = Appointment.objects.get(patient__email="carmen@example.org")
    assert (booked.source, booked.start, booked.outside_hours) == ("staff", local(2027, 3, 2, 12), False)
    assert AuditEntry.objects.filter(action="appointment.book", appointment_id=booked.pk).exists()


def test_it_books_outside_hours_only_when_asked_and_records_it(desk, dr_chen, follow_up, tuesday):
    common = {"service": follow_up.pk, "practitioner": dr_chen.pk, "day": "2027-03-02", "outside_time": "18:00"}
    refused = desk.post(reverse("desk:book"), booking_post(**common))
    assert refused.status_code == 400
    assert not Appointment.objects.filter(patient__email="carmen@example.org").exists()
    desk.post(reverse("desk:book"), booking_post(outside_hours="on", **common))
    booked = Appointment.objects.get(patient__email="carmen@example.org")
    assert (booked.start, booked.outside_hours) == (local(2027, 3, 2, 18), True)
    assert AuditEntry.objects.get(appointment_id=booked.pk).detail.endswith("outside working hours")


def test_outside_hours_never_overlaps_a_booking(desk, dr_chen, follow_up, tuesday):
    common = {"service": follow_up.pk, "practitioner": dr_chen.pk, "day": "2027-03-02", "outside_time": "10:30"}
    response = desk.post(reverse("desk:book"), booking_post(outside_hours="on", **common))
    assert response.status_code == 409


def test_it_books_a_patient_found_by_search(desk, dr_chen, follow_up, tuesday):
    bob = tuesday[1].patient
    found = desk.post(reverse("desk:book"), {"q": "lindq", "action": "find"}).content.decode()
    assert f'name="patient" value="{bob.pk}"' in found
    common = {"service": follow_up.pk, "practitioner": dr_chen.pk, "day": "2027-03-02"}
    desk.post(
        reverse("desk:book"), {"patient": bob.pk, "action": "book", "start": "2027-03-02T14:00:00-05:00", **common}
    )
    assert bob.appointments.count() == 2


@pytest.mark.parametrize("typed", ["Alice", "moreau alice", "alice@example", "555 010 0101", "1988-06-02"])
def test_it_finds_patients_by_name_email_phone_or_birth_date(desk, tuesday, typed):
    page = desk.get(reverse("desk:patients"), {"q": typed, "partial": "1"}).content.decode()
    assert "Alice Moreau" in page
    assert "Bob Lindqvist" not in page


def test_the_patient_page_shows_what_the_role_allows_and_is_audited(client, desk, chen_login, tuesday):
    alice = tuesday[0].patient
    at_desk = desk.get(reverse("desk:patient", args=[alice.pk])).content.decode()
    assert "Safety: Pregnant" in at_desk
    assert "What brings you in?" not in at_desk
    client.force_login(chen_login)
    in_the_room = client.get(reverse("desk:patient", args=[alice.pk])).content.decode()
    assert "What brings you in?" in in_the_room
    assert client.get(reverse("desk:patient", args=[tuesday[1].patient_id])).status_code == 404
    reads = AuditEntry.objects.filter(patient=alice, action__startswith="intake.read", detail="patient page")
    assert sorted(reads.values_list("action", "actor__username")) == [
        ("intake.read", "mei@example.org"),
        ("intake.read_flags", "desk@example.org"),
    ]


def test_staff_notes_and_preferences_are_kept_and_audited(desk, tuesday):
    alice = tuesday[0].patient
    desk.post(reverse("desk:patient-note", args=[alice.pk]), {"text": "Prefers afternoons"})
    desk.post(reverse("desk:patient-preferences", args=[alice.pk]), {"education_opt_in": "on"})
    alice.refresh_from_db()
    assert (alice.reminders_opt_in, alice.education_opt_in) == (False, True)
    assert "Prefers afternoons" in desk.get(reverse("desk:patient", args=[alice.pk])).content.decode()
    actions = set(AuditEntry.objects.filter(patient=alice).values_list("action", flat=True))
    assert {"patient.note_add", "patient.preferences"} <= actions


def test_my_day_shows_each_patients_intake_before_the_visit(client, chen_login, tuesday, time_machine):
    time_machine.move_to(local(2027, 3, 2, 8), tick=False)
    client.force_login(chen_login)
    page = client.get(reverse("desk:my-day")).content.decode()
    assert "10:00 Alice Moreau" in page
    assert "Safety: Pregnant" in page


def test_the_week_and_the_day_sheet_show_one_practitioner(desk, dr_chen, tuesday):
    week = desk.get(reverse("desk:week", args=[dr_chen.slug]), {"date": "2027-03-03"}).content.decode()
    assert "Alice Moreau" in week
    assert "Bob Lindqvist" not in week
    sheet = desk.get(reverse("desk:day-sheet", args=[dr_chen.slug]), {"date": "2027-03-02"}).content.decode()
    assert "Alice Moreau" in sheet
    assert "Pregnant" in sheet


def test_the_changes_stamp_moves_when_the_day_changes(desk, tuesday):
    def stamp():
        return desk.get(reverse("desk:changes"), {"date": "2027-03-02"}, HTTP_X_MERIDIAN_POLL="1").json()["stamp"]

    before = stamp()
    assert stamp() == before
    desk.post(reverse("desk:appointment-status", args=[tuesday[0].pk]), {"to": "arrived"})
    assert stamp() != before


def test_a_manager_sees_everything(client, tuesday):
    client.force_login(StaffUserFactory(username="boss@example.org", role=MANAGER))
    assert "Bob Lindqvist" in day_view(client).content.decode()


def test_a_practitioner_adds_time_off_unless_it_covers_booked_patients(client, chen_login, dr_chen, tuesday):
    client.force_login(chen_login)
    refused = client.post(
        reverse("desk:time-off"), {"start": "2027-03-02T09:00", "end": "2027-03-02T12:00", "reason": "Course"}
    )
    assert refused.status_code == 400
    assert "patient initials A.M." in refused.content.decode()
    assert not dr_chen.time_off.exists()
    client.post(reverse("desk:time-off"), {"start": "2027-03-02T13:00", "end": "2027-03-02T17:00", "reason": "Course"})
    away = dr_chen.time_off.get()
    assert (away.start, away.end) == (local(2027, 3, 2, 13), local(2027, 3, 2, 17))
    assert AuditEntry.objects.filter(action="schedule.time_off_add", actor=chen_login).exists()
    client.post(reverse("desk:time-off-delete", args=[away.pk]))
    assert not dr_chen.time_off.exists()


def test_the_day_view_takes_the_same_number_of_queries_however_full_the_day(desk, dr_chen, follow_up, tuesday):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import PatientFactory

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert day_view(desk).status_code == 200
        return len(captured)

    day_view(desk)  # the first request of a session pushes its idle clock back (a session write); not counted
    before = queries()
    for hour, minute in ((12, 0), (13, 15), (14, 30), (15, 45)):  # an hour and the buffer apart
        patient = PatientFactory()
        start = local(2027, 3, 2, hour, minute)
        appointment_book(service=follow_up, practitioner=dr_chen, start=start, patient=patient)
        intake_submit(patient=patient, answers=answers(), consent_name=patient.full_name)
    assert queries() == before


def test_a_practitioner_cannot_make_a_stranger_their_patient_by_typing_their_details(client, chen_login, tuesday):
    bob = tuesday[1].patient
    client.force_login(chen_login)
    typed = booking_post(
        first_name="Bob", last_name="Lindqvist", email=bob.email, date_of_birth=bob.date_of_birth.isoformat()
    )
    common = {"service": tuesday[1].service_id, "practitioner": tuesday[0].practitioner_id, "day": "2027-03-02"}
    response = client.post(reverse("desk:book"), {**typed, "start": "2027-03-02T14:00:00-05:00", **common})
    assert response.status_code == 403
    assert "ask the front desk" in response.content.decode()
    assert bob.appointments.count() == 1
    assert client.get(reverse("desk:patient", args=[bob.pk])).status_code == 404


def test_a_cancellation_reason_stays_out_of_the_audit_log(desk, tuesday):
    desk.post(reverse("desk:appointment-cancel", args=[tuesday[0].pk]), {"reason": "Migraine since Tuesday"})
    assert AuditEntry.objects.get(action="appointment.cancel").detail == "cancelled"


def test_a_move_inside_the_hours_is_not_recorded_as_outside_them(desk, dr_chen, tuesday):
    alices = tuesday[0]
    desk.post(
        reverse("desk:appointment-move", args=[alices.pk]),
        {"practitioner": dr_chen.pk, "day": "2027-03-02", "time": "10:30", "outside_hours": "on"},
    )
    alices.refresh_from_db()
    assert (alices.start, alices.outside_hours) == (local(2027, 3, 2, 10, 30), False)
