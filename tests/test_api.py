"""The scheduling API as a client sees it: every endpoint, every error path, one error shape."""

import os
from datetime import time, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.manage_tokens import manage_token
from scheduling.models import Appointment, Closure
from tests.conftest import local
from tests.factories import PractitionerFactory, ServiceFactory, TimeOffFactory, weekly_hours

pytestmark = pytest.mark.django_db

TUESDAY_TEN = "2027-03-02T10:00:00-05:00"


def patient_json(details) -> dict:
    return {
        "first_name": details.first_name,
        "last_name": details.last_name,
        "email": details.email,
        "phone": details.phone,
        "date_of_birth": details.date_of_birth.isoformat(),
    }


def booking(service, practitioner, start, patient) -> dict:
    body = {"service": service.id, "start": start, "patient": patient_json(patient)}
    if practitioner is not None:
        body["practitioner"] = practitioner.id
    return body


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "detail", "fields"}
    assert body["error"] == code
    assert body["detail"]
    if field:
        assert field in body["fields"], body
    return body


def availability(api, **params):
    return api.get("/api/v1/availability/", params)


# Reading the clinic


def test_it_lists_services_bookable_online_to_patients_and_all_to_staff(api, staff_api, dr_chen, follow_up):
    ServiceFactory(slug="phone-only", bookable_online=False)
    ServiceFactory(slug="retired", active=False)
    public = api.get("/api/v1/services/").json()
    staff = staff_api.get("/api/v1/services/").json()
    assert [service["slug"] for service in public] == ["follow-up"]
    assert public[0]["practitioners"] == [dr_chen.id]
    assert public[0]["price"] == "85.00"
    assert {service["slug"] for service in staff} == {"follow-up", "phone-only"}


def test_it_lists_active_practitioners_without_private_fields(api, dr_chen, follow_up):
    PractitionerFactory(slug="gone", active=False)
    body = api.get("/api/v1/practitioners/").json()
    assert body == [
        {
            "id": dr_chen.id,
            "slug": "mei-chen",
            "name": "Mei Chen, L.Ac.",
            "credentials": "L.Ac.",
            "bio": "",
            "color": "#2f6f5e",
            "services": [follow_up.id],
        }
    ]


def test_it_lists_locations_with_their_zone_and_rooms(api, downtown):
    [location] = api.get("/api/v1/locations/").json()
    assert location["timezone"] == "America/New_York"
    assert [room["slug"] for room in location["rooms"]] == ["room-1", "room-2"]


# Availability


def test_it_offers_slots_in_the_requested_zone_with_offsets(api, dr_chen, follow_up, monday_morning):
    response = availability(api, service=follow_up.id, start="2027-03-02", end="2027-03-02")
    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "America/New_York"
    starts = [slot["start"] for slot in body["slots"]]
    assert starts[0] == "2027-03-02T09:00:00-05:00"
    assert starts[-1] == "2027-03-02T16:00:00-05:00"
    assert len(starts) == 29  # 09:00 to 16:00 on a 15-minute step
    assert body["slots"][0] == {
        "start": "2027-03-02T09:00:00-05:00",
        "end": "2027-03-02T10:00:00-05:00",
        "practitioner": dr_chen.id,
        "location": dr_chen.hours.first().location_id,
    }
    in_london = availability(api, service=follow_up.id, start="2027-03-02", end="2027-03-02", tz="Europe/London")
    assert in_london.json()["slots"][0]["start"] == "2027-03-02T14:00:00+00:00"


def test_it_reads_dates_in_the_requested_zone(api, dr_chen, follow_up, monday_morning):
    def sydney(day: str) -> list[str]:
        body = availability(api, service=follow_up.id, start=day, end=day, tz="Australia/Sydney").json()
        return [slot["start"] for slot in body["slots"]]

    # Tuesday in Sydney runs from Monday 08:00 to Tuesday 08:00 in New York: nothing bookable.
    assert sydney("2027-03-02") == []
    wednesday = sydney("2027-03-03")
    assert wednesday[0] == "2027-03-03T01:00:00+11:00"  # Tuesday 09:00 in New York
    assert all(start.startswith("2027-03-03") for start in wednesday)


