"""Celery entry points for scheduling: thin wrappers around services."""

from celery import shared_task

from scheduling.services import appointments_release_expired_holds


@shared_task
def release_expired_holds() -> int:
    return appointments_release_expired_holds()
