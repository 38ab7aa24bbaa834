"""load_demo: a clinic to try Meridian with, safe to run again, and never run on a production database."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from backend.api.permissions import FRONT_DESK, MANAGER, PRACTITIONER, role_of
from patients.models import Patient
from scheduling.management.commands.load_demo import DEMO_PASSWORD, PAST_VISITS, PATIENTS, UPCOMING
from scheduling.models import Appointment, Location, Practitioner, WorkingHours

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK)  # a Tuesday


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


@pytest.fixture
def tuesday_morning(time_machine):
    time_machine.move_to(NOW, tick=False)


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = (get_user_model(), Patient, Appointment, Location, Practitioner, WorkingHours)
    return {model.__name__: model.objects.count() for model in models}


def test_it_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        load_demo()

    assert not Location.objects.exists()
    assert not get_user_model().objects.exists()


def test_it_runs_with_debug_off_when_forced(settings, tuesday_morning):
    settings.DEBUG = False

    load_demo("--force")

    assert Location.objects.filter(slug="park-slope").exists()


def test_it_creates_staff_logins_with_the_demo_password(debug_on, tuesday_morning):
    out = load_demo()

    users = get_user_model().objects
    manager, front_desk = users.get(username="manager@example.org"), users.get(username="frontdesk@example.org")
    assert (manager.is_superuser, manager.is_staff) == (True, True)
    assert (front_desk.is_superuser, front_desk.is_staff) == (False, True)
    practitioner_logins = [practitioner.user for practitioner in Practitioner.objects.all()]
    assert len(practitioner_logins) == 3
    for user in [manager, front_desk, *practitioner_logins]:
        assert user.check_password(DEMO_PASSWORD), user.username
        assert f"{user.username:<32}{DEMO_PASSWORD}" in out
    # Each demo login has its role, so the intake API and later the front desk show them the right things.
    assert role_of(front_desk) == FRONT_DESK
    assert {role_of(user) for user in practitioner_logins} == {PRACTITIONER}
    assert role_of(manager) == MANAGER


def test_the_roles_migration_creates_the_three_groups(db):
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    Group.objects.all().delete()  # a transactional test before this one may have flushed them
    importlib.import_module("backend.migrations.0002_roles").create_roles(apps, None)
    assert set(Group.objects.values_list("name", flat=True)) == {MANAGER, PRACTITIONER, FRONT_DESK}


def test_it_keeps_a_password_someone_chose(debug_on, tuesday_morning):
    get_user_model().objects.create_superuser("manager@example.org", "manager@example.org", "chosen-by-the-owner")

    out = load_demo()

    assert get_user_model().objects.get(username="manager@example.org").check_password("chosen-by-the-owner")
    assert "manager@example.org             (its own, left unchanged)" in out


def test_it_books_the_coming_days_in_working_hours(debug_on, tuesday_morning):
    load_demo()

    assert Patient.objects.count() == len(PATIENTS)
    upcoming = Appointment.objects.filter(status=Appointment.Status.BOOKED)
    assert upcoming.count() == len(UPCOMING)
    for appointment in upcoming:
        assert NOW < appointment.start < NOW + timedelta(days=11)
        start, end = appointment.start.astimezone(NEW_YORK), appointment.end.astimezone(NEW_YORK)
        assert appointment.practitioner.hours.filter(
            weekday=start.weekday(), start_time__lte=start.time(), end_time__gte=end.time()
        ).exists(), appointment
    assert len({appointment.start.astimezone(NEW_YORK).date() for appointment in upcoming}) >= 5


def test_it_adds_completed_visits_in_the_past(debug_on, tuesday_morning):
    load_demo()

    past = Appointment.objects.filter(status=Appointment.Status.COMPLETED)
    assert past.count() == len(PAST_VISITS)
    assert all(NOW - timedelta(days=15) < appointment.start < NOW for appointment in past)
    assert all(appointment.blocked_until == appointment.end + appointment.service.buffer for appointment in past)


def test_it_creates_no_duplicates_when_run_again(debug_on, tuesday_morning):
    load_demo()
    before = counts()

    out = load_demo()

    assert counts() == before
    assert "Appointments added: 0 in the next 10 days, 0 completed in the past" in out


def test_it_books_again_once_the_demo_week_is_over(debug_on, time_machine):
    time_machine.move_to(NOW, tick=False)
    load_demo()
    time_machine.move_to(NOW + timedelta(days=30), tick=False)

    load_demo()

    # New patients of the first week are returning patients now, so their initial consultations are skipped.
    assert Appointment.objects.filter(start__gt=NOW + timedelta(days=30)).count() > 0
