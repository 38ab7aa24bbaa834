"""Reads of the patient record and its intakes, limited to what the reader may see."""

import re
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F, Func, Q, QuerySet, Value
from django.db.models.functions import Replace

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


def patients_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Patient]:
    """Every patient's contact details for the desk and managers; a practitioner, their own patients only."""
    role = role_of(user)
    if role in (MANAGER, FRONT_DESK):
        return Patient.objects.all()
    if role == PRACTITIONER:
        return Patient.objects.filter(appointments__practitioner__user=user).distinct()
    return Patient.objects.none()


def _as_birth_date(text: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


# Enough to find someone at the phone; a longer list means the search needs another word.
SEARCH_LIMIT = 20


def patient_search(user: AbstractBaseUser | AnonymousUser, text: str) -> list[Patient]:
    """Patients whose every word of `text` matches a name, the email or the phone; a date matches the birth date.

    Phone numbers match on digits alone, so "555 0101" finds "+1 (718) 555-0101".
    """
    text = text.strip()[:100]
    if len(text) < 2:
        return []
    patients = patients_visible_to(user)
    birth_date = _as_birth_date(text)
    if birth_date is not None:
        return list(patients.filter(date_of_birth=birth_date)[:SEARCH_LIMIT])
    patients = patients.annotate(phone_digits=_digits("phone"))
    for word in text.split():
        digits = re.sub(r"\D", "", word)
        match = Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        if len(digits) >= 3:
            match |= Q(phone_digits__contains=digits)
        patients = patients.filter(match)
    return list(patients.order_by("last_name", "first_name", "id")[:SEARCH_LIMIT])


def _digits(field: str) -> Func:
    """The column with every character but 0-9 removed, on PostgreSQL and on SQLite (`make run`)."""
    stripped = F(field)
    for character in " +-().":
        stripped = Replace(stripped, Value(character), Value(""))
    return stripped
