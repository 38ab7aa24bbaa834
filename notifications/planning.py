"""When each message is due, and when it stops being worth sending. Pure time arithmetic, no ORM.

Reminders are durations before the start ("48 hours before" is 48 real hours, whatever the clocks do in
between). The follow-up is a wall-clock time: 10:00 in the location's zone on the day after the visit, built
for that date with zoneinfo, so it is 10:00 on both sides of a DST change.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The kinds of message (notifications.models.Message.Kind takes its values from here).
CONFIRMATION = "confirmation"
REMINDER = "reminder"
INTAKE_NUDGE = "intake_nudge"
CHANGE = "change"
CANCELLATION = "cancellation"
FOLLOW_UP = "follow_up"
STAFF_BOOKING = "staff_booking"
STAFF_CANCELLATION = "staff_cancellation"

# A first visit without an intake is nudged this long before it, once.
INTAKE_NUDGE_LEAD = timedelta(hours=72)
# After this, the nudge would arrive too close to the visit to help; the confirmation carried the link anyway.
INTAKE_NUDGE_STALE_BEFORE = timedelta(hours=24)
FOLLOW_UP_AT = time(10, 0)
FOLLOW_UP_STALE_AFTER = timedelta(days=3)


@dataclass(frozen=True)
class Planned:
    kind: str
    due_at: datetime
    stale_at: datetime
    lead_minutes: int = 0


def reminders(start: datetime, now: datetime, reminder_hours: list[int]) -> list[Planned]:
    """One per offset still ahead. A reminder is stale once half its lead has passed: after downtime, a 48 h
    reminder is still worth sending a day before the visit, but not an hour before (the 2 h one says it)."""
    start = start.astimezone(UTC)  # aware arithmetic in a local zone is wall-clock arithmetic: the DST trap
    planned = []
    for hours in reminder_hours:
        lead = timedelta(hours=hours)
        due = start - lead
        if due > now:
            planned.append(Planned(REMINDER, due, due + lead / 2, lead_minutes=hours * 60))
    return planned


def intake_nudge(start: datetime, now: datetime) -> list[Planned]:
    start = start.astimezone(UTC)
    due = start - INTAKE_NUDGE_LEAD
    if due <= now:
        return []
    return [Planned(INTAKE_NUDGE, due, start - INTAKE_NUDGE_STALE_BEFORE)]


def at_once(kind: str, now: datetime, stale_at: datetime) -> Planned:
    """A notice due now, worth sending until `stale_at` (never before now: the constraint wants stale ≥ due)."""
    return Planned(kind, now, max(stale_at, now))


def follow_up(end: datetime, zone: ZoneInfo) -> Planned:
    next_day = end.astimezone(zone).date() + timedelta(days=1)
    due = datetime.combine(next_day, FOLLOW_UP_AT, tzinfo=zone)
    return Planned(FOLLOW_UP, due, due + FOLLOW_UP_STALE_AFTER)


def within_day_ahead(start: datetime, now: datetime, zone: ZoneInfo) -> bool:
    """Whether `start` is before the end of tomorrow, local time: what the front desk is preparing for."""
    end_of_tomorrow = datetime.combine(now.astimezone(zone).date() + timedelta(days=2), time(0), tzinfo=zone)
    return start < end_of_tomorrow


def retry_delay(attempts: int) -> timedelta:
    """Backoff after a failed attempt: 1, 4, 16, 64 minutes (attempts counts the ones made so far)."""
    return timedelta(minutes=4 ** max(attempts - 1, 0))
