"""The patient record, with their communication preferences, and the intake forms they submit (health data)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from patients.encryption import EncryptedJSONField
from patients.intake import safety_flags


class Patient(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    phone = models.CharField(max_length=40)
    date_of_birth = models.DateField()
    # Communication preferences are not health data: plain columns. Reminders are on unless the patient
    # says no; educational emails only when they ask for them.
    reminders_opt_in = models.BooleanField("appointment reminders", default=True)
    education_opt_in = models.BooleanField("educational emails", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            # A returning patient is recognised by email and date of birth; one record each.
            models.UniqueConstraint(Lower("email"), "date_of_birth", name="one_patient_per_email_and_birth_date"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def initials(self) -> str:
        """Such as "A.M.": all a calendar feed or a list of affected appointments may show of the patient."""
        return "".join(f"{name[:1].upper()}." for name in (self.first_name, self.last_name) if name)


class Intake(models.Model):
    """One submitted intake form. Every submission is kept; the latest is the patient's current intake."""

    # PROTECT: health records go deliberately, never as a side effect of deleting something else.
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="intakes")
    # The booking it came with. A manage link opens only the intakes given through its own appointment: the
    # link proves who booked, not who the patient record belongs to (it was matched on email and birth date).
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="intakes"
    )
    submitted_at = models.DateTimeField()
    # Every answer, encrypted as one token: patients/intake.py lists the questions.
    answers = EncryptedJSONField()
    consent_version = models.CharField(max_length=32)
    consent_name = models.CharField(max_length=200, help_text="The full name the patient typed to consent.")
    consent_at = models.DateTimeField()
    privacy_notice_version = models.CharField(max_length=32)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["patient", "-submitted_at"], name="intake_patient_latest")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(consent_name="") & ~Q(consent_version="") & ~Q(privacy_notice_version=""),
                name="intake_records_consent",
            ),
        ]

    def __str__(self) -> str:
        # Never the answers: this string ends up in logs, error reports and the shell.
        return f"Intake {self.pk} of patient {self.patient_id}"

    @property
    def safety_flags(self) -> tuple[str, ...]:
        """The safety questions answered "yes" (e.g. "pregnant", "pacemaker"): what the front desk may see."""
        return safety_flags(self.answers)


class StaffNote(models.Model):
    """A note the clinic's staff keep on a patient ("prefers afternoons", "hard of hearing"). Not clinical:
    the front desk reads and writes them, so treatment notes belong in the practitioner's own records."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="staff_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Note {self.pk} on patient {self.patient_id}"
