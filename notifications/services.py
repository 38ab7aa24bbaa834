"""Every write to the outbox: what a change to an appointment owes people, claiming due messages, delivering one.

The `messages_for_*` functions run inside the scheduling service's own transaction, so a message exists exactly
when its cause committed: a booking rolled back leaves no confirmation behind. They only write rows; nothing on
the booking path talks to Redis or to a mail server.

Delivery is once per row. Only a row still "queued" is sent, and the send holds the row's lock from the moment
it decides to send until the row says "sent". A second copy of the task finds the row locked or settled and
leaves. A worker killed mid-send drops its connection: the lock and the transaction go with it, and the row is
queued again for the next attempt. One window remains, between the mail server's "accepted" and our commit
(the update that marks the row sent): a crash exactly there sends the message again, under the same Message-ID.
"""

import contextlib
import logging
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from education.services import article_shares_record
from notifications import planning
from notifications.channels import PermanentSendError, TransientSendError, channel_for
from notifications.content import Content, message_content
from notifications.models import Message
from scheduling.models import Appointment, Clinic
from scheduling.selectors import is_first_visit

logger = logging.getLogger(__name__)

Kind = Message.Kind
Status = Message.Status
_OPEN = (Status.PENDING, Status.QUEUED)
# Messages to the patient about a booked time: all of them stop applying when the time moves or ends.
_ABOUT_THE_TIME = (Kind.CONFIRMATION, Kind.REMINDER, Kind.INTAKE_NUDGE, Kind.CHANGE, Kind.STAFF_BOOKING)


# --- What a change owes people (called inside the change's transaction) -------------------------------------


def messages_for_booking(*, appointment: Appointment, online: bool, now: datetime) -> None:
    """A new booking: confirmation now, the clinic's reminders, an intake nudge before a first visit, and a
    notice to the front desk when a patient booked online for today or tomorrow."""
    plans = [planning.at_once(Kind.CONFIRMATION, now, appointment.start)]
    plans += _time_messages(appointment, now)
    plans += _for_the_desk(Kind.STAFF_BOOKING, appointment, online, now)
    _write(appointment, plans)


def messages_for_move(*, appointment: Appointment, online: bool, now: datetime) -> None:
    """A new time: what was owed about the old one is withdrawn, and the patient hears of the new one. If the
    confirmation of the old time never went out, they get a confirmation of the new time instead of a change.
    A patient who moved online into today or tomorrow is news for the front desk, as a booking would be."""
    _retire(appointment, "the appointment moved", kinds=_ABOUT_THE_TIME)
    # Sent, or still open after _retire: being sent at this very moment (its row was locked), so maybe sent.
    told = Message.objects.filter(
        appointment=appointment, kind=Kind.CONFIRMATION, status__in=[Status.SENT, *_OPEN]
    ).exists()
    plans = [planning.at_once(Kind.CHANGE if told else Kind.CONFIRMATION, now, appointment.start)]
    plans += _time_messages(appointment, now)
    plans += _for_the_desk(Kind.STAFF_BOOKING, appointment, online, now)
    _write(appointment, plans)


def messages_for_cancellation(*, appointment: Appointment, by_patient: bool, now: datetime) -> None:
    _retire(appointment, "the appointment was cancelled")
    plans = [planning.at_once(Kind.CANCELLATION, now, appointment.start)]
    plans += _for_the_desk(Kind.STAFF_CANCELLATION, appointment, by_patient, now)
    _write(appointment, plans)


# Why the messages about the time stop, by the status the appointment took.
_STATUS_REASONS = {
    Appointment.Status.ARRIVED: "the patient has checked in",
    Appointment.Status.COMPLETED: "the visit is over",
    Appointment.Status.NO_SHOW: "the patient did not come",
    Appointment.Status.BOOKED: "a check-in was undone",
}


