"""The clinic: where, who, what and when. Times are stored in UTC; each location keeps its IANA zone."""

import secrets
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Func, Q


def validate_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{name!r} is not an IANA time zone such as Europe/London.") from None


def default_reminder_hours() -> list[int]:
    return [48, 2]


# A week: a reminder further ahead than that is forgotten again before the visit.
MAX_REMINDER_HOURS = 168


def validate_reminder_hours(value: object) -> None:
    if not isinstance(value, list) or len(value) > 4:
        raise ValidationError("Give at most four reminders, as a list of hours such as [48, 2].")
    if any(type(hours) is not int or not 1 <= hours <= MAX_REMINDER_HOURS for hours in value):
        raise ValidationError(f"Each reminder is a whole number of hours from 1 to {MAX_REMINDER_HOURS}.")
    if len(set(value)) != len(value):
        raise ValidationError("Each reminder must be at a different time.")


class Clinic(models.Model):
    """The clinic and its booking policy. There is exactly one row (pk=1)."""

    name = models.CharField(max_length=200, default="Meridian Acupuncture")
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    slot_step_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    min_notice_hours = models.PositiveSmallIntegerField(default=12)
    horizon_days = models.PositiveSmallIntegerField(default=90, validators=[MinValueValidator(1)])
    late_cancel_hours = models.PositiveSmallIntegerField(default=24)
    hold_minutes = models.PositiveSmallIntegerField(default=7, validators=[MinValueValidator(1)])
    reminder_hours = models.JSONField(
        default=default_reminder_hours,
        validators=[validate_reminder_hours],
        help_text="How many hours before a visit each reminder is sent, e.g. [48, 2].",
    )

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="clinic_is_a_singleton")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def load(cls) -> "Clinic":
        clinic, _ = cls.objects.get_or_create(pk=1)
        return clinic


class Location(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    address = models.TextField(blank=True)
    directions = models.TextField(blank=True, help_text="How to find the door: shown in confirmation emails.")
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Room(models.Model):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms")
    slug = models.SlugField()
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location", "name"]
        constraints = [models.UniqueConstraint(fields=["location", "slug"], name="room_slug_unique_per_location")]

    def __str__(self) -> str:
        return f"{self.location} · {self.name}"


class Service(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    duration_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(5), MaxValueValidator(480)])
    buffer_minutes = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(240)])
    price = models.DecimalField(max_digits=8, decimal_places=2)
    bookable_online = models.BooleanField(default=True)
    new_patients_only = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "name"]
        constraints = [models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="service_has_a_duration")]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


class Practitioner(models.Model):
    slug = models.SlugField(unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="practitioner"
    )
    name = models.CharField(max_length=200)
    credentials = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True)
    color = models.CharField(
        max_length=7,
        default="#2f6f5e",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour such as #2f6f5e.")],
    )
    active = models.BooleanField(default=True)
    services = models.ManyToManyField(Service, related_name="practitioners", blank=True)
    display_order = models.PositiveSmallIntegerField(default=0)
    # The secret in the practitioner's private calendar-feed address; empty when there is no feed. A new
    # key revokes the old address at once.
    calendar_feed_key = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name


class WorkingHours(models.Model):
    """A weekly interval in the location's wall-clock time, e.g. Mondays 09:00-17:00 in Europe/London."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="hours")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(
        choices=[
            (0, "Monday"),
            (1, "Tuesday"),
            (2, "Wednesday"),
            (3, "Thursday"),
            (4, "Friday"),
            (5, "Saturday"),
            (6, "Sunday"),
        ]
    )
    start_time = models.TimeField()
    end_time = models.TimeField()
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True, help_text="Last day these hours apply (inclusive).")

    class Meta:
        ordering = ["practitioner", "weekday", "start_time"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="hours_end_after_start"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="hours_weekday_is_a_day"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="hours_valid_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} {self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def overlaps(self, other: "WorkingHours") -> bool:
        """Same day, times and validity that meet: a practitioner can't be in two places at once."""
        if self.weekday != other.weekday or not (self.start_time < other.end_time and other.start_time < self.end_time):
            return False
        starts_before_other_ends = not (self.valid_from and other.valid_until and self.valid_from > other.valid_until)
        ends_after_other_starts = not (self.valid_until and other.valid_from and self.valid_until < other.valid_from)
        return starts_before_other_ends and ends_after_other_starts

    def clean(self) -> None:
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The end must be after the start; a shift can't run past midnight."})
        if self.practitioner_id is None or self.start_time is None or self.end_time is None:
            return
        others = WorkingHours.objects.filter(practitioner_id=self.practitioner_id, weekday=self.weekday)
        clash = next((other for other in others.exclude(pk=self.pk) if self.overlaps(other)), None)
        if clash is not None:
            raise ValidationError(f"These hours overlap {clash} at {clash.location}.")


