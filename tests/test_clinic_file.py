"""The clinic file: a clinic describes itself in YAML; a bad file is refused whole, each problem with its line."""

import subprocess
import sys
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from scheduling import clinic_file
from scheduling.clinic_file import ClinicFileError, LoadSummary, clinic_file_load, clinic_file_parse
from scheduling.models import Clinic, Closure, Location, Practitioner, Room, Service, TimeOff, WorkingHours

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "tests" / "clinic_files" / "design_example.yaml"
DEMO = REPO / "scheduling" / "demo" / "clinic.yaml"
UPTOWN = """\
  - slug: uptown
    name: Uptown
    timezone: America/New_York
    address: "1 Upper Street"
    rooms: [{slug: room-1, name: Room 1}]
services:"""


def example_with(*edits: tuple[str, str]) -> str:
    text = EXAMPLE.read_text()
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} should appear exactly once in the example"
        text = text.replace(old, new)
    return text


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clinic.yaml"
    path.write_text(text)
    return path


def load(path: Path) -> LoadSummary:
    return clinic_file_load(clinic_file_parse(path))


def line_of(text: str, snippet: str) -> int:
    lines = [number for number, line in enumerate(text.splitlines(), start=1) if snippet in line]
    assert len(lines) == 1, f"{snippet!r} should be on exactly one line"
    return lines[0]


def row_counts() -> dict[str, int]:
    models = (Clinic, Location, Room, Service, Practitioner, WorkingHours, TimeOff, Closure, get_user_model())
    return {model.__name__: model.objects.count() for model in models}


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ClinicFileError) as refused:
        load(path)
    return [str(problem) for problem in refused.value.problems]


def test_it_loads_the_design_example():
    summary = load(EXAMPLE)

    assert Clinic.load().name == "Meridian Acupuncture"
    assert Clinic.load().hold_minutes == 7
    downtown = Location.objects.get(slug="downtown")
    assert downtown.timezone == "America/New_York"
    assert list(downtown.rooms.values_list("slug", flat=True)) == ["room-1", "room-2"]
    initial = Service.objects.get(slug="initial")
    assert (initial.duration_minutes, initial.price, initial.new_patients_only) == (90, Decimal("120.00"), True)
    mei = Practitioner.objects.get(slug="mei-chen")
    assert set(mei.services.values_list("slug", flat=True)) == {"initial", "follow-up"}
    assert sorted(mei.hours.values_list("weekday", "start_time", "end_time")) == [
        (0, time(9), time(17)),
        (1, time(9), time(17)),
        (3, time(9), time(17)),
        (5, time(10), time(14)),
    ]
    assert Closure.objects.get().date == date(2027, 1, 1)
    assert summary.counts["working hours"]["created"] == 4


def test_it_gives_each_practitioner_a_staff_login_without_a_password():
    load(EXAMPLE)

    login = Practitioner.objects.get(slug="mei-chen").user
    assert (login.username, login.email, login.is_staff) == ("mei@example.org", "mei@example.org", True)
    assert not login.has_usable_password()


def test_it_keeps_the_password_of_an_existing_login():
    get_user_model().objects.create_user("mei@example.org", password="her-own-secret")

    load(EXAMPLE)

    login = Practitioner.objects.get(slug="mei-chen").user
    assert login.check_password("her-own-secret")
    assert login.is_staff


def test_it_changes_nothing_when_loaded_twice():
    load(EXAMPLE)
    counts = row_counts()

    summary = load(EXAMPLE)

    assert row_counts() == counts
    assert all(set(+counter) == {"unchanged"} for counter in summary.counts.values()), summary.lines()


