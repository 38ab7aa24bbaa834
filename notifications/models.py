"""The outbox: one row per message Meridian owes someone, written in the same transaction as its cause.

A row moves pending → queued (a sweeper claimed it and enqueued a send task) → sent, or to skipped (it no
longer applies: cancelled, moved, started, opted out, stale) or failed (delivery kept failing). Only the send
task moves a row out of queued, and only by a conditional update, so a row is delivered at most once by us.
"""

import uuid

from django.db import models
from django.db.models import Q

from notifications import planning


class Message(models.Model):
    class Kind(models.TextChoices):
        CONFIRMATION = planning.CONFIRMATION, "Booking confirmation"
        REMINDER = planning.REMINDER, "Reminder"
        INTAKE_NUDGE = planning.INTAKE_NUDGE, "Intake reminder"
        CHANGE = planning.CHANGE, "Change notice"
        CANCELLATION = planning.CANCELLATION, "Cancellation notice"
        FOLLOW_UP = planning.FOLLOW_UP, "Follow-up"
        STAFF_BOOKING = planning.STAFF_BOOKING, "Staff notice: online booking"
        STAFF_CANCELLATION = planning.STAFF_CANCELLATION, "Staff notice: cancellation"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    # PROTECT: what was sent about an appointment is part of its record.
    appointment = models.ForeignKey("scheduling.Appointment", on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    # The appointment's version when the message was written: a message about an earlier version no longer
    # applies (the time moved, or the status changed).
    appointment_version = models.PositiveIntegerField()
    # How long before the start a reminder is due; 0 for every other kind. Part of the unique key, because a
    # clinic's two reminders (48 h and 2 h) are the same kind about the same version.
    lead_minutes = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField()
    # After this the message would only confuse (a 48 h reminder an hour before the visit): skipped, not sent.
    stale_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The address it went to, kept once sent: the patient's email may change later.
    sent_to = models.CharField(max_length=254, blank=True)
    # The Message-ID of every attempt (notifications/channels.py).
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind", "channel", "appointment_version", "lead_minutes"],
                name="one_message_per_appointment_version",
            ),
            models.CheckConstraint(condition=Q(stale_at__gte=models.F("due_at")), name="message_stale_after_due"),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="message_status_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for appointment {self.appointment_id} ({self.status})"
