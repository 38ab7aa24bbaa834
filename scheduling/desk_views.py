"""The staff's calendar pages: the day across practitioners or rooms, a practitioner's week, the day sheet, and
one appointment with what can be done to it (book, move, cancel, check in, complete, no-show).

HTTP only: every change is a booking service's (scheduling/services.py), every read a selector's; what a role may
open is `appointments_visible_to` and `staff_page`. Pages work without JavaScript; desk.js adds polling, search
as you type and dragging an appointment to another time.
"""

from datetime import date, datetime, timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from backend.api.permissions import FRONT_DESK, MANAGER, PRACTITIONER
from backend.audit import actor_of
from backend.errors import ServiceError
from backend.pages import staff_page
from notifications.selectors import messages_about
from patients.intake import FLAG_LABELS
from patients.models import Patient
from patients.selectors import patient_search, patients_visible_to
from patients.services import safety_flags_read
from scheduling.availability import wall_clock
from scheduling.day_grid import day_bounds
from scheduling.forms import DeskBookingForm, DeskCancelForm, DeskMoveForm, TimeOffForm, parse_day, parse_slot_choice
from scheduling.models import Appointment, Clinic, Location, Practitioner, Service, TimeOff
from scheduling.selectors import (
    DeskCalendar,
    appointments_visible_to,
    bookable_slots,
    calendar_stamp,
    day_calendar,
    monday_of,
    practitioner_zone,
    week_calendar,
)
from scheduling.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_set_status,
    inside_late_window,
    time_off_add,
    time_off_remove,
)

Status = Appointment.Status
STEPS = (5, 15)


def _day(request: HttpRequest, zone) -> date:
    return parse_day(request.GET.get("date", "")) or timezone.localdate(timezone=zone)


def _step(request: HttpRequest) -> int:
    step = request.GET.get("step", "")
    return int(step) if step.isdigit() and int(step) in STEPS else 15


def _location(request: HttpRequest) -> Location:
    locations = Location.objects.order_by("id")
    slug = request.GET.get("location")
    location = locations.filter(slug=slug).first() if slug else locations.first()
    if location is None:
        raise Http404("No location: load a clinic file first.")
    return location


def _flag_reader(request: HttpRequest, where: str):
    """Reads (and audits) the safety flags of the patients a calendar shows, named as a badge names them."""
    actor = actor_of(request)

    def read(patient_ids: set[int]) -> dict[int, tuple[str, ...]]:
        flags = safety_flags_read(patient_ids=patient_ids, actor=actor, detail=where)
        return {patient_id: tuple(FLAG_LABELS[flag] for flag in keys) for patient_id, keys in flags.items()}

    return read


def _own_practitioner(request: HttpRequest) -> Practitioner | None:
    """The signed-in practitioner's own record; None for the desk and managers. A practitioner's login that no
    calendar is linked to yet opens nothing (404), rather than falling back to the desk's view of everyone."""
    if request.role != PRACTITIONER:
        return None
    return get_object_or_404(Practitioner, user=request.user)


def _visible_practitioner(request: HttpRequest, slug: str) -> Practitioner:
    """Any practitioner for the desk and managers; a practitioner opens only their own (others: not found)."""
    practitioners = Practitioner.objects.all()
    if request.role == PRACTITIONER:
        practitioners = practitioners.filter(user=request.user)
    return get_object_or_404(practitioners, slug=slug)


@staff_page()
@require_GET
def day(request: HttpRequest) -> HttpResponse:
    location = _location(request)
    shown = _day(request, location.zone)
    by_room = request.GET.get("by") == "room"
    # The stamp first: a change committed while the calendar is read then shows at the next poll, not never.
    stamp = calendar_stamp(request.user, *day_bounds(shown, location.zone), location_id=location.id)
    calendar = day_calendar(
        user=request.user,
        location=location,
        day=shown,
        by_room=by_room,
        step=_step(request),
        flags_for=_flag_reader(request, f"day view {shown}"),
    )
    context = _calendar_context(request, calendar, shown, location.zone, stamp)
    context |= {
        "view": "day",
        "location": location,
        "locations": Location.objects.order_by("id"),
        "by_room": by_room,
        "previous": shown - timedelta(days=1),
        "next": shown + timedelta(days=1),
    }
    return _render_calendar(request, context)


