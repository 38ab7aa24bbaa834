"""Writes to the patient record and its intakes."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, models, transaction
from django.db.models import Value
from django.db.models.functions import Cast
from django.utils import timezone

from backend.audit import Actor, audit_write, audit_write_many
from backend.errors import ServiceError
from patients.encryption import UndecryptableValue, token_rotate
from patients.intake import (
    CONSENT_VERSION,
    FRONT_DESK_FLAGS,
    PRIVACY_NOTICE_VERSION,
    answers_clean,
    names_match,
)
from patients.models import Intake, Patient, StaffNote

if TYPE_CHECKING:
    from scheduling.models import Appointment


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


def intake_submit(
    *,
    patient: Patient,
    answers: Mapping[str, object],
    consent_name: str,
    reminders_opt_in: bool | None = None,
    education_opt_in: bool | None = None,
    appointment: "Appointment | None" = None,
    consenting_as: str | None = None,
    now: datetime | None = None,
) -> Intake:
    """Record a completed intake form, with consent to the current texts, as the patient's current intake.

    Every bad answer is refused at once (IntakeInvalid, one message per field). The typed name must be the
    patient's name, give or take case, spacing and accents. Communication preferences left as None stay as they are.
    """
    cleaned = answers_clean(answers)
    if not consent_name.strip():
        raise ServiceError("Type your full name to give your consent.", field="consent_name")
    # The booking pages compare with the name typed on the same page (`consenting_as`): a record matched on
    # email and birth date may spell the name differently, and saying so would tell a stranger it exists.
    if not names_match(consent_name, consenting_as or patient.full_name):
        # Says nothing of the name on record: a stranger may have typed someone else's email.
        raise ServiceError(
            "Type your full name, first and last, as you gave it for this booking.", field="consent_name"
        )
    now = now or timezone.now()
    with transaction.atomic():
        _communication_preferences_set(patient, reminders_opt_in=reminders_opt_in, education_opt_in=education_opt_in)
        return Intake.objects.create(
            patient=patient,
            appointment=appointment,
            answers=cleaned,
            submitted_at=now,
            consent_name=" ".join(consent_name.split()),
            consent_version=CONSENT_VERSION,
            consent_at=now,
            privacy_notice_version=PRIVACY_NOTICE_VERSION,
        )


def intake_for_appointment(appointment: "Appointment") -> Intake | None:
    """The latest intake given through this appointment: all its manage link may open."""
    return Intake.objects.filter(appointment=appointment).order_by("-submitted_at", "-id").first()


def intake_current(patient: Patient) -> Intake | None:
    """The patient's latest intake, or None before their first."""
    return Intake.objects.filter(patient=patient).order_by("-submitted_at", "-id").first()


@dataclass(frozen=True)
class RotationBatch:
    rotated: int
    already_current: int
    last_id: int | None  # None: no intake after the one asked for


def intake_keys_rotate_batch(*, after_id: int, size: int) -> RotationBatch:
    """Re-encrypt up to `size` intakes with ids above `after_id` with the first key; idempotent.

    Works on the tokens as stored (Cast to text skips decryption into Python), and writes them back as text,
    so the answers never become Python values here. Rows are locked so that a concurrent write is not overwritten.
    """
    with transaction.atomic():
        rows = list(
            Intake.objects.filter(id__gt=after_id)
            .order_by("id")
            .select_for_update()
            .values_list("id", Cast("answers", models.TextField()))[:size]
        )
        rotated = 0
        for intake_id, token in rows:
            try:
                new_token = token_rotate(token)
            except UndecryptableValue as error:
                raise UndecryptableValue(f"Intake {intake_id}: {error}") from None
            if new_token is not None:
                Intake.objects.filter(id=intake_id).update(answers=Value(new_token, output_field=models.TextField()))
                rotated += 1
    return RotationBatch(rotated, len(rows) - rotated, rows[-1][0] if rows else None)


def _communication_preferences_set(patient: Patient, **preferences: bool | None) -> None:
    changes = {name: value for name, value in preferences.items() if value is not None}
    if changes:
        Patient.objects.filter(pk=patient.pk).update(**changes)
        for name, value in changes.items():
            setattr(patient, name, value)


def safety_flags_read(*, patient_ids: Iterable[int], actor: Actor, detail: str) -> dict[int, tuple[str, ...]]:
    """The front-desk safety flags of each patient's current intake, for a page that shows many patients (the
    day view, a day sheet), with one audit row per patient whose intake was opened, written in one INSERT."""
    ids = set(patient_ids)
    latest: dict[int, Intake] = {}
    for intake in Intake.objects.filter(patient_id__in=ids).order_by("patient_id", "-submitted_at", "-id"):
        latest.setdefault(intake.patient_id, intake)
    rows = [{"patient_id": pid, "intake_id": intake.pk, "detail": detail} for pid, intake in latest.items()]
    audit_write_many(actor, "intake.read_flags", rows)
    return {
        patient_id: tuple(flag for flag in intake.safety_flags if flag in FRONT_DESK_FLAGS)
        for patient_id, intake in latest.items()
    }


def staff_note_add(*, patient: Patient, text: str, actor: Actor) -> StaffNote:
    text = text.strip()
    if not text:
        raise ServiceError("Write the note first.", field="text")
    if len(text) > 2000:
        raise ServiceError("A note is at most 2,000 characters.", field="text")
    with transaction.atomic():
        note = StaffNote.objects.create(patient=patient, author=actor.user, text=text)
        audit_write(actor, "patient.note_add", patient_id=patient.pk)
    return note


def communication_preferences_set(
    *, patient: Patient, reminders_opt_in: bool, education_opt_in: bool, actor: Actor
) -> None:
    """Staff record what the patient asked for on the phone or at the desk."""
    with transaction.atomic():
        _communication_preferences_set(patient, reminders_opt_in=reminders_opt_in, education_opt_in=education_opt_in)
        detail = f"reminders {'on' if reminders_opt_in else 'off'}, education {'on' if education_opt_in else 'off'}"
        audit_write(actor, "patient.preferences", patient_id=patient.pk, detail=detail)


def communication_preference_withdraw(*, patient: Patient, what: str, actor: Actor) -> None:
    """The patient followed an email's unsubscribe link: "education" or "reminders" stops."""
    field = {"education": "education_opt_in", "reminders": "reminders_opt_in"}[what]
    if not getattr(patient, field):
        return  # already off: a replayed one-click POST changes nothing and records nothing
    with transaction.atomic():
        _communication_preferences_set(patient, **{field: False})
        audit_write(actor, "patient.preferences", patient_id=patient.pk, detail=f"{what} off (email link)")