def test_it_updates_what_changed_on_a_second_load(tmp_path):
    load(EXAMPLE)
    edited = example_with(
        ('price: "85.00"', 'price: "90.00"'),
        ('days: [sat], start: "10:00", end: "14:00"', 'days: [sat], start: "11:00", end: "15:00"'),
        ("{slug: room-2, name: Room 2}", "{slug: room-2, name: Garden room}"),
    )

    summary = load(write(tmp_path, edited))

    assert Service.objects.get(slug="follow-up").price == Decimal("90.00")
    assert Room.objects.get(slug="room-2").name == "Garden room"
    saturday = WorkingHours.objects.get(practitioner__slug="mei-chen", weekday=5)
    assert (saturday.start_time, saturday.end_time) == (time(11), time(15))
    assert WorkingHours.objects.count() == 4
    assert summary.counts["services"] == {"updated": 1, "unchanged": 1}
    assert summary.counts["working hours"] == {"unchanged": 3, "deleted": 1, "created": 1}


def test_it_makes_a_practitioners_hours_and_time_off_exactly_those_in_the_file(tmp_path):
    load(EXAMPLE)
    edited = example_with(
        ('      - {location: downtown, days: [sat], start: "10:00", end: "14:00"}\n', ""),
        ('      - {start: "2026-12-24T00:00", end: "2026-12-27T00:00", reason: Holiday}   # location-local\n', ""),
        ('closures:\n  - {location: downtown, date: "2027-01-01", reason: New Year\'s Day}\n', ""),
    )

    load(write(tmp_path, edited))

    assert sorted(WorkingHours.objects.values_list("weekday", flat=True)) == [0, 1, 3]
    assert not TimeOff.objects.exists()
    assert not Closure.objects.exists()


def test_it_leaves_objects_the_file_does_not_mention_alone():
    load(EXAMPLE)
    Service.objects.create(slug="gift-voucher", name="Gift voucher", duration_minutes=30, price="50.00")
    Practitioner.objects.create(slug="li-wei", name="Li Wei")

    load(EXAMPLE)

    assert Service.objects.filter(slug="gift-voucher").exists()
    assert Practitioner.objects.filter(slug="li-wei").exists()


def test_it_accepts_references_to_objects_already_in_the_database(tmp_path):
    load(EXAMPLE)
    text = """\
practitioners:
  - slug: sam-okafor
    name: Sam Okafor
    email: sam@example.org
    services: [follow-up]
    hours: [{location: downtown, days: [wed], start: "12:00", end: "19:00"}]
closures:
  - {location: downtown, date: "2027-07-05", reason: Independence Day (observed)}
"""

    load(write(tmp_path, text))

    sam = Practitioner.objects.get(slug="sam-okafor")
    assert list(sam.services.values_list("slug", flat=True)) == ["follow-up"]
    # A location the file only mentions keeps the closures the file does not list.
    assert sorted(Closure.objects.values_list("date", flat=True)) == [date(2027, 1, 1), date(2027, 7, 5)]


def test_it_reads_unquoted_times_as_times_of_day(tmp_path):
    # YAML 1.1 would read 10:00 as the number 600.
    load(write(tmp_path, example_with(('start: "10:00", end: "14:00"', "start: 10:00, end: 14:00"))))

    saturday = WorkingHours.objects.get(weekday=5)
    assert (saturday.start_time, saturday.end_time) == (time(10), time(14))


def test_it_accepts_the_same_hours_in_periods_that_do_not_overlap(tmp_path):
    text = example_with(
        (
            '- {location: downtown, days: [sat], start: "10:00", end: "14:00"}',
            '- {location: downtown, days: [sat], start: "10:00", end: "14:00", valid_until: "2027-03-31"}\n'
            '      - {location: downtown, days: [sat], start: "12:00", end: "16:00", valid_from: "2027-04-01"}',
        )
    )

    load(write(tmp_path, text))

    assert WorkingHours.objects.filter(weekday=5).count() == 2


