"""Notification throughput: 10,000 due reminders through a real Celery worker, Redis and an SMTP server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.notifications_throughput \\
        [--messages 10000] [--concurrency 2] [--profile]

The outbox holds `--messages` reminders (five per appointment: 2,000 appointments, 2,000 patients), all due at
the moment the sweep starts. A worker (`celery -A backend worker --pool=prefork`, `--concurrency` processes) runs
on a private redis-server started for the run (never the shared one on 6379); beat's tick is simulated by
publishing `sweep_due_messages` to it, and the worker's sweep claims every due row and enqueues one send task
each. The SMTP server is aiosmtpd in a process of its own (`python -m tests.smtp_sink`), logging the arrival time
and Message-ID of each message it accepts. Reported: messages delivered (must be exactly `--messages`), duplicate
Message-IDs (must be 0), the wall time from the tick to the last delivery, messages per second, each message's
latency from its due time to its arrival, and each send task's own run time as the worker logged it.

The baseline, in the same run, is the same number of emails of the same shape (one reminder rendered once,
addressed and numbered per row) sent by this process over one SMTP connection to a second sink process: no
database, no Celery, no Redis; the cost of SMTP and MIME alone on this machine. SQL statements for one send are
counted with `CaptureQueriesContext` around `message_deliver`. `--profile` adds a cProfile of 500 sends run
in this process (to a sink, no Celery), sorted by cumulative time.
"""

import argparse
import cProfile
import io
import math
import pstats
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from bench.common import Row, bench_database, percentile, print_table
from notifications.channels import CHANNELS, EmailChannel
from notifications.content import message_content
from notifications.models import Message
from notifications.services import message_deliver, messages_sweep
from patients.models import Patient
from scheduling.models import Appointment, Clinic, Location, Practitioner, Room, Service
from tests.outbox_processes import ROOT, CeleryWorker, PrivateRedis, database_url, meridian_environment, wait_until
from tests.smtp_sink import free_port

PER_VISIT = 5  # reminders per appointment: 2,000 appointments for 10,000 messages
TARGET_PER_SECOND = 300
DELIVERY_TIMEOUT = 600  # seconds; the run is reported as it stands after this
MESSAGE_ID = re.compile(r"<([0-9a-f-]{36})@")
TASK_TIME = re.compile(r"send_message\[[^\]]+\] succeeded in ([0-9.]+)s: '(\w+)'")


# --- the outbox ----------------------------------------------------------------------------------------------


def outbox(count: int) -> list[int]:
    """`count` pending reminders, PER_VISIT to an appointment, each appointment with a patient of its own."""
    clinic = Clinic.load()
    clinic.email = "hello@clinic.example.org"
    clinic.save()
    location = Location.objects.create(slug="downtown", name="Downtown", timezone="America/New_York")
    room = Room.objects.create(location=location, slug="room-1", name="Room 1")
    service = Service.objects.create(
        slug="follow-up", name="Follow-up acupuncture", duration_minutes=60, buffer_minutes=15, price=Decimal(85)
    )
    practitioner = Practitioner.objects.create(slug="mei-chen", name="Mei Chen, L.Ac.")
    visits = math.ceil(count / PER_VISIT)
    patients = Patient.objects.bulk_create(
        Patient(
            first_name="Pat",
            last_name=f"Number {n}",
            email=f"patient{n}@example.org",
            phone="+1 555 010 0100",
            date_of_birth=date(1985, 4, 12),
        )
        for n in range(visits)
    )
    first = timezone.now() + timedelta(days=3)
    step = service.duration + service.buffer
    appointments = Appointment.objects.bulk_create(
        Appointment(
            patient=patient,
            practitioner=practitioner,
            service=service,
            location=location,
            room=room,
            start=first + n * step,
            end=first + n * step + service.duration,
            blocked_until=first + (n + 1) * step,
            source=Appointment.Source.STAFF,
        )
        for n, patient in enumerate(patients)
    )
    reminders = reminders_for(appointments)
    return [message.pk for message in reminders[:count]]


def make_due(pks: list[int]) -> float:
    """Every row due now; the Unix time it became due."""
    now = timezone.now()
    Message.objects.filter(pk__in=pks).update(due_at=now)
    return now.timestamp()


# --- the processes -------------------------------------------------------------------------------------------


@contextmanager
def sink_process(log: Path) -> Iterator[int]:
    """`python -m tests.smtp_sink` on a free port, logging '<time> <Message-ID>' per accepted message to `log`."""
    port = free_port()
    command = [sys.executable, "-m", "tests.smtp_sink", "--port", str(port), "--log", str(log)]
    sink = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: S603 - our own command
    try:
        if sink.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP sink did not start")
        yield port
    finally:
        sink.terminate()
        sink.wait(timeout=30)


