"""Reads of the patient record and its intakes, limited to what the reader may see."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from backend.api.permissions import FRONT_DESK, MANAGER, PRACTITIONER, role_of
from patients.models import Intake, Patient


def intakes_readable_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Intake]:
    """The intakes this staff user may open (front desk: to see their safety flags only).

    A practitioner opens the intakes of their own patients: anyone with an appointment with them, past or
    present, cancelled or not. A time merely held has no patient yet, so it opens nothing.
    """
    role = role_of(user)
    if role in (MANAGER, FRONT_DESK):
        return Intake.objects.all()
    if role == PRACTITIONER:
        own_patients = Patient.objects.filter(appointments__practitioner__user=user)
        return Intake.objects.filter(patient__in=own_patients)
    return Intake.objects.none()


def intake_current_readable_by(user: AbstractBaseUser | AnonymousUser, patient_id: int) -> Intake | None:
    """The patient's latest intake, or None if they have none or it is not this user's to open."""
    return intakes_readable_by(user).filter(patient_id=patient_id).order_by("-submitted_at", "-id").first()
