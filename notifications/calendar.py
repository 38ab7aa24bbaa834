"""Calendar (.ics) files: the patient's "add to calendar" (later the emails' attachment), and each
practitioner's private subscription feed.

What goes in is what a phone's calendar may show anyone glancing at it: the treatment, the practitioner
(or, in a practitioner's own feed, the patient's initials), the place and the time. Never health data.
"""

from collections.abc import Iterable
from datetime import UTC

import icalendar
from django.http import HttpResponse

from scheduling.models import Appointment, Clinic

_STATUS = {Appointment.Status.CANCELLED: "CANCELLED", Appointment.Status.HELD: "TENTATIVE"}


def appointment_calendar(appointment: Appointment, clinic: Clinic) -> bytes:
    """An RFC 5545 VCALENDAR with one VEVENT: stable UID, SEQUENCE that rises with every change, zoned times."""
    summary = f"{appointment.service.name} with {appointment.practitioner.name}"
    return _calendar([_event(appointment, clinic, summary)], name=None)


def appointment_calendar_download(appointment: Appointment, clinic: Clinic) -> HttpResponse:
    """The file as a download that no shared cache keeps (it names a person's appointment)."""
    response = HttpResponse(appointment_calendar(appointment, clinic), content_type="text/calendar")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


def practitioner_feed(appointments: Iterable[Appointment], clinic: Clinic, practitioner_name: str) -> bytes:
    """A practitioner's own calendar: each visit as the patient's initials and the treatment, nothing more."""
    events = [
        _event(appointment, clinic, f"{_initials(appointment)} · {appointment.service.name}")
        for appointment in appointments
    ]
    return _calendar(events, name=f"{clinic.name}: {practitioner_name}")


def _initials(appointment: Appointment) -> str:
    patient = appointment.patient
    if patient is None:
        return "Held"
    return patient.initials


def _calendar(events: list[icalendar.Event], name: str | None) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Meridian//Appointments//EN")
    calendar.add("version", "2.0")
    if name:
        calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _event(appointment: Appointment, clinic: Clinic, summary: str, *, for_patient: bool = True) -> icalendar.Event:
    location = appointment.location
    zone = location.zone
    event = icalendar.Event()
    event.add("uid", f"{appointment.calendar_uid}@meridian")
    event.add("sequence", appointment.version)
    event.add("dtstamp", appointment.updated_at.astimezone(UTC))
    event.add("dtstart", appointment.start.astimezone(zone))
    event.add("dtend", appointment.end.astimezone(zone))
    event.add("summary", summary)
    event.add("location", ", ".join(part for part in [location.name, " ".join(location.address.split())] if part))
    event.add("status", _STATUS.get(appointment.status, "CONFIRMED"))
    contact = " or ".join(part for part in [clinic.phone, clinic.email] if part)
    if contact and for_patient:
        event.add("description", f"{clinic.name}. To change or cancel, use your booking link or contact {contact}.")
    return event
