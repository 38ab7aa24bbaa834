"""The clinic file: one YAML file that describes a clinic (see "The clinic file" in DESIGN.md).

`clinic_file_parse(path)` reads the file and checks all of it, the schema first and then what needs the
whole file or the database (references, duplicates, overlapping hours, time zones). Every problem is
collected into one `ClinicFileError`, each as `FILE:LINE: practitioners[0].hours[1].end: reason`.
`clinic_file_load(parsed)` then writes the checked file in one transaction, so a bad file changes nothing.

Loading is idempotent: objects are matched by slug (rooms by location and slug) and updated in place.
For every practitioner in the file, the file is the whole truth about their services, working hours and
time off; for every location in the file, about its closures. Objects the file does not mention are left
alone (to retire a room or a service, deactivate it in the admin).

A file that would strand booked appointments (hours that no longer cover them, time off or a closure over
them, a service taken off a practitioner's list) is refused, listing each one where the file says so: the
desk moves or cancels them first. `clinic_file_load` checks again under the booking service's locks, so no
booking made in between slips through.
"""

import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from itertools import combinations
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, TypeVar, get_args
from zoneinfo import ZoneInfo

import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email, validate_slug
from django.db import models, transaction
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from scheduling import schedule_changes
from scheduling.availability import Busy, WeeklyHours
from scheduling.models import (
    Appointment,
    Clinic,
    Closure,
    Location,
    Practitioner,
    Room,
    Service,
    TimeOff,
    WorkingHours,
    default_reminder_hours,
    validate_reminder_hours,
    validate_timezone,
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = get_args(Weekday)  # in the order of Python's date.weekday()
_SMALLINT_MAX = 32767  # PositiveSmallIntegerField

Loc = tuple[str | int, ...]
Issue = tuple[Loc, str]


# --- The schema --------------------------------------------------------------------------------------------


def _checked_by(*validators: Callable[[Any], None]) -> AfterValidator:
    """Reuse Django validators, so the file and the admin refuse the same values in the same words."""

    def check(value: str) -> str:
        if value == "":  # blank is allowed where the field has a blank default; required fields say min_length
            return value
        try:
            for validator in validators:
                validator(value)
        except DjangoValidationError as error:
            raise ValueError(" ".join(error.messages)) from None
        return value

    return AfterValidator(check)


def _as_text(example: str) -> BeforeValidator:
    """Dates and times are written as text: a bare number would otherwise pass as seconds since 1970."""

    def require_text(value: object) -> object:
        if isinstance(value, str | date | time):
            return value
        raise ValueError(f'write it as text, such as "{example}"')

    return BeforeValidator(require_text)


def _clock_time(value: object) -> object:
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value) if isinstance(value, str) else None
    if match is None:
        raise ValueError('use a 24-hour time such as "09:00" or "17:30"')
    return time(int(match[1]), int(match[2]))


def _blank_as(empty: object) -> BeforeValidator:
    return BeforeValidator(lambda value: empty if value is None else value)


