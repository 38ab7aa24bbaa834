"""Every message exactly once with real processes in the way: Celery workers (prefork, two processes each) on a
private Redis, sweepers in processes of their own, the test database, and an SMTP sink that can hold a session
mid-dialogue. Two sweepers race, a send task is delivered twice, workers are killed with SIGKILL mid-send, Redis
goes away; afterwards the sink has received each message once, by Message-ID and in total.

These are the suite's slow tests (about a minute in all; `-m "not workers"` leaves them out locally). CI runs them.
Each test starts its workers against a Redis flushed for it; the Redis and the sink are shared by the module.
"""

import math
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from notifications.models import Message
from scheduling.models import Appointment, Practitioner, Service
from tests.conftest import NEW_YORK, WEEKDAYS
from tests.factories import PatientFactory
from tests.outbox_processes import (
    CeleryWorker,
    PrivateRedis,
    Sweeper,
    database_url,
    meridian_environment,
    run_command,
    wait_until,
)
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.workers, pytest.mark.django_db(transaction=True)]

Status = Message.Status
DELIVERY_TIMEOUT = 90  # seconds: generous for a loaded CI machine; a lost message fails here, not by hanging
SETTLE = 1.5  # seconds to wait after the last expected email for one that should not come


# --- the servers and the processes ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path_factory.mktemp("private-redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def sink(shared_sink) -> Iterator[SmtpSink]:
    shared_sink.reset()
    yield shared_sink
    shared_sink.reset()


@pytest.fixture
def broker(redis_server) -> PrivateRedis:
    if not redis_server.is_up():  # a test stopped it
        redis_server.start()
    redis_server.flush()
    return redis_server


@pytest.fixture
def environment(transactional_db, broker, sink) -> Callable[..., dict[str, str]]:
    """The environment of a Meridian process on the test database, the private Redis and the sink."""

    def make(**overrides: str) -> dict[str, str]:
        return meridian_environment(
            database=database_url(connection.settings_dict), redis=broker.url, smtp_port=sink.port, **overrides
        )

    return make


@pytest.fixture
def workers(environment, sink, tmp_path) -> Iterator[Callable[..., CeleryWorker]]:
    """Start a worker: `workers("name", visibility_timeout=seconds)`. All are stopped when the test ends, before
    the test database is emptied (a worker holding a row lock would block that)."""
    started: list[CeleryWorker] = []

    def start(name: str = "worker", *, visibility_timeout: int = 3600, concurrency: int = 2) -> CeleryWorker:
        env = environment(CELERY_VISIBILITY_TIMEOUT=str(visibility_timeout))
        worker = CeleryWorker(name, env, tmp_path / f"{name}.log", concurrency=concurrency)
        started.append(worker)
        return worker.start()

    yield start
    sink.reset()  # let any held session go, so that a warm shutdown can finish its task
    for worker in started:
        worker.stop()


def finished_sends(tmp_path: Path) -> list[str]:
    """What each send task that has finished returned, as the workers logged it ('sent', 'not_queued'...)."""
    logs = "\n".join(log.read_text(errors="replace") for log in sorted(tmp_path.glob("*.log")))
    return re.findall(r"send_message\[[^\]]+\] succeeded in [0-9.]+s: '(\w+)'", logs)


# --- the outbox's contents -----------------------------------------------------------------------------------


_next_start: dict[int, datetime] = {}


def due_reminders(count: int, practitioner: Practitioner, service: Service, per_visit: int = 5) -> list[int]:
    """`count` reminders due a minute ago, `per_visit` to an appointment, for appointments a few days ahead.

    Rows written straight to the outbox (as the booking service would have written them days ago), for
    appointments one after the other on Dr Chen's calendar; each call continues where the last one stopped."""
    now = timezone.now()
    room = practitioner.hours.first().location.rooms.first()
    patient = PatientFactory()
    start = _next_start.get(practitioner.pk, now + timedelta(days=3))
    appointments = []
    for _ in range(math.ceil(count / per_visit)):
        appointments.append(
            Appointment(
                patient=patient,
                practitioner=practitioner,
                service=service,
                location=room.location,
                room=room,
                start=start,
                end=start + service.duration,
                blocked_until=start + service.duration + service.buffer,
                source=Appointment.Source.STAFF,
            )
        )
        start += service.duration + service.buffer
    _next_start[practitioner.pk] = start
    Appointment.objects.bulk_create(appointments)
    reminders = [
        Message(
            appointment=appointment,
            kind=Message.Kind.REMINDER,
            appointment_version=appointment.version,
            lead_minutes=60 * (index + 1),
            due_at=now - timedelta(minutes=1),
            stale_at=now + timedelta(hours=1),
        )
        for appointment in appointments
        for index in range(per_visit)
    ][:count]
    return [message.pk for message in Message.objects.bulk_create(reminders)]


@pytest.fixture(autouse=True)
def _appointments_start_afresh():
    _next_start.clear()  # the database is emptied after each test


