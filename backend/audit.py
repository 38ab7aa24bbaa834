"""Recording who touched health data. Every read or change of an intake goes through `audit_record`."""

from django.http import HttpRequest

from backend.models import AuditEntry
from backend.pages import client_key


def audit_record(
    request: HttpRequest | None,
    action: str,
    *,
    patient_id: int | None = None,
    appointment_id: int | None = None,
    intake_id: int | None = None,
    by_patient_link: bool = False,
) -> AuditEntry:
    user = getattr(request, "user", None)
    staff = user if user is not None and user.is_authenticated and not by_patient_link else None
    if by_patient_link:
        kind = AuditEntry.Actor.PATIENT_LINK
    else:
        kind = AuditEntry.Actor.STAFF if staff else AuditEntry.Actor.SYSTEM
    return AuditEntry.objects.create(
        actor_kind=kind,
        actor=staff,
        action=action,
        patient_id=patient_id,
        appointment_id=appointment_id,
        intake_id=intake_id,
        client=client_key(request) if request is not None else "",
    )
