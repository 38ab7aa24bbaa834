"""Meridian's email as a mail server receives it: real SMTP to a sink on loopback (tests/smtp_sink.py), then the
raw bytes and their MIME structure, headers and calendar file, and what a 451 or a 550 does to the outbox row.

Alice books with Dr Chen on Monday morning (2027-03-01, 08:00 in New York) for Wednesday 10:00; sends run through
`send_due_notifications` (one foreground sweep), into Django's SMTP backend.
"""

import socket
from datetime import timedelta
from email.message import EmailMessage

import icalendar
import pytest
from django.core.management import call_command

from education.models import Article, Topic
from notifications.models import Message
from patients.services import intake_submit
from scheduling.models import Appointment
from scheduling.services import appointment_book, appointment_reschedule, appointment_set_status
from tests.conftest import NEW_YORK, local
from tests.smtp_sink import Delivery, SmtpSink
from tests.test_intake import REASON, answers

Kind = Message.Kind
Status = Message.Status
WEDNESDAY_10 = local(2027, 3, 3, 10)
# What Alice's intake says (tests.test_intake.answers, with Warfarin): none of it may reach a mail server.
HEALTH_DETAILS = (REASON, "Sciatica", "Ostrava", "Walk the dog", "Warfarin", "Paul Moreau", "555 010 0199")


@pytest.fixture
def clinic_inbox(clinic) -> str:
    clinic.email = "hello@meridian-clinic.example.org"
    clinic.save()
    return clinic.email


@pytest.fixture
def booked(dr_chen, follow_up, alice, monday_morning, clinic_inbox) -> Appointment:
    return appointment_book(service=follow_up, start=WEDNESDAY_10, patient=alice, practitioner=dr_chen)


def sweep() -> None:
    call_command("send_due_notifications", stdout=open("/dev/null", "w"))  # noqa: SIM115


def message(appointment: Appointment, kind: str, lead_minutes: int = 0) -> Message:
    return Message.objects.get(
        appointment=appointment, kind=kind, lead_minutes=lead_minutes, appointment_version=appointment.version
    )


def only(sink: SmtpSink) -> EmailMessage:
    (delivery,) = sink.deliveries
    return delivery.email


def calendar_event(email: EmailMessage) -> icalendar.Event:
    (attachment,) = list(email.iter_attachments())
    assert attachment.get_filename() == "appointment.ics"
    assert attachment.get_content_type() == "text/calendar"
    (event,) = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    return event


def everything_readable(delivery: Delivery) -> str:
    """The raw message and every decoded part: a detail must not hide in base64 or quoted-printable either."""
    parts = [delivery.raw.decode("utf-8", errors="replace")]
    for part in delivery.email.walk():
        if not part.is_multipart():
            content = part.get_content()
            parts.append(content if isinstance(content, str) else content.decode("utf-8", errors="replace"))
    return "\n".join(parts)


def test_the_confirmation_is_text_and_html_with_the_visit_as_a_calendar_file(booked, smtp_sink, clinic_inbox):
    sweep()

    email = only(smtp_sink)
    assert smtp_sink.deliveries[0].recipients == ("alice@example.org",)
    assert email["To"] == "alice@example.org"
    assert email["Subject"] == "Booked: Meridian Acupuncture, Wed 3 Mar at 10 AM"
    assert email["Reply-To"] == clinic_inbox
    assert email["Message-ID"] == f"<{message(booked, Kind.CONFIRMATION).uid}@testserver>"
    assert email.get_content_type() == "multipart/mixed"
    body, attachment = email.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in body.iter_parts()] == ["text/plain", "text/html"]
    assert "Wednesday, March 3, 2027 at 10:00 AM (EST)" in email.get_body(("plain",)).get_content()
    assert "<html" in email.get_body(("html",)).get_content()
    assert attachment.get_content_disposition() == "attachment"

    event = calendar_event(email)
    assert event["UID"] == f"{booked.calendar_uid}@meridian"
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == WEDNESDAY_10
    assert event["DTSTART"].params["TZID"] == "America/New_York", "the visit in the clinic's zone, not UTC"
    assert event.decoded("DTSTART").tzinfo.key == NEW_YORK.key


