"""Who may do what through the API. Roles beyond "staff" arrive with the front-desk workspace."""

from rest_framework.request import Request


def is_staff(request: Request) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and user.is_staff)
