"""Booking contention: many patients press "book" on the same slot at the same moment, round after round.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.booking_contention \\
        [--threads 16] [--rounds 40] [--server] [--workers 5] [--profile]

Each round a `threading.Barrier` releases every thread at once onto `POST /api/v1/appointments/` for one
slot (a new slot each round). By default the requests go in-process through Django's test client, one
client and one database connection per thread, so all of them share one interpreter lock; with
`--server` they go over HTTP to a gunicorn (sync workers, one process each) started on 127.0.0.1, which
is how Meridian is deployed. Reported: the latency of the winners (201) and the losers (409), errors
(any other answer), rounds without exactly one winner, and double bookings counted in SQL afterwards
(must be 0). The baseline is the trivial `GET /api/v1/locations/` fired by the same threads in the same
way, so the ratio shows what booking adds to the cost of serving that many requests at once. Single
requests without contention are timed too.
"""

import argparse
import cProfile
import http.client
import json
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.common import Row, bench_database, print_table
from scheduling.models import Appointment, Clinic, Location, Practitioner, Room, Service, WorkingHours

ZONE = ZoneInfo("America/New_York")
BARRIER_TIMEOUT = 60
ACTIVE = [str(status) for status in Appointment.ACTIVE_STATUSES]


@dataclass
class Attempt:
    round: int
    status: int
    milliseconds: float


@dataclass
class Setting:
    """The practitioner everyone wants, the service they book, and a control group.

    `loners` each work alone at a location of their own, so bookings with them share no lock: booking
    them all at once measures what concurrency costs without the lock that serialises one practitioner.
    """

    service: Service
    practitioner: Practitioner
    loners: list[Practitioner]


def practitioner_at(location: Location, service: Service, slug: str) -> Practitioner:
    practitioner = Practitioner.objects.create(slug=slug, name=slug.replace("-", " ").title())
    practitioner.services.add(service)
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=practitioner, location=location, weekday=day, start_time=clock(8), end_time=clock(20))
        for day in range(7)
    )
    return practitioner


def location_with_rooms(slug: str, rooms: int) -> Location:
    location = Location.objects.create(slug=slug, name=slug.title(), timezone=str(ZONE))
    Room.objects.bulk_create(Room(location=location, slug=f"room-{n}", name=f"Room {n}") for n in range(rooms))
    return location


def build(loners: int) -> Setting:
    Clinic.load()  # the default policy: 15-minute step, 12 hours' notice, 90 days ahead
    service = Service.objects.create(
        slug="follow-up", name="Follow-up", duration_minutes=60, buffer_minutes=15, price=Decimal(85)
    )
    return Setting(
        service,
        practitioner_at(location_with_rooms("contention", 2), service, "mei-chen"),
        [practitioner_at(location_with_rooms(f"alone-{n}", 1), service, f"loner-{n}") for n in range(loners)],
    )


