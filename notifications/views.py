"""The one page of the outbox a patient sees: stopping a kind of email from the link in its footer."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from backend.audit import actor_of
from notifications.content import unsubscribe_token_read
from patients.models import Patient
from patients.services import communication_preference_withdraw

_WHAT = {"education": "educational emails", "reminders": "appointment reminders"}


# csrf_exempt: RFC 8058's one-click POST comes from the mail provider, with no cookie; the signed token in the
# address is what proves the request, and all it can do is stop emails.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (link scanners follow links and must not unsubscribe anyone); POST stops the emails."""
    found = unsubscribe_token_read(token)
    patient = Patient.objects.filter(pk=found[0]).first() if found else None
    if patient is None:
        raise Http404("This link is not valid.")
    what = found[1]
    done = request.method == "POST"
    if done:
        communication_preference_withdraw(patient=patient, what=what, actor=actor_of(request, by_patient_link=True))
    context = {"what": _WHAT[what], "done": done, "token": token}
    return render(request, "notifications/unsubscribe.html", context)
