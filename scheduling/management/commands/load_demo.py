"""`python manage.py load_demo`: the demo clinic, staff logins, patients and a booked week (`make run` calls it).

Safe to run again: the clinic file is loaded idempotently, existing logins keep their passwords, patients are
found before they are created, and appointments are only added when the demo patients have none in that
part of the calendar. It refuses a database with DEBUG off, because every demo login shares one published
password.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.api.permissions import FRONT_DESK, PRACTITIONER
from backend.errors import ServiceError
from education.services import DEMO_ARTICLES, articles_import_files
from patients.models import Patient
from patients.services import PatientDetails, patient_find_or_create
from scheduling.clinic_file import ClinicFileError, clinic_file_load, clinic_file_parse
from scheduling.models import Appointment, Location, Practitioner, Room, Service
from scheduling.selectors import bookable_slots
from scheduling.services import appointment_book

DEMO_PASSWORD = "meridian-demo"  # noqa: S105 - published on purpose; DEBUG-only databases
CLINIC_FILE = Path(__file__).resolve().parents[2] / "demo" / "clinic.yaml"
LOCATION = "park-slope"
UPCOMING_DAYS = 10


@dataclass(frozen=True)
class StaffLogin:
    role: str
    email: str
    superuser: bool = False


STAFF = [
    StaffLogin("Manager", "manager@example.org", superuser=True),
    StaffLogin("Front desk", "frontdesk@example.org"),
]

PATIENTS = [
    PatientDetails("Hannah", "Whitfield", "hannah.whitfield@example.org", "+1 718 555 0101", date(1986, 4, 12)),
    PatientDetails("Marcus", "Bell", "marcus.bell@example.org", "+1 718 555 0102", date(1979, 9, 30)),
    PatientDetails("Yuki", "Tanaka", "yuki.tanaka@example.org", "+1 718 555 0103", date(1992, 1, 18)),
    PatientDetails("Rosa", "Delgado", "rosa.delgado@example.org", "+1 718 555 0104", date(1971, 6, 5)),
    PatientDetails("Tomi", "Adeyemi", "tomi.adeyemi@example.org", "+1 718 555 0105", date(1995, 11, 22)),
    PatientDetails("Grace", "Kowalski", "grace.kowalski@example.org", "+1 718 555 0106", date(1988, 3, 14)),
    PatientDetails("Omar", "Haddad", "omar.haddad@example.org", "+1 718 555 0107", date(1965, 12, 2)),
    PatientDetails("Lena", "Fischer", "lena.fischer@example.org", "+1 718 555 0108", date(1990, 8, 9)),
    PatientDetails("Ravi", "Menon", "ravi.menon@example.org", "+1 718 555 0109", date(1983, 2, 27)),
    PatientDetails("Nora", "Quinn", "nora.quinn@example.org", "+1 718 555 0110", date(1999, 7, 16)),
    PatientDetails("Diego", "Alvarez", "diego.alvarez@example.org", "+1 718 555 0111", date(1976, 10, 3)),
    PatientDetails("Ruth", "Abernathy", "ruth.abernathy@example.org", "+1 718 555 0112", date(1958, 5, 21)),
]

# (patient's first name, service, practitioner). The first three came before; the rest are new patients.
PAST_VISITS = [
    ("Hannah", "initial", "mei-chen"),
    ("Marcus", "initial", "daniel-okafor"),
    ("Yuki", "initial", "priya-raman"),
]
UPCOMING = [
    ("Hannah", "follow-up", "mei-chen"),
    ("Marcus", "follow-up", "daniel-okafor"),
    ("Yuki", "cupping", "priya-raman"),
    ("Rosa", "initial", "mei-chen"),
    ("Tomi", "initial", "daniel-okafor"),
    ("Grace", "initial", "priya-raman"),
    ("Omar", "initial", "mei-chen"),
    ("Lena", "initial", "daniel-okafor"),
    ("Ravi", "initial", "priya-raman"),
    ("Nora", "initial", "daniel-okafor"),
    ("Diego", "initial", "priya-raman"),
    ("Ruth", "fertility", "mei-chen"),
    ("Hannah", "express", "mei-chen"),
    ("Marcus", "cupping", "daniel-okafor"),
    ("Yuki", "follow-up", "priya-raman"),
]


class Command(BaseCommand):
    help = "Load the demo clinic with staff logins, patients and appointments (development databases only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (a throwaway database, never production)"
        )

    def handle(self, *args: object, force: bool, **options: object) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "load_demo creates logins that share a published password, so it only runs with DEBUG on. "
                "On a throwaway database, add --force."
            )
        try:
            parsed = clinic_file_parse(CLINIC_FILE)
        except ClinicFileError as error:
            raise CommandError(f"The demo clinic file is broken:\n{error}") from None
        summary = clinic_file_load(parsed)
        self.stdout.write(self.style.SUCCESS("Demo clinic loaded: " + "; ".join(summary.lines())))
        library = articles_import_files([DEMO_ARTICLES])
        added = sum(result.outcome == "created" for result in library)
        self.stdout.write(f"Demo library: {len(library)} articles at /learn/ ({added} new).")
        self._print_logins(demo_logins_ensure([practitioner.slug for practitioner in parsed.spec.practitioners]))
        patients = {details.first_name: patient_find_or_create(details) for details in PATIENTS}
        now = timezone.now()
        past = demo_past_visits_create(patients, now)
        upcoming = demo_appointments_book(patients, now)
        self.stdout.write(
            f"Demo patients: {len(patients)}. Appointments added: {upcoming} in the next {UPCOMING_DAYS} days, "
            f"{past} completed in the past (none are added while the demo patients already have some)."
        )

    def _print_logins(self, logins: list[tuple[str, str, bool]]) -> None:
        self.stdout.write(f"\nDemo staff logins (password: {DEMO_PASSWORD}): the desk at /desk/, the admin at /admin/")
        self.stdout.write(f"  {'Role':<14}{'Email':<32}Password")
        for role, email, has_demo_password in logins:
            password = DEMO_PASSWORD if has_demo_password else "(its own, left unchanged)"
            self.stdout.write(f"  {role:<14}{email:<32}{password}")
        self.stdout.write("")


def demo_logins_ensure(practitioner_slugs: list[str]) -> list[tuple[str, str, bool]]:
    """(role, email, uses the demo password) for the manager, the front desk and the demo practitioners."""
    logins = [(login.role, login.email, _demo_login(login.email, superuser=login.superuser)) for login in STAFF]
    _join(get_user_model().objects.get(username="frontdesk@example.org"), FRONT_DESK)
    demo_practitioners = Practitioner.objects.filter(slug__in=practitioner_slugs, user__isnull=False)
    for practitioner in demo_practitioners.select_related("user").order_by("display_order"):
        _join(practitioner.user, PRACTITIONER)
        logins.append(("Practitioner", practitioner.user.username, _demo_password_unless_set(practitioner.user)))
    return logins


def _join(user: AbstractBaseUser, role: str) -> None:
    user.groups.add(Group.objects.get_or_create(name=role)[0])


def _demo_login(email: str, *, superuser: bool) -> bool:
    user_model = get_user_model()
    user = user_model.objects.filter(username=email).first()
    if user is None:
        user = user_model(username=email, email=email, is_staff=True, is_superuser=superuser)
    return _demo_password_unless_set(user)


def _demo_password_unless_set(user: AbstractBaseUser) -> bool:
    """Give the demo password to a login that has none; a password someone chose is never overwritten."""
    if user.pk is not None and user.has_usable_password():
        return user.check_password(DEMO_PASSWORD)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return True


def demo_past_visits_create(patients: dict[str, Patient], now: datetime) -> int:
    """Completed first visits in the last two weeks, so the demo has patient histories."""
    if Appointment.objects.filter(patient__in=patients.values(), start__lt=now).exists():
        return 0
    location = Location.objects.get(slug=LOCATION)
    rooms = list(location.rooms.filter(active=True))
    created = 0
    for index, (first_name, service_slug, practitioner_slug) in enumerate(PAST_VISITS):
        practitioner = Practitioner.objects.get(slug=practitioner_slug)
        start = _last_shift_start(practitioner, location, now)
        if start is not None:
            service = Service.objects.get(slug=service_slug)
            created += _completed_visit(patients[first_name], practitioner, service, rooms[index % len(rooms)], start)
    return created


def _last_shift_start(practitioner: Practitioner, location: Location, now: datetime) -> datetime | None:
    """An hour into the practitioner's most recent past working day at `location`."""
    today = now.astimezone(location.zone).date()
    for days_ago in range(1, 15):
        day = today - timedelta(days=days_ago)
        hours = practitioner.hours.filter(location=location, weekday=day.weekday()).order_by("start_time").first()
        if hours is not None:
            return datetime.combine(day, hours.start_time, tzinfo=location.zone) + timedelta(hours=1)
    return None


