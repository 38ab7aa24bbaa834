"""A change to the schedule that would strand booked appointments is refused, listing them; otherwise it goes through.

Dr Chen works weekdays 09:00-17:00 at Downtown (New York). The clock is Monday 1 March 2027, 08:00 there, and
Alice has a follow-up with her on Tuesday 2 March at 10:00 in Room 1, unless a test says otherwise.
"""

from datetime import date, time, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from scheduling import schedule_changes
from scheduling.availability import Busy, WeeklyHours
from scheduling.clinic_file import ClinicFileError, clinic_file_load, clinic_file_parse
from scheduling.models import Appointment, Closure, Practitioner, Room, Service, TimeOff, WorkingHours
from tests.conftest import local
from tests.factories import PatientFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

Status = Appointment.Status
EXAMPLE = Path(__file__).resolve().parent / "clinic_files" / "design_example.yaml"
TUESDAY = 1


def booked(practitioner, service, start, *, room="room-1", status=Status.BOOKED, outside_hours=False) -> Appointment:
    """An appointment as the booking service leaves it (written directly: these tests are about the schedule)."""
    room = Room.objects.get(slug=room)
    return Appointment.objects.create(
        patient=PatientFactory(first_name="Alice", last_name="Moreau"),
        practitioner=practitioner,
        service=service,
        location=room.location,
        room=room,
        start=start,
        end=start + service.duration,
        blocked_until=start + service.duration + service.buffer,
        status=status,
        source=Appointment.Source.STAFF,
        outside_hours=outside_hours,
    )


@pytest.fixture
def alices_visit(dr_chen, follow_up, monday_morning) -> Appointment:
    return booked(dr_chen, follow_up, local(2027, 3, 2, 10))


def hours_of(practitioner, **changes: tuple[time, time]) -> list[WeeklyHours]:
    """The practitioner's saved hours with some weekdays' times replaced: hours_of(dr_chen, tuesday=(12, 17))."""
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    hours = [schedule_changes.weekly_hours_of(row) for row in practitioner.hours.all()]
    return [
        WeeklyHours(entry.location_id, entry.weekday, *changes[names[entry.weekday]])
        if names[entry.weekday] in changes
        else entry
        for entry in hours
    ]


# --- The questions, asked directly ------------------------------------------------------------------------------


def test_it_lists_an_appointment_that_new_hours_leave_out(dr_chen, alices_visit):
    assert schedule_changes.stranded_by_hours(dr_chen, hours_of(dr_chen, tuesday=(time(12), time(17)))) == [
        alices_visit
    ]
    assert schedule_changes.stranded_by_hours(dr_chen, hours_of(dr_chen, tuesday=(time(10), time(11)))) == []
    assert schedule_changes.stranded_by_hours(dr_chen, hours_of(dr_chen, tuesday=(time(10), time(10, 59)))) == [
        alices_visit
    ]


def test_it_lists_an_appointment_whose_day_loses_its_hours(dr_chen, alices_visit):
    without_tuesday = [entry for entry in hours_of(dr_chen) if entry.weekday != TUESDAY]

    assert schedule_changes.stranded_by_hours(dr_chen, without_tuesday) == [alices_visit]


def test_an_appointment_booked_outside_hours_on_purpose_never_blocks_an_hours_change(
    dr_chen, follow_up, monday_morning
):
    booked(dr_chen, follow_up, local(2027, 3, 2, 18), outside_hours=True)
    booked(dr_chen, follow_up, local(2027, 3, 2, 10), room="room-2", outside_hours=True)

    assert schedule_changes.stranded_by_hours(dr_chen, []) == []


def test_hours_are_read_in_local_time_across_the_spring_change(dr_chen, follow_up, monday_morning):
    # Clocks in New York spring forward on Sunday 14 March 2027; 09:00 on Monday the 15th is 13:00 UTC, not 14:00.
    monday_nine = booked(dr_chen, follow_up, local(2027, 3, 15, 9))

    assert schedule_changes.stranded_by_hours(dr_chen, hours_of(dr_chen)) == []
    assert schedule_changes.stranded_by_hours(dr_chen, hours_of(dr_chen, monday=(time(10), time(17)))) == [monday_nine]


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.NO_SHOW, Status.COMPLETED, Status.HELD])
def test_appointments_that_no_one_is_coming_to_never_block(dr_chen, downtown, follow_up, monday_morning, status):
    booked(dr_chen, follow_up, local(2027, 3, 2, 10), status=status)

    assert schedule_changes.stranded_by_hours(dr_chen, []) == []
    assert schedule_changes.stranded_by_closures(downtown, [date(2027, 3, 2)]) == []
    assert schedule_changes.stranded_by_practitioner_leaving(dr_chen) == []


