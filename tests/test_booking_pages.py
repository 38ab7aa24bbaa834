"""The patient's booking pages, through Django's test client: the whole path works without JavaScript."""

from datetime import timedelta

import pytest
from django.urls import reverse

from patients.intake import SAFETY_FLAGS
from patients.services import intake_current
from scheduling.manage_tokens import manage_token
from scheduling.models import Appointment
from scheduling.services import appointment_book
from tests.conftest import local
from tests.factories import ServiceFactory, TimeOffFactory

pytestmark = pytest.mark.django_db

Status = Appointment.Status
TUESDAY_TEN = "2027-03-02T10:00:00-05:00"


def details_of(patient, **intake) -> dict:
    """What a patient types into the details page: contact details, the intake and consent."""
    answers = {
        "reason": "Lower back pain since moving house, and I sleep badly",
        "pain_areas": ["lower_back"],
        "pain_intensity": "6",
        "pain_duration": "6_weeks_to_3_months",
        "stress_level": "7",
        "sleep_quality": "poor",
        **dict.fromkeys(SAFETY_FLAGS, "no"),
        "acupuncture_before": "no",
        "emergency_contact_name": "Sam Moreau",
        "emergency_contact_phone": "+1 555 010 0150",
        "consent_name": f"{patient.first_name} {patient.last_name}",
        "privacy_read": "on",
        "reminders_opt_in": "on",
        **intake,
    }
    return {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "email": patient.email,
        "phone": patient.phone,
        "date_of_birth": patient.date_of_birth.isoformat(),
        **{f"intake-{key}": value for key, value in answers.items()},
    }


def confirm_booking(client, patient, **kwargs):
    """Press "Confirm booking" on the review page, which names the hold it shows."""
    held = client.session.get("booking", {}).get("hold")
    return client.post(reverse("booking:confirm"), {**details_of(patient), "hold": str(held)}, **kwargs)


def hold_tuesday_ten(client, service, who="mei-chen"):
    return client.post(reverse("booking:hold", args=[service.slug, who]), {"start": TUESDAY_TEN})


def test_it_lists_the_treatments_bookable_online(client, dr_chen, follow_up):
    ServiceFactory(slug="phone-only", name="Phone only", bookable_online=False).practitioners.add(dr_chen)
    page = client.get("/book/").content.decode()
    assert "Follow-up acupuncture" in page
    assert "Phone only" not in page
    assert client.get("/").status_code == 302


def test_it_offers_each_practitioner_and_no_preference(client, dr_chen, dr_okafor, follow_up):
    page = client.get(reverse("booking:practitioners", args=["follow-up"])).content.decode()
    assert "No preference" in page
    assert "Mei Chen, L.Ac." in page
    assert "Ada Okafor, L.Ac." in page


def test_it_opens_on_the_week_of_the_next_free_time_in_the_clinics_zone(client, dr_chen, follow_up, monday_morning):
    response = client.get(reverse("booking:times", args=["follow-up", "mei-chen"]))
    page = response.content.decode()
    assert response.context["week"].monday == local(2027, 3, 1).date()
    assert response.context["week"].first_day_with_times == local(2027, 3, 2).date()  # Monday is too soon
    assert "America/New_York" in page
    assert 'value="2027-03-02T15:00:00+00:00"' in page  # the 10:00 button carries the exact instant
    assert ">10:00<" in page  # and shows the clinic's wall-clock time


def test_it_jumps_to_the_next_available_day_from_an_empty_week(client, dr_chen, follow_up, monday_morning):
    TimeOffFactory(practitioner=dr_chen, start=local(2027, 3, 8), end=local(2027, 3, 16))
    empty_week = client.get(reverse("booking:times", args=["follow-up", "mei-chen"]) + "?week=2027-03-10")
    page = empty_week.content.decode()
    assert empty_week.context["week"].monday == local(2027, 3, 8).date()
    assert "Next available: Tuesday 16 March" in page
    assert 'href="?week=2027-03-16"' in page


