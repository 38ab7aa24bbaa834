"""The appointment's .ics file: valid RFC 5545 a phone's calendar accepts, and nothing about health."""

from datetime import datetime

import icalendar
import pytest

from scheduling.models import Appointment
from scheduling.services import appointment_book, appointment_cancel, appointment_reschedule
from tests.conftest import NEW_YORK, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_visit(dr_chen, follow_up, alice, monday_morning) -> Appointment:
    return appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)


def download(api, appointment: Appointment, token: str | None = None):
    from scheduling.manage_tokens import manage_token

    return api.get(
        f"/api/v1/appointments/{appointment.pk}/calendar.ics",
        HTTP_X_MANAGE_TOKEN=token or manage_token(appointment),
        HTTP_ACCEPT="text/calendar",
    )


def event_of(response) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    return event


def test_it_downloads_a_calendar_file_with_zoned_times(api, alices_visit):
    response = download(api, alices_visit)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar"
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    event = event_of(response)
    start: datetime = event.decoded("dtstart")
    assert start == local(2027, 3, 2, 10)
    assert str(start.tzinfo) == "America/New_York"
    assert event["dtstart"].params["TZID"] == "America/New_York"
    assert event["summary"] == "Follow-up acupuncture with Mei Chen, L.Ac."
    assert event["status"] == "CONFIRMED"
    assert event["sequence"] == 1
    calendar = icalendar.Calendar.from_ical(response.content)
    assert [zone["tzid"] for zone in calendar.walk("VTIMEZONE")] == ["America/New_York"]


def test_the_uid_stays_and_the_sequence_rises_when_the_visit_moves(api, alices_visit):
    before = event_of(download(api, alices_visit))
    moved = appointment_reschedule(appointment=alices_visit, start=local(2027, 3, 3, 14), by_staff=True)
    after = event_of(download(api, moved))
    assert after["uid"] == before["uid"]
    assert after["sequence"] > before["sequence"]
    assert after.decoded("dtstart") == datetime(2027, 3, 3, 14, tzinfo=NEW_YORK)


def test_a_cancelled_visit_is_marked_cancelled(api, alices_visit):
    cancelled = appointment_cancel(appointment=alices_visit, by_staff=True)
    assert event_of(download(api, cancelled))["status"] == "CANCELLED"


def test_the_file_says_nothing_about_the_patient(api, alices_visit):
    text = download(api, alices_visit).content.decode()
    for private in ["Alice", "Moreau", "alice@example.org", "1988-06-02", "19880602", "555 010 0101"]:
        assert private not in text


def test_it_needs_the_appointments_own_token(api, alices_visit):
    response = download(api, alices_visit, token="forged")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
