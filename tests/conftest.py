"""Shared actors: the Downtown clinic in New York, Dr Chen who works weekdays 09:00-17:00, and Alice."""

from collections.abc import Iterator
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from notifications.channels import CHANNELS
from patients.services import PatientDetails
from scheduling.models import Clinic
from tests.factories import LocationFactory, PractitionerFactory, RoomFactory, ServiceFactory, weekly_hours
from tests.smtp_sink import SmtpSink

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = range(5)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: ZoneInfo = NEW_YORK) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """Rate limits have their own tests; elsewhere they would only make tests depend on each other."""
    settings.BOOKING_THROTTLE_RATE = None
    settings.MANAGE_THROTTLE_RATE = None


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    """Production serves hashed files collected at build time; tests have not run collectstatic."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _no_email_connection_from_another_test():
    """The email channel keeps its connection for the life of the process; each test starts without one."""
    CHANNELS["email"].close()
    yield
    CHANNELS["email"].close()


@pytest.fixture
def smtp_sink(settings) -> Iterator[SmtpSink]:
    """A real SMTP server on loopback (tests/smtp_sink.py), with Django's SMTP backend pointed at it."""
    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        yield sink


@pytest.fixture
def clinic(db) -> Clinic:
    clinic = Clinic.load()
    clinic.name = "Meridian Acupuncture"
    clinic.phone = "+1 555 010 0000"
    clinic.slot_step_minutes = 15
    clinic.min_notice_hours = 12
    clinic.horizon_days = 90
    clinic.late_cancel_hours = 24
    clinic.save()
    return clinic


@pytest.fixture
def downtown(clinic):
    location = LocationFactory(slug="downtown", name="Downtown", timezone="America/New_York")
    RoomFactory(location=location, slug="room-1", name="Room 1")
    RoomFactory(location=location, slug="room-2", name="Room 2")
    return location


@pytest.fixture
def follow_up(clinic):
    return ServiceFactory(slug="follow-up", name="Follow-up acupuncture", duration_minutes=60, buffer_minutes=15)


@pytest.fixture
def dr_chen(downtown, follow_up):
    practitioner = PractitionerFactory(slug="mei-chen", name="Mei Chen, L.Ac.", services=[follow_up])
    weekly_hours(practitioner, downtown, WEEKDAYS, time(9), time(17))
    return practitioner


@pytest.fixture
def dr_okafor(downtown, follow_up):
    practitioner = PractitionerFactory(slug="ada-okafor", name="Ada Okafor, L.Ac.", services=[follow_up])
    weekly_hours(practitioner, downtown, WEEKDAYS, time(9), time(17))
    return practitioner


@pytest.fixture
def alice() -> PatientDetails:
    return PatientDetails("Alice", "Moreau", "alice@example.org", "+1 555 010 0101", date(1988, 6, 2))


@pytest.fixture
def bob() -> PatientDetails:
    return PatientDetails("Bob", "Lindqvist", "bob@example.org", "+1 555 010 0102", date(1979, 11, 23))


@pytest.fixture
def monday_morning(time_machine):
    """The clock: Monday 2027-03-01, 08:00 in New York. Dr Chen's Tuesday is bookable, Monday is too soon."""
    time_machine.move_to(local(2027, 3, 1, 8), tick=False)
    return local(2027, 3, 1, 8)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_api(db) -> APIClient:
    from tests.factories import StaffUserFactory

    client = APIClient()
    client.force_authenticate(StaffUserFactory(username="frontdesk@example.org", role="Front desk"))
    return client