def test_a_new_patient_books_through_the_pages(client, dr_chen, follow_up, alice, monday_morning):
    held = hold_tuesday_ten(client, follow_up)
    assert held.status_code == 302
    assert held["Location"] == reverse("booking:details")
    appointment = Appointment.objects.get()
    assert appointment.status == Status.HELD

    review = client.post(reverse("booking:details"), details_of(alice))
    assert review.status_code == 200
    assert "Review and confirm" in review.content.decode()

    confirmed = confirm_booking(client, alice)
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    assert appointment.patient.email == "alice@example.org"
    intake = intake_current(appointment.patient)
    assert intake.answers["pain_areas"] == ["lower_back"]
    assert intake.consent_name == "Alice Moreau"
    assert (appointment.patient.reminders_opt_in, appointment.patient.education_opt_in) == (True, False)
    assert confirmed["Location"] == reverse("booking:manage", args=[manage_token(appointment)])
    manage = client.get(confirmed["Location"])
    assert "Your appointment is booked" in manage.content.decode()
    assert "no-store" in manage["Cache-Control"]


def test_a_form_with_mistakes_keeps_what_was_typed_and_names_each_field(
    client, dr_chen, follow_up, alice, monday_morning
):
    hold_tuesday_ten(client, follow_up)
    typed = {**details_of(alice), "email": "alice-at-example.org", "phone": "call me"}
    response = client.post(reverse("booking:details"), typed)
    page = response.content.decode()
    assert 'value="Alice"' in page
    assert 'value="alice-at-example.org"' in page
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="id_email-error"' in page
    assert 'id="id_phone-error"' in page


def test_a_taken_time_is_explained_kindly_with_the_times_still_free(client, dr_chen, follow_up, bob, monday_morning):
    appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=bob)
    response = hold_tuesday_ten(client, follow_up)
    assert response.status_code == 409
    page = response.content.decode()
    assert "someone has just taken that time" in page
    assert ">11:15<" in page  # the free times are right there


def test_a_hold_lost_before_confirming_sends_the_patient_back_with_details_kept(
    client, dr_chen, follow_up, alice, bob, monday_morning, time_machine
):
    hold_tuesday_ten(client, follow_up)
    client.post(reverse("booking:details"), details_of(alice))
    time_machine.move_to(monday_morning + timedelta(minutes=30), tick=False)
    appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=bob)
    response = confirm_booking(client, alice, follow=True)
    page = response.content.decode()
    assert "that time was taken while you were filling in the form" in page
    assert response.context["week"].monday == local(2027, 3, 1).date()
    hold_again = client.post(
        reverse("booking:hold", args=["follow-up", "mei-chen"]), {"start": "2027-03-02T14:00:00-05:00"}
    )
    details_page = client.get(hold_again["Location"])
    assert 'value="alice@example.org"' in details_page.content.decode()  # nothing typed is lost
    assert "Lower back pain since moving house" in details_page.content.decode()
    assert details_page.context["intake_form"]["pain_areas"].value() == ["lower_back"]
    assert not details_page.context["intake_form"].errors


def test_choosing_another_time_releases_the_first_hold(client, dr_chen, follow_up, monday_morning):
    hold_tuesday_ten(client, follow_up)
    client.post(reverse("booking:hold", args=["follow-up", "mei-chen"]), {"start": "2027-03-02T14:00:00-05:00"})
    statuses = sorted(Appointment.objects.values_list("status", flat=True))
    assert statuses == [Status.CANCELLED, Status.HELD]


def test_a_double_submit_books_once(client, dr_chen, follow_up, alice, monday_morning):
    hold_tuesday_ten(client, follow_up)
    client.post(reverse("booking:details"), details_of(alice))
    first = confirm_booking(client, alice)
    second = confirm_booking(client, alice)
    assert first.status_code == 302
    assert second["Location"] == first["Location"]  # the second press shows the booking it already made
    assert Appointment.objects.filter(status=Status.BOOKED).count() == 1


def test_the_details_page_needs_a_held_time(client, clinic):
    assert client.get(reverse("booking:details"))["Location"] == reverse("booking:services")


@pytest.fixture
def alices_booking(dr_chen, follow_up, alice, monday_morning) -> Appointment:
    return appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)


def test_a_patient_cancels_from_the_manage_page(client, alices_booking):
    token = manage_token(alices_booking)
    page = client.get(reverse("booking:manage", args=[token])).content.decode()
    assert "Cancel this appointment" in page
    client.post(reverse("booking:manage-cancel", args=[token]), {"reason": "Travelling"})
    alices_booking.refresh_from_db()
    assert (alices_booking.status, alices_booking.cancellation_reason) == (Status.CANCELLED, "Travelling")