def arrivals(log: Path) -> list[tuple[float, int]]:
    """(arrival time, row id) for each message the sink accepted, the row found by its Message-ID's uid."""
    row_of = {str(uid): pk for pk, uid in Message.objects.values_list("pk", "uid")}
    found = []
    for line in log.read_text().splitlines():
        when, _, message_id = line.partition(" ")
        matched = MESSAGE_ID.search(message_id)
        found.append((float(when), row_of.get(matched.group(1) if matched else "", -1)))
    return found


def count_lines(log: Path) -> int:
    return log.read_bytes().count(b"\n") if log.exists() else 0


# --- the runs ------------------------------------------------------------------------------------------------


@dataclass
class OutboxRun:
    delivered: int
    duplicates: int
    missing: int
    wall_seconds: float
    latencies_ms: list[float]
    task_ms: list[float]
    outcomes: Counter

    @property
    def per_second(self) -> float:
        return self.delivered / self.wall_seconds if self.wall_seconds else 0.0


def run_outbox(pks: list[int], concurrency: int, directory: Path) -> OutboxRun:
    log = directory / "outbox-deliveries.txt"
    redis = PrivateRedis(directory)
    redis.start()
    try:
        with sink_process(log) as port:
            environment = meridian_environment(
                database=database_url(connection.settings_dict), redis=redis.url, smtp_port=port
            )
            worker = CeleryWorker("bench", environment, directory / "worker.log", concurrency=concurrency)
            connection.close()  # the worker's processes open their own
            worker.start()
            try:
                due = make_due(pks)
                started = time.time()
                redis.beat_tick()
                wait_until(lambda: count_lines(log) >= len(pks), DELIVERY_TIMEOUT, interval=0.2)
                time.sleep(2)  # a late duplicate would arrive now
                task_log = worker.output()
            finally:
                worker.stop()
    finally:
        redis.stop()
    received = arrivals(log)
    by_message = Counter(pk for _when, pk in received)
    first_arrival = {}
    for when, pk in received:
        first_arrival.setdefault(pk, when)
    last = max(first_arrival.values(), default=started)
    times = [(float(seconds) * 1000, outcome) for seconds, outcome in TASK_TIME.findall(task_log)]
    return OutboxRun(
        delivered=len(received),
        duplicates=sum(n - 1 for n in by_message.values() if n > 1),
        missing=len(set(pks) - set(by_message)),
        wall_seconds=last - started,
        latencies_ms=[(first_arrival[pk] - due) * 1000 for pk in first_arrival],
        task_ms=[ms for ms, outcome in times if outcome == "sent"],
        outcomes=Counter(outcome for _ms, outcome in times),
    )


def run_baseline(pks: list[int], directory: Path) -> tuple[list[float], float]:
    """The same number of emails of the same shape over one SMTP connection: milliseconds each, and the total."""
    log = directory / "baseline-deliveries.txt"
    message = Message.objects.select_related("appointment__patient").get(pk=pks[0])
    content = message_content(message)
    addresses = dict(Message.objects.filter(pk__in=pks).values_list("pk", "appointment__patient__email"))
    channel = EmailChannel()
    email = channel.compose(message, content, content.recipient_email)
    samples = []
    with sink_process(log) as port, smtp_to(port):
        from django.core.mail import get_connection

        smtp = get_connection(fail_silently=False)
        smtp.open()
        started = time.perf_counter()
        for pk in pks:
            before = time.perf_counter()
            email.to = [addresses[pk]]
            email.extra_headers["Message-ID"] = f"<{uuid.uuid4()}@baseline>"
            smtp.send_messages([email])
            samples.append((time.perf_counter() - before) * 1000)
        total = time.perf_counter() - started
        smtp.close()
        wait_until(lambda: count_lines(log) >= len(pks), 60, interval=0.1)
    if count_lines(log) != len(pks):
        raise RuntimeError(f"the baseline sink received {count_lines(log)} of {len(pks)} emails")
    return samples, total


@contextmanager
def smtp_to(port: int) -> Iterator[None]:
    settings = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
    }
    with override_settings(**settings):
        CHANNELS["email"].close()
        try:
            yield
        finally:
            CHANNELS["email"].close()


