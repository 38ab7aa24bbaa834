"""A patient on a phone books, races another patient, cancels and moves, in a real Chromium; axe checks each page."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from patients.intake import SAFETY_QUESTIONS
from patients.services import intake_current
from scheduling.manage_tokens import manage_token
from scheduling.models import Appointment
from scheduling.services import appointment_book
from tests.conftest import local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = Appointment.Status


def choose_time(page: Page, label: str) -> None:
    page.get_by_role("button", name=re.compile(label)).first.click()


def fill_details(page: Page, patient) -> None:
    page.get_by_label("First name").fill(patient.first_name)
    page.get_by_label("Last name").fill(patient.last_name)
    page.get_by_label("Email", exact=True).fill(patient.email)
    page.get_by_label("Phone", exact=True).fill(patient.phone)
    page.get_by_label("Date of birth").fill(patient.date_of_birth.isoformat())


def fill_intake(page: Page, patient) -> None:
    page.get_by_label("What brings you in?").fill("Tension headaches most afternoons")
    page.get_by_role("group", name="Where does it hurt?").get_by_label("Head").check()
    page.get_by_label("How strong is the pain").fill("5")
    page.get_by_role("group", name="How long has it lasted?").get_by_label("3 to 12 months").check()
    for question in SAFETY_QUESTIONS:
        page.get_by_role("group", name=question.label).get_by_label("No").check()
    page.get_by_role("group", name="Have you had acupuncture before?").get_by_label("Yes").check()
    page.get_by_label("Emergency contact: name").fill("Sam Moreau")
    page.get_by_label("Emergency contact: phone").fill("+1 555 010 0150")
    page.get_by_label("Type your full name to consent to treatment").fill(f"{patient.first_name} {patient.last_name}")
    page.get_by_label("I have read the privacy notice").check()


def test_a_new_patient_books_on_a_phone_and_every_page_is_accessible(
    page: Page, axe, dr_chen, follow_up, alice, monday_morning
):
    page.goto("/book/follow-up/any/")
    axe.assert_accessible(page)  # "no preference": each time names its practitioner
    page.goto("/book/")
    axe.assert_accessible(page)
    page.get_by_role("link", name="Follow-up acupuncture").click()
    axe.assert_accessible(page)
    page.get_by_role("link", name="Mei Chen, L.Ac.").click()
    expect(page.get_by_role("heading", name="Choose a time")).to_be_visible()
    expect(page.get_by_text("America/New_York")).to_be_visible()
    axe.assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    choose_time(page, "Tuesday 2 March at 10:00")
    expect(page.get_by_role("heading", name="About you")).to_be_visible()
    axe.assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # the long form fits a phone too
    fill_details(page, alice)
    fill_intake(page, alice)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Review and confirm")).to_be_visible()
    axe.assert_accessible(page)
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_text("Your appointment is booked")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Add to my calendar"))).to_be_visible()
    axe.assert_accessible(page)
    booked = Appointment.objects.get(status=Status.BOOKED)
    assert (booked.start, booked.patient.email) == (local(2027, 3, 2, 10), alice.email)
    assert intake_current(booked.patient).answers["pain_areas"] == ["head"]


def test_mistakes_are_shown_next_to_their_fields_and_nothing_typed_is_lost(
    page: Page, axe, dr_chen, follow_up, alice, monday_morning
):
    page.goto("/book/follow-up/mei-chen/")
    choose_time(page, "Tuesday 2 March at 10:00")
    fill_details(page, alice)
    fill_intake(page, alice)
    page.get_by_label("Email", exact=True).fill("alice-at-example.org")
    page.get_by_label("How strong is the pain").fill("12")
    page.get_by_role("button", name="Continue").click()

    email = page.get_by_label("Email", exact=True)
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("email address", re.IGNORECASE))
    expect(page.get_by_label("First name")).to_have_value("Alice")
    expect(page.get_by_label("What brings you in?")).to_have_value("Tension headaches most afternoons")
    expect(page.get_by_role("group", name="Where does it hurt?").get_by_label("Head")).to_be_checked()
    expect(page.get_by_label("How strong is the pain")).to_have_attribute("aria-invalid", "true")
    axe.assert_accessible(page)


def test_two_patients_race_for_one_time_and_the_loser_is_offered_others(
    open_page, dr_chen, follow_up, alice, bob, monday_morning
):
    first, second = open_page(), open_page()
    for browser_page in (first, second):
        browser_page.goto("/book/follow-up/mei-chen/")
    choose_time(first, "Tuesday 2 March at 10:00")
    expect(first.get_by_role("heading", name="About you")).to_be_visible()

    choose_time(second, "Tuesday 2 March at 10:00")
    expect(second.get_by_role("alert")).to_contain_text("someone has just taken that time")
    expect(second.get_by_role("button", name=re.compile("Tuesday 2 March at 11:15"))).to_be_visible()
    assert Appointment.objects.filter(status=Status.HELD).count() == 1


def test_a_hold_that_ran_out_while_someone_else_booked_sends_the_patient_back_kindly(
    page: Page, dr_chen, follow_up, alice, bob, monday_morning, time_machine
):
    page.goto("/book/follow-up/mei-chen/")
    choose_time(page, "Tuesday 2 March at 10:00")
    fill_details(page, alice)
    fill_intake(page, alice)
    page.get_by_role("button", name="Continue").click()
    time_machine.move_to(monday_morning + timedelta(minutes=30), tick=False)
    appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=bob)
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_text("that time was taken while you were filling in the form")).to_be_visible()
    choose_time(page, "Tuesday 2 March at 14:00")
    expect(page.get_by_label("Email", exact=True)).to_have_value(alice.email)
    expect(page.get_by_label("What brings you in?")).to_have_value("Tension headaches most afternoons")
    expect(page.get_by_label("I have read the privacy notice")).to_be_checked()


@pytest.fixture
def alices_booking(dr_chen, follow_up, alice, monday_morning) -> Appointment:
    return appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)


def test_a_patient_cancels_outside_the_window(page: Page, axe, alices_booking):
    page.goto(f"/manage/{manage_token(alices_booking)}/")
    axe.assert_accessible(page)
    page.get_by_role("link", name="answer a few health questions").click()
    expect(page.get_by_role("heading", name="Your health questions")).to_be_visible()
    axe.assert_accessible(page)
    page.go_back()
    page.get_by_role("link", name="Cancel this appointment").click()
    axe.assert_accessible(page)
    page.get_by_label("Reason for cancelling (optional)").fill("Travelling")
    page.get_by_role("button", name="Yes, cancel my appointment").click()
    expect(page.get_by_text("Your appointment is cancelled.")).to_be_visible()
    alices_booking.refresh_from_db()
    assert alices_booking.status == Status.CANCELLED


def test_inside_the_window_the_page_gives_the_clinics_phone_instead(page: Page, alices_booking, time_machine):
    time_machine.move_to(local(2027, 3, 1, 15), tick=False)
    page.goto(f"/manage/{manage_token(alices_booking)}/")
    expect(page.get_by_role("link", name="Cancel this appointment")).to_have_count(0)
    expect(page.get_by_role("link", name="+1 555 010 0000").first).to_be_visible()


def test_a_patient_moves_the_appointment(page: Page, axe, alices_booking):
    page.goto(f"/manage/{manage_token(alices_booking)}/")
    page.get_by_role("link", name="Choose another time").click()
    axe.assert_accessible(page)
    choose_time(page, "Wednesday 3 March at 14:00")
    expect(page.get_by_text("Your appointment has been moved.")).to_be_visible()
    alices_booking.refresh_from_db()
    assert alices_booking.start == local(2027, 3, 3, 14)


def test_a_patient_abroad_sees_the_clinics_times_and_their_own(
    browser, axe, live_server, dr_chen, follow_up, monday_morning
):
    context = browser.new_context(
        base_url=live_server.url, timezone_id="Europe/London", viewport={"width": 360, "height": 740}
    )
    try:
        page = context.new_page()
        page.goto("/book/follow-up/mei-chen/")
        expect(page.get_by_text("Your device is set to Europe/London")).to_be_visible()
        ten = page.get_by_role("button", name=re.compile("Tuesday 2 March at 10:00"))
        expect(ten).to_contain_text("15:00 your time")
        axe.assert_accessible(page)
    finally:
        context.close()


def test_a_returning_patient_books_a_follow_up_without_a_second_record(
    page: Page, dr_chen, follow_up, alice, monday_morning
):
    first = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    page.goto("/book/follow-up/mei-chen/?week=2027-03-08")
    choose_time(page, "Monday 8 March at 10:00")
    fill_details(page, alice)
    fill_intake(page, alice)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_text("Your appointment is booked")).to_be_visible()
    second = Appointment.objects.exclude(pk=first.pk).get(status=Status.BOOKED)
    assert second.patient_id == first.patient_id


def test_a_hold_that_ran_out_still_books_while_the_time_is_free(
    page: Page, dr_chen, follow_up, alice, monday_morning, time_machine
):
    page.goto("/book/follow-up/mei-chen/")
    choose_time(page, "Tuesday 2 March at 10:00")
    fill_details(page, alice)
    fill_intake(page, alice)
    page.get_by_role("button", name="Continue").click()
    time_machine.move_to(monday_morning + timedelta(minutes=30), tick=False)  # the 7-minute hold is long gone
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_text("Your appointment is booked")).to_be_visible()
    assert Appointment.objects.get(status=Status.BOOKED).start == local(2027, 3, 2, 10)