@staff_page()
@require_GET
def week(request: HttpRequest, slug: str) -> HttpResponse:
    practitioner = _visible_practitioner(request, slug)
    zone = practitioner_zone(practitioner)
    monday = monday_of(_day(request, zone))
    stamp = calendar_stamp(request.user, *_week_bounds(monday, zone), practitioner_id=practitioner.id)
    calendar = week_calendar(
        user=request.user,
        practitioner=practitioner,
        monday=monday,
        step=_step(request),
        flags_for=_flag_reader(request, f"week view {monday}"),
    )
    context = _calendar_context(request, calendar, monday, zone, stamp)
    context |= {
        "view": "week",
        "practitioner": practitioner,
        "previous": monday - timedelta(days=7),
        "next": monday + timedelta(days=7),
    }
    return _render_calendar(request, context)


def _week_bounds(monday: date, zone) -> tuple[datetime, datetime]:
    return day_bounds(monday, zone)[0], day_bounds(monday + timedelta(days=6), zone)[1]


def _calendar_context(request: HttpRequest, calendar: DeskCalendar, shown: date, zone, stamp: str) -> dict:
    return {
        "calendar": calendar,
        "shown": shown,
        "today": timezone.localdate(timezone=zone),
        "step": _step(request),
        "steps": STEPS,
        "stamp": stamp,
        "can_book": request.role in (FRONT_DESK, MANAGER) or _own_practitioner(request) is not None,
        # Sixty cards, two links each: joined from one reversed prefix ({% url %} per card was a third of the time).
        "appointments_url": reverse("desk:appointment", args=[0]).removesuffix("0/"),
    }


def _render_calendar(request: HttpRequest, context: dict) -> HttpResponse:
    # The poller asks for the calendar alone once the stamp has changed; the page keeps its place and focus.
    template = "desk/_calendar.html" if request.GET.get("partial") == "1" else "desk/calendar.html"
    with timezone.override(context["calendar"].zone):
        return render(request, template, context)


@staff_page()
@require_GET
def changes(request: HttpRequest) -> JsonResponse:
    """The stamp of what the calendar shows, for the page's poller (no patient data): the day at a location, or
    with `practitioner=<slug>` that practitioner's week, bounded exactly as the page bounds it."""
    slug = request.GET.get("practitioner")
    if slug:
        practitioner = _visible_practitioner(request, slug)
        zone = practitioner_zone(practitioner)
        monday = monday_of(parse_day(request.GET.get("date", "")) or timezone.localdate(timezone=zone))
        stamp = calendar_stamp(request.user, *_week_bounds(monday, zone), practitioner_id=practitioner.id)
    else:
        location = _location(request)
        shown = _day(request, location.zone)
        stamp = calendar_stamp(request.user, *day_bounds(shown, location.zone), location_id=location.id)
    return JsonResponse({"stamp": stamp})


@staff_page()
@require_GET
def day_sheet(request: HttpRequest, slug: str) -> HttpResponse:
    """A practitioner's day on paper: times, patients, treatments, rooms, safety flags. Printed from the browser."""
    practitioner = _visible_practitioner(request, slug)
    zone = practitioner_zone(practitioner)
    shown = _day(request, zone)
    calendar = week_calendar(
        user=request.user,
        practitioner=practitioner,
        monday=shown,
        days=1,
        step=15,
        flags_for=_flag_reader(request, f"day sheet {shown}"),
    )
    cards = calendar.columns[0].cards
    return render(
        request,
        "desk/day_sheet.html",
        {"practitioner": practitioner, "shown": shown, "cards": cards, "zone": zone, "calendar": calendar},
    )


# One appointment ---------------------------------------------------------------------------------------------


def _visible_appointment(request: HttpRequest, pk: int) -> Appointment:
    related = ("patient", "service", "practitioner", "room", "location")
    return get_object_or_404(
        appointments_visible_to(request.user).select_related(*related), pk=pk, patient__isnull=False
    )


def _movable_to(request: HttpRequest):
    """Whom an appointment may be booked with or moved to: a practitioner, themselves; the desk, anyone active."""
    own = _own_practitioner(request)
    return Practitioner.objects.filter(pk=own.pk) if own else Practitioner.objects.filter(active=True)


@staff_page()
@require_GET
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _visible_appointment(request, pk)
    return _appointment_page(request, appointment)


def _appointment_page(request: HttpRequest, appointment: Appointment, *, move=None, cancel=None, status=200):
    zone = appointment.location.zone
    local = appointment.start.astimezone(zone)
    move = move or DeskMoveForm(
        practitioners=_movable_to(request),
        initial={"practitioner": appointment.practitioner_id, "day": local.date(), "time": local.time()},
    )
    context = {
        "appointment": appointment,
        "zone": zone,
        "starts": local,
        "ends": appointment.end.astimezone(zone),
        "move_form": move,
        "cancel_form": cancel or DeskCancelForm(),
        "late": inside_late_window(appointment, timezone.now(), Clinic.load()),
        "patient_url": reverse("desk:patient", args=[appointment.patient_id]),
        "outbox": messages_about(appointment),
    }
    return render(request, "desk/appointment.html", context, status=status)


