"""Who may do what through the API.

A staff user's role is the Django group they are in, named exactly as below; a superuser is a manager. Patients
are never staff: a signed-in user without `is_staff` has no role, whatever their groups. The rest of the role
system (permissions per group, managers assigning roles) arrives with the front-desk workspace.
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
    user = request.user
    return bool(user and user.is_authenticated and user.is_staff)


def role_of(user: AbstractBaseUser | AnonymousUser | None) -> str | None:
    """The user's role, or None for anyone who is not staff or is in no role's group."""
    if not (user and user.is_authenticated and user.is_staff):
        return None
    if user.is_superuser:
        return MANAGER
    groups = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    return next((role for role in ROLES if role in groups), None)


def reads_intake_answers(role: str | None) -> bool:
    """The answers are for those who treat and those who run the clinic; the front desk sees the safety flags."""
    return role in (MANAGER, PRACTITIONER)


class HasRole(BasePermission):
    """Staff with a role. Without credentials the answer is 401; signed in without a role, 403."""

    message = "Only clinic staff with a role (front desk, practitioner or manager) may do this."

    def has_permission(self, request: Request, view: object) -> bool:
        return role_of(request.user) is not None
