from django.http import HttpRequest

from scheduling.models import Clinic


def clinic(request: HttpRequest) -> dict:
    """The clinic's name and phone for every page's header and footer."""
    current = Clinic.objects.filter(pk=1).values("name", "phone").first() or {}
    return {"clinic_name": current.get("name", "Meridian"), "clinic_phone": current.get("phone", "")}