def test_inside_the_late_window_the_page_explains_and_shows_the_phone(client, alices_booking, time_machine):
    time_machine.move_to(local(2027, 3, 1, 15), tick=False)
    token = manage_token(alices_booking)
    page = client.get(reverse("booking:manage", args=[token])).content.decode()
    assert "Cancel this appointment" not in page
    assert "+1 555 010 0000" in page
    client.post(reverse("booking:manage-cancel", args=[token]))
    alices_booking.refresh_from_db()
    assert alices_booking.status == Status.BOOKED


def test_a_patient_moves_the_appointment_from_the_manage_page(client, alices_booking):
    token = manage_token(alices_booking)
    choose = client.get(reverse("booking:manage-reschedule", args=[token]))
    assert choose.status_code == 200
    moved = client.post(reverse("booking:manage-reschedule", args=[token]), {"start": "2027-03-03T14:00:00-05:00"})
    assert moved["Location"] == reverse("booking:manage", args=[token])
    alices_booking.refresh_from_db()
    assert alices_booking.start == local(2027, 3, 3, 14)


def test_a_failed_move_keeps_the_old_time(client, alices_booking):
    token = manage_token(alices_booking)
    response = client.post(reverse("booking:manage-reschedule", args=[token]), {"start": "2027-03-03T22:00:00-05:00"})
    assert response.status_code == 400
    alices_booking.refresh_from_db()
    assert alices_booking.start == local(2027, 3, 2, 10)


def test_the_manage_page_offers_the_calendar_file(client, alices_booking):
    response = client.get(reverse("booking:manage-calendar", args=[manage_token(alices_booking)]))
    assert response["Content-Type"] == "text/calendar"
    assert b"BEGIN:VEVENT" in response.content


def test_a_bad_or_expired_link_gets_a_kind_404(client, alices_booking, time_machine):
    assert client.get(reverse("booking:manage", args=["forged"])).status_code == 404
    time_machine.move_to(local(2027, 3, 3), tick=False)
    response = client.get(reverse("booking:manage", args=[manage_token(alices_booking)]))
    assert response.status_code == 404
    assert "book a new appointment" in response.content.decode()


def test_booking_pages_are_rate_limited(client, settings, dr_chen, follow_up, monday_morning):
    settings.BOOKING_THROTTLE_RATE = "2/hour"
    for _ in range(2):
        hold_tuesday_ten(client, follow_up)
    limited = hold_tuesday_ten(client, follow_up)
    assert limited.status_code == 429
    assert "Retry-After" in limited


def test_the_pages_need_a_csrf_token(dr_chen, follow_up, monday_morning):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert hold_tuesday_ten(strict, follow_up).status_code == 403


def test_the_intake_survives_a_validation_error(client, dr_chen, follow_up, alice, monday_morning):
    hold_tuesday_ten(client, follow_up)
    typed = details_of(alice, pregnant="", consent_name="Someone Else", pain_intensity="11")
    response = client.post(reverse("booking:details"), typed)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Lower back pain since moving house" in page  # what was typed is still there
    assert 'value="lower_back" checked' in page or "checked" in page
    form = response.context["intake_form"]
    assert set(form.errors) == {"pregnant", "consent_name", "pain_intensity"}
    assert not Appointment.objects.filter(status=Status.BOOKED).exists()


def test_review_can_go_back_to_the_form_with_every_answer(client, dr_chen, follow_up, alice, monday_morning):
    hold_tuesday_ten(client, follow_up)
    back = client.post(reverse("booking:details"), {**details_of(alice), "edit": "1"})
    assert back.status_code == 200
    assert "Lower back pain since moving house" in back.content.decode()
    assert back.context["intake_form"]["reason"].value() == "Lower back pain since moving house, and I sleep badly"


def test_health_answers_never_reach_a_url_or_the_session(client, dr_chen, follow_up, alice, monday_morning):
    hold_tuesday_ten(client, follow_up)
    review = client.post(reverse("booking:details"), details_of(alice))
    assert "no-store" in review["Cache-Control"]
    assert "Lower back" not in str(dict(client.session))  # kept for a lost time, but encrypted
    confirmed = confirm_booking(client, alice)
    assert "back" not in confirmed["Location"].lower()