# The status buttons: the form's `to` value, and what the desk is told afterwards.
STATUS_CHANGES = {
    "arrived": (Status.ARRIVED, "Checked in."),
    "booked": (Status.BOOKED, "Check-in undone."),
    "completed": (Status.COMPLETED, "Marked as completed."),
    "no_show": (Status.NO_SHOW, "Marked as a no-show."),
}


@staff_page()
@require_POST
def appointment_status(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _visible_appointment(request, pk)
    change = STATUS_CHANGES.get(request.POST.get("to", ""))
    if change is None:
        messages.error(request, "Choose one of the buttons.")
        return redirect("desk:appointment", pk=pk)
    try:
        appointment_set_status(appointment=appointment, status=change[0], actor=actor_of(request))
    except ServiceError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, change[1])
    return redirect(_back(request, appointment))


@staff_page()
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _visible_appointment(request, pk)
    form = DeskCancelForm(request.POST)
    if not form.is_valid():
        return _appointment_page(request, appointment, cancel=form, status=400)
    try:
        appointment = appointment_cancel(
            appointment=appointment, by_staff=True, reason=form.cleaned_data["reason"], actor=actor_of(request)
        )
    except ServiceError as error:
        messages.error(request, error.detail)
        return redirect("desk:appointment", pk=pk)
    messages.success(request, "Cancelled (a late cancellation)." if appointment.late_cancellation else "Cancelled.")
    return redirect(_back(request, appointment))


@staff_page()
@require_POST
def appointment_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move by the form on the appointment's page, or by dragging its card (desk.js posts the same form)."""
    appointment = _visible_appointment(request, pk)
    form = DeskMoveForm(request.POST, practitioners=_movable_to(request))
    if not form.is_valid():
        return _appointment_page(request, appointment, move=form, status=400)
    data = form.cleaned_data
    try:
        appointment = appointment_reschedule(
            appointment=appointment,
            start=wall_clock(data["day"], data["time"], appointment.location.zone),
            practitioner=data["practitioner"],
            by_staff=True,
            outside_hours=data["outside_hours"],
            actor=actor_of(request),
        )
    except ServiceError as error:
        form.add_error(None, error.detail)
        return _appointment_page(request, appointment, move=form, status=error.status_code)
    local = appointment.start.astimezone(appointment.location.zone)
    messages.success(request, f"Moved to {local:%a %-d %b, %H:%M} with {appointment.practitioner.name}.")
    return redirect(_back(request, appointment))


def _back(request: HttpRequest, appointment: Appointment) -> str:
    """Back to the calendar the change was made from (a same-site /desk/ path only), else the appointment's day."""
    back = request.POST.get("next", "")
    same_site = url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure())
    if same_site and back.startswith("/desk/") and "\n" not in back and "\r" not in back:
        return back
    local = appointment.start.astimezone(appointment.location.zone)
    return f"{reverse('desk:day')}?date={local.date().isoformat()}&location={appointment.location.slug}"


# Booking a phone or walk-in patient --------------------------------------------------------------------------


def _booking_form(request: HttpRequest, data=None) -> DeskBookingForm:
    initial = {
        "day": parse_day(request.GET.get("date", "")) or timezone.localdate(),
        "practitioner": request.GET.get("practitioner"),
    }
    if request.GET.get("patient", "").isdigit():
        initial["patient"] = int(request.GET["patient"])
    return DeskBookingForm(
        data, services=Service.objects.filter(active=True), practitioners=_movable_to(request), initial=initial
    )


