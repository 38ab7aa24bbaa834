"""The staff's patient pages: search (as you type), a patient's page, staff notes and preferences, and a
practitioner's "my day" with each patient's intake before the visit.

HTTP only. What a role may see is decided by the selectors (`patients_visible_to`, `intake_current_readable_by`,
`reads_intake_answers`); every intake shown is audited as it is read.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from backend.api.permissions import PRACTITIONER, reads_intake_answers
from backend.audit import actor_of, audit_write
from backend.errors import ServiceError
from backend.pages import staff_page
from education.selectors import articles_shared_with
from patients.intake import FLAG_LABELS, FRONT_DESK_FLAGS, answers_readable
from patients.models import Patient
from patients.selectors import intake_current_readable_by, patient_search, patients_visible_to
from patients.services import communication_preferences_set, staff_note_add
from scheduling.day_grid import day_bounds
from scheduling.models import Appointment, Practitioner
from scheduling.selectors import appointments_visible_to, practitioner_zone

Status = Appointment.Status


@staff_page()
@require_GET
def patient_list(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    found = patient_search(request.user, text)
    # The search box asks for the results alone as the person types; without JavaScript, the whole page.
    template = "desk/_patient_results.html" if request.GET.get("partial") == "1" else "desk/patients.html"
    context = {"q": text, "patients": found, "pick": request.GET.get("pick") == "1"}
    return render(request, template, context)


def _intake_shown(request: HttpRequest, patient: Patient, where: str) -> dict:
    """The patient's current intake as the role allows, audited: every answer, or the safety flags only."""
    intake = intake_current_readable_by(request.user, patient.pk)
    if intake is None:
        return {"intake": None}
    full = reads_intake_answers(request.role)
    action = "intake.read" if full else "intake.read_flags"
    audit_write(actor_of(request), action, patient_id=patient.pk, intake_id=intake.pk, detail=where)
    flags = intake.safety_flags if full else tuple(f for f in intake.safety_flags if f in FRONT_DESK_FLAGS)
    return {
        "intake": intake,
        "flags": [FLAG_LABELS[flag] for flag in flags],
        "answers": answers_readable(intake.answers) if full else None,
    }


@staff_page()
@require_GET
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(patients_visible_to(request.user), pk=pk)
    return render(request, "desk/patient.html", _patient_context(request, patient))


def _patient_context(request: HttpRequest, patient: Patient) -> dict:
    now = timezone.now()
    visits = list(
        appointments_visible_to(request.user)
        .filter(patient=patient)
        .exclude(status=Status.HELD)
        .select_related("service", "practitioner", "location")
        .order_by("-start")
    )
    upcoming = [a for a in reversed(visits) if a.end > now and a.status in (Status.BOOKED, Status.ARRIVED)]
    return {
        "patient": patient,
        "upcoming": upcoming,
        "past": [a for a in visits if a not in upcoming],
        "no_shows": sum(a.status == Status.NO_SHOW for a in visits),
        "late_cancellations": sum(a.late_cancellation for a in visits),
        "notes": patient.staff_notes.select_related("author")[:50],
        "shared_articles": articles_shared_with(patient, request.user),
        **_intake_shown(request, patient, "patient page"),
    }


@staff_page()
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(patients_visible_to(request.user), pk=pk)
    try:
        staff_note_add(patient=patient, text=request.POST.get("text", ""), actor=actor_of(request))
    except ServiceError as error:
        context = _patient_context(request, patient) | {
            "note_error": error.detail,
            "note_text": request.POST.get("text", ""),
        }
        return render(request, "desk/patient.html", context, status=400)
    messages.success(request, "Note saved.")
    return redirect("desk:patient", pk=pk)


@staff_page()
@require_POST
def preferences(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(patients_visible_to(request.user), pk=pk)
    communication_preferences_set(
        patient=patient,
        reminders_opt_in=request.POST.get("reminders_opt_in") == "on",
        education_opt_in=request.POST.get("education_opt_in") == "on",
        actor=actor_of(request),
    )
    messages.success(request, "Communication preferences saved.")
    return redirect("desk:patient", pk=pk)


@staff_page(PRACTITIONER)
@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    """The practitioner's visits today, each with the patient's intake summary and safety flags before it."""
    practitioner = get_object_or_404(Practitioner, user=request.user)
    zone = practitioner_zone(practitioner)
    today = timezone.localdate(timezone=zone)
    low, high = day_bounds(today, zone)
    visits = (
        Appointment.objects.filter(practitioner=practitioner, start__lt=high, end__gt=low)
        .filter(status__in=[Status.BOOKED, Status.ARRIVED, Status.COMPLETED, Status.NO_SHOW])
        .select_related("patient", "service", "room")
        .order_by("start")
    )
    shown = [(visit, _intake_shown(request, visit.patient, f"my day {today}")) for visit in visits]
    with timezone.override(zone):
        return render(request, "desk/my_day.html", {"visits": shown, "today": today, "zone": zone})