def test_it_merges_practitioners_for_no_preference_and_filters_by_one(
    api, dr_chen, dr_okafor, follow_up, monday_morning
):
    merged = availability(api, service=follow_up.id, start="2027-03-02", end="2027-03-02").json()["slots"]
    only_okafor = availability(
        api, service=follow_up.id, practitioner=dr_okafor.id, start="2027-03-02", end="2027-03-02"
    ).json()["slots"]
    assert {slot["practitioner"] for slot in merged} == {dr_chen.id, dr_okafor.id}
    assert len(merged) == 2 * len(only_okafor)
    assert {slot["practitioner"] for slot in only_okafor} == {dr_okafor.id}


def test_it_hides_booked_time_and_its_buffer(api, dr_chen, follow_up, alice, monday_morning):
    api.post("/api/v1/appointments/", booking(follow_up, dr_chen, TUESDAY_TEN, alice), format="json")
    starts = [
        slot["start"][11:16]
        for slot in availability(api, service=follow_up.id, start="2027-03-02", end="2027-03-02").json()["slots"]
    ]
    assert "09:00" not in starts  # 09:00-10:00 and its 15-minute buffer would run into 10:00
    assert "10:00" not in starts
    assert "11:00" not in starts  # the buffer runs to 11:15
    assert "11:15" in starts


def test_it_keeps_availability_to_five_queries_whatever_the_range(api, dr_chen, dr_okafor, follow_up, monday_morning):
    from scheduling.selectors import bookable_slots

    for days in (1, 62):
        with CaptureQueriesContext(connection) as queries:
            bookable_slots(
                service=follow_up,
                start_date=monday_morning.date(),
                end_date=monday_morning.date() + timedelta(days=days - 1),
            )
        assert len(queries) <= 5, [query["sql"] for query in queries]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"service": None, "start": "2027-03-02", "end": "2027-03-02"}, "service"),
        ({"service": 999999, "start": "2027-03-02", "end": "2027-03-02"}, "service"),
        ({"service": "abc", "start": "2027-03-02", "end": "2027-03-02"}, "service"),
        ({"start": "02/03/2027", "end": "2027-03-02"}, "start"),
        ({"start": "2027-03-02", "end": "2027-02-30"}, "end"),
        ({"start": "2027-03-05", "end": "2027-03-02"}, "end"),
        ({"start": "2027-03-01", "end": "2027-05-02"}, "end"),
        ({"start": "2027-03-02", "end": "2027-03-02", "tz": "Mars/Olympus_Mons"}, "tz"),
        ({"start": "2027-03-02", "end": "2027-03-02", "tz": "../../etc/passwd"}, "tz"),
        ({"start": "2027-03-02", "end": "2027-03-02", "practitioner": 999999}, "practitioner"),
        ({"start": "2027-03-02", "end": "2027-03-02", "location": 999999}, "location"),
    ],
)
def test_it_rejects_bad_availability_queries_with_field_errors(api, dr_chen, follow_up, params, field):
    params = {key: value for key, value in {"service": follow_up.id, **params}.items() if value is not None}
    assert_error(availability(api, **params), 400, "validation_error", field)


def test_it_offers_phone_only_services_to_staff_only(api, staff_api, dr_chen, monday_morning):
    phone_only = ServiceFactory(slug="phone-only", bookable_online=False)
    dr_chen.services.add(phone_only)
    params = {"service": phone_only.id, "start": "2027-03-02", "end": "2027-03-02"}
    assert_error(availability(api, **params), 400, "validation_error", "service")
    assert availability(staff_api, **params).json()["slots"]


def test_it_accepts_exactly_sixty_two_days(api, dr_chen, follow_up, monday_morning):
    assert availability(api, service=follow_up.id, start="2027-03-01", end="2027-05-01").status_code == 200


# Booking


