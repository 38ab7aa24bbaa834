"""A front-desk morning in a real Chromium at a desk's width: Rosa signs in, books a phone patient, moves, checks
in and marks a no-show while Sam, at the second desk, watches the calendar change by itself; axe-core checks
every desk page."""

import re
from datetime import date, time, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Locator, Page, expect

from backend.api.permissions import FRONT_DESK
from notifications.models import Message
from patients.intake import FLAG_LABELS
from patients.services import PatientDetails, intake_submit
from scheduling.models import Appointment
from scheduling.services import appointment_book, appointment_set_status
from tests.browser.conftest import DESKTOP
from tests.conftest import WEEKDAYS, local
from tests.factories import PractitionerFactory, StaffUserFactory, TimeOffFactory, weekly_hours
from tests.test_intake import answers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = Appointment.Status
PASSWORD = "Acupoint-ledger-7319"
TUESDAY = "2027-03-02"
# The second desk's calendar asks for changes every 5 seconds; a slow machine gets three chances.
POLL_TIMEOUT_MS = 15_000


@pytest.fixture
def dana() -> PatientDetails:
    return PatientDetails("Dana", "Whitfield", "dana@example.org", "+1 555 010 0103", date(1995, 4, 12))


@pytest.fixture
def tuesday(time_machine, monday_morning, dr_chen, dr_okafor, follow_up, alice, bob, dana) -> SimpleNamespace:
    """Tuesday 2 March 2027, booked on Monday: Bob with Dr Okafor at 09:00, Alice (pregnant) with Dr Chen at 11:00,
    Dana with Dr Chen at 14:00. Then the clock runs from 10:30 in New York: Bob's visit started an hour and a half
    ago. The clock ticks, so the live server's thread and the browser's polling see time pass as usual."""

    def book(practitioner, hour, patient):
        return appointment_book(
            service=follow_up, practitioner=practitioner, start=local(2027, 3, 2, hour), patient=patient
        )

    day = SimpleNamespace(bobs=book(dr_okafor, 9, bob), alices=book(dr_chen, 11, alice), danas=book(dr_chen, 14, dana))
    intake_submit(patient=day.alices.patient, answers=answers(pregnant=True), consent_name="Alice Moreau")
    time_machine.move_to(local(2027, 3, 2, 10, 30), tick=True)
    return day


def front_desk_user(username: str):
    # get_or_create, not the migration's group: a transactional test's flush empties the table after each test.
    user = StaffUserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name=FRONT_DESK)[0])
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def rosa(tuesday):
    """At the front desk."""
    return front_desk_user("rosa@example.org")


@pytest.fixture
def sam(tuesday):
    """At the second desk, by the treatment rooms."""
    return front_desk_user("sam@example.org")


