"""Helpers shared by the server-rendered pages."""

import hashlib
import hmac
from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from backend.api.permissions import PRACTITIONER, ROLES, role_of
from backend.api.throttles import SettingRateThrottle


def _throttle(setting_name: str) -> SettingRateThrottle:
    # Pages count separately from the API (a booking through the pages takes three requests).
    scope = f"pages-{setting_name.lower()}"
    return type("PageThrottle", (SettingRateThrottle,), {"scope": scope, "setting_name": setting_name})()


def rate_limited(setting_name: str, methods: Iterable[str] = ("GET", "POST")) -> Callable:
    """Limit anonymous clients per address with the rate in settings.<setting_name>; staff are not limited."""
    methods = frozenset(methods)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            throttle = _throttle(setting_name)
            if request.method in methods and not throttle.allow_request(request, None):
                wait = throttle.wait()
                response = render(request, "429.html", {"minutes": max(1, round((wait or 60) / 60))}, status=429)
                response["Retry-After"] = str(int(wait or 60))
                return response
            return view(request, *args, **kwargs)

        return limited

    return decorator


def client_key(request: HttpRequest) -> str:
    """A keyed hash of the client's address (as the rate limits see it): it identifies without storing the address."""
    address = _throttle("BOOKING_THROTTLE_RATE").get_ident(request)
    return hmac.new(settings.SECRET_KEY.encode(), f"client:{address}".encode(), hashlib.sha256).hexdigest()[:32]


def staff_page(*roles: str) -> Callable:
    """A page for signed-in staff in one of `roles` (all three when none are named).

    Anyone else signed out goes to the staff login; signed in without such a role (a patient, a staff flag
    without a group, a practitioner's login no calendar is linked to) gets a 403. The page is never cached: it
    shows patients' details. `request.role` is set.
    """
    allowed = frozenset(roles or ROLES)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @never_cache
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            role = role_of(request.user)
            if role not in allowed:
                raise PermissionDenied("This page is not open to your role.")
            if role == PRACTITIONER and not hasattr(request.user, "practitioner"):
                # A practitioner's login that no calendar is linked to yet: nothing is theirs to open.
                raise PermissionDenied("No practitioner's calendar is linked to this login yet.")
            request.role = role
            return view(request, *args, **kwargs)

        return guarded

    return decorator