def slots(count: int, first_day: date) -> list[datetime]:
    """`count` starts that never touch: every 90 minutes from 08:00 (eight a day), from `first_day` on."""
    per_day = 8
    return [
        datetime.combine(first_day + timedelta(days=index // per_day), clock(8), tzinfo=ZONE)
        + timedelta(minutes=90 * (index % per_day))
        for index in range(count)
    ]


def booking(setting: Setting, start: datetime, patient: str, practitioner: Practitioner | None = None) -> dict:
    return {
        "service": setting.service.id,
        "practitioner": (practitioner or setting.practitioner).id,
        "start": start.isoformat(),
        "patient": {
            "first_name": "Pat",
            "last_name": patient,
            "email": f"{patient}@example.org",
            "phone": "+1 555 010 0100",
            "date_of_birth": "1985-04-12",
        },
    }


Request = tuple[str, dict | None]  # a URL, and the JSON body of a POST (None for a GET)
Send = Callable[[Request], int]


def in_process() -> Send:
    """A Django test client: the request runs in this thread, on this thread's database connection."""
    client = Client(raise_request_exception=False)  # a 500 is counted as an error, not raised

    def send(request: Request) -> int:
        url, payload = request
        if payload is None:
            return client.get(url).status_code
        return client.post(url, payload, content_type="application/json").status_code

    return send


def over_http(port: int) -> Callable[[], Send]:
    """A new HTTP connection per request, as a patient's phone would open (gunicorn's sync workers close it)."""

    def factory() -> Send:
        def send(request: Request) -> int:
            url, payload = request
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=BARRIER_TIMEOUT)
            try:
                if payload is None:
                    connection.request("GET", url)
                else:
                    body = json.dumps(payload)
                    connection.request("POST", url, body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                return response.status
            finally:
                connection.close()

        return send

    return factory


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(workers: int) -> Iterator[int]:
    """gunicorn serving backend.wsgi on a free local port, with this process's (benchmark) settings."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "backend.wsgi", "--workers", str(workers)]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    # Its log goes to a file: every losing booking is a 409 that django.request logs as a warning.
    log = tempfile.NamedTemporaryFile("w+", prefix="meridian-bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    server = subprocess.Popen(command, env=os.environ.copy(), stdout=log, stderr=log)  # noqa: S603 - our own command
    try:
        send = over_http(port)()
        for _ in range(100):
            try:
                if send(("/api/v1/locations/", None)) == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn did not answer within 10 seconds; see {log.name}")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    os.unlink(log.name)  # kept only when something went wrong


def race(
    threads: int, rounds: int, request_for: Callable[[int, int], Request], transport: Callable[[], Send]
) -> list[Attempt]:
    """Every thread sends `request_for(round, thread)` the moment the round's barrier opens."""
    go = threading.Barrier(threads, timeout=BARRIER_TIMEOUT)
    attempts: list[Attempt] = []
    failures: list[BaseException] = []

    def work(thread: int) -> None:
        send = transport()
        try:
            for number in range(rounds):
                request = request_for(number, thread)
                go.wait()
                started = time.perf_counter()
                status = send(request)
                attempts.append(Attempt(number, status, (time.perf_counter() - started) * 1000))
        except BaseException as error:  # reported below
            failures.append(error)
            go.abort()
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(thread,)) for thread in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]
    return attempts