def test_it_books_a_slot_and_returns_the_appointment_with_a_manage_token(
    api, dr_chen, follow_up, alice, monday_morning
):
    response = api.post("/api/v1/appointments/", booking(follow_up, dr_chen, TUESDAY_TEN, alice), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "booked"
    assert body["start"] == "2027-03-02T10:00:00-05:00"
    assert body["end"] == "2027-03-02T11:00:00-05:00"
    assert (body["service"], body["practitioner"]) == (follow_up.id, dr_chen.id)
    assert body["manage_token"]
    appointment = Appointment.objects.get(pk=body["id"])
    assert appointment.source == "online"
    assert appointment.blocked_until == local(2027, 3, 2, 11, 15)
    assert appointment.patient.email == "alice@example.org"


def test_it_books_no_preference_with_whoever_is_free(api, dr_chen, dr_okafor, follow_up, alice, bob, monday_morning):
    first = api.post("/api/v1/appointments/", booking(follow_up, None, TUESDAY_TEN, alice), format="json")
    second = api.post("/api/v1/appointments/", booking(follow_up, None, TUESDAY_TEN, bob), format="json")
    assert first.status_code == second.status_code == 201
    assert {first.json()["practitioner"], second.json()["practitioner"]} == {dr_chen.id, dr_okafor.id}
    assert first.json()["room"] != second.json()["room"]


def test_it_recognises_a_returning_patient_by_email_and_birth_date(api, dr_chen, follow_up, alice, monday_morning):
    api.post("/api/v1/appointments/", booking(follow_up, dr_chen, TUESDAY_TEN, alice), format="json")
    shouting = booking(follow_up, dr_chen, "2027-03-03T10:00:00-05:00", alice)
    shouting["patient"]["email"] = "ALICE@example.org"
    shouting["patient"]["phone"] = "+1 555 999 9999"
    assert api.post("/api/v1/appointments/", shouting, format="json").status_code == 201
    patients = {appointment.patient for appointment in Appointment.objects.all()}
    assert len(patients) == 1
    assert patients.pop().phone == "+1 555 010 0101"  # an anonymous request never rewrites a record


def test_it_answers_409_when_the_slot_is_taken(api, dr_chen, follow_up, alice, bob, monday_morning):
    api.post("/api/v1/appointments/", booking(follow_up, dr_chen, TUESDAY_TEN, alice), format="json")
    overlapping = booking(follow_up, dr_chen, "2027-03-02T10:45:00-05:00", bob)
    assert_error(api.post("/api/v1/appointments/", overlapping, format="json"), 409, "slot_unavailable", "start")
    assert Appointment.objects.count() == 1


def test_it_answers_409_when_no_room_is_free(api, dr_chen, dr_okafor, follow_up, alice, bob, monday_morning):
    dr_chen.hours.first().location.rooms.filter(slug="room-2").update(active=False)
    api.post("/api/v1/appointments/", booking(follow_up, dr_chen, TUESDAY_TEN, alice), format="json")
    response = api.post("/api/v1/appointments/", booking(follow_up, dr_okafor, TUESDAY_TEN, bob), format="json")
    assert_error(response, 409, "slot_unavailable")


@pytest.mark.parametrize(
    ("start", "code"),
    [
        ("2027-02-26T10:00:00-05:00", "in_the_past"),
        ("2027-03-01T15:00:00-05:00", "too_soon"),  # 7 hours ahead; the clinic asks for 12
        ("2027-06-01T10:00:00-04:00", "beyond_horizon"),
        ("2027-03-02T07:00:00-05:00", "outside_working_hours"),
        ("2027-03-02T16:30:00-05:00", "outside_working_hours"),  # would end after 17:00
        ("2027-03-02T10:05:00-05:00", "outside_working_hours"),  # not on the 15-minute grid
        ("2027-03-06T10:00:00-05:00", "outside_working_hours"),  # Saturday
    ],
)
def test_it_refuses_times_that_break_the_rules(api, dr_chen, follow_up, alice, monday_morning, start, code):
    response = api.post("/api/v1/appointments/", booking(follow_up, dr_chen, start, alice), format="json")
    assert_error(response, 400, code, "start")
    assert not Appointment.objects.exists()


def test_it_refuses_time_off_and_closed_days(api, dr_chen, downtown, follow_up, alice, monday_morning):
    TimeOffFactory(practitioner=dr_chen, start=local(2027, 3, 2, 0), end=local(2027, 3, 3, 0))
    Closure.objects.create(location=downtown, date=local(2027, 3, 4).date(), reason="Inspection")
    away = api.post("/api/v1/appointments/", booking(follow_up, dr_chen, TUESDAY_TEN, alice), format="json")
    closed = api.post(
        "/api/v1/appointments/", booking(follow_up, dr_chen, "2027-03-04T10:00:00-05:00", alice), format="json"
    )
    assert_error(away, 400, "practitioner_time_off", "start")
    assert_error(closed, 400, "location_closed", "start")


def test_it_refuses_a_practitioner_who_does_not_offer_the_service(api, dr_chen, downtown, alice, monday_morning):
    cupping = ServiceFactory(slug="cupping")
    response = api.post("/api/v1/appointments/", booking(cupping, dr_chen, TUESDAY_TEN, alice), format="json")
    assert_error(response, 400, "not_offered", "practitioner")


def test_it_refuses_services_not_bookable_online_but_lets_staff_book_them(
    api, staff_api, dr_chen, downtown, alice, monday_morning
):
    phone_only = ServiceFactory(slug="phone-only", bookable_online=False)
    dr_chen.services.add(phone_only)
    refused = api.post("/api/v1/appointments/", booking(phone_only, dr_chen, TUESDAY_TEN, alice), format="json")
    assert_error(refused, 400, "service_not_bookable", "service")
    by_staff = staff_api.post("/api/v1/appointments/", booking(phone_only, dr_chen, TUESDAY_TEN, alice), format="json")
    assert by_staff.status_code == 201
    assert Appointment.objects.get().source == "staff"


def test_it_keeps_new_patient_services_for_new_patients_without_telling_strangers(
    api, staff_api, dr_chen, downtown, follow_up, alice, monday_morning
):
    initial = ServiceFactory(slug="initial", duration_minutes=90, new_patients_only=True)
    dr_chen.services.add(initial)
    first = api.post("/api/v1/appointments/", booking(initial, dr_chen, TUESDAY_TEN, alice), format="json")
    # Online, anyone who knows Alice's email and birth date could be asking: the answer must not reveal that she
    # has been treated here. The booking is made and flagged for the front desk.
    again = api.post(
        "/api/v1/appointments/", booking(initial, dr_chen, "2027-03-03T10:00:00-05:00", alice), format="json"
    )
    assert first.status_code == again.status_code == 201
    assert set(first.json()) == set(again.json())
    flagged = Appointment.objects.get(pk=again.json()["id"])
    assert flagged.review_reason == "A returning patient booked a treatment for new patients online."
    assert Appointment.objects.get(pk=first.json()["id"]).review_reason == ""
    # Staff know who they are talking to: they are told.
    by_staff = staff_api.post(
        "/api/v1/appointments/", booking(initial, dr_chen, "2027-03-04T10:00:00-05:00", alice), format="json"
    )
    assert_error(by_staff, 400, "new_patients_only", "service")


def test_it_lets_staff_book_inside_the_minimum_notice(staff_api, dr_chen, follow_up, alice, monday_morning):
    response = staff_api.post(
        "/api/v1/appointments/", booking(follow_up, dr_chen, "2027-03-01T10:00:00-05:00", alice), format="json"
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": "2027-03-02T10:00:00"}, "start"),  # no offset
        ({"start": "tomorrow at ten"}, "start"),
        ({"service": 999999}, "service"),
        ({"practitioner": 999999}, "practitioner"),
        ({"patient": None}, "patient"),
    ],
)
def test_it_rejects_malformed_bookings_with_field_errors(api, dr_chen, follow_up, alice, monday_morning, change, field):
    body = {**booking(follow_up, dr_chen, TUESDAY_TEN, alice), **change}
    assert_error(api.post("/api/v1/appointments/", body, format="json"), 400, "validation_error", field)


