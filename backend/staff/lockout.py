"""What django-axes needs from Meridian: the client's address, and the page shown to someone locked out."""

import math
from datetime import timedelta

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from rest_framework.throttling import BaseThrottle


def client_address(request: HttpRequest) -> str | None:
    """The address the rate limits count by: X-Forwarded-For is believed only behind NUM_PROXIES proxies."""
    return BaseThrottle().get_ident(request)


def minutes_left(request: HttpRequest, username: str) -> int:
    """Whole minutes until this username may try again from this address (the wait runs from the locking attempt)."""
    cool_off = get_cool_off(request) or timedelta(minutes=1)
    last = (
        AccessAttempt.objects.filter(username=username, ip_address=getattr(request, "axes_ip_address", None))
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    left = (last or timezone.now()) + cool_off - timezone.now()
    return max(1, math.ceil(left.total_seconds() / 60))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a kind page that says what happened and when to try again (429, with Retry-After)."""
    username = get_client_username(request, credentials) or ""
    minutes = minutes_left(request, username)
    response = render(request, "staff/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
