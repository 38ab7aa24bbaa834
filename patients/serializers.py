"""Input parsing and output shapes for the intake API. Which shape a reader gets is decided in patients/api.py."""

from rest_framework import serializers

from patients.intake import FRONT_DESK_FLAGS
from patients.models import Intake


class IntakeSafetySerializer(serializers.ModelSerializer):
    """What the front desk sees: which safety questions were answered yes, when, and under which consent.

    Never the answers themselves, not even the consenting name: this shape is safe to show at the desk.
    """

    safety_flags = serializers.SerializerMethodField()

    class Meta:
        model = Intake
        fields = [
            "id",
            "patient",
            "submitted_at",
            "safety_flags",
            "consent_version",
            "consent_at",
            "privacy_notice_version",
        ]
        read_only_fields = fields

    def get_safety_flags(self, intake: Intake) -> list[str]:
        return [flag for flag in intake.safety_flags if flag in FRONT_DESK_FLAGS]


class IntakeSerializer(IntakeSafetySerializer):
    """The whole intake: every answer, keyed by question (patients/intake.py lists them), and the consent."""

    answers = serializers.JSONField(read_only=True)

    def get_safety_flags(self, intake: Intake) -> list[str]:
        return list(intake.safety_flags)

    class Meta(IntakeSafetySerializer.Meta):
        fields = [*IntakeSafetySerializer.Meta.fields, "consent_name", "answers"]
        read_only_fields = fields


class IntakeQuerySerializer(serializers.Serializer):
    patient = serializers.IntegerField(min_value=1, help_text="The patient whose current intake to read.")


class IntakeSubmitSerializer(serializers.Serializer):
    """An updated intake from the patient. The answers are checked by the service, question by question."""

    answers = serializers.DictField(help_text="Every answer, keyed by question.")
    consent_name = serializers.CharField(max_length=200, allow_blank=True, help_text="The patient's full name.")
    # No communication preferences here: a manage link proves who booked, not who owns the patient record, and
    # must not switch off someone else's reminders. They are set when the record is created, and by staff.