def messages_for_status(*, appointment: Appointment, now: datetime) -> None:
    """Checked in, completed or a no-show: reminders are moot; a completed visit is followed up the next day.
    An undone check-in (a mis-click on the wrong card, perhaps days early) gets back the reminders still ahead."""
    _retire(appointment, _STATUS_REASONS[appointment.status], kinds=_ABOUT_THE_TIME)
    if appointment.status == Appointment.Status.COMPLETED:
        _write(appointment, [planning.follow_up(appointment.end, appointment.location.zone)])
    elif appointment.status == Appointment.Status.BOOKED:
        _write(appointment, _time_messages(appointment, now))


def _time_messages(appointment: Appointment, now: datetime) -> list[planning.Planned]:
    plans = planning.reminders(appointment.start, now, Clinic.load().reminder_hours)
    if is_first_visit(appointment):
        plans += planning.intake_nudge(appointment.start, now)
    return plans


def _for_the_desk(kind: str, appointment: Appointment, by_patient: bool, now: datetime) -> list[planning.Planned]:
    """A notice to the front desk when a patient acted online on today's or tomorrow's calendar."""
    if by_patient and planning.within_day_ahead(appointment.start, now, appointment.location.zone):
        return [planning.at_once(kind, now, appointment.start)]
    return []


def _write(appointment: Appointment, plans: Iterable[planning.Planned]) -> None:
    # ignore_conflicts: the unique key (appointment, kind, channel, version, lead) makes writing twice a no-op.
    Message.objects.bulk_create(
        [
            Message(
                appointment=appointment,
                kind=plan.kind,
                appointment_version=appointment.version,
                lead_minutes=plan.lead_minutes,
                due_at=plan.due_at,
                stale_at=plan.stale_at,
            )
            for plan in plans
        ],
        ignore_conflicts=True,
    )


def _retire(appointment: Appointment, reason: str, kinds: Iterable[str] | None = None) -> None:
    """Skip what is still open about earlier versions. A row being sent at this very moment is locked and left
    to its send, which re-checked the appointment just before (a reminder a second before a cancellation)."""
    open_rows = Message.objects.filter(appointment=appointment, status__in=_OPEN).exclude(
        appointment_version=appointment.version
    )
    if kinds is not None:
        open_rows = open_rows.filter(kind__in=list(kinds))
    ids = list(open_rows.select_for_update(skip_locked=True).values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids, status__in=_OPEN).update(
        status=Status.SKIPPED, last_error=f"Not sent: {reason}."
    )


# --- Claiming what is due (the sweeper) ----------------------------------------------------------------------


@dataclass
class SweepResult:
    claimed: int = 0
    stale: int = 0
    released: int = 0
    unsent: int = 0  # claimed, but the broker would not take the task: back to pending for the next sweep


class EnqueueFailed(Exception):
    """The broker is unreachable: the rows claimed for it are released, to be claimed again."""


def messages_sweep(
    *, enqueue: Callable[[int], None], now: datetime | None = None, batch: int = 500, limit: int | None = None
) -> SweepResult:
    """Claim due messages in batches (FOR UPDATE SKIP LOCKED, so two sweepers share the work without waiting
    for each other) and hand each id to `enqueue`. Stale messages are skipped, not sent: after downtime the
    sweeper catches up on what is still useful instead of flooding patients with late reminders."""
    now = now or timezone.now()
    result = SweepResult(stale=_skip_stale(now), released=_release_abandoned(now))
    while limit is None or result.claimed < limit:
        size = batch if limit is None else min(batch, limit - result.claimed)
        ids = _claim(now, size)
        if not ids:
            break
        result.claimed += len(ids)
        for position, message_id in enumerate(ids):
            try:
                enqueue(message_id)
            except EnqueueFailed:
                result.unsent = _unclaim(ids[position:], now)
                result.claimed -= result.unsent
                return result
    return result


@transaction.atomic
def _claim(now: datetime, size: int) -> list[int]:
    due = Message.objects.filter(status=Status.PENDING, due_at__lte=now, stale_at__gte=now).order_by("due_at", "id")
    ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:size])
    # Conditional as well: SQLite (`make run`) has no row locks, and there a second sweeper may have got here first.
    Message.objects.filter(pk__in=ids, status=Status.PENDING).update(status=Status.QUEUED, claimed_at=now)
    return list(Message.objects.filter(pk__in=ids, status=Status.QUEUED, claimed_at=now).values_list("pk", flat=True))