@pytest.mark.parametrize(
    ("edit", "marker", "field", "reason"),
    [
        pytest.param(
            ('price: "85.00"}', 'price: "85.00", colour: teal}'),
            "colour: teal",
            "services[1].colour",
            "unknown key (expected one of: slug, name, description",
            id="unknown key",
        ),
        pytest.param(
            ("duration_minutes: 60", "duraton_minutes: 60"),
            "duraton_minutes",
            "services[1].duraton_minutes",
            "unknown key (did you mean duration_minutes?)",
            id="misspelt key",
        ),
        pytest.param(
            ("timezone: America/New_York", "timezone: America/Gotham"),
            "America/Gotham",
            "locations[0].timezone",
            "'America/Gotham' is not an IANA time zone",
            id="unknown time zone",
        ),
        pytest.param(
            ('start: "10:00", end: "14:00"', 'start: "10:00", end: "09:30"'),
            '"09:30"',
            "practitioners[0].hours[1].end",
            "must be after start (10:00)",
            id="end before start",
        ),
        pytest.param(
            (
                '- {location: downtown, days: [sat], start: "10:00", end: "14:00"}',
                '- {location: downtown, days: [sat], start: "10:00", end: "14:00"}\n'
                '      - {location: downtown, days: [fri, sat], start: "13:00", end: "18:00"}',
            ),
            "[fri, sat]",
            "practitioners[0].hours[2]",
            "overlaps hours[1] (10:00-14:00 at downtown) on sat",
            id="overlapping hours",
        ),
        pytest.param(
            (
                '- {location: downtown, days: [sat], start: "10:00", end: "14:00"}',
                '- {location: downtown, days: [sat], start: "10:00", end: "14:00", valid_until: "2027-06-30"}\n'
                '      - {location: downtown, days: [sat], start: "12:00", end: "16:00", valid_from: "2027-06-30"}',
            ),
            'valid_from: "2027-06-30"',
            "practitioners[0].hours[2]",
            "overlaps hours[1]",
            id="hours overlapping on one day of their validity",
        ),
        pytest.param(
            [
                ("services:\n  - {slug: initial", UPTOWN + "\n  - {slug: initial"),
                (
                    '- {location: downtown, days: [sat], start: "10:00", end: "14:00"}',
                    '- {location: downtown, days: [sat], start: "10:00", end: "14:00"}\n'
                    '      - {location: uptown, days: [mon], start: "16:00", end: "19:00"}',
                ),
            ],
            "location: uptown",
            "practitioners[0].hours[2]",
            "overlaps hours[0] (09:00-17:00 at downtown) on mon",
            id="overlapping hours at another location",
        ),
        pytest.param(
            ("services: [initial, follow-up]", "services: [initial, cupping]"),
            "[initial, cupping]",
            "practitioners[0].services[1]",
            "no service 'cupping' in this file or the database",
            id="unknown service",
        ),
        pytest.param(
            ("{location: downtown, days: [sat]", "{location: uptown, days: [sat]"),
            "location: uptown",
            "practitioners[0].hours[1].location",
            "no location 'uptown' in this file or the database",
            id="unknown location for hours",
        ),
        pytest.param(
            ('{location: downtown, date: "2027-01-01"', '{location: midtown, date: "2027-01-01"'),
            "midtown",
            "closures[0].location",
            "no location 'midtown'",
            id="unknown location for a closure",
        ),
        pytest.param(
            ("{slug: follow-up, name:", "{slug: initial, name:"),
            "Follow-up acupuncture",
            "services[1].slug",
            "same as services[0]",
            id="duplicate service slug",
        ),
        pytest.param(
            ("{slug: room-2, name: Room 2}", "{slug: room-1, name: Room 2}"),
            "rooms:",
            "locations[0].rooms[1].slug",
            "same as locations[0].rooms[0]",
            id="duplicate room slug",
        ),
        pytest.param(
            (
                '{location: downtown, days: [mon, tue, thu], start: "09:00"',
                '{location: downtown, days: [mon, tue, thu], start: "9am"',
            ),
            "9am",
            "practitioners[0].hours[0].start",
            'use a 24-hour time such as "09:00"',
            id="bad time",
        ),
        pytest.param(
            ("days: [sat]", "days: [saturday]"),
            "saturday",
            "practitioners[0].hours[1].days[0]",
            "Input should be 'mon', 'tue'",
            id="unknown weekday",
        ),
        pytest.param(
            ('date: "2027-01-01"', 'date: "2027-02-30"'),
            "2027-02-30",
            "closures[0].date",
            "Input should be a valid date or datetime, day value is outside expected range",
            id="impossible date",
        ),
        pytest.param(
            ('price: "85.00"', 'price: "85.005"'),
            "85.005",
            "services[1].price",
            "Decimal input should have no more than 2 decimal places",
            id="price with fractions of a cent",
        ),
        pytest.param(
            ('price: "85.00"', 'price: "eighty"'),
            "eighty",
            "services[1].price",
            "Input should be a valid decimal",
            id="price that is not a number",
        ),
        pytest.param(
            ('price: "85.00"', 'price: "-5.00"'),
            "-5.00",
            "services[1].price",
            "Input should be greater than or equal to 0",
            id="negative price",
        ),
        pytest.param(
            ("    email: mei@example.org\n", ""),
            "slug: mei-chen",
            "practitioners[0].email",
            "is required",
            id="missing field",
        ),
        pytest.param(
            ("    name: Downtown\n", "    name: Downtown\n    name: Uptown\n"),
            "name: Uptown",
            "locations[0].name",
            "is written twice in the same place",
            id="key written twice",
        ),
        pytest.param(
            ('end: "2026-12-27T00:00"', 'end: "2026-12-23T00:00"'),
            "2026-12-23",
            "practitioners[0].time_off[0].end",
            "must be after start",
            id="time off ending before it starts",
        ),
        pytest.param(
            ('start: "2026-12-24T00:00"', 'start: "2027-03-14T02:30"'),
            "2027-03-14T02:30",
            "practitioners[0].time_off[0].start",
            "2027-03-14 02:30 does not exist in America/New_York",
            id="time off at a time the clocks skip",
        ),
        pytest.param(
            (
                'start: "10:00", end: "14:00"}',
                'start: "10:00", end: "14:00", valid_from: "2027-05-01", valid_until: "2027-04-30"}',
            ),
            "valid_until",
            "practitioners[0].hours[1].valid_until",
            "must be on or after valid_from (2027-05-01)",
            id="validity ending before it starts",
        ),
        pytest.param(
            ("    rooms: [{slug: room-1", "\trooms: [{slug: room-1"),
            "\trooms:",
            "(file)",
            "is not valid YAML",
            id="not YAML",
        ),
    ],
)
def test_it_refuses_a_bad_file_naming_file_line_and_field(tmp_path, edit, marker, field, reason):
    load(EXAMPLE)
    counts = row_counts()
    edits = edit if isinstance(edit, list) else [edit]
    # The first part of the file is valid and changes something; none of it may be written.
    text = example_with(("name: Meridian Acupuncture", "name: Meridian Renamed"), *edits)
    path = write(tmp_path, text)

    problems = problems_of(path)

    expected = f"{path}:{line_of(text, marker)}: {field}: {reason}"
    assert any(problem.startswith(expected) for problem in problems), problems
    assert row_counts() == counts
    assert Clinic.load().name == "Meridian Acupuncture"


