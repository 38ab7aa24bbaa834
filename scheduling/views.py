"""The patient's booking pages and the manage-without-an-account pages.

HTTP only: each view parses a form, calls one service or selector, and renders. Every rule (hours,
notice, holds, the late-cancellation window) is the booking services' and the engine's.
"""

import json
from datetime import date

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from backend.audit import actor_of, audit_record
from backend.errors import Conflict, ServiceError
from backend.pages import client_key, rate_limited
from education.selectors import ArticleMatch
from education.services import articles_suggest_on_manage_page
from notifications.calendar import appointment_calendar_download, practitioner_feed
from patients.encryption import decrypt, encrypt
from patients.forms import IntakeForm
from patients.services import intake_for_appointment, intake_submit, patient_find
from scheduling.forms import PatientDetailsForm, parse_day, parse_slot_choice
from scheduling.manage_tokens import appointment_for_manage_token, manage_token
from scheduling.models import Appointment, Clinic, Practitioner, Service
from scheduling.selectors import Week, feed_appointments, monday_of, practitioner_by_feed_key, week_of_slots
from scheduling.services import (
    SlotUnavailable,
    appointment_cancel,
    appointment_confirm_hold,
    appointment_hold,
    appointment_release_hold,
    appointment_reschedule,
    inside_late_window,
)

SESSION_KEY = "booking"
ANY = "any"


def _online_service(slug: str) -> Service:
    return get_object_or_404(Service, slug=slug, active=True, bookable_online=True)


def _chosen_practitioner(service: Service, who: str) -> Practitioner | None:
    if who == ANY:
        return None
    return get_object_or_404(service.practitioners.filter(active=True), slug=who)


def _week_param(request: HttpRequest) -> date | None:
    day = parse_day(request.GET.get("week", ""))
    return monday_of(day) if day else None


def service_list(request: HttpRequest) -> HttpResponse:
    services = Service.objects.filter(active=True, bookable_online=True, practitioners__active=True).distinct()
    return render(request, "booking/services.html", {"services": services, "step": 1})


def practitioner_list(request: HttpRequest, service_slug: str) -> HttpResponse:
    service = _online_service(service_slug)
    practitioners = service.practitioners.filter(active=True)
    return render(
        request, "booking/practitioners.html", {"service": service, "practitioners": practitioners, "step": 2}
    )


def _times_page(request: HttpRequest, service: Service, who: str, *, error: str = "", status: int = 200):
    practitioner = _chosen_practitioner(service, who)
    week = week_of_slots(
        service=service, monday=_week_param(request), practitioner_id=practitioner.id if practitioner else None
    )
    context = _week_context(week, service, practitioner, reverse("booking:hold", args=[service.slug, who]), error)
    context |= {
        "who": who,
        "step": 3,
        "names": dict(service.practitioners.filter(active=True).values_list("id", "name")),
    }
    return render(request, "booking/times.html", context, status=status)


def _week_context(week: Week, service: Service, practitioner: Practitioner | None, action: str, error: str) -> dict:
    """What booking/_week.html needs: the week, where its buttons post, and the last error."""
    context = {"week": week, "service": service, "practitioner": practitioner, "action": action, "error": error}
    return context | {"this_monday": monday_of(timezone.localdate(timezone=week.zone))}


def time_list(request: HttpRequest, service_slug: str, who: str) -> HttpResponse:
    return _times_page(request, _online_service(service_slug), who)


@require_POST
@rate_limited("BOOKING_THROTTLE_RATE")
def hold(request: HttpRequest, service_slug: str, who: str) -> HttpResponse:
    service = _online_service(service_slug)
    choice = parse_slot_choice(request.POST.get("start", ""))
    if choice is None:
        return _times_page(request, service, who, error="Please choose one of the times below.", status=400)
    start, named = choice
    practitioner = _chosen_practitioner(service, who)
    if practitioner is None and named is not None:
        practitioner = service.practitioners.filter(active=True, pk=named).first()
    try:
        held = _hold_instead(request, service, practitioner, start)
    except ServiceError as error:
        status = 409 if isinstance(error, Conflict) else 400
        return _times_page(request, service, who, error=_kindly(error), status=status)
    _session_update(request, hold=held.pk, who=who)
    return redirect("booking:details")