def sign_in(page: Page, user) -> None:
    """Through the staff sign-in page with a real password, after the clock is set (a session made before a jump
    to 2027 would have expired)."""
    page.goto("/staff/login/?next=/desk/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"{user.username} · Front desk")).to_be_visible()


@pytest.fixture
def rosas_desk(open_page, rosa) -> Page:
    page = open_page(DESKTOP)
    sign_in(page, rosa)
    return page


def column(page: Page, name: str) -> Locator:
    return page.locator("#calendar section.column").filter(has=page.get_by_role("heading", name=name))


def card(page: Page, patient: str, *, practitioner: str | None = None) -> Locator:
    """A patient's card on the calendar; with `practitioner`, only in that practitioner's column."""
    where = column(page, practitioner) if practitioner else page.locator("#calendar")
    return where.get_by_role("link", name=re.compile(patient))


def times(start: str, end: str) -> str:
    return f"{start}\N{EN DASH}{end}"


def open_calendar(page: Page, **params: str) -> None:
    query = "&".join(f"{key}={value}" for key, value in {"date": TUESDAY, **params}.items())
    page.goto(f"/desk/?{query}")
    expect(page.locator("#calendar")).to_be_visible()


def open_appointment(page: Page, patient: str) -> None:
    card(page, patient).click()
    expect(page.get_by_role("heading", level=1, name=re.compile(patient))).to_be_visible()


def field(page: Page, label: str) -> Locator:
    """A form field by the start of its label ("Email" is not the search box's "name, email, phone ...")."""
    return page.get_by_label(re.compile(f"^{re.escape(label)}"))


def fill_new_patient(page: Page, first_name: str, last_name: str) -> None:
    field(page, "First name").fill(first_name)
    field(page, "Last name").fill(last_name)
    field(page, "Email").fill(f"{first_name.lower()}@example.org")
    field(page, "Phone").fill("+1 555 010 0177")
    field(page, "Date of birth").fill("1990-01-05")


def told(page: Page) -> Locator:
    """What the page says after a change ("Checked in."), apart from the calendar's own "updated" notice."""
    return page.locator(".messages")


def assert_no_sideways_scrolling(page: Page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


# A front-desk morning ------------------------------------------------------------------------------------------


def test_a_front_desk_morning(open_page, rosa, sam, tuesday):
    rosas = open_page(DESKTOP)
    sign_in(rosas, rosa)
    sams = open_page(DESKTOP)
    sign_in(sams, sam)
    open_calendar(sams)
    sams.evaluate("window.stillTheSamePage = true")
    card(sams, "Alice Moreau").focus()  # Sam is about to open Alice's visit

    open_calendar(rosas)
    expect(rosas.get_by_role("heading", name="Mei Chen, L.Ac.")).to_be_visible()
    expect(rosas.get_by_role("heading", name="Ada Okafor, L.Ac.")).to_be_visible()
    alices_card = card(rosas, "Alice Moreau")
    expect(alices_card).to_be_visible()
    expect(alices_card).to_contain_text(times("11:00", "12:00"))
    expect(alices_card).to_contain_text(f"Safety: {FLAG_LABELS['pregnant']}")
    assert_no_sideways_scrolling(rosas)

    # Carmen phones: she is new, and would like this afternoon with Dr Chen.
    rosas.get_by_role("link", name="Book an appointment").click()
    fill_new_patient(rosas, "Carmen", "Ruiz")
    field(rosas, "Service").select_option(label="Follow-up acupuncture")
    field(rosas, "Practitioner").select_option(label="Mei Chen, L.Ac.")
    rosas.get_by_label("Date", exact=True).fill(TUESDAY)
    rosas.get_by_role("button", name="Show free times").click()
    expect(rosas.get_by_label("11:00")).to_have_count(0)  # Alice's
    rosas.get_by_label("16:00").check()
    rosas.get_by_role("button", name="Book", exact=True).click()
    expect(told(rosas)).to_contain_text("Booked Carmen Ruiz.")
    rosas.get_by_role("link", name="Back to the calendar").click()
    expect(card(rosas, "Carmen Ruiz", practitioner="Mei Chen, L.Ac.")).to_contain_text(times("16:00", "17:00"))

    # The second desk sees Carmen appear without reloading.
    expect(card(sams, "Carmen Ruiz")).to_be_visible(timeout=POLL_TIMEOUT_MS)
    expect(sams.get_by_role("status").filter(has_text="The calendar was updated.")).to_be_attached()

    # Dana calls to move her 14:00 to half past three, with whoever is free: Dr Okafor.
    open_appointment(rosas, "Dana Whitfield")
    field(rosas, "Practitioner").select_option(label="Ada Okafor, L.Ac.")
    rosas.get_by_label("Time").fill("15:30")
    rosas.get_by_role("button", name="Move").click()
    expect(told(rosas)).to_contain_text("Moved to Tue 2 Mar, 15:30 with Ada Okafor, L.Ac.")
    expect(card(rosas, "Dana Whitfield", practitioner="Ada Okafor, L.Ac.")).to_contain_text(times("15:30", "16:30"))
    expect(card(rosas, "Dana Whitfield", practitioner="Mei Chen, L.Ac.")).to_have_count(0)

    # Alice arrives for 11:00.
    open_appointment(rosas, "Alice Moreau")
    rosas.get_by_role("button", name="Check in").click()
    expect(told(rosas)).to_contain_text("Checked in.")
    expect(card(rosas, "Alice Moreau")).to_contain_text("Arrived")

    # Bob's 09:00 started an hour and a half ago and he never came.
    open_appointment(rosas, "Bob Lindqvist")
    rosas.get_by_role("button", name="No-show").click()
    expect(told(rosas)).to_contain_text("Marked as a no-show.")
    expect(card(rosas, "Bob Lindqvist")).to_contain_text("No Show")

    # Meanwhile, at the second desk, without a reload.
    expect(card(sams, "Alice Moreau")).to_contain_text("Arrived", timeout=POLL_TIMEOUT_MS)
    expect(card(sams, "Bob Lindqvist")).to_contain_text("No Show", timeout=POLL_TIMEOUT_MS)
    expect(card(sams, "Dana Whitfield", practitioner="Ada Okafor, L.Ac.")).to_be_visible(timeout=POLL_TIMEOUT_MS)
    assert sams.evaluate("window.stillTheSamePage") is True
    expect(card(sams, "Alice Moreau")).to_be_focused()  # the swap did not take Sam's place away

    statuses = {a.patient.first_name: a.status for a in Appointment.objects.select_related("patient")}
    assert statuses == {"Alice": Status.ARRIVED, "Bob": Status.NO_SHOW, "Carmen": Status.BOOKED, "Dana": Status.BOOKED}


def test_a_card_dragged_to_another_column_and_time_moves_the_appointment(rosas_desk: Page, tuesday):
    open_calendar(rosas_desk)
    target = column(rosas_desk, "Ada Okafor, L.Ac.").locator(".column-body")
    first_minute = int(rosas_desk.locator("#calendar").get_attribute("data-first"))
    row_height = rosas_desk.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize) * 1.5")
    rows_down = (13 * 60 - first_minute) // 15  # 13:00, in rows of 15 minutes

    card(rosas_desk, "Dana Whitfield").drag_to(target, target_position={"x": 40, "y": row_height * (rows_down + 0.5)})

    expect(told(rosas_desk)).to_contain_text("Moved to Tue 2 Mar, 13:00 with Ada Okafor, L.Ac.")
    tuesday.danas.refresh_from_db()
    assert (tuesday.danas.practitioner.name, tuesday.danas.start) == ("Ada Okafor, L.Ac.", local(2027, 3, 2, 13))


def test_a_quiet_week_is_left_alone_and_a_change_arrives_where_the_reader_left_it(rosas_desk: Page, tuesday):
    calendar_fetches = []
    rosas_desk.on("request", lambda request: "partial=1" in request.url and calendar_fetches.append(request.url))
    rosas_desk.goto(f"/desk/week/mei-chen/?date={TUESDAY}")
    calendar = rosas_desk.locator("#calendar")
    calendar.evaluate("element => { element.scrollLeft = element.scrollWidth; }")
    scrolled = calendar.evaluate("element => element.scrollLeft")
    assert scrolled > 0  # seven days at 1280 px scroll inside the calendar

    with rosas_desk.expect_request(re.compile("/desk/changes/"), timeout=POLL_TIMEOUT_MS):
        pass
    rosas_desk.wait_for_timeout(500)
    assert calendar_fetches == []  # the stamp matched: nothing is fetched, nothing announced
    expect(rosas_desk.locator("#poll-status")).to_have_text("")

    appointment_set_status(appointment=tuesday.alices, status=Status.ARRIVED)
    expect(card(rosas_desk, "Alice Moreau")).to_contain_text("Arrived", timeout=POLL_TIMEOUT_MS)
    assert calendar.evaluate("element => element.scrollLeft") == scrolled


def test_a_desk_left_open_past_its_idle_time_says_it_has_stopped_updating(rosas_desk: Page, time_machine, tuesday):
    open_calendar(rosas_desk)
    time_machine.shift(timedelta(minutes=31))  # the polls do not keep a session alive

    expect(rosas_desk.locator("#poll-status")).to_contain_text("You are signed out", timeout=POLL_TIMEOUT_MS)
    rosas_desk.reload()
    expect(rosas_desk.get_by_role("heading", name="Staff sign-in")).to_be_visible()


# Every desk page, checked by axe-core ------------------------------------------------------------------------


def test_the_day_by_practitioner_and_by_room_is_accessible(rosas_desk: Page, axe, dr_chen, tuesday):
    TimeOffFactory(practitioner=dr_chen, start=local(2027, 3, 2, 15), end=local(2027, 3, 2, 17), reason="Training")
    for by in ("practitioner", "room"):
        open_calendar(rosas_desk, by=by)
        expect(card(rosas_desk, "Alice Moreau")).to_be_visible()
        axe.assert_accessible(rosas_desk)
        assert_no_sideways_scrolling(rosas_desk)


def test_a_crowded_day_and_a_week_scroll_inside_the_calendar_not_the_page(
    rosas_desk: Page, downtown, follow_up, tuesday
):
    for number in range(6):
        extra = PractitionerFactory(name=f"Practitioner Number {number}, L.Ac.", services=[follow_up])
        weekly_hours(extra, downtown, WEEKDAYS, time(9), time(17))
    open_calendar(rosas_desk, step="5")
    expect(rosas_desk.get_by_role("heading", name="Practitioner Number 5, L.Ac.")).to_be_attached()
    assert_no_sideways_scrolling(rosas_desk)

    rosas_desk.goto(f"/desk/week/mei-chen/?date={TUESDAY}")
    expect(card(rosas_desk, "Alice Moreau")).to_be_visible()
    assert_no_sideways_scrolling(rosas_desk)


def test_the_week_and_the_day_sheet_are_accessible(rosas_desk: Page, axe, tuesday):
    rosas_desk.goto(f"/desk/week/mei-chen/?date={TUESDAY}")
    expect(card(rosas_desk, "Dana Whitfield")).to_be_visible()
    axe.assert_accessible(rosas_desk)

    rosas_desk.get_by_role("link", name="Day sheet for Tuesday 2 March").click()
    expect(rosas_desk.get_by_role("cell", name="Alice Moreau")).to_be_visible()
    axe.assert_accessible(rosas_desk)


def test_the_appointment_page_is_accessible(rosas_desk: Page, axe, tuesday):
    open_calendar(rosas_desk)
    open_appointment(rosas_desk, "Alice Moreau")
    axe.assert_accessible(rosas_desk)
    rosas_desk.get_by_label("Time").fill("")
    rosas_desk.get_by_role("button", name="Move").click()
    expect(rosas_desk.get_by_role("alert")).to_contain_text("Time")
    axe.assert_accessible(rosas_desk)


def test_the_booking_page_with_free_times_and_with_a_mistake_is_accessible(rosas_desk: Page, axe, tuesday):
    rosas_desk.goto("/desk/book/")
    axe.assert_accessible(rosas_desk)
    field(rosas_desk, "Service").select_option(label="Follow-up acupuncture")
    field(rosas_desk, "Practitioner").select_option(label="Ada Okafor, L.Ac.")
    rosas_desk.get_by_role("button", name="Show free times").click()
    expect(rosas_desk.get_by_label("13:00")).to_be_visible()
    axe.assert_accessible(rosas_desk)

    field(rosas_desk, "Email").fill("carmen-at-example.org")
    rosas_desk.get_by_role("button", name="Book", exact=True).click()
    expect(rosas_desk.get_by_role("alert")).to_be_visible()
    email = field(rosas_desk, "Email")
    expect(email).to_have_value("carmen-at-example.org")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("valid email", re.IGNORECASE))
    axe.assert_accessible(rosas_desk)


