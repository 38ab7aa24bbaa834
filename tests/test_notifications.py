"""The outbox: which messages a change to an appointment writes, when they fall due, and that each one goes out
once, to the right person, at the right instant, or knowingly not at all.

Alice books with Dr Chen on Monday morning (2027-03-01, 08:00 in New York) for Wednesday 10:00. Sends run
through `send_due_notifications`, one foreground sweep, into Django's in-memory outbox.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError

from notifications import services as outbox
from notifications.channels import TransientSendError
from notifications.models import Message
from notifications.services import Outcome, message_deliver, messages_sweep
from patients.services import intake_submit
from scheduling.models import Appointment
from scheduling.services import appointment_book, appointment_cancel, appointment_reschedule, appointment_set_status
from tests.conftest import local
from tests.test_intake import REASON, answers

Kind = Message.Kind
Status = Message.Status
WEDNESDAY_10 = local(2027, 3, 3, 10)


@pytest.fixture
def booked(dr_chen, follow_up, alice, monday_morning) -> Appointment:
    return appointment_book(service=follow_up, start=WEDNESDAY_10, patient=alice, practitioner=dr_chen)


def sweep() -> None:
    call_command("send_due_notifications", stdout=open("/dev/null", "w"))  # noqa: SIM115


def messages(appointment: Appointment) -> dict[tuple[str, int], Message]:
    return {(m.kind, m.lead_minutes): m for m in Message.objects.filter(appointment=appointment)}


def sent_subjects() -> list[str]:
    return [email.subject for email in mail.outbox]


def test_a_booking_writes_its_confirmation_reminders_and_intake_nudge_at_once(booked):
    written = messages(booked)

    assert set(written) == {
        (Kind.CONFIRMATION, 0),
        (Kind.REMINDER, 48 * 60),
        (Kind.REMINDER, 2 * 60),
    }, "Wednesday is less than 72 hours away: the confirmation carries the intake link, no nudge"
    assert written[Kind.REMINDER, 48 * 60].due_at == WEDNESDAY_10 - timedelta(hours=48)
    assert written[Kind.REMINDER, 2 * 60].due_at == WEDNESDAY_10 - timedelta(hours=2)
    assert all(message.status == Status.PENDING for message in written.values())


def test_a_first_visit_a_week_ahead_gets_a_nudge_72_hours_before_while_the_intake_is_missing(
    dr_chen, follow_up, alice, monday_morning, time_machine
):
    next_monday = local(2027, 3, 8, 10)
    booked = appointment_book(service=follow_up, start=next_monday, patient=alice, practitioner=dr_chen)
    nudge = messages(booked)[Kind.INTAKE_NUDGE, 0]
    assert nudge.due_at == next_monday - timedelta(hours=72)

    time_machine.move_to(nudge.due_at + timedelta(minutes=1), tick=False)
    sweep()

    assert any("questionnaire" in subject for subject in sent_subjects())
    nudge.refresh_from_db()
    assert nudge.status == Status.SENT


def test_the_nudge_is_dropped_once_the_intake_is_in(dr_chen, follow_up, alice, monday_morning, time_machine):
    booked = appointment_book(service=follow_up, start=local(2027, 3, 8, 10), patient=alice, practitioner=dr_chen)
    intake_submit(
        patient=booked.patient,
        appointment=booked,
        answers=answers(anticoagulants=True, medications="Warfarin"),
        consent_name="Alice Moreau",
    )
    nudge = messages(booked)[Kind.INTAKE_NUDGE, 0]

    time_machine.move_to(nudge.due_at + timedelta(minutes=1), tick=False)
    sweep()

    nudge.refresh_from_db()
    assert nudge.status == Status.SKIPPED
    assert "intake is in" in nudge.last_error


def test_the_confirmation_goes_out_on_the_next_sweep_with_the_visit_and_its_links(booked, downtown):
    sweep()

    (email,) = mail.outbox
    assert email.to == ["alice@example.org"]
    assert email.subject == "Booked: Meridian Acupuncture, Wed 3 Mar at 10 AM"
    assert "Wednesday, March 3, 2027 at 10:00 AM (EST)" in email.body
    assert "/manage/" in email.body
    assert "/intake/" in email.body, "no intake yet: the link to fill it in"
    assert email.extra_headers["Message-ID"] == f"<{messages(booked)[Kind.CONFIRMATION, 0].uid}@testserver>"
    ((filename, calendar, mimetype),) = email.attachments
    assert filename == "appointment.ics"
    assert mimetype.startswith("text/calendar")
    assert "SEQUENCE:1" in calendar


def test_no_message_says_anything_from_the_intake(dr_chen, follow_up, alice, monday_morning, time_machine):
    from education.services import DEMO_ARTICLES, articles_import_files

    articles_import_files([DEMO_ARTICLES])  # articles chosen from the intake must not give it away either
    booked = appointment_book(service=follow_up, start=local(2027, 3, 8, 10), patient=alice, practitioner=dr_chen)
    intake_submit(
        patient=booked.patient,
        appointment=booked,
        answers=answers(anticoagulants=True, medications="Warfarin"),
        consent_name="Alice Moreau",
        education_opt_in=True,
    )
    for due in sorted(message.due_at for message in Message.objects.all()):
        time_machine.move_to(due + timedelta(seconds=1), tick=False)
        sweep()

    assert len(mail.outbox) == 3  # confirmation, 48 h and 2 h reminders
    assert "/learn/" in mail.outbox[0].body
    for email in mail.outbox:
        assert follow_up.name not in email.subject, "a subject shows on a lock screen: the treatment stays inside"
        everything = email.body + "".join(str(content) for content, _type in email.alternatives)
        for secret in (REASON, "Warfarin", "Paul Moreau", "Walk the dog", "anticoagulant", "blood thinner"):
            assert secret.lower() not in everything.lower()


def test_a_booking_rolled_back_leaves_no_message(dr_chen, follow_up, alice, monday_morning, monkeypatch):
    written = outbox._write

    def write_then_fail(appointment, plans):
        written(appointment, plans)
        raise IntegrityError("the database gave up after the messages were written")

    monkeypatch.setattr(outbox, "_write", write_then_fail)

    with pytest.raises(IntegrityError):
        appointment_book(service=follow_up, start=WEDNESDAY_10, patient=alice, practitioner=dr_chen)

    assert not Message.objects.exists()
    assert not Appointment.objects.exists()


def test_cancelling_a_minute_before_a_reminder_means_no_reminder(booked, time_machine):
    sweep()
    reminder = messages(booked)[Kind.REMINDER, 2 * 60]
    time_machine.move_to(reminder.due_at - timedelta(minutes=1), tick=False)

    appointment_cancel(appointment=booked, by_staff=True)
    time_machine.move_to(reminder.due_at + timedelta(minutes=1), tick=False)
    sweep()

    assert [subject.split(":")[0] for subject in sent_subjects()] == ["Booked", "Cancelled"]
    reminder.refresh_from_db()
    assert reminder.status == Status.SKIPPED


def test_a_moved_appointment_gets_a_change_notice_and_one_reminder_at_the_new_time(
    dr_chen, follow_up, alice, monday_morning, clinic, time_machine
):
    clinic.reminder_hours = [2]
    clinic.save()
    booked = appointment_book(service=follow_up, start=WEDNESDAY_10, patient=alice, practitioner=dr_chen)
    sweep()
    thursday_15 = local(2027, 3, 4, 15)
    moved = appointment_reschedule(appointment=booked, start=thursday_15, by_staff=True)
    sweep()
    change = mail.outbox[-1]
    assert change.subject == "Changed: your appointment is now Thu 4 Mar at 3 PM"
    assert "SEQUENCE:2" in change.attachments[0][1]

    for moment in (WEDNESDAY_10 - timedelta(hours=2), thursday_15 - timedelta(hours=2)):  # the old time, the new
        time_machine.move_to(moment + timedelta(seconds=1), tick=False)
        sweep()

    reminders = [email for email in mail.outbox if email.subject.startswith("Reminder")]
    assert len(reminders) == 1
    assert "Thursday, March 4, 2027 at 3:00 PM" in reminders[0].body
    old = Message.objects.get(appointment=moved, appointment_version=1, kind=Kind.REMINDER)
    assert old.status == Status.SKIPPED
    assert old.last_error == "Not sent: the appointment moved."


def test_a_move_before_the_confirmation_went_out_confirms_the_new_time_instead(booked):
    appointment_reschedule(appointment=booked, start=local(2027, 3, 4, 15), by_staff=True)
    sweep()

    assert sent_subjects() == ["Booked: Meridian Acupuncture, Thu 4 Mar at 3 PM"]


def test_a_completed_visit_is_followed_up_at_ten_the_next_morning(booked, time_machine):
    time_machine.move_to(local(2027, 3, 3, 11, 5), tick=False)
    appointment_set_status(appointment=booked, status=Appointment.Status.COMPLETED)

    follow_up = messages(booked)[Kind.FOLLOW_UP, 0]
    assert follow_up.due_at == local(2027, 3, 4, 10)
    time_machine.move_to(local(2027, 3, 4, 10, 1), tick=False)
    sweep()
    assert sent_subjects()[-1] == "After your visit: a few notes from Meridian Acupuncture"
    assert "/book/follow-up/" in mail.outbox[-1].body


def test_a_patient_who_opted_out_of_reminders_gets_none_but_still_their_confirmation(booked, time_machine):
    booked.patient.reminders_opt_in = False
    booked.patient.save()

    for hours in (48, 2):
        time_machine.move_to(WEDNESDAY_10 - timedelta(hours=hours, seconds=-1), tick=False)
        sweep()

    assert [subject.split(":")[0] for subject in sent_subjects()] == ["Booked"]


def test_after_downtime_a_stale_reminder_is_skipped_and_the_next_one_still_goes(
    dr_chen, follow_up, alice, monday_morning, time_machine
):
    friday_10 = local(2027, 3, 5, 10)
    booked = appointment_book(service=follow_up, start=friday_10, patient=alice, practitioner=dr_chen)
    sweep()
    # Nothing ran from Wednesday 9:00 (the 48 h reminder's time) until Friday 8:30.
    time_machine.move_to(local(2027, 3, 5, 8, 30), tick=False)
    sweep()

    statuses = {key: message.status for key, message in messages(booked).items()}
    assert statuses[Kind.REMINDER, 48 * 60] == Status.SKIPPED
    assert statuses[Kind.REMINDER, 2 * 60] == Status.SENT
    assert [subject.split(":")[0] for subject in sent_subjects()] == ["Booked", "Reminder"]


def test_the_48_hour_reminder_is_48_real_hours_before_a_visit_the_day_after_dst_begins(
    dr_chen, follow_up, alice, time_machine
):
    # Clocks go forward on Sunday 2027-03-14 at 02:00. Monday 09:00 EDT is 13:00 UTC; 48 hours before is
    # Saturday 13:00 UTC, which is 08:00 EST: an hour earlier on the wall clock than the visit.
    time_machine.move_to(local(2027, 3, 8, 8), tick=False)
    monday_9 = local(2027, 3, 15, 9)
    booked = appointment_book(service=follow_up, start=monday_9, patient=alice, practitioner=dr_chen)

    reminder = messages(booked)[Kind.REMINDER, 48 * 60]
    assert reminder.due_at.isoformat() == "2027-03-13T13:00:00+00:00"
    assert reminder.due_at == local(2027, 3, 13, 8)

    time_machine.move_to(local(2027, 3, 13, 7, 59), tick=False)
    sweep()
    assert not any(s.startswith("Reminder") for s in sent_subjects())
    time_machine.move_to(local(2027, 3, 13, 8, 0), tick=False)
    sweep()
    assert sent_subjects()[-1] == "Reminder: Meridian Acupuncture, Mon 15 Mar at 9 AM"


def test_the_follow_up_is_at_ten_local_time_across_the_autumn_change(dr_chen, follow_up, alice, time_machine):
    # Clocks go back on Sunday 2027-11-07: a Saturday visit (10:00 EDT, 14:00 UTC) is followed up at 10:00 EST
    # on Sunday, which is 15:00 UTC, not 24 hours after the visit.
    time_machine.move_to(local(2027, 11, 1, 8), tick=False)
    saturday = local(2027, 11, 6, 10)
    booked = appointment_book(
        service=follow_up,
        start=saturday,
        patient=alice,
        practitioner=dr_chen,
        source=Appointment.Source.STAFF,
        outside_hours=True,
    )
    time_machine.move_to(local(2027, 11, 6, 11, 30), tick=False)
    appointment_set_status(appointment=booked, status=Appointment.Status.COMPLETED)

    assert messages(booked)[Kind.FOLLOW_UP, 0].due_at.isoformat() == "2027-11-07T15:00:00+00:00"


def test_a_second_send_of_the_same_message_sends_nothing(booked):
    confirmation = messages(booked)[Kind.CONFIRMATION, 0]
    result = messages_sweep(enqueue=lambda message_id: None)
    assert result.claimed == 1

    assert message_deliver(message_id=confirmation.pk) == Outcome.SENT
    assert message_deliver(message_id=confirmation.pk) == Outcome.NOT_QUEUED
    assert len(mail.outbox) == 1


def test_a_message_is_never_sent_before_it_is_claimed(booked):
    confirmation = messages(booked)[Kind.CONFIRMATION, 0]

    assert message_deliver(message_id=confirmation.pk) == Outcome.NOT_QUEUED
    assert not mail.outbox


def test_a_transient_failure_is_retried_later_then_given_up_and_shown(booked, monkeypatch, time_machine, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    from notifications.channels import CHANNELS

    monkeypatch.setattr(CHANNELS["email"], "send", refuse_with(TransientSendError("The mail server said 451.")))
    confirmation = messages(booked)[Kind.CONFIRMATION, 0]
    now = local(2027, 3, 1, 8)

    sweep()
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts) == (Status.PENDING, 1)
    assert confirmation.due_at == now + timedelta(minutes=1)
    assert confirmation.last_error == "The mail server said 451."

    time_machine.move_to(now + timedelta(minutes=1), tick=False)
    sweep()
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts) == (Status.PENDING, 2)
    assert confirmation.due_at == now + timedelta(minutes=5)

    time_machine.move_to(now + timedelta(minutes=5), tick=False)
    sweep()
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts) == (Status.FAILED, 3)
    assert confirmation.last_error.startswith("Gave up after 3 attempts")


def test_the_broker_being_down_gives_the_claimed_rows_back(booked):
    def broker_down(message_id):
        raise outbox.EnqueueFailed("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    result = messages_sweep(enqueue=broker_down)

    assert (result.claimed, result.unsent) == (0, 1)
    assert messages(booked)[Kind.CONFIRMATION, 0].status == Status.PENDING


def test_a_message_whose_task_was_lost_is_queued_again(booked, time_machine, settings):
    messages_sweep(enqueue=lambda message_id: None)  # the task vanished with the broker
    confirmation = messages(booked)[Kind.CONFIRMATION, 0]
    assert confirmation.status == Status.QUEUED

    time_machine.move_to(local(2027, 3, 1, 8) + timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_AFTER_SECONDS + 1))
    sweep()

    assert sent_subjects() == ["Booked: Meridian Acupuncture, Wed 3 Mar at 10 AM"]


def test_the_front_desk_hears_of_an_online_booking_and_cancellation_for_tomorrow(
    dr_chen, follow_up, alice, monday_morning, clinic
):
    clinic.email = "desk@example.org"
    clinic.save()
    tuesday = local(2027, 3, 2, 10)
    booked = appointment_book(
        service=follow_up, start=tuesday, patient=alice, practitioner=dr_chen, source=Appointment.Source.ONLINE
    )
    sweep()
    appointment_cancel(appointment=booked, by_staff=False)
    sweep()
    staff = [email for email in mail.outbox if email.to == ["desk@example.org"]]

    assert [email.subject for email in staff] == [
        "Online booking Tue 2 Mar at 10 AM: A.M. with Mei Chen, L.Ac.",
        "Cancelled online Tue 2 Mar at 10 AM: A.M. with Mei Chen, L.Ac.",
    ]
    assert "Alice" not in staff[0].body
    assert "/desk/appointments/" in staff[0].body


def test_a_staff_booking_next_week_tells_the_front_desk_nothing(booked, clinic):
    clinic.email = "desk@example.org"
    clinic.save()
    sweep()

    assert [email.to for email in mail.outbox] == [["alice@example.org"]]


def test_writing_the_same_message_twice_is_a_no_op(booked):
    before = Message.objects.count()
    outbox.messages_for_booking(appointment=booked, online=False, now=local(2027, 3, 1, 8))

    assert Message.objects.count() == before


def test_the_unsubscribe_link_asks_then_stops_educational_emails(booked, client):
    from notifications.content import _unsubscribe_url

    patient = booked.patient
    patient.education_opt_in = True
    patient.save()
    path = _unsubscribe_url(patient.pk, "education").removeprefix("http://testserver")

    assert client.get(path).status_code == 200
    patient.refresh_from_db()
    assert patient.education_opt_in, "a link scanner's GET changes nothing"

    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    patient.refresh_from_db()
    assert not patient.education_opt_in
    assert client.get("/messages/unsubscribe/forged/").status_code == 404


def test_the_front_desk_sees_what_failed_and_can_try_it_again(booked, client, monkeypatch, settings):
    from notifications.channels import CHANNELS
    from tests.factories import StaffUserFactory

    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    monkeypatch.setattr(CHANNELS["email"], "send", refuse_with(TransientSendError("The mail server said 451.")))
    sweep()
    client.force_login(StaffUserFactory(username="desk@example.org", role="Front desk"))

    page = client.get("/desk/messages/").content.decode()
    assert "Booking confirmation" in page
    assert "Alice Moreau" in page
    assert "Gave up after 1 attempts: The mail server said 451." in page

    confirmation = messages(booked)[Kind.CONFIRMATION, 0]
    client.post(f"/desk/messages/{confirmation.pk}/retry/")
    monkeypatch.undo()
    sweep()
    assert sent_subjects() == ["Booked: Meridian Acupuncture, Wed 3 Mar at 10 AM"]
    assert "Every message has been delivered" in client.get("/desk/messages/").content.decode()


def test_the_appointment_page_lists_its_messages(booked, client):
    from tests.factories import StaffUserFactory

    sweep()
    client.force_login(StaffUserFactory(username="desk@example.org", role="Front desk"))

    page = client.get(f"/desk/appointments/{booked.pk}/").content.decode()
    assert "Booking confirmation" in page
    assert "Reminder (48 h before)" in page
    assert "Reminder (2 h before)" in page


def refuse_with(error: Exception):
    def send(prepared):
        raise error

    return send


def test_a_patient_who_asked_for_articles_gets_them_in_the_follow_up_with_a_way_out(booked, time_machine):
    from education.models import ArticleShare
    from education.services import DEMO_ARTICLES, articles_import_files

    articles_import_files([DEMO_ARTICLES])
    intake_submit(
        patient=booked.patient,
        appointment=booked,
        answers=answers(),
        consent_name="Alice Moreau",
        education_opt_in=True,
    )
    time_machine.move_to(local(2027, 3, 3, 11, 5), tick=False)
    appointment_set_status(appointment=booked, status=Appointment.Status.COMPLETED)
    time_machine.move_to(local(2027, 3, 4, 10, 1), tick=False)
    sweep()

    follow_up = mail.outbox[-1]
    message = messages(booked)[Kind.FOLLOW_UP, 0]
    shared = ArticleShare.objects.filter(message_id=message.pk).order_by("rank")
    assert 1 <= shared.count() <= 3
    for share in shared:
        assert f"/learn/{share.article.slug}/" in follow_up.body
    assert follow_up.extra_headers["List-Unsubscribe"].startswith("<http://testserver/messages/unsubscribe/")
    assert follow_up.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Reading that may help" in follow_up.body


def test_without_consent_to_articles_the_follow_up_has_none_and_no_unsubscribe_header(booked, time_machine):
    from education.services import DEMO_ARTICLES, articles_import_files

    articles_import_files([DEMO_ARTICLES])
    time_machine.move_to(local(2027, 3, 3, 11, 5), tick=False)
    appointment_set_status(appointment=booked, status=Appointment.Status.COMPLETED)
    time_machine.move_to(local(2027, 3, 4, 10, 1), tick=False)
    sweep()

    follow_up = mail.outbox[-1]
    assert "/learn/" not in follow_up.body
    assert "List-Unsubscribe" not in follow_up.extra_headers


def test_an_undone_check_in_gets_its_reminders_back(booked, time_machine):
    time_machine.move_to(local(2027, 3, 2, 15), tick=False)  # Tuesday: Wednesday's card was checked in by mistake
    appointment_set_status(appointment=booked, status=Appointment.Status.ARRIVED)
    appointment_set_status(appointment=booked, status=Appointment.Status.BOOKED)

    time_machine.move_to(WEDNESDAY_10 - timedelta(hours=2), tick=False)
    sweep()

    assert sent_subjects()[-1] == "Reminder: Meridian Acupuncture, Wed 3 Mar at 10 AM"


def test_a_message_that_cannot_be_prepared_fails_for_staff_to_see_instead_of_looping(booked, monkeypatch):
    def broken(message):
        raise ValueError("a template bug")

    monkeypatch.setattr(outbox, "message_content", broken)
    sweep()

    confirmation = messages(booked)[Kind.CONFIRMATION, 0]
    assert confirmation.status == Status.FAILED
    assert confirmation.last_error == "Could not be prepared (ValueError); the worker's log says why."


def test_a_line_break_typed_into_a_name_does_not_break_the_email(booked, clinic):
    clinic.name = "Meridian\nAcupuncture"
    clinic.save()
    sweep()

    assert sent_subjects() == ["Booked: Meridian Acupuncture, Wed 3 Mar at 10 AM"]


def test_an_unforeseen_sending_error_is_retried_not_lost(booked, monkeypatch):
    from notifications.channels import CHANNELS, classify

    def explode(prepared):
        raise classify(RuntimeError("the backend did something odd"))

    monkeypatch.setattr(CHANNELS["email"], "send", explode)
    sweep()

    confirmation = messages(booked)[Kind.CONFIRMATION, 0]
    assert (confirmation.status, confirmation.attempts) == (Status.PENDING, 1)
    assert confirmation.last_error == "Sending failed (RuntimeError)."


def test_a_message_tried_and_failing_until_it_went_stale_is_shown_as_failed(booked, monkeypatch, time_machine):
    from notifications.channels import CHANNELS

    monkeypatch.setattr(CHANNELS["email"], "send", refuse_with(TransientSendError("The mail server said 421.")))
    sweep()
    time_machine.move_to(WEDNESDAY_10 + timedelta(minutes=1), tick=False)
    sweep()

    confirmation = messages(booked)[Kind.CONFIRMATION, 0]
    assert confirmation.status == Status.FAILED
    assert confirmation.last_error == "The mail server said 421."


def test_a_patient_moving_online_into_tomorrow_is_news_for_the_front_desk(booked, clinic):
    clinic.email = "desk@example.org"
    clinic.save()
    sweep()
    appointment_reschedule(appointment=booked, start=local(2027, 3, 2, 15), by_staff=False)
    sweep()

    staff = [email.subject for email in mail.outbox if email.to == ["desk@example.org"]]
    assert staff == ["Online booking Tue 2 Mar at 3 PM: A.M. with Mei Chen, L.Ac."]