def intake_post(patient, **changes) -> dict:
    return {key: value for key, value in details_of(patient, **changes).items() if key.startswith("intake-")}


def test_the_manage_page_asks_for_a_missing_intake_and_saves_it(client, alices_booking, alice):
    token = manage_token(alices_booking)
    assert "answer a few health questions" in client.get(reverse("booking:manage", args=[token])).content.decode()
    saved = client.post(reverse("booking:manage-intake", args=[token]), intake_post(alice))
    assert saved["Location"] == reverse("booking:manage", args=[token])
    intake = intake_current(alices_booking.patient)
    assert intake.answers["reason"].startswith("Lower back pain")
    assert "Update your health questions" in client.get(reverse("booking:manage", args=[token])).content.decode()


def test_updating_the_intake_starts_from_the_current_answers(client, alices_booking, alice):
    token = manage_token(alices_booking)
    client.post(reverse("booking:manage-intake", args=[token]), intake_post(alice))
    page = client.get(reverse("booking:manage-intake", args=[token]))
    assert "no-store" in page["Cache-Control"]
    form = page.context["intake_form"]
    assert form["pain_areas"].value() == ["lower_back"]
    assert form["pregnant"].value() == "no"
    refused = client.post(reverse("booking:manage-intake", args=[token]), intake_post(alice, consent_name="Bob"))
    assert refused.status_code == 400
    assert "Lower back pain since moving house" in refused.content.decode()


def test_a_review_from_another_window_does_not_book_a_different_time(client, dr_chen, follow_up, alice, monday_morning):
    hold_tuesday_ten(client, follow_up)
    client.post(reverse("booking:details"), details_of(alice))
    reviewed_hold = client.session["booking"]["hold"]
    two_pm = {"start": "2027-03-02T14:00:00-05:00"}
    client.post(reverse("booking:hold", args=["follow-up", "mei-chen"]), two_pm)  # the other window
    stale = client.post(reverse("booking:confirm"), {**details_of(alice), "hold": str(reviewed_hold)})
    assert stale["Location"] == reverse("booking:details")
    assert not Appointment.objects.filter(status=Status.BOOKED).exists()


def test_no_preference_books_the_practitioner_named_on_the_button(
    client, dr_chen, dr_okafor, follow_up, monday_morning
):
    page = client.get(reverse("booking:times", args=["follow-up", "any"])).content.decode()
    value = f"2027-03-02T15:00:00+00:00|{dr_okafor.pk}"
    assert f'value="{value}"' in page
    client.post(reverse("booking:hold", args=["follow-up", "any"]), {"start": value})
    assert Appointment.objects.get(status=Status.HELD).practitioner == dr_okafor


@pytest.mark.parametrize("week", ["2027-02-30", "0001-01-02", "9999-12-31", "soon"])
def test_odd_weeks_show_the_first_week_instead_of_failing(client, dr_chen, follow_up, monday_morning, week):
    response = client.get(reverse("booking:times", args=["follow-up", "mei-chen"]) + f"?week={week}")
    assert response.status_code == 200


@pytest.mark.parametrize("start", ["2027-02-30T10:00:00-05:00", "2027-03-02T10:00:00+99:00", "x" * 5000, "10:00|abc"])
def test_odd_times_are_refused_kindly(client, dr_chen, follow_up, monday_morning, start):
    response = client.post(reverse("booking:hold", args=["follow-up", "any"]), {"start": start})
    assert response.status_code == 400
    assert "Please choose one of the times" in response.content.decode()


def test_a_returning_patient_whose_name_is_spelled_differently_still_books(
    client, dr_chen, follow_up, alice, monday_morning
):
    appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 3, 10), patient=alice)
    alicia = type(alice)("Alicia", alice.last_name, alice.email, alice.phone, alice.date_of_birth)
    hold_tuesday_ten(client, follow_up)
    client.post(reverse("booking:details"), details_of(alicia))
    confirmed = confirm_booking(client, alicia)
    assert confirmed.status_code == 302
    booked = Appointment.objects.get(start=local(2027, 3, 2, 10), status=Status.BOOKED)
    assert booked.intakes.get().consent_name == "Alicia Moreau"


