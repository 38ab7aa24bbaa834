"""The admin and the desk speak the clinic's local time: a manager in New York who types 09:00 means 09:00 there."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from scheduling.models import Location


class AdminInClinicTimeMiddleware:
    """Shows and reads admin and desk date-times in the zone of the clinic's first location (the calendar
    pages override it with the zone of the location they show).

    Stored values stay UTC. A clinic whose locations span several zones gets the first one's, which the
    admin names beside every date-time field (Django's own "Note: you are N hours ahead" hint).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(("/admin/", "/desk/")):
            return self.get_response(request)
        zone = Location.objects.order_by("id").values_list("timezone", flat=True).first()
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
