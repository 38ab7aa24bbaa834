"""Rate limits read from settings at request time, so an operator (or a test) can tune them."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from backend.api.permissions import is_staff


class SettingRateThrottle(SimpleRateThrottle):
    """Limits anonymous clients per IP address; signed-in staff are not limited."""

    setting_name = ""

    def get_rate(self) -> str | None:
        return getattr(settings, self.setting_name)

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str | None:
        if is_staff(request):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class BookingThrottle(SettingRateThrottle):
    scope = "booking"
    setting_name = "BOOKING_THROTTLE_RATE"


class ManageThrottle(SettingRateThrottle):
    scope = "manage"
    setting_name = "MANAGE_THROTTLE_RATE"