def _hold_instead(request: HttpRequest, service: Service, practitioner: Practitioner | None, start) -> Appointment:
    """Hold the new time, then let the old one go; the old one is given up first only when it is in the way."""
    previous = _held(request)
    previous = previous if previous is not None and previous.status == Appointment.Status.HELD else None
    client = client_key(request)
    if previous is not None:
        # The hold this page replaces does not count against the client's limit.
        Appointment.objects.filter(pk=previous.pk, status=Appointment.Status.HELD).update(held_by="")
    try:
        held = appointment_hold(service=service, practitioner=practitioner, start=start, held_by=client)
    except SlotUnavailable:
        if previous is None:
            raise
        appointment_release_hold(appointment=previous)
        return appointment_hold(service=service, practitioner=practitioner, start=start, held_by=client)
    if previous is not None:
        appointment_release_hold(appointment=previous)
    return held


# An abandoned booking's contact details go with its session after this long, not after Django's two weeks.
BOOKING_SESSION_SECONDS = 2 * 60 * 60


def _session_update(request: HttpRequest, **values: object) -> None:
    """The booking in progress: the held time, and what the patient typed (intake answers encrypted)."""
    request.session[SESSION_KEY] = {**request.session.get(SESSION_KEY, {}), **values}
    if not request.user.is_authenticated:
        request.session.set_expiry(BOOKING_SESSION_SECONDS)


def _kindly(error: ServiceError) -> str:
    if isinstance(error, SlotUnavailable):
        return "Sorry, someone has just taken that time. Here are the times that are still free."
    return error.detail


def _held(request: HttpRequest) -> Appointment | None:
    held_id = request.session.get(SESSION_KEY, {}).get("hold")
    related = ("service", "practitioner", "location")
    return Appointment.objects.select_related(*related).filter(pk=held_id).first() if held_id else None


def _remembered_details(request: HttpRequest) -> dict:
    return request.session.get(SESSION_KEY, {}).get("patient", {})


def _remember_details(request: HttpRequest, form: PatientDetailsForm) -> None:
    # Contact details in the clear; intake answers only ever encrypted (_remember_intake).
    details = {**form.cleaned_data, "date_of_birth": form.cleaned_data["date_of_birth"].isoformat()}
    _session_update(request, patient=details)


def _remember_intake(request: HttpRequest) -> None:
    """The intake as typed, encrypted like a stored intake, so a lost time costs the patient no retyping."""
    typed = {name: request.POST.getlist(name) for name in request.POST if name.startswith("intake-")}
    _session_update(request, intake=encrypt(json.dumps(typed).encode()))


def _remembered_intake(request: HttpRequest) -> QueryDict | None:
    token = request.session.get(SESSION_KEY, {}).get("intake")
    if not token:
        return None
    typed = QueryDict(mutable=True)
    for name, values in json.loads(decrypt(token)).items():
        typed.setlist(name, values)
    return typed


def _forms(request: HttpRequest) -> tuple[PatientDetailsForm, IntakeForm]:
    """The patient's details and the intake, bound to what was posted (on GET: to what they typed before)."""
    if request.method == "POST":
        typed_name = f"{request.POST.get('first_name', '')} {request.POST.get('last_name', '')}"
        return PatientDetailsForm(request.POST), IntakeForm(request.POST, patient_name=typed_name, prefix="intake")
    remembered = _remembered_details(request)
    typed_name = f"{remembered.get('first_name', '')} {remembered.get('last_name', '')}"
    intake_form = IntakeForm(_remembered_intake(request), patient_name=typed_name, prefix="intake")
    return PatientDetailsForm(initial=remembered), intake_form