class TimeOff(models.Model):
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="time_off_end_after_start")]

    def __str__(self) -> str:
        return f"{self.practitioner}: {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M}"


class Closure(models.Model):
    """A whole local day on which a location is closed."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["location", "date"], name="one_closure_per_location_day")]

    def __str__(self) -> str:
        return f"{self.location} closed {self.date}"


def new_manage_key() -> str:
    return secrets.token_urlsafe(24)


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Appointment(models.Model):
    class Status(models.TextChoices):
        HELD = "held"
        BOOKED = "booked"
        ARRIVED = "arrived"
        COMPLETED = "completed"
        CANCELLED = "cancelled"
        NO_SHOW = "no_show"

    class Source(models.TextChoices):
        ONLINE = "online"
        STAFF = "staff"

    # The statuses that occupy the practitioner and the room. A cancelled or no-show appointment frees both.
    ACTIVE_STATUSES = (Status.HELD, Status.BOOKED, Status.ARRIVED, Status.COMPLETED)

    # Empty only while a time is held for someone still filling in the booking form (or once that hold lapsed).
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    # end + the service's buffer when booked: the time the practitioner and the room stay taken.
    blocked_until = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)
    source = models.CharField(max_length=16, choices=Source.choices)
    held_until = models.DateTimeField(null=True, blank=True)
    # Who is holding: a keyed hash of the client's address, never the address itself. It caps how many
    # times one client can hold at once, so nobody can keep a day blocked by holding every slot.
    held_by = models.CharField(max_length=64, blank=True, db_index=True)
    # Set when a rule could not be applied without telling a stranger something: the front desk follows up.
    review_reason = models.CharField(max_length=200, blank=True)
    # Booked by staff at a time outside the practitioner's working hours, on purpose (never over another
    # booking). Recorded so the schedule's later changes and the audit log can tell it from a mistake.
    outside_hours = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=300, blank=True)
    late_cancellation = models.BooleanField(default=False)
    manage_key = models.CharField(max_length=64, default=new_manage_key, editable=False)
    # The calendar files' UID: one per appointment for ever, so a moved visit updates the same event.
    calendar_uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.PositiveIntegerField(default=1, help_text="Goes up on every change of time or status.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["practitioner", "start"], name="appointment_practitioner_start"),
            models.Index(fields=["location", "start"], name="appointment_location_start"),
            models.Index(fields=["status", "held_until"], name="appointment_status_held_until"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_end_after_start"),
            models.CheckConstraint(condition=Q(blocked_until__gte=F("end")), name="appointment_blocked_after_end"),
            models.CheckConstraint(
                condition=Q(patient__isnull=False) | Q(status__in=["held", "cancelled"]),
                name="appointment_has_a_patient_once_booked",
            ),
            # The guarantee behind "no double booking, ever". PostgreSQL only: migration 0002 skips them
            # on SQLite, which serves the demo (`make run`) and nothing else.
            ExclusionConstraint(
                name="no_overlap_per_practitioner",
                expressions=[
                    (TsTzRange("start", "blocked_until"), RangeOperators.OVERLAPS),
                    ("practitioner", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=["held", "booked", "arrived", "completed"]),
            ),
            # A person is in one treatment at a time (a double submit to two practitioners, say). Compared
            # over [start, end): the buffer is the room's and the practitioner's, not the patient's.
            ExclusionConstraint(
                name="no_overlap_per_patient",
                expressions=[
                    (TsTzRange("start", "end"), RangeOperators.OVERLAPS),
                    ("patient", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=["held", "booked", "arrived", "completed"]),
            ),
            ExclusionConstraint(
                name="no_overlap_per_room",
                expressions=[
                    (TsTzRange("start", "blocked_until"), RangeOperators.OVERLAPS),
                    ("room", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=["held", "booked", "arrived", "completed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} with {self.practitioner} at {self.start:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES
