"""The outbox's pages: for a patient, stopping a kind of email from the link in its footer; for the front desk
and managers, the messages that could not be delivered (`/desk/messages/`), to call the patient or try again."""

from django.contrib import messages as notices
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backend.api.permissions import FRONT_DESK, MANAGER
from backend.audit import actor_of
from backend.pages import staff_page
from notifications.content import unsubscribe_token_read
from notifications.models import Message
from notifications.selectors import messages_failed
from notifications.services import message_retry
from patients.models import Patient
from patients.services import communication_preference_withdraw

_WHAT = {"education": "educational emails"}


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


@staff_page(FRONT_DESK, MANAGER)
@require_GET
def failed_list(request: HttpRequest) -> HttpResponse:
    return render(request, "desk/messages.html", {"failed": messages_failed()})


@staff_page(FRONT_DESK, MANAGER)
@require_POST
def failed_retry(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message, pk=pk)
    if message_retry(message=message):
        notices.success(request, "It will be sent again within a minute.")
    else:
        notices.error(request, "This message is no longer waiting to be tried again (or its time has passed).")
    return redirect("desk:messages")