def test_a_stranger_with_a_patients_email_and_birth_date_cannot_read_or_change_their_record(
    client, dr_chen, follow_up, alice, monday_morning
):
    from patients.services import intake_submit

    real = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 3, 10), patient=alice)
    answers = details_of(alice)
    secret = {key.removeprefix("intake-"): value for key, value in answers.items() if key.startswith("intake-")}
    for name in ("consent_name", "privacy_read", "reminders_opt_in"):
        secret.pop(name)
    intake_submit(
        patient=real.patient,
        appointment=real,
        answers={**secret, "reason": "A private worry"},
        consent_name="Alice Moreau",
    )
    hold_tuesday_ten(client, follow_up)  # the stranger books with Alice's details and turns reminders off
    stranger = {**details_of(alice)}
    stranger.pop("intake-reminders_opt_in")
    client.post(reverse("booking:details"), stranger)
    held = client.session["booking"]["hold"]
    landed = client.post(reverse("booking:confirm"), {**stranger, "hold": str(held)})
    real.patient.refresh_from_db()
    assert real.patient.reminders_opt_in is True
    token = landed["Location"].split("/")[2]
    intake_page = client.get(reverse("booking:manage-intake", args=[token])).content.decode()
    assert "A private worry" not in intake_page


def test_manage_links_never_reach_the_logs(client, alices_booking, caplog):
    import logging

    from backend.logging import RedactManageLinks

    token = manage_token(alices_booking)
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (f"/manage/{token}/x",), None
    )
    RedactManageLinks().filter(record)
    assert token not in record.getMessage()
    assert record.getMessage() == "Not Found: /manage/…/x"


def test_moving_offers_the_times_next_to_the_current_one(client, alices_booking):
    page = client.get(reverse("booking:manage-reschedule", args=[manage_token(alices_booking)]))
    offered = [slot.start for _day, slots in page.context["week"].days for slot in slots]
    assert local(2027, 3, 2, 10, 30) in offered  # overlaps the current 10:00 visit, which will move out of the way


def test_one_client_cannot_hold_a_whole_day(dr_chen, follow_up, monday_morning):
    from django.test import Client

    times = ["2027-03-02T09:00:00-05:00", "2027-03-02T11:00:00-05:00", "2027-03-02T13:00:00-05:00"]
    for start in times:  # three windows (a family booking together) are fine
        response = Client().post(reverse("booking:hold", args=["follow-up", "mei-chen"]), {"start": start})
        assert response.status_code == 302
    fourth = Client().post(
        reverse("booking:hold", args=["follow-up", "mei-chen"]), {"start": "2027-03-02T15:00:00-05:00"}
    )
    assert fourth.status_code == 409
    assert "already holding several times" in fourth.content.decode()
    assert Appointment.objects.filter(status=Status.HELD).count() == 3


def test_an_abandoned_booking_forgets_its_details_within_hours(client, dr_chen, follow_up, alice, monday_morning):
    hold_tuesday_ten(client, follow_up)
    client.post(reverse("booking:details"), details_of(alice))
    assert client.session.get_expiry_age() <= 2 * 60 * 60


def test_the_pages_never_tell_whether_someone_has_been_before(client, dr_chen, downtown, alice, bob, monday_morning):
    from django.test import Client

    initial = ServiceFactory(slug="initial", name="Initial consultation", duration_minutes=90, new_patients_only=True)
    dr_chen.services.add(initial)
    appointment_book(service=initial, practitioner=dr_chen, start=local(2027, 3, 5, 10), patient=alice)

    def book_initial(patient, start: str):
        browser = Client()
        browser.post(reverse("booking:hold", args=["initial", "mei-chen"]), {"start": start})
        browser.post(reverse("booking:details"), details_of(patient))
        return confirm_booking(browser, patient)

    known = book_initial(alice, "2027-03-02T09:00:00-05:00")
    stranger = book_initial(bob, "2027-03-03T09:00:00-05:00")
    assert known.status_code == stranger.status_code == 302
    assert known["Location"].startswith("/manage/")
    assert stranger["Location"].startswith("/manage/")
    assert Appointment.objects.get(start=local(2027, 3, 2, 9)).review_reason  # the desk will call Alice
