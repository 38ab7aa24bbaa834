"""Recording who read or changed what. Every intake read or change and every appointment change is written here.

An `Actor` says who acted and from where; entry points make one from the request (`actor_of`) and hand it to the
services, which write the entry in the same transaction as the change it describes.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from backend.models import AuditEntry
from backend.pages import client_key

Kind = AuditEntry.Actor


@dataclass(frozen=True)
class Actor:
    kind: str
    user: AbstractBaseUser | None = None
    client: str = ""  # a keyed hash of the address, never the address


SYSTEM = Actor(Kind.SYSTEM)


def actor_of(request: HttpRequest | None, *, by_patient_link: bool = False) -> Actor:
    """Staff when signed in as staff (and not acting through a patient's link); the public otherwise."""
    if request is None:
        return SYSTEM
    user = getattr(request, "user", None)
    client = client_key(request)
    if by_patient_link:
        return Actor(Kind.PATIENT_LINK, None, client)
    if user is not None and user.is_authenticated and user.is_staff:
        return Actor(Kind.STAFF, user, client)
    return Actor(Kind.ONLINE, None, client)


def _entry(actor: Actor, action: str, **fields) -> AuditEntry:
    return AuditEntry(actor_kind=actor.kind, actor=actor.user, action=action, client=actor.client, **fields)


def audit_write(
    actor: Actor,
    action: str,
    *,
    patient_id: int | None = None,
    appointment_id: int | None = None,
    intake_id: int | None = None,
    detail: str = "",
) -> AuditEntry:
    entry = _entry(
        actor,
        action,
        patient_id=patient_id,
        appointment_id=appointment_id,
        intake_id=intake_id,
        detail=detail[:300],
    )
    entry.save(force_insert=True)
    return entry


def audit_write_many(actor: Actor, action: str, rows: Iterable[dict]) -> None:
    """One INSERT for a page that shows many patients' safety flags at once (the day view)."""
    AuditEntry.objects.bulk_create([_entry(actor, action, **row) for row in rows])


def audit_record(
    request: HttpRequest | None,
    action: str,
    *,
    patient_id: int | None = None,
    appointment_id: int | None = None,
    intake_id: int | None = None,
    by_patient_link: bool = False,
    detail: str = "",
) -> AuditEntry:
    return audit_write(
        actor_of(request, by_patient_link=by_patient_link),
        action,
        patient_id=patient_id,
        appointment_id=appointment_id,
        intake_id=intake_id,
        detail=detail,
    )