@staff_page()
def book(request: HttpRequest) -> HttpResponse:
    """One form: find or type the patient, choose treatment, practitioner and day, then one of the free times
    (or, on purpose, a time outside the hours). "Show free times" re-renders with everything kept."""
    form = _booking_form(request, request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        return _booking_page(request, form, status=400 if request.method == "POST" and form.errors else 200)
    patient = _chosen_patient(request, form)
    details = None if patient else form.new_patient()
    if request.POST.get("action") != "book" or (patient is None and details is None):
        return _booking_page(request, form, status=200 if request.POST.get("action") != "book" else 400)
    start = _chosen_start(form)
    if start is None:
        form.add_error("start", "Choose one of the free times, or a time outside working hours.")
        return _booking_page(request, form, status=400)
    try:
        appointment = appointment_book(
            service=form.cleaned_data["service"],
            practitioner=form.cleaned_data["practitioner"],
            start=start,
            patient=patient or details,
            source=Appointment.Source.STAFF,
            outside_hours=form.cleaned_data["outside_hours"],
            actor=actor_of(request),
        )
    except ServiceError as error:
        form.add_error(error.field if error.field in form.fields else None, error.detail)
        return _booking_page(request, form, status=error.status_code)
    messages.success(request, f"Booked {appointment.patient.full_name}.")
    return redirect("desk:appointment", pk=appointment.pk)


def _chosen_patient(request: HttpRequest, form: DeskBookingForm) -> Patient | None:
    chosen = form.cleaned_data.get("patient")
    return patients_visible_to(request.user).filter(pk=chosen).first() if chosen else None


def _chosen_start(form: DeskBookingForm) -> datetime | None:
    data = form.cleaned_data
    if data["outside_hours"]:
        if data.get("outside_time") is None:
            return None
        return wall_clock(data["day"], data["outside_time"], practitioner_zone(data["practitioner"]))
    choice = parse_slot_choice(data.get("start") or "")
    return choice[0] if choice else None


def _booking_page(request: HttpRequest, form: DeskBookingForm, status: int = 200) -> HttpResponse:
    data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    slots, zone = [], None
    if data.get("service") and data.get("practitioner") and data.get("day"):
        found = bookable_slots(
            service=data["service"],
            start_date=data["day"],
            end_date=data["day"],
            practitioner_id=data["practitioner"].id,
            source=Appointment.Source.STAFF,
        )
        slots, zone = [slot.start.astimezone(found.zone) for slot in found.slots], found.zone
    patient_id = data.get("patient") or form.initial.get("patient")
    patient = patients_visible_to(request.user).filter(pk=patient_id).first() if patient_id else None
    q = request.POST.get("q", "") if request.method == "POST" else ""
    matches = patient_search(request.user, q) if patient is None else []
    context = {"form": form, "slots": slots, "zone": zone, "patient": patient, "q": q, "matches": matches}
    context["chosen_start"] = data.get("start", "")
    with timezone.override(zone or timezone.get_current_timezone()):  # the free times, in their location's zone
        return render(request, "desk/book.html", context, status=status)


# A practitioner's own time off (a manager, anyone's) ------------------------------------------------------------


def _time_off_owner(request: HttpRequest) -> Practitioner:
    own = _own_practitioner(request)
    if own is not None:
        return own
    slug = request.GET.get("practitioner") or request.POST.get("practitioner")
    practitioners = Practitioner.objects.order_by("display_order", "name")
    return get_object_or_404(practitioners, slug=slug) if slug else get_object_or_404(practitioners[:1])


@staff_page(PRACTITIONER, MANAGER)
def time_off(request: HttpRequest) -> HttpResponse:
    """List, add (refused if it covers booked patients, who are listed) and remove time off."""
    practitioner = _time_off_owner(request)
    zone = practitioner_zone(practitioner)
    with timezone.override(zone):
        form = TimeOffForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                time_off_add(practitioner=practitioner, actor=actor_of(request), **form.cleaned_data)
            except ServiceError as error:
                form.add_error(None, error.detail)
            else:
                messages.success(request, "Time off saved.")
                return redirect(f"{reverse('desk:time-off')}?practitioner={practitioner.slug}")
        context = {
            "practitioner": practitioner,
            "form": form,
            "zone": zone,
            "upcoming": practitioner.time_off.filter(end__gt=timezone.now()).order_by("start"),
            "hours": practitioner.hours.select_related("location").order_by("weekday", "start_time"),
            "practitioners": Practitioner.objects.filter(active=True) if request.role == MANAGER else [],
        }
        return render(request, "desk/time_off.html", context, status=400 if form.errors else 200)


@staff_page(PRACTITIONER, MANAGER)
@require_POST
def time_off_delete(request: HttpRequest, pk: int) -> HttpResponse:
    own = _own_practitioner(request)
    rows = TimeOff.objects.filter(practitioner=own) if own else TimeOff.objects.all()
    away = get_object_or_404(rows.select_related("practitioner"), pk=pk)
    time_off_remove(time_off=away, actor=actor_of(request))
    messages.success(request, "Time off removed.")
    return redirect(f"{reverse('desk:time-off')}?practitioner={away.practitioner.slug}")