def _unclaim(ids: list[int], claimed_at: datetime) -> int:
    return Message.objects.filter(pk__in=ids, status=Status.QUEUED, claimed_at=claimed_at).update(
        status=Status.PENDING, claimed_at=None
    )


def _skip_stale(now: datetime) -> int:
    """Skip what went stale unsent. One that was tried and kept failing is failed instead, so that staff see it
    (a confirmation the mail server refused all morning, for a visit that has now begun)."""
    with transaction.atomic():
        stale = Message.objects.filter(status=Status.PENDING, stale_at__lt=now)
        ids = list(stale.select_for_update(skip_locked=True).values_list("pk", flat=True))
        rows = Message.objects.filter(pk__in=ids, status=Status.PENDING)
        failed = rows.filter(attempts__gt=0).update(status=Status.FAILED)
        skipped = rows.update(
            status=Status.SKIPPED, last_error="Not sent: it was no longer useful by the time it could go out."
        )
        return failed + skipped


def _release_abandoned(now: datetime) -> int:
    """Queued long ago and still not sent: its task was lost (the broker restarted empty, say). Queue it again;
    if the old task turns up after all, whichever runs second finds the row sent and does nothing."""
    cutoff = now - timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_AFTER_SECONDS)
    with transaction.atomic():
        abandoned = Message.objects.filter(status=Status.QUEUED, claimed_at__lt=cutoff)
        ids = list(abandoned.select_for_update(skip_locked=True).values_list("pk", flat=True))
        return Message.objects.filter(pk__in=ids, status=Status.QUEUED).update(status=Status.PENDING, claimed_at=None)


# --- Delivering one message (the send task) ------------------------------------------------------------------


class Outcome:
    SENT = "sent"
    SKIPPED = "skipped"
    RETRY = "retry"
    FAILED = "failed"
    NOT_QUEUED = "not_queued"  # already sent or settled, or another worker is sending it right now


def message_deliver(*, message_id: int, now: datetime | None = None) -> str:
    """Send one queued message if it still applies; say what happened."""
    with transaction.atomic():
        _end_abandoned_sends()
        message = _lock_queued(message_id)
        if message is None:
            return Outcome.NOT_QUEUED
        now = now or timezone.now()
        reason = _why_not(message, now)
        if reason:
            _settle(message, Status.SKIPPED, f"Not sent: {reason}.")
            return Outcome.SKIPPED
        return _send(message, now)


# The database connections already told to end abandoned sends (once per connection, not once per message).
_timeout_set: "weakref.WeakSet[object]" = weakref.WeakSet()


