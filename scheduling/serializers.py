"""Input parsing and output shapes for the scheduling API. No rules of the schedule live here."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from patients.validators import validate_date_of_birth, validate_phone
from scheduling.forms import EARLIEST_DATE, LATEST_DATE
from scheduling.manage_tokens import manage_token
from scheduling.models import Appointment, Location, Practitioner, Room, Service, validate_timezone

MAX_AVAILABILITY_DAYS = 62


def check_in_calendar_range(day: date) -> date:
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise serializers.ValidationError(f"Use a date between {EARLIEST_DATE} and {LATEST_DATE}.")
    return day


class CalendarDateField(serializers.DateField):
    def to_internal_value(self, value) -> date:
        return check_in_calendar_range(super().to_internal_value(value))


class TimeZoneField(serializers.CharField):
    def to_internal_value(self, data: str) -> ZoneInfo:
        name = super().to_internal_value(data)
        try:
            validate_timezone(name)
        except DjangoValidationError:
            raise serializers.ValidationError("Unknown time zone; use an IANA name such as America/New_York.") from None
        return ZoneInfo(name)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time that must carry its UTC offset: a bare "10:00" is ambiguous for a clinic."""

    def to_internal_value(self, value):
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # well-formed but impossible: 30 February, an offset of +99:00
            parsed = None
        if parsed is None:
            raise serializers.ValidationError("Use an ISO 8601 date-time such as 2027-03-01T09:00:00-05:00.")
        if parsed.tzinfo is None:
            raise serializers.ValidationError("Include the UTC offset, e.g. 2027-03-01T09:00:00-05:00.")
        check_in_calendar_range(parsed.date())
        return parsed


class RoomSerializer(serializers.ModelSerializer):
    class Meta:
        model = Room
        fields = ["id", "slug", "name"]


class LocationSerializer(serializers.ModelSerializer):
    rooms = RoomSerializer(many=True, read_only=True)

    class Meta:
        model = Location
        fields = ["id", "slug", "name", "timezone", "address", "phone", "rooms"]


class ServiceSerializer(serializers.ModelSerializer):
    practitioners = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "duration_minutes",
            "buffer_minutes",
            "price",
            "bookable_online",
            "new_patients_only",
            "practitioners",
        ]

    def get_practitioners(self, service: Service) -> list[int]:
        return [practitioner.id for practitioner in service.practitioners.all() if practitioner.active]


class PractitionerSerializer(serializers.ModelSerializer):
    services = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Practitioner
        fields = ["id", "slug", "name", "credentials", "bio", "color", "services"]


class AvailabilityQuerySerializer(serializers.Serializer):
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.filter(active=True))
    practitioner = serializers.PrimaryKeyRelatedField(queryset=Practitioner.objects.filter(active=True), required=False)
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False)
    start = CalendarDateField()
    end = CalendarDateField()
    tz = TimeZoneField(required=False)

    def validate_service(self, service: Service) -> Service:
        if not service.bookable_online and not self.context.get("staff"):
            raise serializers.ValidationError("This treatment is booked by phone; please call the clinic.")
        return service

    def validate(self, data: dict) -> dict:
        start: date = data["start"]
        end: date = data["end"]
        if end < start:
            raise serializers.ValidationError({"end": ["The end date is before the start date."]})
        if end - start >= timedelta(days=MAX_AVAILABILITY_DAYS):
            raise serializers.ValidationError({"end": [f"Ask for at most {MAX_AVAILABILITY_DAYS} days at a time."]})
        return data


class SlotSerializer(serializers.Serializer):
    start = serializers.SerializerMethodField()
    end = serializers.SerializerMethodField()
    practitioner = serializers.IntegerField(source="practitioner_id")
    location = serializers.IntegerField(source="location_id")

    def get_start(self, slot) -> str:
        return slot.start.astimezone(self.context["zone"]).isoformat()

    def get_end(self, slot) -> str:
        return slot.end.astimezone(self.context["zone"]).isoformat()


class PatientInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(max_length=40, validators=[validate_phone])
    date_of_birth = serializers.DateField(validators=[validate_date_of_birth])


class BookingSerializer(serializers.Serializer):
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all())
    practitioner = serializers.PrimaryKeyRelatedField(queryset=Practitioner.objects.all(), required=False)
    start = AwareDateTimeField()
    patient = PatientInputSerializer()
    outside_hours = serializers.BooleanField(
        required=False, default=False, help_text="Staff only: book outside the practitioner's hours, on purpose."
    )


class RescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField()
    practitioner = serializers.PrimaryKeyRelatedField(queryset=Practitioner.objects.all(), required=False)
    outside_hours = serializers.BooleanField(
        required=False, default=False, help_text="Staff only: move outside the practitioner's hours, on purpose."
    )


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class AppointmentSerializer(serializers.ModelSerializer):
    """What the patient (through their manage token) and staff see of an appointment."""

    start = serializers.SerializerMethodField()
    end = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = ["id", "status", "start", "end", "service", "practitioner", "location", "room", "source"]

    def _local(self, appointment: Appointment, moment) -> str:
        return moment.astimezone(appointment.location.zone).isoformat()

    def get_start(self, appointment: Appointment) -> str:
        return self._local(appointment, appointment.start)

    def get_end(self, appointment: Appointment) -> str:
        return self._local(appointment, appointment.end)


class BookedAppointmentSerializer(AppointmentSerializer):
    """The answer to a booking: the only time the manage token is handed out."""

    manage_token = serializers.SerializerMethodField()

    class Meta(AppointmentSerializer.Meta):
        fields = [*AppointmentSerializer.Meta.fields, "manage_token"]

    def get_manage_token(self, appointment: Appointment) -> str:
        return manage_token(appointment)