def test_a_change_notice_carries_the_same_event_at_its_new_time_with_a_higher_sequence(booked, smtp_sink):
    sweep()
    thursday_15 = local(2027, 3, 4, 15)
    appointment_reschedule(appointment=booked, start=thursday_15, by_staff=True)
    sweep()

    confirmation, change = smtp_sink.deliveries
    assert change.email["Subject"] == "Changed: your appointment is now Thu 4 Mar at 3 PM"
    before, after = calendar_event(confirmation.email), calendar_event(change.email)
    assert after["UID"] == before["UID"], "the same event, so a calendar updates it instead of adding one"
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after.decoded("DTSTART") == thursday_15
    assert change.email["Message-ID"] != confirmation.email["Message-ID"]


def test_a_message_refused_and_tried_again_keeps_its_message_id(booked, smtp_sink, time_machine):
    smtp_sink.answer("alice@example.org", "451 4.3.0 Mailbox busy, try again later", stage="DATA")
    sweep()
    (refused,) = smtp_sink.refused  # the server had the whole message before it said 451
    smtp_sink.reset()
    time_machine.move_to(local(2027, 3, 1, 8, 1), tick=False)
    sweep()

    confirmation = message(booked, Kind.CONFIRMATION)
    assert (confirmation.status, confirmation.attempts) == (Status.SENT, 2)
    assert only(smtp_sink)["Message-ID"] == refused.message_id == f"<{confirmation.uid}@testserver>"


def test_a_451_puts_the_message_back_in_the_outbox_for_later(booked, smtp_sink):
    smtp_sink.answer("alice@example.org", "451 4.7.1 Greylisted, try again later")
    sweep()

    confirmation = message(booked, Kind.CONFIRMATION)
    assert not smtp_sink.deliveries
    assert (confirmation.status, confirmation.attempts) == (Status.PENDING, 1)
    assert confirmation.due_at > local(2027, 3, 1, 8)
    assert "451" in confirmation.last_error


def test_a_550_fails_the_message_for_staff_to_see(booked, smtp_sink):
    smtp_sink.answer("alice@example.org", "550 5.1.1 No such mailbox")
    sweep()

    confirmation = message(booked, Kind.CONFIRMATION)
    assert not smtp_sink.deliveries
    assert (confirmation.status, confirmation.attempts) == (Status.FAILED, 1)
    assert "550" in confirmation.last_error


@pytest.fixture
def library(db) -> list[Article]:
    """Two published articles: one fits Alice's lower back pain and stress, the other nothing she said."""
    back, stress, fertility = (
        Topic.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in (("lower-back", "Lower back"), ("stress", "Stress"), ("fertility", "Fertility"))
    )
    fitting = Article.objects.create(
        title="Easing a tense lower back",
        slug="easing-a-tense-lower-back",
        summary="How acupuncture and gentle movement can help a back that tightens under stress.",
        body_html="<p>Back pain and stress often go together: when stress rises, the muscles of the lower back "
        "tighten. Gentle walking, warmth and regular treatment may help.</p>",
    )
    fitting.topics.set([back, stress])
    other = Article.objects.create(
        title="Acupuncture alongside fertility treatment",
        slug="acupuncture-alongside-fertility-treatment",
        summary="What to expect when acupuncture accompanies IVF.",
        body_html="<p>Some patients choose acupuncture during IVF cycles; talk to your fertility clinic first.</p>",
    )
    other.topics.set([fertility])
    return [fitting, other]


@pytest.fixture
def alice_came_for_her_back(dr_chen, follow_up, alice, monday_morning, clinic_inbox, library) -> Appointment:
    booked = appointment_book(service=follow_up, start=WEDNESDAY_10, patient=alice, practitioner=dr_chen)
    intake_submit(
        patient=booked.patient,
        appointment=booked,
        answers=answers(anticoagulants=True, medications="Warfarin"),
        consent_name="Alice Moreau",
        education_opt_in=True,
    )
    return booked