@pytest.mark.parametrize(
    ("patient_change", "field"),
    [
        ({"email": "not-an-email"}, "patient.email"),
        ({"first_name": ""}, "patient.first_name"),
        ({"phone": "call me"}, "patient.phone"),
        ({"date_of_birth": "2090-01-01"}, "patient.date_of_birth"),
        ({"date_of_birth": "01/02/1980"}, "patient.date_of_birth"),
    ],
)
def test_it_names_the_patient_field_at_fault(api, dr_chen, follow_up, alice, monday_morning, patient_change, field):
    body = booking(follow_up, dr_chen, TUESDAY_TEN, alice)
    body["patient"].update(patient_change)
    assert_error(api.post("/api/v1/appointments/", body, format="json"), 400, "validation_error", field)


def test_it_answers_malformed_json_in_the_same_shape(api, dr_chen):
    response = api.post("/api/v1/appointments/", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_it_throttles_anonymous_booking(api, settings, dr_chen, follow_up, alice, monday_morning):
    settings.BOOKING_THROTTLE_RATE = "2/hour"
    for _ in range(2):
        api.post("/api/v1/appointments/", {}, format="json")
    assert_error(api.post("/api/v1/appointments/", {}, format="json"), 429, "throttled")


# Managing an appointment


@pytest.fixture
def alices_booking(api, dr_chen, follow_up, alice, monday_morning) -> dict:
    response = api.post("/api/v1/appointments/", booking(follow_up, dr_chen, TUESDAY_TEN, alice), format="json")
    assert response.status_code == 201
    return response.json()


def with_token(token: str) -> dict:
    return {"HTTP_X_MANAGE_TOKEN": token}


def test_it_opens_an_appointment_with_its_manage_token(api, alices_booking):
    response = api.get(f"/api/v1/appointments/{alices_booking['id']}/", **with_token(alices_booking["manage_token"]))
    assert response.status_code == 200
    assert response.json()["start"] == "2027-03-02T10:00:00-05:00"
    assert "manage_token" not in response.json()


def test_it_needs_a_token_or_staff_to_open_an_appointment(api, staff_api, alices_booking):
    url = f"/api/v1/appointments/{alices_booking['id']}/"
    assert_error(api.get(url), 401, "not_authenticated")
    assert_error(api.get(url, **with_token("forged")), 404, "not_found")
    assert staff_api.get(url).status_code == 200


def test_it_never_opens_another_appointment_with_a_token(api, alices_booking, dr_chen, follow_up, bob):
    bobs = api.post(
        "/api/v1/appointments/", booking(follow_up, dr_chen, "2027-03-03T10:00:00-05:00", bob), format="json"
    ).json()
    response = api.get(f"/api/v1/appointments/{bobs['id']}/", **with_token(alices_booking["manage_token"]))
    assert_error(response, 404, "not_found")
    cancel = api.post(f"/api/v1/appointments/{bobs['id']}/cancel/", **with_token(alices_booking["manage_token"]))
    assert_error(cancel, 404, "not_found")
    assert Appointment.objects.get(pk=bobs["id"]).status == "booked"


def test_it_expires_the_token_after_the_appointment(api, alices_booking, time_machine):
    time_machine.move_to(local(2027, 3, 2, 11, 1), tick=False)
    response = api.get(f"/api/v1/appointments/{alices_booking['id']}/", **with_token(alices_booking["manage_token"]))
    assert_error(response, 404, "not_found")


def test_it_refuses_a_token_whose_key_was_changed(api, alices_booking):
    appointment = Appointment.objects.get(pk=alices_booking["id"])
    appointment.manage_key = "rotated"
    appointment.save()
    response = api.get(f"/api/v1/appointments/{appointment.pk}/", **with_token(alices_booking["manage_token"]))
    assert_error(response, 404, "not_found")
    appointment.refresh_from_db()
    assert (
        api.get(f"/api/v1/appointments/{appointment.pk}/", **with_token(manage_token(appointment))).status_code == 200
    )


def test_a_patient_cancels_outside_the_late_window_and_frees_the_slot(api, alices_booking, follow_up, dr_chen):
    url = f"/api/v1/appointments/{alices_booking['id']}/cancel/"
    response = api.post(url, {"reason": "Feeling better"}, format="json", **with_token(alices_booking["manage_token"]))
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    appointment = Appointment.objects.get(pk=alices_booking["id"])
    assert (appointment.cancellation_reason, appointment.late_cancellation) == ("Feeling better", False)
    slots = availability(api, service=follow_up.id, start="2027-03-02", end="2027-03-02").json()["slots"]
    assert "2027-03-02T10:00:00-05:00" in [slot["start"] for slot in slots]
    again = api.post(url, format="json", **with_token(alices_booking["manage_token"]))
    assert_error(again, 409, "not_cancellable")


def test_a_patient_cannot_cancel_inside_the_late_window_but_staff_can(api, staff_api, alices_booking, time_machine):
    time_machine.move_to(local(2027, 3, 1, 12), tick=False)  # 22 hours before; the window is 24
    url = f"/api/v1/appointments/{alices_booking['id']}/cancel/"
    body = assert_error(
        api.post(url, format="json", **with_token(alices_booking["manage_token"])), 409, "late_change_not_allowed"
    )
    assert "+1 555 010 0000" in body["detail"]
    assert staff_api.post(url, {"reason": "Called in sick"}, format="json").status_code == 200
    assert Appointment.objects.get(pk=alices_booking["id"]).late_cancellation is True


def test_a_patient_reschedules_and_the_old_time_is_freed(api, alices_booking, follow_up, bob, dr_chen):
    url = f"/api/v1/appointments/{alices_booking['id']}/reschedule/"
    moved = api.post(
        url, {"start": "2027-03-03T14:00:00-05:00"}, format="json", **with_token(alices_booking["manage_token"])
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["start"] == "2027-03-03T14:00:00-05:00"
    assert Appointment.objects.get(pk=alices_booking["id"]).version == 2
    taken_back = api.post("/api/v1/appointments/", booking(follow_up, dr_chen, TUESDAY_TEN, bob), format="json")
    assert taken_back.status_code == 201


def test_a_failed_reschedule_keeps_the_old_time(api, alices_booking, follow_up, dr_chen, bob):
    api.post("/api/v1/appointments/", booking(follow_up, dr_chen, "2027-03-03T10:00:00-05:00", bob), format="json")
    url = f"/api/v1/appointments/{alices_booking['id']}/reschedule/"
    clash = api.post(
        url, {"start": "2027-03-03T10:30:00-05:00"}, format="json", **with_token(alices_booking["manage_token"])
    )
    assert_error(clash, 409, "slot_unavailable")
    outside = api.post(
        url, {"start": "2027-03-03T20:00:00-05:00"}, format="json", **with_token(alices_booking["manage_token"])
    )
    assert_error(outside, 400, "outside_working_hours")
    appointment = Appointment.objects.get(pk=alices_booking["id"])
    assert (appointment.start, appointment.status, appointment.version) == (local(2027, 3, 2, 10), "booked", 1)


def test_a_reschedule_can_move_within_its_own_buffer(api, alices_booking):
    url = f"/api/v1/appointments/{alices_booking['id']}/reschedule/"
    moved = api.post(
        url, {"start": "2027-03-02T10:30:00-05:00"}, format="json", **with_token(alices_booking["manage_token"])
    )
    assert moved.status_code == 200, moved.content


def test_a_patient_cannot_reschedule_inside_the_late_window(api, alices_booking, time_machine):
    time_machine.move_to(local(2027, 3, 1, 12), tick=False)
    url = f"/api/v1/appointments/{alices_booking['id']}/reschedule/"
    response = api.post(
        url, {"start": "2027-03-04T10:00:00-05:00"}, format="json", **with_token(alices_booking["manage_token"])
    )
    assert_error(response, 409, "late_change_not_allowed")


def test_it_rejects_a_malformed_reschedule(api, alices_booking):
    url = f"/api/v1/appointments/{alices_booking['id']}/reschedule/"
    response = api.post(url, {"start": "soon"}, format="json", **with_token(alices_booking["manage_token"]))
    assert_error(response, 400, "validation_error", "start")


def test_it_answers_unknown_appointments_with_404(staff_api):
    assert_error(staff_api.get("/api/v1/appointments/999999/"), 404, "not_found")


def test_it_refuses_wrong_methods_in_the_same_shape(api, dr_chen):
    assert_error(api.delete("/api/v1/services/"), 405, "method_not_allowed")


# Documentation


def test_it_publishes_an_openapi_schema_and_docs(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/availability/", "/api/v1/appointments/", "/api/v1/appointments/{id}/reschedule/"} <= set(paths)
    assert api.get("/api/docs/").status_code == 200


def test_the_schema_generates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


def test_it_uses_a_weekly_schedule_with_an_evening_and_a_saturday(api, downtown, follow_up, monday_morning):
    evening = PractitionerFactory(slug="evening", services=[follow_up])
    weekly_hours(evening, downtown, [1], time(16), time(21))
    weekly_hours(evening, downtown, [5], time(9), time(13))
    body = availability(api, service=follow_up.id, start="2027-03-01", end="2027-03-07").json()
    days = {slot["start"][:10] for slot in body["slots"]}
    assert days == {"2027-03-02", "2027-03-06"}
    assert body["slots"][-1]["start"] == "2027-03-06T12:00:00-05:00"


def test_staff_open_an_appointment_with_an_api_token(api, alices_booking):
    from rest_framework.authtoken.models import Token

    from tests.factories import StaffUserFactory

    token = Token.objects.create(user=StaffUserFactory(username="manager@example.org", role="Manager"))
    response = api.get(f"/api/v1/appointments/{alices_booking['id']}/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert_error(
        api.get(f"/api/v1/appointments/{alices_booking['id']}/", HTTP_AUTHORIZATION="Token not-a-real-key"),
        401,
        "authentication_failed",
    )


def test_a_signed_in_non_staff_user_is_no_staff(api, alices_booking):
    from django.contrib.auth import get_user_model

    api.force_authenticate(get_user_model().objects.create(username="someone@example.org"))
    assert_error(api.get(f"/api/v1/appointments/{alices_booking['id']}/"), 403, "permission_denied")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/appointments/abc/",
        "/api/v1/nothing-here/",
    ],
)
def test_it_answers_unknown_api_urls_in_the_error_shape(api, url):
    assert_error(api.get(url), 404, "not_found")


@pytest.mark.parametrize(
    "start",
    [
        "2027-02-30T10:00:00-05:00",  # no such day
        "2027-03-02T10:00:00+99:00",  # no such offset
        "9999-12-31T23:00:00+00:00",  # past the end of the calendar arithmetic
        "0001-01-01T00:00:00+00:00",
    ],
)
def test_it_refuses_impossible_times_with_a_field_error_not_a_500(api, dr_chen, follow_up, alice, start):
    response = api.post("/api/v1/appointments/", booking(follow_up, dr_chen, start, alice), format="json")
    assert_error(response, 400, "validation_error", "start")


@pytest.mark.parametrize(("start", "end"), [("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-01")])
def test_it_refuses_dates_at_the_edges_of_the_calendar(api, dr_chen, follow_up, start, end):
    assert_error(availability(api, service=follow_up.id, start=start, end=end), 400, "validation_error", "start")


def test_it_refuses_a_start_with_fractions_of_a_second(api, dr_chen, follow_up, alice, monday_morning):
    response = api.post(
        "/api/v1/appointments/", booking(follow_up, dr_chen, "2027-03-02T10:00:00.500-05:00", alice), format="json"
    )
    assert_error(response, 400, "outside_working_hours", "start")


def test_it_counts_clients_by_address_not_by_a_forged_forwarded_header(
    api, settings, dr_chen, follow_up, alice, monday_morning
):
    settings.BOOKING_THROTTLE_RATE = "2/hour"
    for n in range(2):
        api.post("/api/v1/appointments/", {}, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    forged = api.post("/api/v1/appointments/", {}, format="json", HTTP_X_FORWARDED_FOR="10.0.0.99")
    assert_error(forged, 429, "throttled")


def test_it_answers_a_time_that_breaks_a_rule_the_same_whoever_asks(api, dr_chen, downtown, alice, bob, monday_morning):
    initial = ServiceFactory(slug="initial", duration_minutes=90, new_patients_only=True)
    dr_chen.services.add(initial)
    assert (
        api.post("/api/v1/appointments/", booking(initial, dr_chen, TUESDAY_TEN, alice), format="json").status_code
        == 201
    )
    off_grid = "2027-03-04T10:05:00-05:00"
    known = api.post("/api/v1/appointments/", booking(initial, dr_chen, off_grid, alice), format="json")
    stranger = api.post("/api/v1/appointments/", booking(initial, dr_chen, off_grid, bob), format="json")
    assert known.json() == stranger.json()
    assert known.json()["error"] == "outside_working_hours"


def test_staff_book_outside_hours_through_the_api_only_when_they_say_so(
    api, staff_api, dr_chen, follow_up, alice, monday_morning
):
    evening = booking(follow_up, dr_chen, "2027-03-02T18:00:00-05:00", alice)
    assert_error(staff_api.post("/api/v1/appointments/", evening, format="json"), 400, "outside_working_hours", "start")
    assert_error(
        api.post("/api/v1/appointments/", {**evening, "outside_hours": True}, format="json"),
        400,
        "invalid",
        "outside_hours",
    )
    created = staff_api.post("/api/v1/appointments/", {**evening, "outside_hours": True}, format="json")
    assert created.status_code == 201
    assert Appointment.objects.get(pk=created.json()["id"]).outside_hours
