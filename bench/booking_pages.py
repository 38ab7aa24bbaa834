"""How fast the booking pages answer, page by page, along the path a new patient takes with the demo clinic.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.booking_pages [--profile [MS]]

The clinic is the demo one, loaded as `make run` loads it (`load_demo --force`: three practitioners, five
treatments, a booked week). The patient books the initial consultation (new patients only, 90 minutes plus
15 of buffer) with Mei Chen or with "no preference", fills in contact details and the intake, reviews and
confirms, then opens the manage link. Every request runs in-process through Django's test client; the
figure is the wall time of `client.get` / `client.post`, beside `GET /admin/login/` timed in the same run.

Pages that write run from a fresh client each time, as a new patient would: each hold is released before
the next one (untimed), and every confirmation books the next free time for a new patient. Last, the page
of times and the reschedule page run again once those confirmations have filled Mei Chen's next two
months, and once the whole 90-day horizon is booked (no free time at all: the longest search).
"""

import argparse
import cProfile
import io
import itertools
import pstats
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench.common import Row, bench_database, print_table, time_calls
from patients.intake import SAFETY_FLAGS
from patients.services import PatientDetails
from scheduling.availability import Slot
from scheduling.models import Appointment, Clinic, Practitioner, Service
from scheduling.selectors import bookable_slots
from scheduling.services import appointment_book, appointment_release_hold

SERVICE = "initial"
PRACTITIONER = "mei-chen"
TARGET_MS = 50
REPEAT = {"read": 200, "write": 100}
WARMUP = {"read": 20, "write": 5}
PROFILED_REQUESTS = 20

# Production serves hashed files that `collectstatic` wrote at build time; a benchmark database has none,
# and the manifest storage refuses `{% static %}` without them. The tests use the same plain storage; the
# manifest's own cost is one dictionary lookup per static file.
PLAIN_STATIC_FILES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@dataclass
class Page:
    name: str
    samples: list[float]
    queries: int
    profile_one: Callable[[cProfile.Profile], object]  # one more request like the timed ones, profiled
    profile: str = ""


def load_demo_clinic() -> None:
    call_command("load_demo", "--force", stdout=io.StringIO())


def new_patient(number: int) -> PatientDetails:
    """New patient `number`: nobody else has this email, so the clinic has never seen them."""
    return PatientDetails(
        "Bench", f"Patient{number}", f"bench.patient{number}@example.org", "+1 555 010 0101", date(1988, 6, 2)
    )


def patient_typed(patient: PatientDetails) -> dict[str, str | list[str]]:
    """What a new patient types into the details page: contact details, the intake and consent."""
    intake = {
        "reason": "Lower back pain since moving house, and I sleep badly",
        "pain_areas": ["lower_back", "neck"],
        "pain_intensity": "6",
        "pain_duration": "6_weeks_to_3_months",
        "stress_level": "7",
        "sleep_quality": "poor",
        **dict.fromkeys(SAFETY_FLAGS, "no"),
        "acupuncture_before": "no",
        "emergency_contact_name": "Sam Moreau",
        "emergency_contact_phone": "+1 555 010 0150",
        "consent_name": f"{patient.first_name} {patient.last_name}",
        "privacy_read": "on",
        "reminders_opt_in": "on",
    }
    return {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "email": patient.email,
        "phone": patient.phone,
        "date_of_birth": patient.date_of_birth.isoformat(),
        **{f"intake-{key}": value for key, value in intake.items()},
    }


def free_times(service: Service, practitioner: Practitioner) -> Iterator[Slot]:
    """Successive free times of the practitioner that do not overlap each other, so each can be booked."""
    today = timezone.localdate()
    found = bookable_slots(
        service=service,
        start_date=today,
        end_date=today + timedelta(days=Clinic.load().horizon_days),
        practitioner_id=practitioner.id,
    )
    free_from = None
    for slot in found.slots:
        if free_from is None or slot.start >= free_from:
            free_from = slot.end + service.buffer
            yield slot


def expect(response: HttpResponse, status: int, location: str = "") -> HttpResponse:
    if response.status_code != status or not response.get("Location", "").startswith(location):
        raise AssertionError(f"{response.status_code} {response.get('Location', '')}: {response.content[:300]!r}")
    return response


