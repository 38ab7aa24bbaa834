"""Writes to the patient record."""

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction

from patients.models import Patient


@dataclass(frozen=True)
class PatientDetails:
    first_name: str
    last_name: str
    email: str
    phone: str
    date_of_birth: date


def patient_find(details: PatientDetails) -> Patient | None:
    """A returning patient is the one with this email (any case) and date of birth."""
    return Patient.objects.filter(email__iexact=details.email, date_of_birth=details.date_of_birth).first()


def patient_find_or_create(details: PatientDetails) -> Patient:
    """The existing record, untouched, or a new one.

    An anonymous request never rewrites an existing record: knowing someone's email and birth date
    must not let a stranger change their phone number.
    """
    patient = patient_find(details)
    if patient is not None:
        return patient
    try:
        with transaction.atomic():
            return Patient.objects.create(
                first_name=details.first_name.strip(),
                last_name=details.last_name.strip(),
                email=details.email.strip(),
                phone=details.phone.strip(),
                date_of_birth=details.date_of_birth,
            )
    except IntegrityError:
        # Another request created the same patient a moment ago (a double submit); use that record.
        return Patient.objects.get(email__iexact=details.email, date_of_birth=details.date_of_birth)