def test_an_appointment_that_has_ended_never_blocks(dr_chen, downtown, follow_up, time_machine):
    booked(dr_chen, follow_up, local(2027, 3, 2, 10))
    time_machine.move_to(local(2027, 3, 2, 11), tick=False)

    assert schedule_changes.stranded_by_hours(dr_chen, []) == []
    assert schedule_changes.stranded_by_closures(downtown, [date(2027, 3, 2)]) == []


def test_an_appointment_under_way_still_counts(dr_chen, follow_up, time_machine):
    visit = booked(dr_chen, follow_up, local(2027, 3, 2, 10), status=Status.ARRIVED)
    time_machine.move_to(local(2027, 3, 2, 10, 30), tick=False)

    assert schedule_changes.stranded_by_practitioner_leaving(dr_chen) == [visit]


def test_time_off_strands_only_what_it_newly_covers(dr_chen, alices_visit):
    morning = Busy(local(2027, 3, 2, 8), local(2027, 3, 2, 10, 30))
    assert schedule_changes.stranded_by_time_off(dr_chen, [morning]) == [alices_visit]
    assert schedule_changes.stranded_by_time_off(dr_chen, [Busy(local(2027, 3, 2, 11), local(2027, 3, 2, 13))]) == []

    # Already off then (time off saved before this check existed): widening it does not newly strand her.
    TimeOff.objects.create(practitioner=dr_chen, start=local(2027, 3, 2, 9), end=local(2027, 3, 2, 12))
    assert schedule_changes.stranded_by_time_off(dr_chen, [Busy(local(2027, 3, 2, 9), local(2027, 3, 2, 17))]) == []


def test_a_closure_strands_the_appointments_of_that_local_day_at_that_location(downtown, alices_visit):
    assert schedule_changes.stranded_by_closures(downtown, [date(2027, 3, 2)]) == [alices_visit]
    assert schedule_changes.stranded_by_closures(downtown, [date(2027, 3, 1), date(2027, 3, 3)]) == []
    Closure.objects.create(location=downtown, date=date(2027, 3, 2))
    assert schedule_changes.stranded_by_closures(downtown, [date(2027, 3, 2)]) == []  # closed already


def test_rooms_services_and_practitioners_strand_their_own_appointments(dr_chen, follow_up, alices_visit):
    assert schedule_changes.stranded_by_rooms([alices_visit.room_id]) == [alices_visit]
    assert schedule_changes.stranded_by_rooms([Room.objects.get(slug="room-2").pk]) == []
    assert schedule_changes.stranded_by_service(follow_up) == [alices_visit]
    assert schedule_changes.stranded_by_services_withdrawn(dr_chen, {follow_up.pk}) == [alices_visit]
    assert schedule_changes.stranded_by_services_withdrawn(dr_chen, set()) == []
    assert schedule_changes.stranded_by_practitioner_leaving(dr_chen) == [alices_visit]


def test_it_describes_an_appointment_with_initials_only(alices_visit):
    assert schedule_changes.describe(alices_visit) == (
        "Tue 2 Mar 10:00 (America/New_York) · Follow-up acupuncture · Mei Chen, L.Ac. · patient initials A.M."
    )
    assert "Moreau" not in schedule_changes.describe(alices_visit)


def test_it_lists_twenty_then_says_how_many_more(alices_visit):
    lines = schedule_changes.listing([alices_visit] * 23)

    assert len(lines) == 21
    assert lines[-1] == "and 3 more"


# --- Through the admin -------------------------------------------------------------------------------------------


@pytest.fixture
def manager(client, monday_morning):
    client.force_login(StaffUserFactory(username="manager@example.org", is_superuser=True))
    return client


