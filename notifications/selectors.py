"""Reads of the outbox for staff: what an appointment was sent, and what could not be delivered."""

from django.db.models import QuerySet

from notifications.models import Message
from scheduling.models import Appointment


def messages_about(appointment: Appointment) -> QuerySet[Message]:
    """Everything written about one appointment, in the order it fell due."""
    return Message.objects.filter(appointment=appointment).order_by("due_at", "id")


def messages_failed(limit: int = 200) -> QuerySet[Message]:
    """Messages that gave up, latest first, with what the desk needs to call the patient instead."""
    failed = Message.objects.filter(status=Message.Status.FAILED).order_by("-due_at", "-id")
    return failed.select_related("appointment__patient", "appointment__service", "appointment__location")[:limit]