def _completed_visit(
    patient: Patient, practitioner: Practitioner, service: Service, room: Room, start: datetime
) -> bool:
    # The one write that bypasses appointment_book: the booking service rightly refuses times in the
    # past, and a demo needs a history. The exclusion constraints still forbid any overlap.
    end = start + service.duration
    try:
        with transaction.atomic():
            Appointment.objects.create(
                patient=patient,
                practitioner=practitioner,
                service=service,
                location=room.location,
                room=room,
                start=start,
                end=end,
                blocked_until=end + service.buffer,
                status=Appointment.Status.COMPLETED,
                source=Appointment.Source.STAFF,
            )
    except IntegrityError:
        return False
    return True


def demo_appointments_book(patients: dict[str, Patient], now: datetime) -> int:
    """Book UPCOMING through the booking service, spread over the coming days at times really free."""
    upcoming = Appointment.objects.filter(
        patient__in=patients.values(), start__gte=now, status__in=Appointment.ACTIVE_STATUSES
    )
    if upcoming.exists():
        return 0
    week = _DemoWeek.starting_after(now, Location.objects.get(slug=LOCATION).zone)
    booked = 0
    for index, (first_name, service_slug, practitioner_slug) in enumerate(UPCOMING):
        service = Service.objects.get(slug=service_slug)
        practitioner = Practitioner.objects.get(slug=practitioner_slug)
        patient = patients[first_name]
        source = Appointment.Source.STAFF if index % 3 == 0 else Appointment.Source.ONLINE
        for start in week.candidate_starts(service, practitioner, patient, index):
            try:
                appointment_book(
                    service=service, start=start, patient=patient, practitioner=practitioner, source=source, now=now
                )
            except ServiceError:
                continue  # a rule said no (e.g. new patients only): the demo moves on rather than failing
            booked += 1
            break
    return booked