# `reason:` with nothing after it, or `time_off:` with its last item deleted, is null in YAML: it means "none".
BlankIsEmpty = _blank_as([])
Text = Annotated[str, _blank_as("")]
Slug = Annotated[str, Field(min_length=1, max_length=50), _checked_by(validate_slug)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Email = Annotated[str, Field(max_length=254), _checked_by(validate_email), AfterValidator(str.lower)]
Zone = Annotated[str, Field(min_length=1), _checked_by(validate_timezone)]
Color = Annotated[str, _checked_by(*Practitioner._meta.get_field("color").validators)]
Price = Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
Day = Annotated[date, _as_text("2027-01-01")]
Moment = Annotated[datetime, _as_text("2026-12-24T09:00")]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class BookingSpec(_Spec):
    slot_step_minutes: int = Field(ge=5, le=240)
    min_notice_hours: int = Field(ge=0, le=_SMALLINT_MAX)
    horizon_days: int = Field(ge=1, le=_SMALLINT_MAX)
    late_cancel_hours: int = Field(ge=0, le=_SMALLINT_MAX)
    hold_minutes: int = Field(ge=1, le=_SMALLINT_MAX)
    reminder_hours: Annotated[list[int], _checked_by(validate_reminder_hours)] = Field(
        default_factory=default_reminder_hours
    )


class ClinicSpec(_Spec):
    name: Name
    phone: Text = Field("", max_length=40)
    email: Email = ""
    booking: BookingSpec


class RoomSpec(_Spec):
    slug: Slug
    name: str = Field(min_length=1, max_length=100)


class LocationSpec(_Spec):
    slug: Slug
    name: Name
    timezone: Zone
    address: str = Field(min_length=1)
    directions: str = ""
    phone: Text = Field("", max_length=40)
    rooms: list[RoomSpec] = Field(min_length=1)


class ServiceSpec(_Spec):
    slug: Slug
    name: Name
    description: Text = ""
    duration_minutes: int = Field(ge=5, le=480)
    buffer_minutes: int = Field(0, ge=0, le=240)
    price: Price
    bookable_online: bool = True
    new_patients_only: bool = False


class HoursSpec(_Spec):
    """Weekly hours in the wall-clock time of `location`; `valid_until` is the last day they apply."""

    location: Slug
    days: list[Weekday] = Field(min_length=1)
    start: ClockTime
    end: ClockTime
    valid_from: Day | None = None
    valid_until: Day | None = None

    @field_validator("days")
    @classmethod
    def _each_day_once(cls, days: list[str]) -> list[str]:
        repeated = sorted({day for day in days if days.count(day) > 1}, key=WEEKDAYS.index)
        if repeated:
            raise ValueError(f"{', '.join(repeated)} listed more than once")
        return days

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: time, info: ValidationInfo) -> time:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError(f"must be after start ({start:%H:%M}); a shift cannot run past midnight")
        return end

    @field_validator("valid_until")
    @classmethod
    def _until_not_before_from(cls, until: date | None, info: ValidationInfo) -> date | None:
        since = info.data.get("valid_from")
        if until is not None and since is not None and until < since:
            raise ValueError(f"must be on or after valid_from ({since})")
        return until


class TimeOffSpec(_Spec):
    """Without an offset, start and end are wall-clock times of the practitioner's first location."""

    start: Moment
    end: Moment
    reason: Text = Field("", max_length=200)


class PractitionerSpec(_Spec):
    slug: Slug
    name: Name
    email: Email = Field(min_length=1)
    credentials: Text = Field("", max_length=200)
    bio: Text = ""
    color: Color | None = None  # None keeps the colour already chosen (or the model's default)
    services: Annotated[list[Slug], BlankIsEmpty] = []
    hours: Annotated[list[HoursSpec], BlankIsEmpty] = []
    time_off: Annotated[list[TimeOffSpec], BlankIsEmpty] = []


class ClosureSpec(_Spec):
    location: Slug
    date: Day
    reason: Text = Field("", max_length=200)


class ClinicFileSpec(_Spec):
    clinic: ClinicSpec | None = None
    locations: Annotated[list[LocationSpec], BlankIsEmpty] = []
    services: Annotated[list[ServiceSpec], BlankIsEmpty] = []
    practitioners: Annotated[list[PractitionerSpec], BlankIsEmpty] = []
    closures: Annotated[list[ClosureSpec], BlankIsEmpty] = []


# --- Problems and where they are -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    path: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.reason}"