def in_process_sends(count: int, directory: Path, profile: bool) -> tuple[int, str]:
    """Fresh due reminders sent here with `message_deliver` (no Celery): SQL statements for one, and a profile."""
    pks = outbox_more(count)
    make_due(pks)
    messages_sweep(enqueue=lambda _pk: None)  # claimed (queued), as the sweeper leaves them
    with sink_process(directory / "profile-deliveries.txt") as port, smtp_to(port):
        message_deliver(message_id=pks[0])  # warm: templates loaded, connection open
        with CaptureQueriesContext(connection) as queries:
            message_deliver(message_id=pks[1])
        statements = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
        report = ""
        if profile:
            report = "SQL for one send:\n" + "\n".join(f"  {sql[:110]}" for sql in statements) + "\n\n"
            profiler = cProfile.Profile()
            profiler.enable()
            for pk in pks[2:]:
                message_deliver(message_id=pk)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
            report += out.getvalue()
    return len(statements), report


def outbox_more(count: int) -> list[int]:
    """`count` more reminders on new appointments after the last one (for the in-process measurements)."""
    last = Appointment.objects.order_by("-start").first()
    step = last.blocked_until - last.start
    appointments = Appointment.objects.bulk_create(
        Appointment(
            patient=last.patient,
            practitioner=last.practitioner,
            service=last.service,
            location=last.location,
            room=last.room,
            start=last.start + (n + 1) * step,
            end=last.start + (n + 1) * step + last.service.duration,
            blocked_until=last.start + (n + 2) * step,
            source=Appointment.Source.STAFF,
        )
        for n in range(math.ceil(count / PER_VISIT))
    )
    reminders = reminders_for(appointments)
    return [message.pk for message in reminders[:count]]


def reminders_for(appointments: list[Appointment]) -> list[Message]:
    """PER_VISIT reminders for each appointment, due an hour from now (the run makes them due when it starts)."""
    later = timezone.now() + timedelta(hours=1)
    return Message.objects.bulk_create(
        (
            Message(
                appointment=appointment,
                kind=Message.Kind.REMINDER,
                appointment_version=1,
                lead_minutes=60 * (index + 1),
                due_at=later,
                stale_at=later + timedelta(hours=6),
            )
            for appointment in appointments
            for index in range(PER_VISIT)
        ),
        batch_size=2000,
    )


# --- the report ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's prefork processes")
    parser.add_argument("--profile", action="store_true", help="also profile 500 sends in this process")
    arguments = parser.parse_args()

    with bench_database(), tempfile.TemporaryDirectory(prefix="meridian-bench-outbox-") as folder:
        directory = Path(folder)
        pks = outbox(arguments.messages)
        baseline_ms, baseline_seconds = run_baseline(pks, directory)
        run = run_outbox(pks, arguments.concurrency, directory)
        statements, profile = in_process_sends(502 if arguments.profile else 2, directory, arguments.profile)

        sent = Message.objects.filter(pk__in=pks, status=Message.Status.SENT).count()
        baseline_rate = len(pks) / baseline_seconds
        met = run.per_second >= TARGET_PER_SECOND and run.delivered == len(pks) and run.duplicates == 0
        baseline = Row(f"SMTP alone: {len(pks):,} emails over one connection, per email", baseline_ms)
        rows = [
            Row(
                f"send task in the worker, per message ({arguments.concurrency} processes)",
                run.task_ms,
                queries=statements,
            ),
            Row("outbox: due → accepted by the SMTP server, per message", run.latencies_ms),
        ]
        figures = [
            "| figure | value | target | met |",
            "|---|---:|---|---|",
            f"| delivered (SMTP server, by Message-ID) | {run.delivered:,} of {len(pks):,} | exactly {len(pks):,} "
            f"| {'yes' if run.delivered == len(pks) and not run.missing else '**NO**'} |",
            f"| duplicates | {run.duplicates} | 0 | {'yes' if run.duplicates == 0 else '**NO**'} |",
            f"| rows marked sent | {sent:,} | {len(pks):,} | {'yes' if sent == len(pks) else '**NO**'} |",
            f"| wall time, tick → last delivery | {run.wall_seconds:.1f} s | - | - |",
            f"| outbox throughput | {run.per_second:.0f} messages/s | ≥ {TARGET_PER_SECOND} messages/s "
            f"| {'yes' if met else '**NO**'} |",
            f"| baseline throughput (SMTP alone) | {baseline_rate:.0f} messages/s | - | - |",
            f"| outbox / baseline throughput | {run.per_second / baseline_rate:.2f} | - | - |",
        ]
        notes = [
            "\n".join(figures),
            f"Latency p50/p99 from due to delivery: {percentile(run.latencies_ms, 0.5) / 1000:.1f} s / "
            f"{percentile(run.latencies_ms, 0.99) / 1000:.1f} s (every message due at once: this is the backlog "
            f"draining). Send task outcomes: {dict(run.outcomes)}. SQL statements per send (without BEGIN/COMMIT): "
            f"{statements}.",
        ]
        print_table("Notification throughput", rows, baseline, notes)
        if profile:
            print("\n```\n" + profile + "```")


if __name__ == "__main__":
    main()
