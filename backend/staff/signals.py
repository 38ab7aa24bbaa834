"""Sign-ins, failed sign-ins and lockouts go to the audit log, from whichever login page they came (ours, the admin's).

A failed sign-in keeps the username that was typed (never the password): it says which account was tried.
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from backend.audit import audit_record


@receiver(user_logged_in, dispatch_uid="meridian_audit_staff_login")
def audit_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    audit_record(request, "staff.login", detail=user.get_username())


@receiver(user_login_failed, dispatch_uid="meridian_audit_staff_login_failed")
def audit_login_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    audit_record(request, "staff.login_failed", detail=str(credentials.get("username", "")))


@receiver(user_locked_out, dispatch_uid="meridian_audit_staff_locked_out")
def audit_locked_out(sender, request: HttpRequest, username: str | None, **kwargs) -> None:
    audit_record(request, "staff.locked_out", detail=username or "")
