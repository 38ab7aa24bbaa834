"""Celery wiring: beat's schedule names real tasks, and a real worker on Redis runs them."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from backend.celery import app
from scheduling.models import Appointment
from scheduling.tasks import release_expired_holds
from tests.conftest import local
from tests.factories import PatientFactory


def test_it_schedules_only_tasks_that_exist():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry


def test_it_acknowledges_tasks_late_so_a_dead_worker_loses_nothing():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (make test sets it to the local Redis)")
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_releases_expired_holds(dr_chen, follow_up):
    room = dr_chen.hours.first().location.rooms.first()
    start = local(2027, 3, 2, 10)
    stale = Appointment.objects.create(
        patient=PatientFactory(),
        practitioner=dr_chen,
        service=follow_up,
        location=room.location,
        room=room,
        start=start,
        end=start + follow_up.duration,
        blocked_until=start + follow_up.duration + follow_up.buffer,
        status=Appointment.Status.HELD,
        source=Appointment.Source.ONLINE,
        held_until=timezone.now() - timedelta(minutes=1),
    )
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        release_expired_holds.delay()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            stale.refresh_from_db()
            if stale.status == Appointment.Status.CANCELLED:
                break
            time.sleep(0.1)
    assert stale.status == Appointment.Status.CANCELLED