@dataclass(frozen=True)
class _DemoWeek:
    now: datetime
    zone: ZoneInfo
    first_day: date
    chooser: random.Random

    @classmethod
    def starting_after(cls, now: datetime, zone: ZoneInfo) -> "_DemoWeek":
        first_day = now.astimezone(zone).date() + timedelta(days=1)
        # Seeded by the date: everyone who loads the demo on one day gets the same calendar.
        return cls(now, zone, first_day, random.Random(first_day.toordinal()))

    def candidate_starts(
        self, service: Service, practitioner: Practitioner, patient: Patient, index: int
    ) -> list[datetime]:
        """A few free starts on one of the practitioner's days that the patient has free, on the hour or half hour
        when possible."""
        free = bookable_slots(
            service=service,
            start_date=self.first_day,
            end_date=self.first_day + timedelta(days=UPCOMING_DAYS - 1),
            tz=self.zone,
            practitioner_id=practitioner.pk,
            now=self.now,
        )
        by_day: dict[date, list[datetime]] = {}
        for slot in free.slots:
            by_day.setdefault(self._day(slot.start), []).append(slot.start)
        busy = {
            self._day(start)
            for start in patient.appointments.filter(start__gte=self.now).values_list("start", flat=True)
        }
        days = [day for day in sorted(by_day) if day not in busy] or sorted(by_day)
        if not days:
            return []
        starts = by_day[days[index % len(days)]]
        tidy = [start for start in starts if start.astimezone(self.zone).minute in (0, 30)] or starts
        return self.chooser.sample(tidy, k=min(3, len(tidy)))

    def _day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()