def _details_page(request: HttpRequest, held: Appointment, forms: tuple, status: int = 200) -> HttpResponse:
    details_form, intake_form = forms
    context = {"held": held, "form": details_form, "intake_form": intake_form, "step": 4}
    context["hold_lapsed"] = held.status != Appointment.Status.HELD or held.held_until < timezone.now()
    return render(request, "booking/details.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def details(request: HttpRequest) -> HttpResponse:
    # Not rate-limited: it writes nothing but the session, and a patient correcting a mistake must never be
    # shut out halfway through the form. The hold before it and the confirmation after it are limited.
    held = _held(request)
    if held is None:
        return redirect("booking:services")
    details_form, intake_form = _forms(request)
    if request.method == "POST" and not request.POST.get("edit"):
        if details_form.is_valid() & intake_form.is_valid():  # both, so every mistake shows at once
            _remember_details(request, details_form)
            _remember_intake(request)
            context = {"held": held, "form": details_form, "intake_form": intake_form, "step": 5}
            return render(request, "booking/review.html", context)
        return _details_page(request, held, (details_form, intake_form), status=400)
    return _details_page(request, held, (details_form, intake_form))


@never_cache
@require_POST
@rate_limited("BOOKING_THROTTLE_RATE")
def confirm(request: HttpRequest) -> HttpResponse:
    state = request.session.get(SESSION_KEY, {})
    if state.get("confirmed") and not state.get("hold"):
        # A second press of "Confirm" (or a reload): the booking was made; show it rather than a failure.
        confirmed = Appointment.objects.filter(pk=state["confirmed"]).first()
        return redirect("booking:manage", token=manage_token(confirmed)) if confirmed else redirect("booking:services")
    held = _held(request)
    if held is None:
        return redirect("booking:services")
    if request.POST.get("hold") != str(held.pk):
        # Reviewed in another tab, for another time: confirm only what this page showed.
        messages.warning(request, "You chose another time in another window. Please check the details again.")
        return redirect("booking:details")
    details_form, intake_form = _forms(request)
    if not (details_form.is_valid() & intake_form.is_valid()):
        return _details_page(request, held, (details_form, intake_form), status=400)
    _remember_details(request, details_form)
    new_patient = patient_find(details_form.details()) is None
    try:
        appointment = appointment_confirm_hold(
            appointment=held, patient=details_form.details(), actor=actor_of(request)
        )
    except ServiceError as error:
        return _confirm_failed(request, held, (details_form, intake_form), error)
    request.session[SESSION_KEY] = {"confirmed": appointment.pk}  # what was typed goes; the booking stays
    _intake_record(request, appointment, intake_form, new_patient=new_patient)
    return redirect("booking:manage", token=manage_token(appointment))


def _intake_record(request: HttpRequest, appointment: Appointment, form: IntakeForm, *, new_patient: bool) -> None:
    """Keep the intake given with this booking. Preferences are set only on a record this booking created:
    a record matched on email and birth date may be someone else's, whose reminders a stranger must not change."""
    data = form.cleaned_data
    try:
        intake = intake_submit(
            patient=appointment.patient,
            appointment=appointment,
            answers=form.answers,
            consent_name=data["consent_name"],
            consenting_as=form.patient_name,
            reminders_opt_in=data["reminders_opt_in"] if new_patient else None,
            education_opt_in=data["education_opt_in"] if new_patient else None,
        )
        _audit_intake(request, "intake.submit", appointment, intake)
    except ServiceError:
        messages.warning(
            request,
            "Your appointment is booked, but we could not save your health questions. Please answer them again below.",
        )
        return
    messages.success(request, "Your appointment is booked. We look forward to seeing you.")


def _confirm_failed(request: HttpRequest, held: Appointment, forms: tuple, error: ServiceError) -> HttpResponse:
    if isinstance(error, SlotUnavailable):
        messages.warning(
            request,
            "Sorry, that time was taken while you were filling in the form. "
            "Everything you typed is saved: please choose another time.",
        )
        week = monday_of(held.start.astimezone(held.location.zone).date())
        who = request.session.get(SESSION_KEY, {}).get("who", ANY)
        url = reverse("booking:times", args=[held.service.slug, who])
        return redirect(f"{url}?week={week.isoformat()}")
    details_form = forms[0]
    details_form.add_error(error.field if error.field in details_form.fields else None, error.detail)
    return _details_page(request, held, forms, status=400)


def _managed(token: str) -> Appointment:
    appointment = appointment_for_manage_token(token)
    if appointment is None:
        raise Http404("This link has expired or is not valid.")
    return appointment


@never_cache
@rate_limited("MANAGE_THROTTLE_RATE")
def manage(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _managed(token)
    clinic = Clinic.load()
    late = inside_late_window(appointment, timezone.now(), clinic)
    context = {"appointment": appointment, "clinic": clinic, "token": token, "late": late}
    context["has_intake"] = appointment.intakes.exists()
    context["articles"] = _suggested_reading(request, appointment)
    return render(request, "booking/manage.html", context)


def _suggested_reading(request: HttpRequest, appointment: Appointment) -> list[ArticleMatch]:
    """A HEAD request shows no page: nothing is chosen (no intake read). A prefetch may never be shown: the articles
    are chosen but not recorded as shown."""
    if request.method == "HEAD":
        return []
    prefetch = "prefetch" in (request.headers.get("Sec-Purpose", "") + request.headers.get("Purpose", "")).lower()
    actor = actor_of(request, by_patient_link=True)
    return articles_suggest_on_manage_page(appointment, actor, record=not prefetch)


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("MANAGE_THROTTLE_RATE", methods=("POST",))
def manage_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """Ask once more, then cancel: a cancelled time may be gone by the time the patient regrets it."""
    appointment = _managed(token)
    if request.method == "GET":
        return render(request, "booking/manage_cancel.html", {"appointment": appointment, "token": token})
    try:
        appointment_cancel(
            appointment=appointment,
            by_staff=False,
            reason=request.POST.get("reason", "")[:300],
            actor=actor_of(request, by_patient_link=True),
        )
    except ServiceError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, "Your appointment is cancelled.")
    return redirect("booking:manage", token=token)


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("MANAGE_THROTTLE_RATE", methods=("POST",))
def manage_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _managed(token)
    error = ""
    if request.method == "POST":
        choice = parse_slot_choice(request.POST.get("start", ""))
        try:
            if choice is None:
                raise ServiceError("Please choose one of the times below.")
            appointment_reschedule(
                appointment=appointment, start=choice[0], by_staff=False, actor=actor_of(request, by_patient_link=True)
            )
        except ServiceError as error_raised:
            error = _kindly(error_raised)
        else:
            messages.success(request, "Your appointment has been moved.")
            return redirect("booking:manage", token=token)
    week = week_of_slots(
        service=appointment.service,
        monday=_week_param(request),
        practitioner_id=appointment.practitioner_id,
        moving=appointment.pk,
    )
    action = reverse("booking:manage-reschedule", args=[token])
    context = _week_context(week, appointment.service, appointment.practitioner, action, error)
    context |= {"appointment": appointment, "token": token}
    return render(request, "booking/reschedule.html", context, status=400 if error else 200)


def _audit_intake(request: HttpRequest, action: str, appointment: Appointment, intake) -> None:
    audit_record(
        request,
        action,
        patient_id=intake.patient_id,
        appointment_id=appointment.pk,
        intake_id=intake.pk,
        by_patient_link=True,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("MANAGE_THROTTLE_RATE", methods=("POST",))
def manage_intake(request: HttpRequest, token: str) -> HttpResponse:
    """Complete or update the health questions given with this appointment (never the rest of the record)."""
    appointment = _managed(token)
    given = intake_for_appointment(appointment)
    initial = IntakeForm.initial_from(given.answers) if given else {}
    if given is not None and request.method == "GET":
        _audit_intake(request, "intake.read", appointment, given)
    form = IntakeForm(
        request.POST or None,
        initial=initial,
        patient_name=given.consent_name if given else appointment.patient.full_name,
        with_preferences=False,
        prefix="intake",
    )
    if request.method == "POST" and form.is_valid():
        submitted = intake_submit(
            patient=appointment.patient,
            appointment=appointment,
            answers=form.answers,
            consent_name=form.cleaned_data["consent_name"],
            consenting_as=form.patient_name,
        )
        _audit_intake(request, "intake.submit", appointment, submitted)
        messages.success(request, "Thank you: your health questions are saved for your practitioner.")
        return redirect("booking:manage", token=token)
    context = {"appointment": appointment, "token": token, "intake_form": form, "updating": given is not None}
    return render(request, "booking/manage_intake.html", context, status=400 if form.errors else 200)


@never_cache
@rate_limited("MANAGE_THROTTLE_RATE")
def manage_calendar(request: HttpRequest, token: str) -> HttpResponse:
    return appointment_calendar_download(_managed(token), Clinic.load())


@never_cache
@rate_limited("MANAGE_THROTTLE_RATE")
def practitioner_calendar_feed(request: HttpRequest, key: str) -> HttpResponse:
    """The practitioner's private subscription: the secret address is the only credential a phone can send."""
    practitioner = practitioner_by_feed_key(key)
    if practitioner is None:
        raise Http404("No calendar at this address.")
    feed = practitioner_feed(feed_appointments(practitioner), Clinic.load(), practitioner.name)
    return HttpResponse(feed, content_type="text/calendar")