def _end_abandoned_sends() -> None:
    """If this worker's machine vanishes mid-send, PostgreSQL ends its transaction after this long, so the row's
    lock does not wait for TCP keepalive (hours). Longer than any send: each SMTP step times out sooner."""
    if connection.vendor != "postgresql" or connection.connection in _timeout_set:
        return
    seconds = max(120, 6 * settings.EMAIL_TIMEOUT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('idle_in_transaction_session_timeout', %s, false)", [f"{seconds}s"])
    _timeout_set.add(connection.connection)


def _lock_queued(message_id: int) -> Message | None:
    # skip_locked: a second copy of the task (a redelivery) leaves at once instead of waiting on the first. The
    # row alone is locked (a join under FOR UPDATE costs more), then its appointment is read once.
    queued = Message.objects.select_for_update(skip_locked=True).filter(pk=message_id, status=Status.QUEUED)
    message = next(iter(queued.order_by()[:1]), None)
    if message is not None:
        message.appointment = Appointment.objects.select_related("patient", "service", "practitioner", "location").get(
            pk=message.appointment_id
        )
    return message


def _why_not(message: Message, now: datetime) -> str:
    """Why the message no longer applies, re-checked at send time against the appointment as it is now."""
    appointment = message.appointment
    patient = appointment.patient
    if now > message.stale_at:
        return "it was no longer useful by the time it could go out"
    if patient is None:
        return "the appointment has no patient"
    if message.kind in _ABOUT_THE_TIME:
        if appointment.version != message.appointment_version:
            return "the appointment changed after it was written"
        if appointment.status != Appointment.Status.BOOKED:
            return _STATUS_REASONS.get(appointment.status, "the appointment was cancelled")
        if appointment.start <= now:
            return "the appointment has already started"
    if message.kind == Kind.CANCELLATION and appointment.status != Appointment.Status.CANCELLED:
        return "the appointment is no longer cancelled"
    if message.kind == Kind.FOLLOW_UP and appointment.status != Appointment.Status.COMPLETED:
        return "the visit is no longer marked completed"
    if message.kind in (Kind.REMINDER, Kind.INTAKE_NUDGE, Kind.FOLLOW_UP) and not patient.reminders_opt_in:
        return "the patient does not want reminders"
    if message.kind == Kind.INTAKE_NUDGE and patient.intakes.exists():
        return "the intake is in"
    return ""


def _send(message: Message, now: datetime) -> str:
    channel = channel_for(message.channel)
    try:
        content = message_content(message)
        address = channel.address(message, content)
        prepared = channel.prepare(message, content, address) if address else None
    except Exception as error:
        # A bug, or a name in the admin that no email header takes: retrying would fail the same way, forever.
        logger.exception("Message %s could not be prepared", message.pk)
        _settle(message, Status.FAILED, f"Could not be prepared ({type(error).__name__}); the worker's log says why.")
        return Outcome.FAILED
    if prepared is None:
        _settle(message, Status.SKIPPED, "Not sent: there is no address to send it to.")
        return Outcome.SKIPPED
    try:
        # A savepoint only when there is something to undo: the articles recorded before the send (so that only
        # the update below lies between the server's "accepted" and our commit) go if the send fails.
        with transaction.atomic() if content.articles else contextlib.nullcontext():
            _articles_record(message, content)
            channel.send(prepared)
    except TransientSendError as error:
        return _retry_later(message, str(error), now)
    except PermanentSendError as error:
        _settle(message, Status.FAILED, str(error), attempted=True)
        return Outcome.FAILED
    sent = Message.objects.filter(pk=message.pk, status=Status.QUEUED).update(
        status=Status.SENT, sent_at=now, sent_to=address[:254], attempts=F("attempts") + 1, last_error=""
    )
    if sent != 1:  # cannot happen while we hold the lock; if it ever does, the log must say so
        logger.error("Message %s was sent but was no longer queued", message.pk)
    return Outcome.SENT


def _articles_record(message: Message, content: Content) -> None:
    """What was sent to whom, for the practitioner to see: rolled back with the send if the send fails."""
    if content.articles:
        appointment = message.appointment
        article_shares_record(
            patient=appointment.patient,
            appointment=appointment,
            matches=content.articles,
            channel="email",
            message_id=message.pk,
        )


def _retry_later(message: Message, error: str, now: datetime) -> str:
    attempts = message.attempts + 1
    if attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        _settle(message, Status.FAILED, f"Gave up after {attempts} attempts: {error}", attempted=True)
        return Outcome.FAILED
    due = min(now + planning.retry_delay(attempts), message.stale_at)
    Message.objects.filter(pk=message.pk, status=Status.QUEUED).update(
        status=Status.PENDING, attempts=attempts, due_at=due, claimed_at=None, last_error=error[:300]
    )
    return Outcome.RETRY


def _settle(message: Message, status: str, note: str, *, attempted: bool = False) -> None:
    Message.objects.filter(pk=message.pk, status=Status.QUEUED).update(
        status=status, last_error=note[:300], attempts=F("attempts") + int(attempted)
    )


def message_retry(*, message: Message, now: datetime | None = None) -> bool:
    """Staff try a failed message again: it goes back to the outbox, due now, with a fresh count of attempts."""
    now = now or timezone.now()
    return (
        Message.objects.filter(Q(pk=message.pk), Q(status=Status.FAILED), Q(stale_at__gte=now)).update(
            status=Status.PENDING, due_at=now, attempts=0, claimed_at=None
        )
        == 1
    )
