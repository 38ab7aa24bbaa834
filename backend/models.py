"""The audit log (who read or changed health data, when, from where; only ever added to) and staff sign-in rules."""

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    class Actor(models.TextChoices):
        STAFF = "staff"
        PATIENT_LINK = "patient_link"  # someone holding an appointment's manage link
        ONLINE = "online"  # someone on the public booking pages or API, without a link or a login
        SYSTEM = "system"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_kind = models.CharField(max_length=16, choices=Actor.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    action = models.CharField(max_length=64, db_index=True)  # e.g. "intake.read", "intake.submit"
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT)
    appointment_id = models.BigIntegerField(null=True, blank=True)
    intake_id = models.BigIntegerField(null=True, blank=True)
    client = models.CharField(max_length=64, blank=True, help_text="A keyed hash of the client's address.")
    # What changed, in words for the manager ("moved from 10:00 to 11:30"). Never health data.
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        default_permissions = ("view",)  # nobody edits or deletes history, not even in the admin

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} by {self.actor_kind}"


class StaffSecurity(models.Model):
    """How one staff member must sign in. No row means the clinic-wide rule alone (STAFF_TWO_FACTOR_REQUIRED)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_security")
    two_factor_required = models.BooleanField(
        "must sign in with a code from an app",
        default=False,
        help_text="After their password, this person types a six-digit code from an authenticator app on their "
        "phone. If they have not set one up yet, they are asked to before any desk or admin page opens.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "sign-in security"

    def __str__(self) -> str:
        return f"Sign-in security for {self.user}"