def test_it_reports_every_problem_at_once(tmp_path):
    text = example_with(
        ("timezone: America/New_York", "timezone: Mars/Olympus"),
        ('price: "85.00"', 'price: "cheap"'),
        ("email: mei@example.org", "email: not-an-email"),
    )

    problems = problems_of(write(tmp_path, text))

    assert [problem.split(": ")[1] for problem in problems] == [
        "locations[0].timezone",
        "services[1].price",
        "practitioners[0].email",
    ]


def test_it_reports_every_cross_reference_problem_at_once(tmp_path):
    text = example_with(
        ("services: [initial, follow-up]", "services: [initial, cupping]"),
        ("{location: downtown, days: [sat]", "{location: uptown, days: [sat]"),
        ('{location: downtown, date: "2027-01-01"', '{location: midtown, date: "2027-01-01"'),
    )

    problems = problems_of(write(tmp_path, text))

    assert len(problems) == 3, problems


def test_it_refuses_an_email_that_is_another_practitioners_login(tmp_path):
    load(EXAMPLE)
    text = example_with(("slug: mei-chen", "slug: mei-chen-2"))

    path = write(tmp_path, text)

    assert problems_of(path) == [
        f"{path}:{line_of(text, 'email:')}: practitioners[0].email: is already the login of practitioner 'mei-chen'"
    ]


