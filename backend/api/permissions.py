"""Who may do what through the API.

A staff user's role is the Django group they are in, named exactly as below; a superuser is a manager. Patients
are never staff: a signed-in user without `is_staff` has no role, whatever their groups. The role
system's other half is the admin: managers put staff in groups there, and only the Manager group holds model
permissions (backend/migrations/0003). What each role may open is tested as one matrix in
tests/test_permission_matrix.py.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

MANAGER = "Manager"
PRACTITIONER = "Practitioner"
FRONT_DESK = "Front desk"
# Most trusted first: someone in two groups acts in the first one.
ROLES = (MANAGER, PRACTITIONER, FRONT_DESK)


def is_staff(request: Request) -> bool:
    """Staff with a role. A staff flag without a role gets the public's answers, as a patient would."""
    return role_of(request.user) is not None


def role_of(user: AbstractBaseUser | AnonymousUser | None) -> str | None:
    """The user's role, or None for anyone who is not staff or is in no role's group (asked once per request)."""
    if not (user and user.is_authenticated and user.is_staff):
        return None
    if user.is_superuser:
        return MANAGER
    if not hasattr(user, "_meridian_role"):
        groups = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._meridian_role = next((role for role in ROLES if role in groups), None)
    return user._meridian_role


def reads_intake_answers(role: str | None) -> bool:
    """The answers are for those who treat and those who run the clinic; the front desk sees the safety flags."""
    return role in (MANAGER, PRACTITIONER)


class HasRole(BasePermission):
    """Staff with a role. Without credentials the answer is 401; signed in without a role, 403."""

    message = "Only clinic staff with a role (front desk, practitioner or manager) may do this."

    def has_permission(self, request: Request, view: object) -> bool:
        return role_of(request.user) is not None
