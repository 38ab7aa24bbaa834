"""How fast availability is: the engine alone, the endpoint for one practitioner, and "no preference".

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.availability [--profile]

The clinic: one practitioner working Mon-Fri 09:00-19:00 and Sat 09:00-14:00 (America/New_York), a
60-minute service on a 30-minute step, 200 appointments over the 30 days asked for. "No preference" asks
the same of a second location where ten such practitioners, 200 appointments each, share ten rooms.
Every row is set beside a trivial DRF endpoint (`GET /api/v1/locations/`) timed in the same run.
"""

import argparse
import cProfile
import pstats
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.common import Row, bench_database, print_table, time_calls
from patients.models import Patient
from scheduling import availability
from scheduling.models import Appointment, Clinic, Location, Practitioner, Room, Service, WorkingHours
from scheduling.selectors import engine_inputs, local_day_span

ZONE = ZoneInfo("America/New_York")
DAYS = 30
APPOINTMENTS_EACH = 200
TEAM_SIZE = 10
HOURS = {weekday: (time(9), time(19)) for weekday in range(5)} | {5: (time(9), time(14))}
REPEAT = {"baseline": 500, "engine": 500, "one": 500, "team": 200}


@dataclass
class Practice:
    location: Location
    service: Service
    practitioners: list[Practitioner]


@dataclass
class Scenario:
    first_day: date
    last_day: date
    solo: Practice
    team: Practice


def hourly_starts(first_day: date) -> list[datetime]:
    """Every on-the-hour start of a 60-minute appointment inside the working hours of the 30 days."""
    starts = []
    for offset in range(DAYS):
        day = first_day + timedelta(days=offset)
        if day.weekday() in HOURS:
            opens, closes = HOURS[day.weekday()]
            starts += [datetime.combine(day, time(hour), tzinfo=ZONE) for hour in range(opens.hour, closes.hour)]
    return starts


def bench_patient(slug: str) -> Patient:
    """One patient per practitioner: a person can't be in two treatments at once (a database constraint)."""
    return Patient.objects.create(
        first_name="Bench",
        last_name=slug.title(),
        email=f"{slug}@example.org",
        phone="+1 555 010 0100",
        date_of_birth=date(1980, 1, 1),
    )


def build_practice(slug: str, size: int, first_day: date, rng: random.Random) -> Practice:
    location = Location.objects.create(slug=slug, name=slug.title(), timezone=str(ZONE))
    rooms = Room.objects.bulk_create(Room(location=location, slug=f"room-{n}", name=f"Room {n}") for n in range(size))
    service = Service.objects.create(
        slug=f"{slug}-60", name=f"{slug.title()} 60", duration_minutes=60, buffer_minutes=0, price=Decimal(80)
    )
    practitioners = []
    for number, room in enumerate(rooms):
        practitioner = Practitioner.objects.create(slug=f"{slug}-{number}", name=f"{slug.title()} {number}")
        practitioner.services.add(service)
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=practitioner, location=location, weekday=day, start_time=opens, end_time=closes)
            for day, (opens, closes) in HOURS.items()
        )
        patient = bench_patient(practitioner.slug)
        Appointment.objects.bulk_create(
            Appointment(
                patient=patient,
                practitioner=practitioner,
                service=service,
                location=location,
                room=room,
                start=start,
                end=start + service.duration,
                blocked_until=start + service.duration,
                status=Appointment.Status.BOOKED,
                source=Appointment.Source.STAFF,
            )
            for start in rng.sample(hourly_starts(first_day), APPOINTMENTS_EACH)
        )
        practitioners.append(practitioner)
    return Practice(location, service, practitioners)


def build() -> Scenario:
    clinic = Clinic.load()
    clinic.slot_step_minutes = 30
    clinic.save()
    # Two days ahead: all 30 days are past the 12-hour notice and inside the 90-day horizon.
    first_day = timezone.now().astimezone(ZONE).date() + timedelta(days=2)
    rng = random.Random(20270301)
    return Scenario(
        first_day=first_day,
        last_day=first_day + timedelta(days=DAYS - 1),
        solo=build_practice("solo", 1, first_day, rng),
        team=build_practice("team", TEAM_SIZE, first_day, rng),
    )


def availability_url(scenario: Scenario, practice: Practice, *, one_practitioner: bool) -> str:
    query = {"service": practice.service.id, "start": scenario.first_day, "end": scenario.last_day}
    if one_practitioner:
        query["practitioner"] = practice.practitioners[0].id
    return f"/api/v1/availability/?{urlencode(query)}"


def endpoint_row(client: Client, name: str, url: str, repeat: int, target: str, limit_ms: float | None) -> Row:
    response = client.get(url)
    assert response.status_code == 200, response.content
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    query_count = len(queries)  # now: the next request's start clears the log it reads
    samples = time_calls(lambda: client.get(url), repeat=repeat)
    row = Row(name, samples, target, queries=query_count)
    row.met = None if limit_ms is None else row.median <= limit_ms
    return row


def engine_row(scenario: Scenario, practice: Practice, name: str, target: str, limit_ms: float | None) -> Row:
    window = local_day_span(scenario.first_day, scenario.last_day, ZONE)
    inputs = engine_inputs(
        service=practice.service,
        span=window,
        now=timezone.now(),
        source=Appointment.Source.ONLINE,
        practitioner_ids=[practitioner.id for practitioner in practice.practitioners],
    )

    def run() -> list:
        return availability.bookable_slots(inputs.rules, inputs.calendars, inputs.locations, window)

    row = Row(name, time_calls(run, repeat=REPEAT["engine"]), target)
    row.met = None if limit_ms is None else row.median <= limit_ms
    return row


def slot_count(client: Client, url: str) -> int:
    return len(client.get(url).json()["slots"])


def profile(client: Client, url: str, title: str) -> None:
    """Where the time of one kind of request goes: cProfile over 50 requests, top functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(50):
        client.get(url)
    profiler.disable()
    print(f"\n#### Profile: {title} (50 requests, sorted by own time)\n```")
    pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(20)
    print("```")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of both endpoint rows")
    arguments = parser.parse_args()
    with bench_database():
        scenario = build()
        client = Client()
        one_url = availability_url(scenario, scenario.solo, one_practitioner=True)
        team_url = availability_url(scenario, scenario.team, one_practitioner=False)
        baseline = endpoint_row(
            client, "GET /api/v1/locations/ (trivial DRF baseline)", "/api/v1/locations/", REPEAT["baseline"], "-", None
        )
        rows = [
            engine_row(scenario, scenario.solo, "(a) engine: 1 practitioner, 30 days", "≤ 3 ms median", 3),
            engine_row(scenario, scenario.team, "(a') engine: 10 practitioners, 30 days", "-", None),
            endpoint_row(
                client, "(b) GET availability, 1 practitioner, 30 days", one_url, REPEAT["one"], "p50 ≤ 10 ms", 10
            ),
            endpoint_row(
                client, "(c) GET availability, no preference (10), 30 days", team_url, REPEAT["team"], "p50 ≤ 40 ms", 40
            ),
        ]
        notes = [
            f"Dates {scenario.first_day} to {scenario.last_day} ({DAYS} days, America/New_York); "
            f"{APPOINTMENTS_EACH} appointments per practitioner; slots returned: "
            f"(b) {slot_count(client, one_url)}, (c) {slot_count(client, team_url)}.",
        ]
        print_table("Availability", rows, baseline, notes)
        if arguments.profile:
            profile(client, one_url, "(b) one practitioner")
            profile(client, team_url, "(c) no preference over 10")


if __name__ == "__main__":
    main()