def test_it_refuses_a_file_that_is_not_a_mapping(tmp_path):
    problems = problems_of(write(tmp_path, "- just\n- a list\n"))

    assert problems == [
        f"{tmp_path / 'clinic.yaml'}:1: (file): should be a mapping with the keys "
        "clinic, locations, services, practitioners, closures"
    ]


def test_it_refuses_a_file_that_does_not_exist(tmp_path):
    problems = problems_of(tmp_path / "missing.yaml")

    assert problems[0].startswith(f"{tmp_path / 'missing.yaml'}: (file): cannot be read")


def test_it_writes_nothing_when_writing_fails_halfway(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(clinic_file, "_load_closures", fail)
    before = row_counts()

    with pytest.raises(RuntimeError):
        load(EXAMPLE)

    assert row_counts() == before


def test_it_reads_time_off_without_an_offset_in_the_locations_zone_across_dst(tmp_path):
    # New York moves from EST (-05:00) to EDT (-04:00) on 2027-03-14.
    text = example_with(
        ('start: "2026-12-24T00:00", end: "2026-12-27T00:00"', 'start: "2027-03-13T12:00", end: "2027-03-15T12:00"')
    )

    load(write(tmp_path, text))

    time_off = TimeOff.objects.get()
    assert time_off.start == datetime(2027, 3, 13, 17, 0, tzinfo=UTC)
    assert time_off.end == datetime(2027, 3, 15, 16, 0, tzinfo=UTC)


def test_it_reads_time_off_in_the_zone_of_the_practitioners_first_location(tmp_path):
    text = example_with(
        ("America/New_York", "Europe/London"),
        ('start: "2026-12-24T00:00", end: "2026-12-27T00:00"', 'start: "2027-07-01T09:00", end: "2027-07-01T17:00"'),
    )

    load(write(tmp_path, text))

    assert TimeOff.objects.get().start == datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # BST is +01:00


def test_it_honours_an_explicit_offset_in_time_off(tmp_path):
    text = example_with(('start: "2026-12-24T00:00"', 'start: "2026-12-24T00:00+01:00"'))

    load(write(tmp_path, text))

    assert TimeOff.objects.get().start == datetime(2026, 12, 23, 23, 0, tzinfo=UTC)


def test_the_command_prints_what_it_loaded(capsys):
    call_command("load_clinic", str(EXAMPLE))

    out = capsys.readouterr().out
    assert f"Loaded {EXAMPLE}" in out
    assert "services: 2 created" in out


def test_the_command_exits_non_zero_with_every_problem_on_stderr(tmp_path):
    path = write(tmp_path, example_with(("America/New_York", "Mars/Olympus"), ('"85.00"', '"cheap"')))

    # A real process, for the real exit code; schema errors are found before the database is asked anything.
    done = subprocess.run(  # noqa: S603 - this interpreter running manage.py on a file the test wrote
        [sys.executable, "manage.py", "load_clinic", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    assert f"{path}:9: locations[0].timezone: 'Mars/Olympus' is not an IANA time zone" in done.stderr
    assert f"{path}:15: services[1].price: Input should be a valid decimal" in done.stderr
    assert "2 problem(s) found; nothing was loaded." in done.stderr
    assert done.stdout == ""


def test_the_demo_clinic_file_loads_cleanly():
    load(DEMO)

    assert Location.objects.get().timezone == "America/New_York"
    assert Room.objects.count() == 3
    assert Practitioner.objects.count() == 3
    assert Service.objects.filter(new_patients_only=True).exists()
    assert WorkingHours.objects.filter(end_time__gte=time(19)).exists(), "an evening shift"
    assert WorkingHours.objects.filter(weekday=5).exists(), "a Saturday"
    assert all(practitioner.services.exists() for practitioner in Practitioner.objects.all())