def practitioner_form(practitioner: Practitioner, hours: list[dict] | None = None, time_off: list[dict] | None = None):
    """The practitioner's change form as the admin would post it back; `hours` rows replace the saved ones."""
    if hours is None:
        hours = [
            {"id": row.pk, "weekday": row.weekday, "start_time": row.start_time, "end_time": row.end_time}
            for row in practitioner.hours.all()
        ]
    data = {
        "name": practitioner.name,
        "slug": practitioner.slug,
        "credentials": practitioner.credentials,
        "color": practitioner.color,
        "active": "on" if practitioner.active else "",
        "services": [service.pk for service in practitioner.services.all()],
        "display_order": "0",
        **formset("hours", hours, initial=practitioner.hours.count(), location=practitioner.hours.first().location_id),
        **formset("time_off", time_off or [], initial=0),
    }
    return {key: value for key, value in data.items() if value != ""}


def formset(prefix: str, rows: list[dict], initial: int, **shared) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for index, row in enumerate(rows):
        for name, value in {**shared, **row}.items():
            data[f"{prefix}-{index}-{name}"] = f"{value:%H:%M}" if isinstance(value, time) else value
    return data


def refusal(response) -> str:
    assert response.status_code == 200, "the change was saved"
    return " ".join(response.content.decode().split())


