"""Two middlewares for signed-in staff: sessions end when idle, and two-factor is enforced in one place."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from backend.staff import two_factor

POLL_HEADER = "HTTP_X_MERIDIAN_POLL"
ACTIVE_AT = "staff_active_at"  # when the idle clock was last pushed back (POSIX seconds)
REFRESH_SECONDS = 60


class StaffIdleTimeoutMiddleware:
    """A signed-in session ends STAFF_IDLE_MINUTES after its last request.

    Each request pushes the end back, except the desk calendar's polls (`X-Meridian-Poll: 1`): a screen left open
    at the front desk must not keep its session alive, so a poll leaves the session untouched (and unsaved).
    The expiry is set after the view, so the request that signs in already gets it. Anonymous sessions (a patient's
    booking in progress) keep their own expiry.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.META.get(POLL_HEADER) != "1" and request.user.is_authenticated:
            self._push_back(request)
        return response

    @staticmethod
    def _push_back(request: HttpRequest) -> None:
        # Saving the session is a durable write (a commit, an fsync) on every page of a busy desk; pushing the end
        # back at most once a minute keeps it to one write a minute, and the session still ends 29 to 30 idle
        # minutes after the last request.
        now = int(time.time())
        if now - request.session.get(ACTIVE_AT, 0) < REFRESH_SECONDS:
            return
        request.session[ACTIVE_AT] = now
        request.session.set_expiry(settings.STAFF_IDLE_MINUTES * 60)


# Where a signed-in person who still owes a code (or a device) may not go. The rest of the site (the patients'
# booking pages, the sign-in pages themselves) shows nothing that needs more than the public sees.
GUARDED = ("/desk/", "/admin/", "/api/", "/staff/two-factor/")
ALWAYS_OPEN = ("/admin/logout/",)


class TwoFactorMiddleware:
    """Two-factor, enforced for every staff page at once.

    A person with a confirmed device who has not typed a code this session is sent to the code step; a person who
    must use two-factor (clinic-wide or ticked by a manager) and has no device yet is sent to set one up (that page
    is then open to them). Session-authenticated API calls get a 403 in the API's error shape instead of a redirect.
    Token-authenticated API clients are out of scope: Django's session middleware sees no user for them, and a token
    is a credential of its own.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if not path.startswith(GUARDED) or path.startswith(ALWAYS_OPEN) or not request.user.is_authenticated:
            return self.get_response(request)
        if request.user.is_verified():
            return self.get_response(request)
        if two_factor.confirmed_device(request.user) is not None:
            return self._refuse(request, "staff:two_factor_verify", "Please enter the code from your app first.")
        if two_factor.two_factor_required(request.user) and not path.startswith("/staff/two-factor/"):
            return self._refuse(request, "staff:two_factor", "Please set up two-factor sign-in first.")
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, url_name: str, detail: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            body = {"error": "two_factor_required", "detail": detail, "fields": {}}
            return JsonResponse(body, status=403)
        return redirect(f"{reverse(url_name)}?{urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})}")