class ClinicFileError(Exception):
    """A clinic file that cannot be loaded, with every problem found in it (not just the first)."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda problem: problem.line or 0)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _path(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(file)"


def _line_at(root: yaml.Node, loc: Loc) -> int:
    """The line of the deepest node that `loc` reaches: the key itself for a mapping entry."""
    node, line = root, root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            # The last of repeated keys, because that is the one the constructor keeps.
            entries = [(key, value) for key, value in node.value if key.value == part]
            if not entries:
                break
            key, node = entries[-1]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _located(name: str, root: yaml.Node, issues: Iterable[Issue]) -> list[Problem]:
    return [Problem(name, _line_at(root, loc), _path(loc), reason) for loc, reason in issues]


# --- Reading the YAML ------------------------------------------------------------------------------------------


class _ClinicFileLoader(yaml.SafeLoader):
    """YAML 1.1 minus two surprises. An unquoted 10:00 would be the number 600 (base 60), and an unquoted
    2027-02-30 would crash the reader instead of being reported; both stay text, and the schema parses them."""


_INT_TAG = "tag:yaml.org,2002:int"
_ClinicFileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in {_INT_TAG, "tag:yaml.org,2002:timestamp"}]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ClinicFileLoader.add_implicit_resolver(
    _INT_TAG,
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


def _read_yaml(name: str, path: Path) -> tuple[yaml.Node, dict, list[Problem]]:
    """The document's node tree (for line numbers), its data, and any key written twice in one mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ClinicFileError([Problem(name, None, "(file)", f"cannot be read: {error}")]) from None
    loader = _ClinicFileLoader(text)
    try:
        root = loader.get_single_node()
        repeated = list(_repeated_keys(name, root)) if root else []
        data = loader.construct_document(root) if root else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        reason = getattr(error, "problem", None) or str(error)
        raise ClinicFileError(
            [Problem(name, mark.line + 1 if mark else None, "(file)", f"is not valid YAML: {reason}")]
        ) from None
    finally:
        loader.dispose()
    if root is None or not isinstance(data, dict):
        reason = "should be a mapping with the keys " + ", ".join(ClinicFileSpec.model_fields)
        raise ClinicFileError([Problem(name, root.start_mark.line + 1 if root else 1, "(file)", reason)])
    return root, data, repeated