def test_the_admin_refuses_new_hours_that_strand_an_appointment_and_lists_it(manager, dr_chen, alices_visit):
    hours = practitioner_form(dr_chen)
    tuesday = next(key for key, value in hours.items() if key.endswith("-weekday") and value == TUESDAY)
    hours[tuesday.replace("weekday", "start_time")] = "12:00"

    page = refusal(manager.post(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/", hours))

    assert "These working hours would leave 1 booked appointment stranded" in page
    assert "Move or cancel these first from the desk" in page
    assert (
        "Tue 2 Mar 10:00 (America/New_York) · Follow-up acupuncture · Mei Chen, L.Ac. · patient initials A.M." in page
    )
    assert WorkingHours.objects.get(practitioner=dr_chen, weekday=TUESDAY).start_time == time(9)


def test_the_admin_saves_new_hours_when_nothing_is_booked(manager, dr_chen, monday_morning):
    hours = practitioner_form(dr_chen)
    tuesday = next(key for key, value in hours.items() if key.endswith("-weekday") and value == TUESDAY)
    hours[tuesday.replace("weekday", "start_time")] = "12:00"

    response = manager.post(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/", hours)

    assert response.status_code == 302
    assert WorkingHours.objects.get(practitioner=dr_chen, weekday=TUESDAY).start_time == time(12)


@pytest.mark.parametrize(("visit_at", "saved"), [(time(16), True), (time(9), False)])
def test_the_admin_judges_hours_moved_in_one_save_as_a_whole(
    manager, dr_chen, follow_up, monday_morning, visit_at, saved
):
    # Tuesday 09:00-17:00 is deleted and Tuesday 10:00-18:00 added in the same save: row by row, the deletion
    # alone would strand a 16:00 visit; as a set, only a 09:00 visit is left out.
    visit = booked(dr_chen, follow_up, local(2027, 3, 2, visit_at.hour))
    rows = [
        {"id": row.pk, "weekday": row.weekday, "start_time": row.start_time, "end_time": row.end_time}
        for row in dr_chen.hours.all()
    ]
    for row in rows:
        if row["weekday"] == TUESDAY:
            row["DELETE"] = "on"
    rows.append({"weekday": TUESDAY, "start_time": time(10), "end_time": time(18)})

    response = manager.post(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/", practitioner_form(dr_chen, rows))

    assert (response.status_code == 302) is saved
    assert WorkingHours.objects.filter(practitioner=dr_chen, weekday=TUESDAY, start_time=time(10)).exists() is saved
    if not saved:
        assert schedule_changes.describe(visit) in refusal(response)


@pytest.mark.parametrize(("visit_at", "saved"), [(time(17), True), (time(9), False)])
def test_the_admin_judges_a_day_moved_an_hour_later(manager, dr_chen, follow_up, monday_morning, visit_at, saved):
    booked(dr_chen, follow_up, local(2027, 3, 2, visit_at.hour))
    form = practitioner_form(dr_chen)
    tuesday = next(key for key, value in form.items() if key.endswith("-weekday") and value == TUESDAY)
    form |= {tuesday.replace("weekday", "start_time"): "10:00", tuesday.replace("weekday", "end_time"): "18:00"}

    response = manager.post(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/", form)

    assert (response.status_code == 302) is saved


def test_the_admin_moves_two_adjoining_shifts_in_one_save(manager, dr_chen, downtown, follow_up, monday_morning):
    # Saved row by row, 10:00-14:00 would clash with the old 13:00-17:00 that the same save moves away.
    WorkingHours.objects.filter(practitioner=dr_chen, weekday=TUESDAY).update(end_time=time(13))
    WorkingHours.objects.create(
        practitioner=dr_chen, location=downtown, weekday=TUESDAY, start_time=time(13), end_time=time(17)
    )
    booked(dr_chen, follow_up, local(2027, 3, 2, 16))
    rows = [
        {"id": row.pk, "weekday": row.weekday, "start_time": row.start_time, "end_time": row.end_time}
        for row in dr_chen.hours.all()
    ]
    morning, afternoon = (row for row in rows if row["weekday"] == TUESDAY)
    morning |= {"start_time": time(10), "end_time": time(14)}
    afternoon |= {"start_time": time(14), "end_time": time(18)}

    response = manager.post(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/", practitioner_form(dr_chen, rows))

    assert response.status_code == 302, refusal(response)
    assert sorted(dr_chen.hours.filter(weekday=TUESDAY).values_list("start_time", "end_time")) == [
        (time(10), time(14)),
        (time(14), time(18)),
    ]


def test_the_admin_still_refuses_a_shift_past_midnight(manager, dr_chen, monday_morning):
    form = practitioner_form(dr_chen)
    tuesday = next(key for key, value in form.items() if key.endswith("-weekday") and value == TUESDAY)
    form[tuesday.replace("weekday", "start_time")] = "18:00"

    assert "past midnight" in refusal(manager.post(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/", form))


def test_the_admin_refuses_time_off_over_an_appointment(manager, dr_chen, alices_visit):
    away = [{"start_0": "2027-03-02", "start_1": "09:00", "end_0": "2027-03-02", "end_1": "12:00", "reason": "Dentist"}]

    page = refusal(
        manager.post(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/", practitioner_form(dr_chen, None, away))
    )

    assert "This time off would leave 1 booked appointment stranded" in page
    assert schedule_changes.describe(alices_visit) in page
    assert not TimeOff.objects.exists()


def test_the_admin_refuses_widening_time_off_over_an_appointment(manager, dr_chen, alices_visit):
    away = TimeOff.objects.create(practitioner=dr_chen, start=local(2027, 3, 2, 7), end=local(2027, 3, 2, 9))
    widened = {"practitioner": dr_chen.pk, "start_0": "2027-03-02", "start_1": "07:00", "end_0": "2027-03-02"}

    page = refusal(manager.post(f"/admin/scheduling/timeoff/{away.pk}/change/", {**widened, "end_1": "12:00"}))
    assert schedule_changes.describe(alices_visit) in page

    kept = manager.post(f"/admin/scheduling/timeoff/{away.pk}/change/", {**widened, "end_1": "09:30"})
    assert kept.status_code == 302
    assert TimeOff.objects.get().end == local(2027, 3, 2, 9, 30)


def test_the_admin_refuses_a_closure_on_a_day_with_appointments(manager, downtown, alices_visit):
    page = refusal(manager.post("/admin/scheduling/closure/add/", {"location": downtown.pk, "date": "2027-03-02"}))

    assert "Closing Downtown on Tue 2 Mar 2027 would leave 1 booked appointment stranded" in page
    assert schedule_changes.describe(alices_visit) in page
    assert not Closure.objects.exists()


def test_the_admin_refuses_moving_a_closure_onto_a_day_with_appointments(manager, downtown, alices_visit):
    closure = Closure.objects.create(location=downtown, date=date(2027, 3, 3), reason="Staff training")

    refusal(
        manager.post(f"/admin/scheduling/closure/{closure.pk}/change/", {"location": downtown.pk, "date": "2027-03-02"})
    )
    kept = manager.post(
        f"/admin/scheduling/closure/{closure.pk}/change/", {"location": downtown.pk, "date": "2027-03-03"}
    )

    assert kept.status_code == 302
    assert Closure.objects.get().date == date(2027, 3, 3)


def test_the_admin_adds_a_closure_on_a_day_without_appointments(manager, downtown, alices_visit):
    response = manager.post("/admin/scheduling/closure/add/", {"location": downtown.pk, "date": "2027-03-03"})

    assert response.status_code == 302
    assert Closure.objects.get().date == date(2027, 3, 3)


def location_form(location, **room_changes: dict) -> dict:
    rooms = [
        {"id": room.pk, "name": room.name, "slug": room.slug, "active": "on", **room_changes.get(room.slug, {})}
        for room in location.rooms.order_by("name")
    ]
    data = {
        "name": location.name,
        "slug": location.slug,
        "timezone": location.timezone,
        "address": location.address,
        **formset("rooms", rooms, initial=len(rooms)),
    }
    return {key: value for key, value in data.items() if value != ""}


def test_the_admin_refuses_deactivating_a_room_with_appointments(manager, downtown, alices_visit):
    form = location_form(downtown, **{"room-1": {"active": ""}})

    page = refusal(manager.post(f"/admin/scheduling/location/{downtown.pk}/change/", form))

    assert "Retiring these rooms would leave 1 booked appointment stranded" in page
    assert schedule_changes.describe(alices_visit) in page
    assert Room.objects.get(slug="room-1").active


def test_the_admin_refuses_deleting_a_room_with_appointments(manager, downtown, alices_visit):
    # Appointments protect their room, past ones too, so Django itself refuses, naming the appointment.
    form = location_form(downtown, **{"room-1": {"DELETE": "on"}})

    page = refusal(manager.post(f"/admin/scheduling/location/{downtown.pk}/change/", form))

    assert "protected related objects: appointment Follow-up acupuncture with Mei Chen" in page
    assert Room.objects.filter(slug="room-1").exists()


def test_the_admin_deactivates_a_room_without_appointments(manager, downtown, alices_visit):
    response = manager.post(
        f"/admin/scheduling/location/{downtown.pk}/change/", location_form(downtown, **{"room-2": {"active": ""}})
    )

    assert response.status_code == 302
    assert not Room.objects.get(slug="room-2").active


def service_form(service: Service, **changes) -> dict:
    data = {
        "name": service.name,
        "slug": service.slug,
        "duration_minutes": service.duration_minutes,
        "buffer_minutes": service.buffer_minutes,
        "price": service.price,
        "bookable_online": "on",
        "active": "on",
        "display_order": "0",
        **changes,
    }
    return {key: value for key, value in data.items() if value != ""}


def test_the_admin_refuses_deactivating_a_booked_service(manager, follow_up, alices_visit):
    page = refusal(
        manager.post(f"/admin/scheduling/service/{follow_up.pk}/change/", service_form(follow_up, active=""))
    )

    assert "Deactivating Follow-up acupuncture would leave 1 booked appointment stranded" in page
    assert Service.objects.get(pk=follow_up.pk).active


def test_the_admin_deactivates_a_service_nobody_has_booked(manager, follow_up, dr_chen, monday_morning):
    response = manager.post(f"/admin/scheduling/service/{follow_up.pk}/change/", service_form(follow_up, active=""))

    assert response.status_code == 302
    assert not Service.objects.get(pk=follow_up.pk).active


def test_the_admin_refuses_deactivating_a_practitioner_with_appointments(manager, dr_chen, alices_visit):
    form = {**practitioner_form(dr_chen)}
    del form["active"]

    page = refusal(manager.post(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/", form))

    assert "Deactivating Mei Chen, L.Ac. would leave 1 booked appointment stranded" in page
    assert Practitioner.objects.get(pk=dr_chen.pk).active


def test_the_admin_refuses_taking_a_booked_service_off_a_practitioners_list(manager, dr_chen, alices_visit):
    cupping = Service.objects.create(slug="cupping", name="Cupping", duration_minutes=45, price="70.00")
    dr_chen.services.add(cupping)
    form = {**practitioner_form(dr_chen), "services": [cupping.pk]}

    page = refusal(manager.post(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/", form))
    assert schedule_changes.describe(alices_visit) in page

    form["services"] = [alices_visit.service_id]
    assert manager.post(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/", form).status_code == 302
    assert list(Practitioner.objects.get(pk=dr_chen.pk).services.all()) == [alices_visit.service]


# --- Through the clinic file ----------------------------------------------------------------------------------------


def example_with(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = EXAMPLE.read_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "clinic.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def loaded_example(clinic, monday_morning) -> Appointment:
    """The design example loaded, and Alice booked with Mei Chen on Tuesday 2 March at 10:00 (Mon/Tue/Thu 9-17)."""
    clinic_file_load(clinic_file_parse(EXAMPLE))
    mei = Practitioner.objects.get(slug="mei-chen")
    return booked(mei, Service.objects.get(slug="follow-up"), local(2027, 3, 2, 10))


def refused(path: Path) -> list[str]:
    before = (WorkingHours.objects.count(), TimeOff.objects.count(), Closure.objects.count())
    with pytest.raises(ClinicFileError) as error:
        clinic_file_load(clinic_file_parse(path))
    assert (WorkingHours.objects.count(), TimeOff.objects.count(), Closure.objects.count()) == before
    return [str(problem) for problem in error.value.problems]


def test_a_file_whose_hours_strand_an_appointment_is_refused_naming_the_line(tmp_path, loaded_example):
    path = example_with(tmp_path, ("days: [mon, tue, thu]", "days: [mon, thu]"))

    [problem] = refused(path)

    assert problem.startswith(f"{path}:21: practitioners[0].hours: these hours would leave out the booked appointment ")
    assert schedule_changes.describe(loaded_example) in problem
    assert problem.endswith("move or cancel it from the desk first")


def test_a_file_with_time_off_over_an_appointment_is_refused(tmp_path, loaded_example):
    extra = '      - {start: "2027-03-02T09:00", end: "2027-03-02T13:00", reason: Dentist}\n'
    path = example_with(tmp_path, ("closures:\n", extra + "closures:\n"))

    [problem] = refused(path)

    assert problem.startswith(f"{path}:26: practitioners[0].time_off[1]: this time off would fall on")


def test_a_file_closing_the_day_of_an_appointment_is_refused(tmp_path, loaded_example):
    path = example_with(tmp_path, ('date: "2027-01-01"', 'date: "2027-03-02"'))

    [problem] = refused(path)

    assert problem.startswith(f"{path}:27: closures[0]: the location would be closed on the day of")


def test_a_file_taking_a_booked_service_off_a_practitioner_is_refused(tmp_path, loaded_example):
    path = example_with(tmp_path, ("services: [initial, follow-up]", "services: [initial]"))

    [problem] = refused(path)

    assert problem.startswith(f"{path}:20: practitioners[0].services: a service taken off this list is booked for")


def test_a_file_that_moves_hours_around_an_appointment_loads(tmp_path, loaded_example):
    path = example_with(tmp_path, ('days: [mon, tue, thu], start: "09:00"', 'days: [mon, tue, thu], start: "10:00"'))

    clinic_file_load(clinic_file_parse(path))

    assert WorkingHours.objects.filter(weekday=TUESDAY, start_time=time(10)).exists()


def test_the_same_file_loads_again_over_booked_appointments(loaded_example):
    summary = clinic_file_load(clinic_file_parse(EXAMPLE))

    assert all(set(+counter) == {"unchanged"} for counter in summary.counts.values()), summary.lines()


def test_a_booking_made_between_checking_and_loading_is_caught(tmp_path, loaded_example):
    path = example_with(tmp_path, ('date: "2027-01-01"', 'date: "2027-03-04"'))
    parsed = clinic_file_parse(path)  # Thursday 4 March is free when the file is checked...
    mei = Practitioner.objects.get(slug="mei-chen")
    booked(mei, Service.objects.get(slug="follow-up"), local(2027, 3, 4, 10))  # ...and booked before it is written

    with pytest.raises(ClinicFileError, match="closures"):
        clinic_file_load(parsed)
    assert Closure.objects.get().date == date(2027, 1, 1)


def test_load_clinic_lists_what_it_would_strand_and_loads_nothing(tmp_path, loaded_example):
    path = example_with(tmp_path, ("days: [mon, tue, thu]", "days: [mon, thu]"))
    errors = StringIO()

    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("load_clinic", str(path), stderr=errors)

    assert schedule_changes.describe(loaded_example) in errors.getvalue()
    assert WorkingHours.objects.filter(weekday=TUESDAY).exists()


def test_many_stranded_appointments_are_listed_twenty_at_most(tmp_path, loaded_example):
    mei = Practitioner.objects.get(slug="mei-chen")
    follow_up = Service.objects.get(slug="follow-up")
    for week in range(1, 23):
        booked(mei, follow_up, local(2027, 3, 2, 10) + timedelta(weeks=week))
    path = example_with(tmp_path, ("days: [mon, tue, thu]", "days: [mon, thu]"))

    problems = refused(path)

    assert len(problems) == 21
    assert problems[-1].endswith("practitioners[0].hours: and 3 more booked appointments")