def count_queries(request: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        request()
    return len(queries)


def repeated_page(name: str, request: Callable[[], HttpResponse]) -> Page:
    """A page that can be asked again and again from one client without changing anything."""
    expect(request(), 200)  # the page itself, not an error or a redirect, is what gets timed
    samples = time_calls(request, repeat=REPEAT["read"], warmup=WARMUP["read"])
    return Page(name, samples, count_queries(request), lambda profiler: profiler.runcall(request))


def fresh_page(name: str, prepare: Callable[[], object], request: Callable[[object], object]) -> Page:
    """A page that changes something, so every request gets its own prepared (untimed) state."""
    for _ in range(WARMUP["write"]):
        request(prepare())
    state = prepare()
    queries = count_queries(lambda: request(state))
    samples = []
    for _ in range(REPEAT["write"]):
        state = prepare()
        started = time.perf_counter()
        request(state)
        samples.append((time.perf_counter() - started) * 1000)
    return Page(name, samples, queries, lambda profiler: profiler.runcall(request, prepare()))


@dataclass
class NewPatient:
    """One new patient's browser and what they type."""

    client: Client
    typed: dict


class Journey:
    """The demo clinic's booking pages, as one new patient after another goes through them.

    Measured in an order that keeps the calendar as the demo has it for as long as possible: the pages
    that read it, one patient's hold, details and confirmation (then their manage pages), and only then
    the confirmation row, which books Mei Chen solid for weeks. Three rows then show what a fuller
    calendar does to the pages that look for the next free time.
    """

    def __init__(self, profile_over: float | None = None) -> None:
        self.profile_over = profile_over  # profile each page whose median is over this many ms
        self.pages_measured: list[Page] = []
        self.service = Service.objects.get(slug=SERVICE)
        self.practitioner = Practitioner.objects.get(slug=PRACTITIONER)
        self.urls = {
            "times": reverse("booking:times", args=[SERVICE, PRACTITIONER]),
            "hold": reverse("booking:hold", args=[SERVICE, PRACTITIONER]),
            "details": reverse("booking:details"),
            "confirm": reverse("booking:confirm"),
        }
        self.numbers = itertools.count()  # each new patient's own email address
        self.confirmed = self.filled = 0
        self.last_holder: NewPatient | None = None
        self.bookable = free_times(self.service, self.practitioner)
        # The hold row holds (and releases) the first free time; then one patient keeps it and books it.
        self.first_free = next(self.bookable).start

    def new_browser(self) -> NewPatient:
        return NewPatient(Client(), patient_typed(new_patient(next(self.numbers))))

    def hold(self, patient: NewPatient, start: datetime) -> None:
        response = patient.client.post(self.urls["hold"], {"start": start.isoformat()})
        expect(response, 302, self.urls["details"])

    def about_to_hold(self) -> NewPatient:
        """A new browser, once the last one's hold of the first free time is released (untimed)."""
        self.release_last_hold()
        self.last_holder = self.new_browser()
        return self.last_holder

    def release_last_hold(self) -> None:
        if self.last_holder is not None:
            held = Appointment.objects.get(pk=self.last_holder.client.session["booking"]["hold"])
            appointment_release_hold(appointment=held)
            self.last_holder = None

    def hold_first_free(self, patient: NewPatient) -> None:
        self.hold(patient, self.first_free)

    def holding(self, start: datetime) -> NewPatient:
        patient = self.new_browser()
        self.hold(patient, start)
        return patient

    def reviewed(self, patient: NewPatient) -> HttpResponse:
        return expect(patient.client.post(self.urls["details"], patient.typed), 200)

    def confirm_form(self, patient: NewPatient) -> dict:
        """What the review page's "Confirm booking" posts: every answer again, and which hold it showed."""
        return {**patient.typed, "hold": str(patient.client.session["booking"]["hold"])}

    def ready_to_confirm(self) -> tuple[Client, dict]:
        slot = next(self.bookable, None)
        if slot is None:
            raise SystemExit("Mei Chen has no free time left in the horizon for another confirmation.")
        patient = self.holding(slot.start)
        self.reviewed(patient)
        return patient.client, self.confirm_form(patient)

    def confirm(self, browser_and_form: tuple[Client, dict]) -> str:
        """The manage link the confirmation redirects to."""
        browser, form = browser_and_form
        response = expect(browser.post(self.urls["confirm"], form), 302, "/manage/")
        self.confirmed += 1
        return response["Location"]

    def pages(self) -> list[Page]:
        """Every page in the order a patient meets it, then the search for a free time on fuller calendars."""
        browser, times = Client(), self.urls["times"]
        services, practitioners = reverse("booking:services"), reverse("booking:practitioners", args=[SERVICE])
        anyone = reverse("booking:times", args=[SERVICE, "any"])
        self.measure(repeated_page(f"GET {services} (treatments)", lambda: browser.get(services)))
        self.measure(repeated_page(f"GET {practitioners} (practitioners)", lambda: browser.get(practitioners)))
        self.measure(repeated_page(f"GET {times} (week of the next free time)", lambda: browser.get(times)))
        self.measure(repeated_page(f"GET {anyone} (no preference, 3)", lambda: browser.get(anyone)))
        self.measure(fresh_page(f"POST {self.urls['hold']}", self.about_to_hold, self.hold_first_free))
        self.release_last_hold()
        alice = self.holding(self.first_free)
        self.measure(repeated_page("GET /booking/details/", lambda: alice.client.get(self.urls["details"])))
        self.measure(repeated_page("POST /booking/details/ (→ review)", lambda: self.reviewed(alice)))
        manage = self.confirm((alice.client, self.confirm_form(alice)))
        reschedule = manage + "reschedule/"
        # Alice's manage pages are measured before the confirmation row fills the calendar, shown after it.
        manage_pages = [
            self.profiled(repeated_page("GET /manage/<token>/", lambda: browser.get(manage))),
            self.profiled(repeated_page("GET /manage/<token>/reschedule/", lambda: browser.get(reschedule))),
        ]
        self.measure(fresh_page("POST /booking/confirm/ (books)", self.ready_to_confirm, self.confirm))
        self.pages_measured += manage_pages
        full = f"{PRACTITIONER} full until {self.next_free()}"
        self.measure(repeated_page(f"GET {times}, {full}", lambda: browser.get(times)))
        self.measure(repeated_page(f"GET /manage/<token>/reschedule/, {full}", lambda: browser.get(reschedule)))
        self.fill_the_horizon()
        full = f"{PRACTITIONER} full for all {Clinic.load().horizon_days} days ({self.next_free()})"
        self.measure(repeated_page(f"GET {times}, {full}", lambda: browser.get(times)))
        return self.pages_measured

    def measure(self, page: Page) -> None:
        self.pages_measured.append(self.profiled(page))

    def profiled(self, page: Page) -> Page:
        if self.profile_over is not None and statistics.median(page.samples) > self.profile_over:
            page.profile = profile(page)  # now, while the calendar is as it was measured
        return page

    def fill_the_horizon(self) -> None:
        """Book every time the practitioner has left (through the service, untimed): the slowest search."""
        for slot in self.bookable:
            patient = new_patient(next(self.numbers))
            appointment_book(service=self.service, practitioner=self.practitioner, start=slot.start, patient=patient)
            self.filled += 1

    def next_free(self) -> str:
        slot = next(free_times(self.service, self.practitioner), None)
        return "no free time" if slot is None else f"{slot.start.astimezone(self.zone):%Y-%m-%d}"

    @property
    def zone(self) -> ZoneInfo:
        return self.practitioner.hours.first().location.zone


def as_row(page: Page, baseline: bool = False) -> Row:
    if baseline:
        return Row(page.name, page.samples, queries=page.queries)
    row = Row(page.name, page.samples, f"p50 ≤ {TARGET_MS} ms", queries=page.queries)
    row.met = row.median <= TARGET_MS
    return row


def profile(page: Page) -> str:
    """Where one page's time goes: cProfile over more requests like the timed ones, by cumulative and own time."""
    profiler = cProfile.Profile()
    for _ in range(PROFILED_REQUESTS):
        page.profile_one(profiler)
    text = io.StringIO()
    for order in ("cumulative", "tottime"):
        text.write(f"\n#### Profile: {page.name} ({PROFILED_REQUESTS} requests, by {order})\n\n```\n")
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(order).print_stats(25)
        text.write("```\n")
    return text.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--profile",
        nargs="?",
        const=TARGET_MS,
        type=float,
        metavar="MS",
        help=f"also print a cProfile of every page whose median is over MS (default: the target, {TARGET_MS} ms)",
    )
    arguments = parser.parse_args()
    with bench_database(), override_settings(STORAGES=PLAIN_STATIC_FILES):
        load_demo_clinic()
        admin = Client()
        baseline = repeated_page("GET /admin/login/ (trivial page, baseline)", lambda: admin.get("/admin/login/"))
        journey = Journey(profile_over=arguments.profile)
        pages = journey.pages()
        rows = [as_row(page) for page in pages]
        notes = [
            f"Service `{SERVICE}` ({journey.service.duration} + {journey.service.buffer} buffer), practitioner "
            f"`{PRACTITIONER}`; first free time {journey.first_free.astimezone(journey.zone):%a %Y-%m-%d %H:%M %Z}. "
            f"Booked through the pages: {journey.confirmed}; then through the service, to fill the horizon: "
            f"{journey.filled}.",
        ]
        print_table("Booking pages (demo clinic)", rows, as_row(baseline, baseline=True), notes)
        for page in pages:
            print(page.profile, end="")
        if arguments.profile is not None and not any(page.profile for page in pages):
            print(f"\nNo page took over {arguments.profile:g} ms: nothing to profile.")


if __name__ == "__main__":
    main()
