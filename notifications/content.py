"""What a message says, whatever the channel: its subject, the facts its templates show, its attachments.

Nothing here is health data. A message names the treatment, the practitioner, the place and the time, and links
to the patient's own pages; the intake is never quoted, and the articles come with a title and a link only.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import dateformat

from education.selectors import ArticleMatch, articles_for_appointment
from notifications.calendar import appointment_calendar
from notifications.models import Message
from patients.models import Patient
from scheduling.manage_tokens import manage_token
from scheduling.models import Appointment, Clinic
from scheduling.selectors import is_first_visit

Kind = Message.Kind
STAFF_KINDS = (Kind.STAFF_BOOKING, Kind.STAFF_CANCELLATION)
_WITH_CALENDAR = (Kind.CONFIRMATION, Kind.CHANGE, Kind.CANCELLATION)
_WITH_ARTICLES = (Kind.CONFIRMATION, Kind.FOLLOW_UP)
_OFFER_INTAKE = (Kind.CONFIRMATION, Kind.REMINDER, Kind.INTAKE_NUDGE)
_UNSUBSCRIBE_SALT = "meridian.unsubscribe"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


@dataclass
class Content:
    subject: str
    recipient_email: str
    zone: ZoneInfo
    context: dict[str, Any]
    reply_to: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    unsubscribe_url: str = ""
    articles: list[ArticleMatch] = field(default_factory=list)


def message_content(message: Message) -> Content:
    appointment = message.appointment
    clinic = Clinic.load()
    zone = appointment.location.zone
    context = _facts(appointment, clinic, zone)
    if message.kind in STAFF_KINDS:
        return _for_staff(message, clinic, zone, context)
    return _for_patient(message, clinic, zone, context)


def _facts(appointment: Appointment, clinic: Clinic, zone: ZoneInfo) -> dict[str, Any]:
    location = appointment.location
    return {
        "clinic": clinic,
        "service_name": appointment.service.name,
        "practitioner_name": appointment.practitioner.name,
        "start": appointment.start.astimezone(zone),
        "location_name": location.name,
        "address_lines": [line.strip() for line in location.address.splitlines() if line.strip()],
        "directions": location.directions,
        "location_phone": location.phone or clinic.phone,
    }


def _for_patient(message: Message, clinic: Clinic, zone: ZoneInfo, context: dict[str, Any]) -> Content:
    appointment = message.appointment
    patient = appointment.patient
    token = manage_token(appointment)
    context |= {
        "first_name": patient.first_name,
        "manage_url": _absolute("booking:manage", token),
        "intake_url": _intake_url(message.kind, patient, token),
        "rebook_url": _absolute("booking:practitioners", appointment.service.slug),
        "first_visit": message.kind == Kind.CONFIRMATION and is_first_visit(appointment),
    }
    articles = _articles(message, patient)
    context["articles"] = [
        {
            "title": match.article.title,
            "summary": match.article.summary,
            "url": _absolute("education:article", match.article.slug),
        }
        for match in articles
    ]
    unsubscribe = _unsubscribe_url(patient.pk, "education") if articles else ""
    context["unsubscribe_url"] = unsubscribe
    attachments = []
    if message.kind in _WITH_CALENDAR:
        attachments.append(Attachment("appointment.ics", appointment_calendar(appointment, clinic), "text/calendar"))
    return Content(
        subject=_subject(message.kind, context),
        recipient_email=patient.email,
        zone=zone,
        context=context,
        reply_to=clinic.email,
        attachments=attachments,
        unsubscribe_url=unsubscribe,
        articles=articles,
    )


def _intake_url(kind: str, patient: Patient, token: str) -> str:
    """The link to fill in the intake, in the messages that offer it while it is missing."""
    if kind not in _OFFER_INTAKE or patient.intakes.exists():
        return ""
    return _absolute("booking:manage-intake", token)


def _for_staff(message: Message, clinic: Clinic, zone: ZoneInfo, context: dict[str, Any]) -> Content:
    appointment = message.appointment
    context |= {
        # Initials only: a clinic inbox is read on phones and forwarded; the desk page has the rest.
        "patient_initials": appointment.patient.initials,
        "desk_url": _absolute("desk:appointment", appointment.pk),
    }
    return Content(subject=_subject(message.kind, context), recipient_email=clinic.email, zone=zone, context=context)


# Subjects show on lock screens and in shared inboxes: the clinic and the time, never the treatment.
_SUBJECTS = {
    Kind.CONFIRMATION: "Booked: {clinic_name}, {when}",
    Kind.REMINDER: "Reminder: {clinic_name}, {when}",
    Kind.INTAKE_NUDGE: "Before your first visit on {when}: your questionnaire",
    Kind.CHANGE: "Changed: your appointment is now {when}",
    Kind.CANCELLATION: "Cancelled: your appointment on {when}",
    Kind.FOLLOW_UP: "After your visit: a few notes from {clinic_name}",
    Kind.STAFF_BOOKING: "Online booking {when}: {patient_initials} with {practitioner_name}",
    Kind.STAFF_CANCELLATION: "Cancelled online {when}: {patient_initials} with {practitioner_name}",
}


def _subject(kind: str, context: dict[str, Any]) -> str:
    start: datetime = context["start"]  # already in the location's zone
    when = dateformat.format(start, r"D j M \a\t g:i A").replace(":00 ", " ")
    subject = _SUBJECTS[kind].format(when=when, clinic_name=context["clinic"].name, **context)
    return " ".join(subject.split())  # a line break typed into a name in the admin must not break the header


def _articles(message: Message, patient: Patient) -> list[ArticleMatch]:
    if message.kind not in _WITH_ARTICLES or not patient.education_opt_in:
        return []
    return articles_for_appointment(message.appointment, limit=3)


def _absolute(name: str, *args: object) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _unsubscribe_url(patient_id: int, what: str) -> str:
    token = signing.dumps([patient_id, what], salt=_UNSUBSCRIBE_SALT, compress=True)
    return _absolute("notifications:unsubscribe", token)


def unsubscribe_token_read(token: str) -> tuple[int, str] | None:
    """The patient and the kind of email a List-Unsubscribe link stops, or None for a forged token."""
    try:
        patient_id, what = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if what != "education":  # the only kind of email with such a link today
        return None
    return int(patient_id), what
