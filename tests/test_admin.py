"""The admin managers use for clinic set-up: it loads, it refuses overlapping hours, it never writes appointments."""

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import inlineformset_factory

from scheduling.admin import WorkingHoursFormSet
from scheduling.models import Practitioner, WorkingHours
from tests.conftest import local
from tests.factories import StaffUserFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client):
    client.force_login(StaffUserFactory(username="manager@example.org", is_superuser=True))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/scheduling/clinic/",
        "/admin/scheduling/location/",
        "/admin/scheduling/service/",
        "/admin/scheduling/practitioner/",
        "/admin/scheduling/closure/",
        "/admin/scheduling/appointment/",
        "/admin/patients/patient/",
    ],
)
def test_the_admin_pages_load_for_a_manager(manager_client, dr_chen, url):
    assert manager_client.get(url).status_code == 200


def test_appointments_cannot_be_added_or_changed_in_the_admin(manager_client):
    assert manager_client.get("/admin/scheduling/appointment/add/").status_code == 403


def test_hours_that_overlap_saved_hours_are_refused(dr_chen, downtown):
    evening = WorkingHours(practitioner=dr_chen, location=downtown, weekday=0, start_time=time(16), end_time=time(20))
    with pytest.raises(ValidationError, match="overlap"):
        evening.full_clean()


def test_hours_on_other_days_or_in_other_seasons_are_fine(dr_chen, downtown):
    saturday = WorkingHours(practitioner=dr_chen, location=downtown, weekday=5, start_time=time(9), end_time=time(13))
    saturday.full_clean()
    WorkingHours.objects.filter(practitioner=dr_chen, weekday=0).update(valid_until=date(2027, 5, 31))
    summer = WorkingHours(
        practitioner=dr_chen,
        location=downtown,
        weekday=0,
        start_time=time(8),
        end_time=time(14),
        valid_from=date(2027, 6, 1),
    )
    summer.full_clean()


def test_a_shift_past_midnight_is_refused_with_a_message(dr_chen, downtown):
    late = WorkingHours(practitioner=dr_chen, location=downtown, weekday=6, start_time=time(20), end_time=time(2))
    with pytest.raises(ValidationError) as refused:
        late.full_clean()
    assert "past midnight" in str(refused.value)


def test_two_new_rows_that_overlap_each_other_are_refused(downtown):
    practitioner = Practitioner.objects.create(slug="new", name="New Practitioner")
    formset_class = inlineformset_factory(
        Practitioner,
        WorkingHours,
        formset=WorkingHoursFormSet,
        fields=["location", "weekday", "start_time", "end_time", "valid_from", "valid_until"],
        extra=2,
    )
    data = {
        "hours-TOTAL_FORMS": "2",
        "hours-INITIAL_FORMS": "0",
        "hours-MIN_NUM_FORMS": "0",
        "hours-MAX_NUM_FORMS": "1000",
    }
    for index, (start, end) in enumerate([("09:00", "13:00"), ("12:00", "17:00")]):
        data.update(
            {
                f"hours-{index}-location": str(downtown.pk),
                f"hours-{index}-weekday": "2",
                f"hours-{index}-start_time": start,
                f"hours-{index}-end_time": end,
            }
        )
    formset = formset_class(data, instance=practitioner, prefix="hours")
    assert not formset.is_valid()
    assert "overlap" in str(formset.non_form_errors())


def test_the_engine_lists_a_time_once_even_if_hours_overlap(api, dr_chen, downtown, follow_up, monday_morning):
    # Written straight to the table, as an old import might have: the engine still lists 10:00 once.
    WorkingHoursFactory(practitioner=dr_chen, location=downtown, weekday=1, start_time=time(9), end_time=time(12))
    slots = api.get(
        "/api/v1/availability/", {"service": follow_up.id, "start": "2027-03-02", "end": "2027-03-02"}
    ).json()["slots"]
    starts = [slot["start"] for slot in slots]
    assert len(starts) == len(set(starts))


def test_the_admin_reads_and_shows_times_in_the_clinics_zone(manager_client, dr_chen):
    response = manager_client.get(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/")
    assert response.status_code == 200
    data = {
        "slug": dr_chen.slug,
        "name": dr_chen.name,
        "credentials": dr_chen.credentials,
        "color": dr_chen.color,
        "active": "on",
        "services": [service.pk for service in dr_chen.services.all()],
        "display_order": "0",
        "hours-TOTAL_FORMS": "0",
        "hours-INITIAL_FORMS": "0",
        "time_off-TOTAL_FORMS": "1",
        "time_off-INITIAL_FORMS": "0",
        "time_off-0-start_0": "2027-03-02",
        "time_off-0-start_1": "09:00",
        "time_off-0-end_0": "2027-03-02",
        "time_off-0-end_1": "13:00",
        "time_off-0-reason": "Dentist",
    }
    saved = manager_client.post(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/", data)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    time_off = dr_chen.time_off.get()
    assert time_off.start == local(2027, 3, 2, 9)  # 09:00 in New York, stored as 14:00 UTC


def test_a_manager_filters_the_audit_log_by_user_patient_and_date(client, dr_chen, follow_up, alice, monday_morning):
    from backend.audit import Actor
    from scheduling.services import appointment_book, appointment_set_status

    desk = StaffUserFactory(username="desk@example.org", role="Front desk")
    visit = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    appointment_set_status(appointment=visit, status="arrived", actor=Actor("staff", desk))
    client.force_login(StaffUserFactory(username="boss@example.org", role="Manager"))

    def listed(**query) -> list[str]:
        response = client.get("/admin/backend/auditentry/", query)
        listed = response.context["cl"].result_list
        return sorted(entry.action for entry in listed if entry.action != "staff.login")  # the manager's own

    assert listed(actor__id__exact=desk.pk) == ["appointment.status"]
    assert listed(q="Moreau") == ["appointment.book", "appointment.status"]
    assert listed(at__year="2027", at__month="3", at__day="1") == ["appointment.book", "appointment.status"]
    assert listed(at__year="2027", at__month="3", at__day="2") == []