def _repeated_keys(name: str, node: yaml.Node, loc: Loc = ()) -> Iterator[Problem]:
    # YAML keeps the last of two equal keys without a word; a clinic file must not lose a value silently.
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            if key.value in seen:
                reason = "is written twice in the same place; only the last would count"
                yield Problem(name, key.start_mark.line + 1, _path((*loc, key.value)), reason)
            seen.add(key.value)
            yield from _repeated_keys(name, value, (*loc, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _repeated_keys(name, item, (*loc, index))


# --- Schema errors, in words ----------------------------------------------------------------------------------


def _schema_issues(error: ValidationError) -> Iterator[Issue]:
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        if item["type"] == "missing":
            yield loc, "is required"
        elif item["type"] == "extra_forbidden":
            yield loc, _unknown_key_reason(loc)
        else:
            yield loc, item["msg"].removeprefix("Value error, ")


def _unknown_key_reason(loc: Loc) -> str:
    spec = _spec_at(loc[:-1])
    allowed = list(spec.model_fields) if spec else []
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    if close:
        return f"unknown key (did you mean {close[0]}?)"
    return "unknown key (expected one of: " + ", ".join(allowed) + ")"


def _spec_at(loc: Loc) -> type[BaseModel] | None:
    spec: type[BaseModel] | None = ClinicFileSpec
    for part in loc:
        if isinstance(part, int):
            continue  # list items: the model is found when the list's field is unwrapped
        field_info = spec.model_fields.get(part) if spec else None
        if field_info is None:
            return None
        candidates = (field_info.annotation, *get_args(field_info.annotation))
        spec = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return spec


# --- Checks that need the whole file or the database ----------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    zones: dict[str, str]  # location slug -> IANA zone, from the file, else from the database
    services: set[str]
    login_owners: dict[str, str]  # practitioner email -> slug of the practitioner whose login it already is


def _known(spec: ClinicFileSpec) -> _Known:
    zones = dict(Location.objects.values_list("slug", "timezone"))
    zones.update((location.slug, location.timezone) for location in spec.locations)
    services = set(Service.objects.values_list("slug", flat=True)) | {service.slug for service in spec.services}
    emails = [practitioner.email for practitioner in spec.practitioners]
    owners = Practitioner.objects.filter(user__username__in=emails).values_list("user__username", "slug")
    return _Known(zones=zones, services=services, login_owners=dict(owners))


def _cross_issues(spec: ClinicFileSpec, known: _Known) -> Iterator[Issue]:
    yield from _duplicate_issues(spec)
    yield from _reference_issues(spec, known)
    yield from _overlap_issues(spec)
    yield from _time_off_issues(spec, known.zones)


def _repeated(section: Loc, key_field: str, keys: list[Hashable]) -> Iterator[Issue]:
    first: dict[Hashable, int] = {}
    for index, key in enumerate(keys):
        if key in first:
            yield (*section, index, key_field), f"same as {_path((*section, first[key]))}; each must be unique"
        first.setdefault(key, index)


def _duplicate_issues(spec: ClinicFileSpec) -> Iterator[Issue]:
    yield from _repeated(("locations",), "slug", [location.slug for location in spec.locations])
    yield from _repeated(("services",), "slug", [service.slug for service in spec.services])
    yield from _repeated(("practitioners",), "slug", [practitioner.slug for practitioner in spec.practitioners])
    yield from _repeated(("practitioners",), "email", [practitioner.email for practitioner in spec.practitioners])
    yield from _repeated(("closures",), "date", [(closure.location, closure.date) for closure in spec.closures])
    for index, location in enumerate(spec.locations):
        yield from _repeated(("locations", index, "rooms"), "slug", [room.slug for room in location.rooms])


def _reference_issues(spec: ClinicFileSpec, known: _Known) -> Iterator[Issue]:
    for index, practitioner in enumerate(spec.practitioners):
        loc = ("practitioners", index)
        for position, slug in enumerate(practitioner.services):
            if slug not in known.services:
                yield (*loc, "services", position), f"no service {slug!r} in this file or the database"
        for position, hours in enumerate(practitioner.hours):
            if hours.location not in known.zones:
                yield (*loc, "hours", position, "location"), _no_location(hours.location)
        owner = known.login_owners.get(practitioner.email, practitioner.slug)
        if owner != practitioner.slug:
            yield (*loc, "email"), f"is already the login of practitioner {owner!r}"
    for index, closure in enumerate(spec.closures):
        if closure.location not in known.zones:
            yield ("closures", index, "location"), _no_location(closure.location)


def _no_location(slug: str) -> str:
    return f"no location {slug!r} in this file or the database"


def _overlap_issues(spec: ClinicFileSpec) -> Iterator[Issue]:
    # A practitioner can't be in two places: hours overlap whatever their locations.
    for index, practitioner in enumerate(spec.practitioners):
        for (first, a), (second, b) in combinations(enumerate(practitioner.hours), 2):
            days = [day for day in WEEKDAYS if day in a.days and day in b.days]
            if days and a.start < b.end and b.start < a.end and _validity_overlaps(a, b):
                reason = f"overlaps hours[{first}] ({a.start:%H:%M}-{a.end:%H:%M} at {a.location}) on {', '.join(days)}"
                yield ("practitioners", index, "hours", second), reason


def _validity_overlaps(a: HoursSpec, b: HoursSpec) -> bool:
    a_from, a_until = a.valid_from or date.min, a.valid_until or date.max
    b_from, b_until = b.valid_from or date.min, b.valid_until or date.max
    return a_from <= b_until and b_from <= a_until


def _home_zone(practitioner: PractitionerSpec, zones: dict[str, str]) -> str | None:
    """The zone of the practitioner's first location, in which their time off is written."""
    return zones.get(practitioner.hours[0].location) if practitioner.hours else None


def _aware(moment: datetime, zone: str | None) -> datetime:
    """A time without an offset is wall-clock time in `zone` (DESIGN.md); an explicit offset wins."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    if zone is None:
        raise ValueError(
            "has no UTC offset and no time zone to read it in: give the practitioner hours at a location "
            "first, or write an offset such as 2026-12-24T09:00-05:00"
        )
    local = moment.replace(tzinfo=ZoneInfo(zone))
    # A time the clocks skip (02:30 on the night they spring forward) would silently move by an hour.
    if local.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None) != moment:
        raise ValueError(f"{moment:%Y-%m-%d %H:%M} does not exist in {zone}: the clocks skip it")
    return local.astimezone(UTC)


def _time_off_issues(spec: ClinicFileSpec, zones: dict[str, str]) -> Iterator[Issue]:
    for index, practitioner in enumerate(spec.practitioners):
        zone = _home_zone(practitioner, zones)
        for position, period in enumerate(practitioner.time_off):
            yield from _period_issues(("practitioners", index, "time_off", position), period, zone)


def _period_issues(loc: Loc, period: TimeOffSpec, zone: str | None) -> Iterator[Issue]:
    moments = {}
    for name in ("start", "end"):
        try:
            moments[name] = _aware(getattr(period, name), zone)
        except ValueError as error:
            yield (*loc, name), str(error)
            return
    if moments["end"] <= moments["start"]:
        yield (*loc, "end"), "must be after start"


# --- Parsing ---------------------------------------------------------------------------------------------------


class TimeOffPeriod(NamedTuple):
    start: datetime  # aware, UTC
    end: datetime
    reason: str


@dataclass(frozen=True)
class ClinicFile:
    """A clinic file that passed every check, ready for `clinic_file_load`."""

    name: str
    spec: ClinicFileSpec
    time_off: dict[str, list[TimeOffPeriod]]  # practitioner slug -> periods
    root: yaml.Node = field(repr=False)  # where each part of the file is, for problems found when loading


def clinic_file_parse(path: str | Path) -> ClinicFile:
    """Read and check a clinic file; raise `ClinicFileError` listing every problem. Reads, never writes."""
    name = str(path)
    root, data, problems = _read_yaml(name, Path(path))
    try:
        spec = ClinicFileSpec.model_validate(data)
    except ValidationError as error:
        raise ClinicFileError(problems + _located(name, root, _schema_issues(error))) from None
    known = _known(spec)
    problems += _located(name, root, _cross_issues(spec, known))
    if problems:
        raise ClinicFileError(problems)
    parsed = ClinicFile(name=name, spec=spec, time_off=_time_off_periods(spec, known.zones), root=root)
    _refuse_if_stranding(parsed)
    return parsed


def _time_off_periods(spec: ClinicFileSpec, zones: dict[str, str]) -> dict[str, list[TimeOffPeriod]]:
    periods = {}
    for practitioner in spec.practitioners:
        zone = _home_zone(practitioner, zones)
        periods[practitioner.slug] = [
            TimeOffPeriod(_aware(period.start, zone), _aware(period.end, zone), period.reason)
            for period in practitioner.time_off
        ]
    return periods


# --- Booked appointments the file would strand ---------------------------------------------------------------


def _refuse_if_stranding(parsed: ClinicFile) -> None:
    problems = _located(parsed.name, parsed.root, _stranding_issues(parsed))
    if problems:
        raise ClinicFileError(problems)


def _lock_schedules(spec: ClinicFileSpec) -> None:
    """Bookings for the file's practitioners and locations wait until the file is checked and written."""
    practitioner_ids = Practitioner.objects.filter(slug__in=[p.slug for p in spec.practitioners])
    location_slugs = {location.slug for location in spec.locations} | {closure.location for closure in spec.closures}
    schedule_changes.schedule_lock(
        practitioner_ids=practitioner_ids.values_list("id", flat=True),
        location_ids=Location.objects.filter(slug__in=location_slugs).values_list("id", flat=True),
    )


def _stranding_issues(parsed: ClinicFile) -> Iterator[Issue]:
    spec = parsed.spec
    saved = Practitioner.objects.in_bulk([practitioner.slug for practitioner in spec.practitioners], field_name="slug")
    locations = Location.objects.in_bulk(field_name="slug")
    for index, entry in enumerate(spec.practitioners):
        practitioner = saved.get(entry.slug)
        if practitioner is not None:
            yield from _practitioner_stranding(("practitioners", index), entry, practitioner, parsed, locations)
    for index, closure in enumerate(spec.closures):
        location = locations.get(closure.location)
        if location is not None:
            stranded = schedule_changes.stranded_by_closures(location, [closure.date])
            yield from _stranded(("closures", index), stranded, "the location would be closed on the day of")


def _practitioner_stranding(
    loc: Loc, entry: PractitionerSpec, practitioner: Practitioner, parsed: ClinicFile, locations: dict[str, Location]
) -> Iterator[Issue]:
    hours = [
        WeeklyHours(locations[h.location].id, WEEKDAYS.index(day), h.start, h.end, h.valid_from, h.valid_until)
        for h in entry.hours
        if h.location in locations  # a location new in this file has no appointments yet
        for day in h.days
    ]
    stranded = schedule_changes.stranded_by_hours(practitioner, hours)
    yield from _stranded((*loc, "hours"), stranded, "these hours would leave out")
    periods = [Busy(period.start, period.end) for period in parsed.time_off[entry.slug]]
    for appointment in schedule_changes.stranded_by_time_off(practitioner, periods):
        position = next(i for i, p in enumerate(periods) if p.start < appointment.end and appointment.start < p.end)
        yield from _stranded((*loc, "time_off", position), [appointment], "this time off would fall on")
    offered = set(practitioner.services.values_list("slug", flat=True))
    withdrawn = Service.objects.filter(slug__in=offered - set(entry.services)).values_list("id", flat=True)
    stranded = schedule_changes.stranded_by_services_withdrawn(practitioner, set(withdrawn))
    yield from _stranded((*loc, "services"), stranded, "a service taken off this list is booked for")


def _stranded(loc: Loc, appointments: list[Appointment], why: str) -> Iterator[Issue]:
    shown = appointments[: schedule_changes.LISTED_AT_MOST]
    for appointment in shown:
        line = schedule_changes.describe(appointment)
        yield loc, f"{why} the booked appointment {line}; move or cancel it from the desk first"
    if len(appointments) > len(shown):
        yield loc, f"and {len(appointments) - len(shown)} more booked appointments"


# --- Writing ---------------------------------------------------------------------------------------------------

OUTCOMES = ("created", "updated", "unchanged", "deleted")
_Model = TypeVar("_Model", bound=models.Model)


@dataclass
class LoadSummary:
    """What a load did, per kind of object: counts["services"]["updated"] == 2."""

    counts: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, kind: str, outcome: str, number: int = 1) -> None:
        self.counts[kind][outcome] += number

    def lines(self) -> list[str]:
        return [
            f"{kind}: " + ", ".join(f"{counter[outcome]} {outcome}" for outcome in OUTCOMES if counter[outcome])
            for kind, counter in self.counts.items()
        ]


def clinic_file_load(parsed: ClinicFile) -> LoadSummary:
    """Write a checked clinic file in one transaction: all of it or nothing. Safe to run again."""
    summary = LoadSummary()
    spec = parsed.spec
    with transaction.atomic():
        _lock_schedules(spec)
        _refuse_if_stranding(parsed)
        if spec.clinic is not None:
            summary.add("clinic", _changed(Clinic.load(), _clinic_values(spec.clinic)))
        for location in spec.locations:
            _load_location(location, summary)
        for order, service in enumerate(spec.services):
            _load_service(service, order, summary)
        for order, practitioner in enumerate(spec.practitioners):
            _load_practitioner(practitioner, order, parsed.time_off[practitioner.slug], summary)
        _load_closures(spec, summary)
    return summary


def _changed(instance: models.Model, values: dict[str, Any]) -> str:
    """Save only the fields whose value differs, so a second load reports (and writes) nothing."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    if changed:
        instance.save(update_fields=changed)
    return "updated" if changed else "unchanged"


def _upsert(model: type[_Model], lookup: dict[str, Any], values: dict[str, Any], summary: LoadSummary) -> _Model:
    kind = str(model._meta.verbose_name_plural)
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        summary.add(kind, "created")
        return model.objects.create(**lookup, **values)
    summary.add(kind, _changed(instance, values))
    return instance


def _sync_rows(
    rows: models.QuerySet,
    wanted: dict[Hashable, dict[str, Any]],
    key: Callable[[Any], Hashable],
    new: Callable[[Hashable, dict[str, Any]], models.Model],
    summary: LoadSummary,
) -> None:
    """Make `rows` exactly `wanted` (natural key -> other values): update, delete the rest, create the missing."""
    kind = str(rows.model._meta.verbose_name_plural)
    missing = dict(wanted)
    for row in rows:
        values = missing.pop(key(row), None)
        if values is None:
            row.delete()
            summary.add(kind, "deleted")
        else:
            summary.add(kind, _changed(row, values))
    for row_key, values in missing.items():
        new(row_key, values).save()
        summary.add(kind, "created")


def _clinic_values(clinic: ClinicSpec) -> dict[str, Any]:
    return {"name": clinic.name, "phone": clinic.phone, "email": clinic.email, **clinic.booking.model_dump()}


def _load_location(spec: LocationSpec, summary: LoadSummary) -> None:
    values = {
        "name": spec.name,
        "timezone": spec.timezone,
        "address": spec.address,
        "directions": spec.directions,
        "phone": spec.phone,
    }
    location = _upsert(Location, {"slug": spec.slug}, values, summary)
    for room in spec.rooms:
        _upsert(Room, {"location": location, "slug": room.slug}, {"name": room.name}, summary)


def _load_service(spec: ServiceSpec, order: int, summary: LoadSummary) -> None:
    values = spec.model_dump(exclude={"slug"}) | {"display_order": order}
    _upsert(Service, {"slug": spec.slug}, values, summary)


def _load_practitioner(spec: PractitionerSpec, order: int, time_off: list[TimeOffPeriod], summary: LoadSummary) -> None:
    values = spec.model_dump(include={"name", "credentials", "bio"})
    values |= {"display_order": order, "user_id": _staff_login(spec.email, summary).pk}
    if spec.color is not None:
        values["color"] = spec.color
    practitioner = _upsert(Practitioner, {"slug": spec.slug}, values, summary)
    practitioner.services.set(Service.objects.filter(slug__in=spec.services))
    _sync_hours(practitioner, spec.hours, summary)
    wanted_time_off = {(period.start, period.end): {"reason": period.reason} for period in time_off}
    _sync_rows(
        practitioner.time_off.all(),
        wanted_time_off,
        key=lambda row: (row.start, row.end),
        new=lambda times, values: TimeOff(practitioner=practitioner, start=times[0], end=times[1], **values),
        summary=summary,
    )


def _staff_login(email: str, summary: LoadSummary) -> AbstractBaseUser:
    """The practitioner's Django login. A new one has no usable password; an existing one keeps its own."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=email).first()
    if user is None:
        user = user_model(username=email, email=email, is_staff=True)
        user.set_unusable_password()
        user.save()
        summary.add("staff logins", "created")
    else:
        summary.add("staff logins", _changed(user, {"is_staff": True}))
    return user


def _sync_hours(practitioner: Practitioner, hours: list[HoursSpec], summary: LoadSummary) -> None:
    location_ids = dict(Location.objects.filter(slug__in={h.location for h in hours}).values_list("slug", "id"))
    wanted: dict[Hashable, dict[str, Any]] = {
        (location_ids[h.location], WEEKDAYS.index(day), h.start, h.end, h.valid_from, h.valid_until): {}
        for h in hours
        for day in h.days
    }
    fields = ("location_id", "weekday", "start_time", "end_time", "valid_from", "valid_until")
    _sync_rows(
        practitioner.hours.all(),
        wanted,
        key=lambda row: tuple(getattr(row, name) for name in fields),
        new=lambda key, _: WorkingHours(practitioner=practitioner, **dict(zip(fields, key, strict=True))),
        summary=summary,
    )


def _load_closures(spec: ClinicFileSpec, summary: LoadSummary) -> None:
    by_location: dict[str, dict[Hashable, dict[str, Any]]] = {location.slug: {} for location in spec.locations}
    for closure in spec.closures:
        by_location.setdefault(closure.location, {})[closure.date] = {"reason": closure.reason}
    described = {location.slug for location in spec.locations}
    for location in Location.objects.filter(slug__in=by_location):
        wanted = by_location[location.slug]
        rows = location.closures.all()
        if location.slug not in described:
            rows = rows.filter(date__in=wanted)  # a location the file only mentions keeps its other closures
        _sync_rows(
            rows,
            wanted,
            key=lambda row: row.date,
            new=lambda day, values, location=location: Closure(location=location, date=day, **values),
            summary=summary,
        )