def double_bookings() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*)
            FROM scheduling_appointment a
            JOIN scheduling_appointment b
              ON a.id < b.id
             AND (a.practitioner_id = b.practitioner_id OR a.room_id = b.room_id)
             AND tstzrange(a.start, a.blocked_until) && tstzrange(b.start, b.blocked_until)
            WHERE a.status = ANY(%s) AND b.status = ANY(%s)
            """,
            [ACTIVE, ACTIVE],
        )
        return cursor.fetchone()[0]


def uncontended(setting: Setting, starts: list[datetime], send: Send) -> tuple[list[float], list[float]]:
    """One thread: book each start (201), then try each again (409)."""
    won, lost = [], []
    for outcome, samples in ((201, won), (409, lost)):
        for index, start in enumerate(starts):
            started = time.perf_counter()
            status = send(("/api/v1/appointments/", booking(setting, start, f"solo-{outcome}-{index}")))
            samples.append((time.perf_counter() - started) * 1000)
            assert status == outcome, status
    return won, lost


def queries_per_booking(setting: Setting, start: datetime) -> tuple[int, int]:
    """SQL statements of one booking that wins (201) and one that loses (409), counted in-process."""
    client, counts = Client(), []
    for attempt in ("first", "second"):
        with CaptureQueriesContext(connection) as queries:
            client.post(
                "/api/v1/appointments/", booking(setting, start, f"count-{attempt}"), content_type="application/json"
            )
        counts.append(len(queries))
    return counts[0], counts[1]


def profile_losing_booking(setting: Setting, taken: list[datetime]) -> None:
    """Where the time of a losing booking goes, without contention: cProfile over 200 requests, in-process.

    (A profile of the contended run would show mostly threads waiting for the interpreter lock.)
    """
    send = in_process()
    profiler = cProfile.Profile()
    profiler.enable()
    for number in range(200):
        send(("/api/v1/appointments/", booking(setting, taken[number % len(taken)], f"profiled-{number}")))
    profiler.disable()
    print("\n#### Profile: 200 losing bookings (409) one at a time, cumulative, Meridian's and DRF's functions\n```")
    stats = pstats.Stats(profiler).strip_dirs().sort_stats("cumulative")
    stats.print_stats(r"services|selectors|availability|api|serializers\.py:(217|446)|execute_sql|connection\.py", 30)
    print("```")


def ms(attempts: list[Attempt], status: int) -> list[float]:
    return [attempt.milliseconds for attempt in attempts if attempt.status == status]


def measure(setting: Setting, transport: Callable[[], Send], label: str, arguments: argparse.Namespace) -> None:
    threads, rounds = arguments.threads, arguments.rounds
    first_day = timezone.now().astimezone(ZONE).date() + timedelta(days=2)
    starts = slots(2 * rounds + 1, first_day)
    contested, quiet, spare = starts[:rounds], starts[rounds:-1], starts[-1]

    def trivial(number: int, thread: int) -> Request:
        return ("/api/v1/locations/", None)

    race(threads, 5, trivial, transport)  # warm-up: every worker loads its code and opens its connection
    baseline_attempts = race(threads, rounds, trivial, transport)
    attempts = race(
        threads,
        rounds,
        lambda number, thread: ("/api/v1/appointments/", booking(setting, contested[number], f"p-{number}-{thread}")),
        transport,
    )
    parallel = race(
        threads,
        rounds,
        lambda number, thread: (
            "/api/v1/appointments/",
            booking(setting, contested[number], f"q-{number}-{thread}", setting.loners[thread]),
        ),
        transport,
    )
    alone_won, alone_lost = uncontended(setting, quiet, transport())
    won_queries, lost_queries = queries_per_booking(setting, spare)

    winners, losers = ms(attempts, 201), ms(attempts, 409)
    errors = [attempt for attempt in [*attempts, *parallel] if attempt.status not in (201, 409)]
    wins_per_round = [sum(a.status == 201 for a in attempts if a.round == number) for number in range(rounds)]

    baseline = Row(
        f"GET /api/v1/locations/, {threads} threads at once (baseline)",
        [attempt.milliseconds for attempt in baseline_attempts],
    )
    loser_row = Row(f"POST booking, loser (409), {threads} threads at once", losers, "p99 ≤ 50 ms")
    loser_row.met = loser_row.p99 <= 50
    rows = [
        Row(f"POST booking, winner (201), {threads} threads at once", winners, "report p50"),
        loser_row,
        Row(f"POST booking, 201, {threads} threads at once, no shared lock (control)", ms(parallel, 201)),
        Row("POST booking, 201, one request at a time", alone_won, queries=won_queries),
        Row("POST booking, 409, one request at a time", alone_lost, queries=lost_queries),
    ]
    notes = [
        f"{threads} threads x {rounds} rounds = {len(attempts)} contested booking requests. "
        f"Double bookings (SQL): **{double_bookings()}** (must be 0). "
        f"Errors (not 201/409): **{len(errors)}** {sorted({error.status for error in errors})}. "
        f"Rounds with exactly one winner: **{wins_per_round.count(1)}/{rounds}**.",
    ]
    print_table(f"Booking contention, {label}", rows, baseline, notes)
    if arguments.profile:
        profile_losing_booking(setting, contested)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--server", action="store_true", help="send the requests over HTTP to a local gunicorn")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers (default 5: 2 x 2 cores + 1)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of a losing booking")
    arguments = parser.parse_args()

    with bench_database():
        setting = build(arguments.threads)
        if arguments.server:
            with gunicorn(arguments.workers) as port:
                measure(setting, over_http(port), f"HTTP to gunicorn ({arguments.workers} sync workers)", arguments)
        else:
            measure(setting, in_process, "in-process (Django test client, one interpreter)", arguments)


if __name__ == "__main__":
    main()