def test_a_follow_up_with_articles_carries_a_one_click_unsubscribe_that_works(
    alice_came_for_her_back, smtp_sink, time_machine, client
):
    booked = alice_came_for_her_back
    time_machine.move_to(local(2027, 3, 3, 11, 5), tick=False)
    appointment_set_status(appointment=booked, status=Appointment.Status.COMPLETED)
    time_machine.move_to(local(2027, 3, 4, 10, 1), tick=False)
    sweep()

    email = only(smtp_sink)
    assert email["Subject"] == "After your visit: a few notes from Meridian Acupuncture"
    text = email.get_body(("plain",)).get_content()
    assert "Easing a tense lower back: http://testserver/learn/" in text
    assert "fertility" not in text
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = str(email["List-Unsubscribe"]).strip()  # folded onto its own line: it is long
    assert unsubscribe.startswith("<http://testserver/")
    assert unsubscribe.endswith(">")

    # What a mail provider does with RFC 8058's one-click button: POST to the link, with no cookie.
    response = client.post(unsubscribe[1:-1].removeprefix("http://testserver"), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    booked.patient.refresh_from_db()
    assert not booked.patient.education_opt_in


def test_a_reminder_has_no_articles_and_no_unsubscribe_header(alice_came_for_her_back, smtp_sink, time_machine):
    time_machine.move_to(WEDNESDAY_10 - timedelta(hours=2, seconds=-1), tick=False)
    sweep()

    reminder = smtp_sink.deliveries[-1].email
    assert reminder["Subject"].startswith("Reminder")
    assert "List-Unsubscribe" not in reminder
    assert not list(reminder.iter_attachments())


def test_no_message_on_the_wire_says_anything_from_the_intake(alice_came_for_her_back, smtp_sink, time_machine):
    booked = alice_came_for_her_back
    for due in sorted(Message.objects.values_list("due_at", flat=True)):
        time_machine.move_to(due + timedelta(seconds=1), tick=False)
        sweep()
    time_machine.move_to(local(2027, 3, 3, 11, 5), tick=False)
    appointment_set_status(appointment=booked, status=Appointment.Status.COMPLETED)
    time_machine.move_to(local(2027, 3, 4, 10, 1), tick=False)
    sweep()

    subjects = [delivery.email["Subject"].split(":")[0] for delivery in smtp_sink.deliveries]
    assert subjects == ["Booked", "Reminder", "Reminder", "After your visit"]
    assert "Easing a tense lower back" in everything_readable(smtp_sink.deliveries[-1]), "the check reads the body"
    for delivery in smtp_sink.deliveries:
        readable = everything_readable(delivery).lower()
        for detail in HEALTH_DETAILS:
            assert detail.lower() not in readable, (delivery.email["Subject"], detail)


def test_a_kept_connection_the_server_closed_while_idle_is_replaced_before_the_next_message(
    booked, smtp_sink: SmtpSink, time_machine
):
    from notifications.channels import CHANNELS

    sweep()  # the confirmation opens the connection the worker keeps
    channel = CHANNELS["email"]
    channel._connection.connection.sock.shutdown(socket.SHUT_RDWR)  # the server hung up while it sat idle
    channel._last_used -= 60

    time_machine.move_to(WEDNESDAY_10 - timedelta(hours=48), tick=False)
    sweep()

    assert [delivery.email["Subject"] for delivery in smtp_sink.deliveries] == [
        "Booked: Meridian Acupuncture, Wed 3 Mar at 10 AM",
        "Reminder: Meridian Acupuncture, Wed 3 Mar at 10 AM",
    ]


def test_a_connection_that_drops_during_a_send_is_not_retried_at_once(booked, smtp_sink: SmtpSink, time_machine):
    """The server may have taken the message before the line dropped: the outbox tries again later, not now."""
    from notifications.channels import CHANNELS

    sweep()
    CHANNELS["email"]._connection.connection.sock.shutdown(socket.SHUT_RDWR)  # used just now: not checked

    time_machine.move_to(WEDNESDAY_10 - timedelta(hours=48), tick=False)
    sweep()

    reminder = message(booked, Kind.REMINDER, 48 * 60)
    assert (reminder.status, reminder.attempts) == (Status.PENDING, 1)
    assert len(smtp_sink.deliveries) == 1
