"""Calendar (.ics) files for an appointment: the patient's "add to calendar", later the emails' attachment.

What goes in is what a phone's calendar may show anyone glancing at it: the treatment, the practitioner,
the place and the time. Never the patient's health data.
"""

from datetime import UTC

import icalendar

from scheduling.models import Appointment, Clinic

_STATUS = {Appointment.Status.CANCELLED: "CANCELLED", Appointment.Status.HELD: "TENTATIVE"}


def appointment_calendar(appointment: Appointment, clinic: Clinic) -> bytes:
    """An RFC 5545 VCALENDAR with one VEVENT: stable UID, SEQUENCE that rises with every change, zoned times."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Meridian//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add_component(_event(appointment, clinic))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _event(appointment: Appointment, clinic: Clinic) -> icalendar.Event:
    location = appointment.location
    zone = location.zone
    event = icalendar.Event()
    event.add("uid", f"{appointment.calendar_uid}@meridian")
    event.add("sequence", appointment.version)
    event.add("dtstamp", appointment.updated_at.astimezone(UTC))
    event.add("dtstart", appointment.start.astimezone(zone))
    event.add("dtend", appointment.end.astimezone(zone))
    event.add("summary", f"{appointment.service.name} with {appointment.practitioner.name}")
    event.add("location", ", ".join(part for part in [location.name, " ".join(location.address.split())] if part))
    event.add("status", _STATUS.get(appointment.status, "CONFIRMED"))
    contact = " or ".join(part for part in [clinic.phone, clinic.email] if part)
    if contact:
        event.add("description", f"{clinic.name}. To change or cancel, use your booking link or contact {contact}.")
    return event
