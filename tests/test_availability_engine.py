"""The availability engine alone: no database, no clock, every rule with a DST case."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.availability import (
    Busy,
    LocationCalendar,
    PractitionerCalendar,
    Problem,
    SlotRules,
    Timeline,
    WeeklyHours,
    bookable_slots,
    check_start,
)

EVERY_DAY = range(7)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def rules(duration=60, buffer=0, step=30, earliest=LONG_AGO, latest=None) -> SlotRules:
    return SlotRules(timedelta(minutes=duration), timedelta(minutes=buffer), timedelta(minutes=step), earliest, latest)


def hours(days=EVERY_DAY, start=time(9), end=time(17), location_id=1, **validity) -> list[WeeklyHours]:
    return [WeeklyHours(location_id, day, start, end, **validity) for day in days]


def place(zone="America/New_York", rooms=(1,), closed=(), room_appointments=None, location_id=1):
    calendar = LocationCalendar(location_id, ZoneInfo(zone), list(rooms), frozenset(closed), room_appointments or {})
    return {location_id: calendar}


def day_window(day: date, zone: ZoneInfo, days: int = 1) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=days), time(0), tzinfo=zone)


def local_starts(slots, zone: ZoneInfo) -> list[str]:
    return [slot.start.astimezone(zone).strftime("%H:%M") for slot in slots]


def slots_on(day: date, calendar: PractitionerCalendar, locations, slot_rules=None, zone="America/New_York"):
    return bookable_slots(slot_rules or rules(), [calendar], locations, day_window(day, ZoneInfo(zone)))


NINE_TO_FIVE_HOURLY = [f"{hour:02d}:{minute}" for hour in range(9, 16) for minute in ("00", "30")] + ["16:00"]

DST_CHANGES = [
    ("America/New_York", date(2027, 3, 14)),  # spring forward
    ("America/New_York", date(2027, 11, 7)),  # fall back
    ("Europe/London", date(2027, 3, 28)),
    ("Europe/London", date(2027, 10, 31)),
    ("Australia/Sydney", date(2027, 4, 4)),  # autumn there: clocks go back
    ("Australia/Sydney", date(2027, 10, 3)),  # spring there: clocks go forward
]


@pytest.mark.parametrize(("zone", "change"), DST_CHANGES)
def test_it_keeps_a_nine_to_five_shift_at_the_same_local_times_across_a_dst_change(zone, change):
    tz = ZoneInfo(zone)
    calendar = PractitionerCalendar(1, hours())
    before, after = change - timedelta(days=1), change + timedelta(days=1)

    slots_before = slots_on(before, calendar, place(zone), zone=zone)
    slots_on_the_day = slots_on(change, calendar, place(zone), zone=zone)
    slots_after = slots_on(after, calendar, place(zone), zone=zone)

    assert local_starts(slots_before, tz) == NINE_TO_FIVE_HOURLY
    assert local_starts(slots_on_the_day, tz) == NINE_TO_FIVE_HOURLY
    assert local_starts(slots_after, tz) == NINE_TO_FIVE_HOURLY
    # The same wall-clock time is a different UTC instant once the clocks have changed: 09:00 is not
    # simply 24 hours after the previous day's 09:00.
    day = timedelta(days=1)
    assert (
        slots_on_the_day[0].start - slots_before[0].start != day
        or slots_after[0].start - slots_on_the_day[0].start != day
    )
    assert slots_after[0].start - slots_before[0].start != 2 * day


def test_it_steps_in_real_minutes_through_the_night_the_clocks_go_back():
    zone = ZoneInfo("America/New_York")
    night = PractitionerCalendar(1, hours(start=time(0), end=time(4)))
    slots = slots_on(date(2027, 11, 7), night, place(), rules(duration=60, step=60))
    # 00:00, 01:00 (EDT), 01:00 again (EST), 02:00, 03:00: five real hours fit between 00:00 and 04:00.
    assert local_starts(slots, zone) == ["00:00", "01:00", "01:00", "02:00", "03:00"]
    assert [slot.start.hour for slot in slots] == [4, 5, 6, 7, 8]  # UTC


def test_it_starts_a_shift_beginning_inside_the_spring_gap_at_the_first_real_instant():
    zone = ZoneInfo("America/New_York")
    shift = PractitionerCalendar(1, hours(start=time(2, 30), end=time(5)))
    slots = slots_on(date(2027, 3, 14), shift, place(), rules(duration=60, step=60))
    assert local_starts(slots, zone) == ["03:30"]  # 02:30 never happens that night


def test_it_aligns_the_slot_grid_to_the_start_of_each_working_interval():
    split_day = PractitionerCalendar(1, [*hours(end=time(12)), *hours(start=time(13, 15), end=time(15, 15))])
    slots = slots_on(date(2027, 3, 2), split_day, place(), rules(duration=60, step=30))
    assert local_starts(slots, ZoneInfo("America/New_York")) == [
        "09:00", "09:30", "10:00", "10:30", "11:00", "13:15", "13:45", "14:15",
    ]  # fmt: skip


def test_it_keeps_an_appointment_and_its_buffer_clear():
    zone = ZoneInfo("America/New_York")
    ten = datetime(2027, 3, 2, 10, tzinfo=zone)
    booked = Busy(ten, ten + timedelta(minutes=75))  # 10:00-11:00 and a 15-minute buffer
    calendar = PractitionerCalendar(1, hours(end=time(13)), appointments=[booked])
    slots = slots_on(date(2027, 3, 2), calendar, place(), rules(duration=60, buffer=15, step=15))
    # 09:00 would run with its buffer to 10:15, over the booking; 11:15 is the first start after it.
    assert local_starts(slots, zone) == ["11:15", "11:30", "11:45", "12:00"]


def test_it_lets_an_appointment_end_at_closing_time_with_its_buffer_after_it():
    calendar = PractitionerCalendar(1, hours(start=time(9), end=time(11)))
    slots = slots_on(date(2027, 3, 2), calendar, place(), rules(duration=60, buffer=15, step=60))
    assert local_starts(slots, ZoneInfo("America/New_York")) == ["09:00", "10:00"]


def test_it_respects_minimum_notice_and_the_horizon():
    zone = ZoneInfo("America/New_York")
    calendar = PractitionerCalendar(1, hours())
    now = datetime(2027, 3, 1, 20, tzinfo=zone)
    policy = rules(step=60, earliest=now + timedelta(hours=15), latest=now + timedelta(days=2))
    window = day_window(date(2027, 3, 1), zone, days=5)
    slots = bookable_slots(policy, [calendar], place(), window)
    assert slots[0].start == datetime(2027, 3, 2, 11, tzinfo=zone)  # 20:00 + 15 h
    assert slots[-1].start == datetime(2027, 3, 3, 16, tzinfo=zone)  # the horizon ends 2027-03-03 20:00
    assert check_start(policy, calendar, place(), datetime(2027, 3, 2, 10, tzinfo=zone)).problem == Problem.TOO_SOON
    assert (
        check_start(policy, calendar, place(), datetime(2027, 3, 4, 10, tzinfo=zone)).problem == Problem.BEYOND_HORIZON
    )


def test_it_skips_time_off_and_closed_days():
    zone = ZoneInfo("America/New_York")
    afternoon_off = Busy(datetime(2027, 3, 2, 12, tzinfo=zone), datetime(2027, 3, 3, 0, tzinfo=zone))
    calendar = PractitionerCalendar(1, hours(), time_off=[afternoon_off])
    locations = place(closed={date(2027, 3, 3)})
    slots = bookable_slots(rules(step=60), [calendar], locations, day_window(date(2027, 3, 2), zone, days=3))
    by_day = {}
    for slot in slots:
        by_day.setdefault(slot.start.astimezone(zone).date(), []).append(slot.start.astimezone(zone).hour)
    assert by_day == {date(2027, 3, 2): [9, 10, 11], date(2027, 3, 4): list(range(9, 17))}
    tuesday_two = datetime(2027, 3, 2, 14, tzinfo=zone)
    assert check_start(rules(step=60), calendar, locations, tuesday_two).problem == Problem.TIME_OFF
    wednesday_ten = datetime(2027, 3, 3, 10, tzinfo=zone)
    assert check_start(rules(step=60), calendar, locations, wednesday_ten).problem == Problem.CLOSED


def test_it_honours_the_validity_of_working_hours():
    calendar = PractitionerCalendar(1, hours(valid_from=date(2027, 3, 3), valid_until=date(2027, 3, 4)))
    zone = ZoneInfo("America/New_York")
    slots = bookable_slots(rules(step=480), [calendar], place(), day_window(date(2027, 3, 1), zone, days=7))
    assert [slot.start.astimezone(zone).day for slot in slots] == [3, 4]


def test_it_never_puts_two_practitioners_in_a_location_with_one_room():
    zone = ZoneInfo("America/New_York")
    ten = datetime(2027, 3, 2, 10, tzinfo=zone)
    room_taken = {1: [Busy(ten, ten + timedelta(minutes=75))]}  # Dr Okafor's patient is in the only room
    dr_chen = PractitionerCalendar(1, hours(end=time(12, 15)))
    locations = place(rooms=(1,), room_appointments=room_taken)
    slots = slots_on(date(2027, 3, 2), dr_chen, locations, rules(duration=60, buffer=15, step=15))
    assert local_starts(slots, zone) == ["11:15"]
    assert check_start(rules(buffer=15, step=15), dr_chen, locations, ten).problem == Problem.NO_ROOM


def test_it_picks_a_free_room_when_another_is_taken():
    zone = ZoneInfo("America/New_York")
    ten = datetime(2027, 3, 2, 10, tzinfo=zone)
    locations = place(rooms=(1, 2), room_appointments={1: [Busy(ten, ten + timedelta(hours=1))]})
    verdict = check_start(rules(), PractitionerCalendar(1, hours()), locations, ten)
    assert verdict.ok
    assert (verdict.location_id, verdict.room_id) == (1, 2)


def test_it_merges_no_preference_slots_and_names_each_practitioner():
    zone = ZoneInfo("America/New_York")
    morning = PractitionerCalendar(7, hours(end=time(11)))
    afternoon = PractitionerCalendar(8, hours(start=time(10), end=time(12)))
    slots = slots_on(date(2027, 3, 2), morning, place(rooms=(1, 2)))
    merged = bookable_slots(
        rules(step=60), [morning, afternoon], place(rooms=(1, 2)), day_window(date(2027, 3, 2), zone)
    )
    assert len(slots) == 3
    assert [(slot.start.astimezone(zone).hour, slot.practitioner_id) for slot in merged] == [
        (9, 7),
        (10, 7),
        (10, 8),
        (11, 8),
    ]


def test_it_checks_a_chosen_start_with_the_same_rules_as_the_list():
    zone = ZoneInfo("America/New_York")
    calendar = PractitionerCalendar(1, hours())
    assert check_start(rules(step=30), calendar, place(), datetime(2027, 3, 2, 9, 30, tzinfo=zone)).ok
    off_grid = check_start(rules(step=30), calendar, place(), datetime(2027, 3, 2, 9, 10, tzinfo=zone))
    too_late = check_start(rules(step=30), calendar, place(), datetime(2027, 3, 2, 16, 30, tzinfo=zone))
    at_night = check_start(rules(step=30), calendar, place(), datetime(2027, 3, 2, 22, tzinfo=zone))
    assert off_grid.problem == too_late.problem == at_night.problem == Problem.OUTSIDE_HOURS


def test_it_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="naive"):
        check_start(rules(), PractitionerCalendar(1, hours()), place(), datetime(2027, 3, 2, 9))


def test_a_timeline_treats_spans_as_half_open():
    timeline = Timeline([(10, 20), (20, 30), (50, 60)])
    assert not timeline.is_free(25, 26)
    assert timeline.is_free(30, 50)  # ends touching starts do not overlap
    assert not timeline.is_free(0, 11)
    assert not timeline.is_free(45, 55)
    assert timeline.is_free(0, 10)
    assert timeline.is_free(60, 100)
    assert Timeline([]).is_free(0, 100)