def test_booking_without_a_time_leads_to_the_free_times(rosas_desk: Page, axe, tuesday):
    rosas_desk.goto("/desk/book/")
    fill_new_patient(rosas_desk, "Carmen", "Ruiz")
    field(rosas_desk, "Service").select_option(label="Follow-up acupuncture")
    field(rosas_desk, "Practitioner").select_option(label="Ada Okafor, L.Ac.")
    rosas_desk.get_by_role("button", name="Show free times").click()
    rosas_desk.get_by_role("button", name="Book", exact=True).click()

    summary = rosas_desk.get_by_role("alert")
    expect(summary).to_contain_text("Choose one of the free times")
    summary.get_by_role("link").click()
    first_time = rosas_desk.get_by_role("group", name="Time").get_by_role("radio").first
    expect(first_time).to_be_focused()
    expect(rosas_desk.get_by_role("group", name="Time")).to_have_accessible_description(
        re.compile("Choose one of the free times")
    )
    expect(field(rosas_desk, "First name")).to_have_value("Carmen")
    axe.assert_accessible(rosas_desk)


def test_the_patient_search_and_a_patients_page_with_safety_flags_are_accessible(rosas_desk: Page, axe, tuesday):
    rosas_desk.goto("/desk/patients/?q=Moreau")
    expect(rosas_desk.get_by_role("link", name="Alice Moreau")).to_be_visible()
    axe.assert_accessible(rosas_desk)

    rosas_desk.get_by_label("Name, email, phone or date of birth").fill("Lindq")
    expect(rosas_desk.get_by_role("link", name="Bob Lindqvist")).to_be_visible()  # found as she types
    rosas_desk.get_by_label("Name, email, phone or date of birth").fill("Moreau")
    rosas_desk.get_by_role("link", name="Alice Moreau").click()
    expect(rosas_desk.get_by_text(f"Safety: {FLAG_LABELS['pregnant']}")).to_be_visible()
    axe.assert_accessible(rosas_desk)


def test_the_undelivered_messages_page_is_accessible_and_tries_again(rosas_desk: Page, axe, tuesday):
    Message.objects.filter(appointment=tuesday.alices, kind=Message.Kind.CONFIRMATION).update(
        status=Message.Status.FAILED, attempts=5, last_error="Gave up after 5 attempts: The mail server said 451."
    )
    rosas_desk.goto("/desk/")
    rosas_desk.get_by_role("link", name="Undelivered").click()
    expect(rosas_desk.get_by_role("cell", name="Alice Moreau", exact=True)).to_be_visible()
    axe.assert_accessible(rosas_desk)

    rosas_desk.get_by_role("button", name="Try again: the booking confirmation for Alice Moreau").click()
    expect(rosas_desk.get_by_role("status")).to_contain_text("It will be sent again within a minute.")
    expect(rosas_desk.get_by_text("Every message has been delivered or knowingly skipped.")).to_be_visible()
    axe.assert_accessible(rosas_desk)
