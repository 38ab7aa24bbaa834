"""A practitioner's private calendar feed: valid RFC 5545, initials and treatment only, revocable."""

import icalendar
import pytest
from django.urls import reverse

from scheduling.models import Appointment
from scheduling.services import (
    appointment_book,
    appointment_cancel,
    appointment_hold,
    appointment_reschedule,
    practitioner_feed_renew,
    practitioner_feed_revoke,
)
from tests.conftest import local
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def events(client, key: str) -> dict[str, icalendar.Event]:
    response = client.get(reverse("booking:practitioner-feed", args=[key]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def alices_visit(dr_chen, follow_up, alice, monday_morning) -> Appointment:
    return appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)


def test_the_feed_shows_initials_and_the_treatment_in_the_clinics_zone(client, dr_chen, alices_visit):
    key = practitioner_feed_renew(practitioner=dr_chen)
    [event] = events(client, key).values()
    assert event["summary"] == "A.M. · Follow-up acupuncture"
    assert event.decoded("dtstart") == local(2027, 3, 2, 10)
    assert event["dtstart"].params["TZID"] == "America/New_York"
    text = client.get(reverse("booking:practitioner-feed", args=[key])).content.decode()
    for private in ["Alice", "Moreau", "alice@example.org", "+1 555 010 0101"]:
        assert private not in text


def test_a_moved_visit_keeps_its_uid_with_a_higher_sequence_and_a_cancelled_one_is_marked(
    client, dr_chen, follow_up, bob, alices_visit
):
    key = practitioner_feed_renew(practitioner=dr_chen)
    uid = next(iter(events(client, key)))
    appointment_reschedule(appointment=alices_visit, start=local(2027, 3, 3, 14), by_staff=True)
    moved = events(client, key)[uid]
    assert moved["sequence"] == 2
    assert moved.decoded("dtstart") == local(2027, 3, 3, 14)
    bobs = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 4, 10), patient=bob)
    appointment_cancel(appointment=bobs, by_staff=True)
    statuses = {str(event["summary"]): str(event["status"]) for event in events(client, key).values()}
    assert statuses == {"A.M. · Follow-up acupuncture": "CONFIRMED", "B.L. · Follow-up acupuncture": "CANCELLED"}


def test_holds_and_other_practitioners_visits_stay_out(client, dr_chen, dr_okafor, follow_up, bob, alices_visit):
    appointment_hold(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 14))
    appointment_book(service=follow_up, practitioner=dr_okafor, start=local(2027, 3, 2, 10), patient=bob)
    key = practitioner_feed_renew(practitioner=dr_chen)
    assert len(events(client, key)) == 1


def test_a_renewed_or_revoked_address_stops_working(client, dr_chen, alices_visit):
    old = practitioner_feed_renew(practitioner=dr_chen)
    new = practitioner_feed_renew(practitioner=dr_chen)
    assert client.get(reverse("booking:practitioner-feed", args=[old])).status_code == 404
    assert len(events(client, new)) == 1
    practitioner_feed_revoke(practitioner=dr_chen)
    assert client.get(reverse("booking:practitioner-feed", args=[new])).status_code == 404


def test_a_manager_renews_the_address_from_the_admin(client, dr_chen):
    client.force_login(StaffUserFactory(username="manager@example.org", is_superuser=True))
    response = client.post(
        "/admin/scheduling/practitioner/",
        {"action": "renew_calendar_feed", "_selected_action": [dr_chen.pk]},
        follow=True,
    )
    dr_chen.refresh_from_db()
    assert dr_chen.calendar_feed_key
    assert f"/feeds/{dr_chen.calendar_feed_key}.ics" in response.content.decode()


def test_feed_addresses_never_reach_the_logs(dr_chen):
    import logging

    from backend.logging import RedactManageLinks

    key = practitioner_feed_renew(practitioner=dr_chen)
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (f"/feeds/{key}.ics",), None
    )
    RedactManageLinks().filter(record)
    assert record.getMessage() == "Not Found: /feeds/…"
