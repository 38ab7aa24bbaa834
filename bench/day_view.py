"""How fast the front desk's day view renders, and that its query count does not grow with the day.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.day_view

One location in America/New_York with six rooms; six practitioners working 08:00-18:00; a day a week ahead on
which each of them has ten one-hour visits back to back (60 appointments, every patient with an intake, one in
four with a safety flag). A front-desk login opens `GET /desk/?date=...` in-process through Django's test client:
the figure is the wall time of `client.get`, which includes reading and auditing the 60 patients' safety flags.
The same page with only ten appointments shows that the number of SQL statements stays the same. The baseline is
`GET /desk/changes/` (the poller's one-query answer), timed in the same run.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.common import Row, bench_database, print_table, time_calls
from patients.intake import SAFETY_FLAGS
from patients.services import PatientDetails, intake_submit
from scheduling.models import Appointment, Location, Practitioner, Room, Service, WorkingHours
from scheduling.services import appointment_book

ZONE = ZoneInfo("America/New_York")
PRACTITIONERS = 6
VISITS_EACH = 10
TARGET_MS = 60
REPEAT, WARMUP = 200, 20
PLAIN_STATIC_FILES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def a_weekday_next_week() -> date:
    day = timezone.localdate(timezone=ZONE) + timedelta(days=7)
    return day + timedelta(days=(7 - day.weekday()) % 7 + 1)  # the Tuesday after


def clinic() -> tuple[Location, Service, list[Practitioner]]:
    location = Location.objects.create(slug="downtown", name="Downtown", timezone=ZONE.key)
    for number in range(1, PRACTITIONERS + 1):
        Room.objects.create(location=location, slug=f"room-{number}", name=f"Room {number}")
    service = Service.objects.create(
        slug="follow-up", name="Follow-up acupuncture", duration_minutes=60, buffer_minutes=0, price=Decimal("85.00")
    )
    practitioners = []
    for number in range(1, PRACTITIONERS + 1):
        practitioner = Practitioner.objects.create(slug=f"practitioner-{number}", name=f"Practitioner {number}")
        practitioner.services.add(service)
        for weekday in range(5):
            WorkingHours.objects.create(
                practitioner=practitioner, location=location, weekday=weekday, start_time=time(8), end_time=time(18)
            )
        practitioners.append(practitioner)
    return location, service, practitioners


def book_day(service: Service, practitioners: list[Practitioner], day: date, visits_each: int, first: int) -> int:
    booked = 0
    for practitioner in practitioners:
        for hour in range(visits_each):
            number = first + booked
            patient = PatientDetails(
                "Bench", f"Patient{number}", f"bench{number}@example.org", "+1 555 010 0101", date(1980, 1, 1)
            )
            start = datetime.combine(day, time(8 + hour), tzinfo=ZONE)
            appointment = appointment_book(
                service=service, practitioner=practitioner, start=start, patient=patient, source="staff"
            )
            answers = dict.fromkeys(SAFETY_FLAGS, False) | {"pregnant": number % 4 == 0}
            answers |= {
                "reason": "Lower back pain",
                "acupuncture_before": False,
                "emergency_contact_name": "Sam Example",
                "emergency_contact_phone": "+1 555 010 0150",
            }
            intake_submit(
                patient=appointment.patient,
                appointment=appointment,
                answers=answers,
                consent_name=f"Bench Patient{number}",
            )
            booked += 1
    return booked


def front_desk_client() -> Client:
    user = get_user_model().objects.create_user("desk@example.org", password="unused-bench-password", is_staff=True)
    user.groups.add(Group.objects.get(name="Front desk"))
    client = Client()
    client.force_login(user)
    return client


def count_queries(request) -> int:
    with CaptureQueriesContext(connection) as queries:
        request()
    return len(queries)


def timed(name: str, request, *, target: str = "-", goal: float | None = None) -> Row:
    response = request()
    if response.status_code != 200:
        raise SystemExit(f"{name}: HTTP {response.status_code}")
    samples = time_calls(request, repeat=REPEAT, warmup=WARMUP)
    row = Row(name, samples, target=target, queries=count_queries(request))
    if goal is not None:
        row.met = row.median <= goal
    return row


def main() -> None:
    with bench_database(), override_settings(STORAGES=PLAIN_STATIC_FILES):
        _location, service, practitioners = clinic()
        busy_day, quiet_day = a_weekday_next_week(), a_weekday_next_week() + timedelta(days=1)
        booked = book_day(service, practitioners, busy_day, VISITS_EACH, first=0)
        book_day(service, practitioners[:1], quiet_day, VISITS_EACH, first=booked)
        desk = front_desk_client()
        changes = f"/desk/changes/?date={busy_day}"
        baseline = timed("GET /desk/changes/ (the poller, baseline)", lambda: desk.get(changes))
        rows = [
            timed(
                f"day view, {PRACTITIONERS} practitioners, {booked} appointments",
                lambda: desk.get(f"/desk/?date={busy_day}"),
                target=f"p50 ≤ {TARGET_MS} ms",
                goal=TARGET_MS,
            ),
            timed("the same, 5-minute rows", lambda: desk.get(f"/desk/?date={busy_day}&step=5")),
            timed("the same, a column per room", lambda: desk.get(f"/desk/?date={busy_day}&by=room")),
            timed(
                f"day view, {VISITS_EACH} appointments (same queries?)", lambda: desk.get(f"/desk/?date={quiet_day}")
            ),
            timed("one practitioner's week", lambda: desk.get(f"/desk/week/practitioner-1/?date={busy_day}")),
        ]
        appointments = Appointment.objects.filter(status="booked").count()
        notes = [
            f"Day shown: {busy_day:%a %Y-%m-%d} ({ZONE.key}); {appointments} booked appointments in the database. "
            "Every render reads the safety flags of the patients shown and writes one audit row per patient "
            "(one INSERT)."
        ]
        print_table("Front-desk day view", rows, baseline, notes)


if __name__ == "__main__":
    main()