def message_ids(pks: list[int]) -> set[str]:
    return {f"<{uid}@testserver>" for uid in Message.objects.filter(pk__in=pks).values_list("uid", flat=True)}


def all_sent(pks: list[int]) -> bool:
    return Message.objects.filter(pk__in=pks, status=Status.SENT).count() == len(pks)


def delivered_once_each(sink: SmtpSink, pks: list[int]) -> None:
    """Wait for every message to be sent, give a late duplicate time to turn up, then check: once each."""
    assert wait_until(lambda: all_sent(pks), DELIVERY_TIMEOUT), (
        Message.objects.exclude(status=Status.SENT).filter(pk__in=pks).values_list("pk", "status", "last_error")[:10]
    )
    sink.wait_for(len(pks), timeout=10)
    time.sleep(SETTLE)
    received = sink.message_ids()
    assert {mid: n for mid, n in received.items() if n > 1} == {}, "sent twice"
    assert set(received) == message_ids(pks)
    assert len(sink.deliveries) == len(pks)


def next_weekday_at_ten(days_ahead: int = 2) -> datetime:
    day = timezone.now().astimezone(NEW_YORK).date() + timedelta(days=days_ahead)
    while day.weekday() not in WEEKDAYS:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, tzinfo=NEW_YORK)


# --- the tests -----------------------------------------------------------------------------------------------


def test_two_sweepers_at_once_send_each_of_500_due_messages_exactly_once(
    workers, environment, sink, dr_chen, follow_up
):
    pks = due_reminders(500, dr_chen, follow_up)
    workers("sender")
    # Small batches, so that the two really take turns claiming (FOR UPDATE SKIP LOCKED) and enqueueing.
    sweepers = [Sweeper(environment(), batch=20) for _ in range(2)]
    for sweeper in sweepers:
        sweeper.go()
    claimed = [sweeper.result()["claimed"] for sweeper in sweepers]

    assert sum(claimed) == 500, f"a row claimed twice, or left behind: {claimed}"
    assert min(claimed) > 0, f"the sweepers did not overlap, so this proves nothing: {claimed}"
    delivered_once_each(sink, pks)


def test_a_send_task_redelivered_while_its_first_copy_is_still_sending_sends_one_email(
    workers, broker, sink, dr_chen, follow_up, tmp_path
):
    (pk,) = due_reminders(1, dr_chen, follow_up)
    held = sink.hold("DATA")
    workers("first", visibility_timeout=1)
    broker.beat_tick()
    assert held.wait(30), "the first copy never reached DATA"
    time.sleep(1.5)  # the task is unacknowledged for longer than the visibility timeout now

    # A worker starting up gives back to the queue what has been unacknowledged too long: the same task again.
    workers("second", visibility_timeout=1)
    assert wait_until(lambda: finished_sends(tmp_path), 30), "the task was not delivered again"
    assert finished_sends(tmp_path) == ["not_queued"], "the second copy must leave the row to the first"
    assert not sink.deliveries
    held.release()

    delivered_once_each(sink, [pk])


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    workers, broker, sink, dr_chen, follow_up, stage
):
    visibility = 2
    worker = workers(f"{stage}-0", visibility_timeout=visibility)
    every = []
    for trial in range(5):
        pks = due_reminders(3, dr_chen, follow_up)
        every += pks
        held = sink.hold(stage, sessions=None)
        broker.beat_tick()
        swept = time.monotonic()
        assert held.wait(30), f"trial {trial}: no send reached {stage}"

        worker.kill()
        assert wait_until(lambda held=held: held.cut_off == held.held, 10), "the sink did not see the client go"
        held.release()
        time.sleep(max(0.0, visibility + 0.5 - (time.monotonic() - swept)))
        worker = workers(f"{stage}-{trial + 1}", visibility_timeout=visibility)

        assert wait_until(lambda pks=pks: all_sent(pks), DELIVERY_TIMEOUT), f"trial {trial}: a message was lost"
    delivered_once_each(sink, every)


def test_with_redis_down_a_booking_succeeds_and_its_confirmation_goes_out_once_redis_is_back(
    workers, environment, broker, sink, dr_chen, follow_up, alice
):
    broker.stop()
    start = next_weekday_at_ten()

    booked = run_command(environment(), "book", str(follow_up.pk), str(dr_chen.pk), start.isoformat(), alice.email)
    confirmation = Message.objects.get(appointment_id=booked["appointment"], kind=Message.Kind.CONFIRMATION)
    assert confirmation.status == Status.PENDING

    swept = run_command(environment(), "sweep")
    assert (swept["claimed"], swept["unsent"]) == (0, 1), swept
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.claimed_at) == (Status.PENDING, None)

    broker.start()
    workers("after-the-outage")
    broker.beat_tick()

    delivered_once_each(sink, [confirmation.pk])
    assert sink.deliveries[0].recipients == (alice.email,)
