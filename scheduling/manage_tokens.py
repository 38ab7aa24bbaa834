"""Manage links: a patient opens their own appointment without an account.

A token is the appointment id and its random manage key, signed with SECRET_KEY. It names no person,
opens one appointment only, and stops working once that appointment is over.
"""

import hmac
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

from scheduling.models import Appointment

_SALT = "meridian.manage-token"


def manage_token(appointment: Appointment) -> str:
    return signing.dumps([appointment.pk, appointment.manage_key], salt=_SALT, compress=True)


def appointment_for_manage_token(token: str, *, now: datetime | None = None) -> Appointment | None:
    """The appointment this token opens, or None for a forged, mismatched or expired token."""
    try:
        appointment_id, key = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    appointment = (
        Appointment.objects.select_related("service", "practitioner", "location").filter(pk=appointment_id).first()
    )
    if appointment is None or not hmac.compare_digest(str(key), appointment.manage_key):
        return None
    expires = appointment.end + timedelta(hours=settings.MANAGE_TOKEN_GRACE_HOURS)
    if (now or timezone.now()) > expires:
        return None
    return appointment
