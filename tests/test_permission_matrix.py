"""Who may open what: one matrix of role by page or endpoint by verb, object level included.

The actors: nobody signed in, a signed-in user who is not staff (patients never are), a staff login without a role,
a locum in the Practitioner group whose login no calendar is linked to yet, the front desk, Dr Chen (a practitioner,
whose patient is Alice), a manager (the Manager group, not a superuser),
and someone holding Alice's manage link. Bob is Dr Okafor's patient: changing an id in the address must not let
Dr Chen see him. Each cell runs against a fresh database, so a change made by one cell never decides another.
"""

from dataclasses import dataclass

import pytest

from backend.api.permissions import FRONT_DESK, MANAGER, PRACTITIONER
from patients.services import intake_submit
from scheduling.manage_tokens import manage_token
from scheduling.services import appointment_book
from tests.conftest import local
from tests.factories import StaffUserFactory, TimeOffFactory
from tests.test_intake import answers

pytestmark = pytest.mark.django_db

ACTORS = ("nobody", "patient", "no_role", "locum", "desk", "chen", "manager", "link")
STAFF = {"desk", "chen", "manager"}
DESK = {"desk", "manager"}


@dataclass(frozen=True)
class Cell:
    name: str
    method: str
    path: str  # formatted with the scene's ids: {alice}, {bob}, {alices_visit}, {bobs_visit}, {alices_intake}
    allowed: frozenset
    data: dict | None = None


def cell(name, method, path, allowed, data=None) -> Cell:
    return Cell(name, method, path, frozenset(allowed), data)


ALICE_MOVED = {"practitioner": "{chen_id}", "day": "2027-03-02", "time": "14:00"}
BOB_MOVED = {"practitioner": "{okafor_id}", "day": "2027-03-02", "time": "14:00"}
PHONE_PATIENT = {
    "first_name": "Carmen",
    "last_name": "Ruiz",
    "email": "carmen@example.org",
    "phone": "+1 555 010 0177",
    "date_of_birth": "1990-01-05",
    "service": "{service_id}",
    "day": "2027-03-02",
    "start": "2027-03-02T15:00:00-05:00",
    "action": "book",
}

TIME_OFF = {"practitioner": "mei-chen", "start": "2027-03-10T09:00", "end": "2027-03-10T12:00", "reason": "Course"}

API_BOOKING = {
    "service": "{service_id}",
    "practitioner": "{chen_id}",
    "start": "2027-03-02T15:00:00-05:00",
    "patient": {
        "first_name": "Carmen",
        "last_name": "Ruiz",
        "email": "carmen@example.org",
        "phone": "+1 555 010 0177",
        "date_of_birth": "1990-01-05",
    },
}
API_MOVE = {"start": "2027-03-02T15:00:00-05:00"}

MATRIX = [
    # The calendar
    cell("day view", "get", "/desk/?date=2027-03-02", STAFF),
    cell("calendar changes", "get", "/desk/changes/?date=2027-03-02", STAFF),
    cell("own week", "get", "/desk/week/mei-chen/?date=2027-03-02", STAFF),
    cell("another's week", "get", "/desk/week/ada-okafor/?date=2027-03-02", DESK),
    cell("own day sheet", "get", "/desk/sheet/mei-chen/?date=2027-03-02", STAFF),
    cell("another's day sheet", "get", "/desk/sheet/ada-okafor/?date=2027-03-02", DESK),
    cell("booking form", "get", "/desk/book/", STAFF),
    cell("book with self", "post", "/desk/book/", STAFF, {**PHONE_PATIENT, "practitioner": "{chen_id}"}),
    cell("book with another", "post", "/desk/book/", DESK, {**PHONE_PATIENT, "practitioner": "{okafor_id}"}),
    cell("own appointment", "get", "/desk/appointments/{alices_visit}/", STAFF),
    cell("another's appointment", "get", "/desk/appointments/{bobs_visit}/", DESK),
    cell("check in own", "post", "/desk/appointments/{alices_visit}/status/", STAFF, {"to": "arrived"}),
    cell("check in another's", "post", "/desk/appointments/{bobs_visit}/status/", DESK, {"to": "arrived"}),
    cell("cancel own", "post", "/desk/appointments/{alices_visit}/cancel/", STAFF, {"reason": "Ill"}),
    cell("cancel another's", "post", "/desk/appointments/{bobs_visit}/cancel/", DESK, {"reason": "Ill"}),
    cell("move own", "post", "/desk/appointments/{alices_visit}/move/", STAFF, ALICE_MOVED),
    cell("move another's", "post", "/desk/appointments/{bobs_visit}/move/", DESK, BOB_MOVED),
    cell("my day", "get", "/desk/my-day/", {"chen"}),
    cell("time off", "get", "/desk/time-off/?practitioner=mei-chen", {"chen", "manager"}),
    cell("add time off", "post", "/desk/time-off/", {"chen", "manager"}, TIME_OFF),
    cell("remove own time off", "post", "/desk/time-off/{chens_time_off}/delete/", {"chen", "manager"}, {}),
    cell("remove another's time off", "post", "/desk/time-off/{okafors_time_off}/delete/", {"manager"}, {}),
    cell("undelivered messages", "get", "/desk/messages/", DESK),
    cell("try a message again", "post", "/desk/messages/{alices_message}/retry/", DESK, {}),
    # Patients
    cell("patient search", "get", "/desk/patients/?q=moreau", STAFF),
    cell("own patient", "get", "/desk/patients/{alice}/", STAFF),
    cell("another's patient", "get", "/desk/patients/{bob}/", DESK),
    cell("note on own patient", "post", "/desk/patients/{alice}/notes/", STAFF, {"text": "Prefers mornings"}),
    cell("note on another's", "post", "/desk/patients/{bob}/notes/", DESK, {"text": "Prefers mornings"}),
    cell("preferences of own", "post", "/desk/patients/{alice}/preferences/", STAFF, {}),
    cell("preferences of another's", "post", "/desk/patients/{bob}/preferences/", DESK, {}),
    # The manager's admin
    cell("admin: practitioners", "get", "/admin/scheduling/practitioner/", {"manager"}),
    cell("admin: working hours of one", "get", "/admin/scheduling/practitioner/{chen_id}/change/", {"manager"}),
    cell("admin: staff logins", "get", "/admin/auth/user/", {"manager"}),
    cell("admin: roles", "get", "/admin/auth/group/", {"manager"}),
    cell("admin: audit log", "get", "/admin/backend/auditentry/", {"manager"}),
    cell("admin: patients", "get", "/admin/patients/patient/", {"manager"}),
    cell("admin: outbox", "get", "/admin/notifications/message/", {"manager"}),
    cell("admin: articles", "get", "/admin/education/article/", {"manager"}),
    cell("admin: write an article", "get", "/admin/education/article/add/", {"manager"}),
    cell("admin: topics", "get", "/admin/education/topic/", {"manager"}),
    cell("admin: articles shared with patients", "get", "/admin/education/articleshare/", {"manager"}),
    # The API
    cell("API: treatments", "get", "/api/v1/services/", set(ACTORS)),
    cell("API: practitioners", "get", "/api/v1/practitioners/", set(ACTORS)),
    cell("API: locations", "get", "/api/v1/locations/", set(ACTORS)),
    cell(
        "API: free times",
        "get",
        "/api/v1/availability/?service={service_id}&start=2027-03-02&end=2027-03-02",
        set(ACTORS),
    ),
    cell("API: book (patients need no account)", "post", "/api/v1/appointments/", set(ACTORS) - {"locum"}, API_BOOKING),
    cell(
        "API: book with Dr Okafor",
        "post",
        "/api/v1/appointments/",
        set(ACTORS) - {"chen", "locum"},
        {**API_BOOKING, "practitioner": "{okafor_id}"},
    ),
    cell(
        "API: move Alice's to Dr Okafor",
        "post",
        "/api/v1/appointments/{alices_visit}/reschedule/",
        DESK | {"link"},
        {**API_MOVE, "practitioner": "{okafor_id}"},
    ),
    cell("API: move Alice's", "post", "/api/v1/appointments/{alices_visit}/reschedule/", STAFF | {"link"}, API_MOVE),
    cell("API: move Bob's", "post", "/api/v1/appointments/{bobs_visit}/reschedule/", DESK, API_MOVE),
    cell("API: Alice's appointment", "get", "/api/v1/appointments/{alices_visit}/", STAFF | {"link"}),
    cell("API: Bob's appointment", "get", "/api/v1/appointments/{bobs_visit}/", DESK),
    cell("API: cancel Alice's", "post", "/api/v1/appointments/{alices_visit}/cancel/", STAFF | {"link"}, {}),
    cell("API: cancel Bob's", "post", "/api/v1/appointments/{bobs_visit}/cancel/", DESK, {}),
    cell("API: Alice's calendar file", "get", "/api/v1/appointments/{alices_visit}/calendar.ics", STAFF | {"link"}),
    cell("API: Alice's current intake", "get", "/api/v1/intakes/?patient={alice}", STAFF),
    cell("API: Bob's current intake", "get", "/api/v1/intakes/?patient={bob}", DESK),
    cell("API: Alice's intake by id", "get", "/api/v1/intakes/{alices_intake}/", STAFF),
    cell("API: Bob's intake by id", "get", "/api/v1/intakes/{bobs_intake}/", DESK),
    cell("API: intake by the link", "get", "/api/v1/appointments/{alices_visit}/intake/", {"link"}),
    cell("API: Bob's intake with Alice's link", "get", "/api/v1/appointments/{bobs_visit}/intake/", set()),
]


@pytest.fixture
def scene(dr_chen, dr_okafor, follow_up, alice, bob, monday_morning):
    alices = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    bobs = appointment_book(service=follow_up, practitioner=dr_okafor, start=local(2027, 3, 2, 11), patient=bob)
    alices_intake = intake_submit(
        patient=alices.patient, appointment=alices, answers=answers(pregnant=True), consent_name="Alice Moreau"
    )
    bobs_intake = intake_submit(patient=bobs.patient, appointment=bobs, answers=answers(), consent_name="Bob Lindqvist")
    chens_time_off = TimeOffFactory(practitioner=dr_chen, start=local(2027, 4, 1, 9), end=local(2027, 4, 1, 12))
    okafors_time_off = TimeOffFactory(practitioner=dr_okafor, start=local(2027, 4, 1, 9), end=local(2027, 4, 1, 12))
    dr_chen.user = StaffUserFactory(username="mei@example.org", role=PRACTITIONER)
    dr_chen.save()
    users = {
        "patient": StaffUserFactory(username="patient@example.org", is_staff=False),
        "no_role": StaffUserFactory(username="norole@example.org"),
        "locum": StaffUserFactory(username="locum@example.org", role=PRACTITIONER),
        "desk": StaffUserFactory(username="desk@example.org", role=FRONT_DESK),
        "chen": dr_chen.user,
        "manager": StaffUserFactory(username="manager@example.org", role=MANAGER),
    }
    ids = {
        "alice": alices.patient_id,
        "bob": bobs.patient_id,
        "alices_visit": alices.pk,
        "bobs_visit": bobs.pk,
        "alices_intake": alices_intake.pk,
        "bobs_intake": bobs_intake.pk,
        "chen_id": dr_chen.pk,
        "okafor_id": dr_okafor.pk,
        "service_id": follow_up.pk,
        "chens_time_off": chens_time_off.pk,
        "okafors_time_off": okafors_time_off.pk,
        "alices_message": alices.messages.first().pk,
    }
    return users, ids, manage_token(alices)


def allowed(response) -> bool:
    """Let through: any answer but an error, and a redirect that is not to a login page."""
    if response.status_code in (301, 302):
        return "login" not in response["Location"]
    return response.status_code < 400


def fill(value, ids: dict):
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value.format(**ids) if isinstance(value, str) else value


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("entry", MATRIX, ids=lambda entry: entry.name)
def test_the_permission_matrix(client, scene, entry: Cell, actor: str):
    users, ids, token = scene
    if actor in users:
        client.force_login(users[actor])
    headers = {"HTTP_X_MANAGE_TOKEN": token} if actor == "link" else {}
    path = fill(entry.path, ids)
    if entry.method == "get":
        response = client.get(path, **headers)
    else:
        data = fill(entry.data or {}, ids)
        as_json = path.startswith("/api/")
        response = (
            client.post(path, data, content_type="application/json", **headers)
            if as_json
            else client.post(path, data, **headers)
        )
    expected = actor in entry.allowed
    assert allowed(response) == expected, (
        f"{actor} {entry.method.upper()} {path}: {response.status_code} {response.get('Location', '')}"
    )


def test_the_matrix_names_every_desk_page():
    """A new page must join the matrix: every /desk/ route appears in it at least once."""
    from scheduling.desk_urls import urlpatterns

    covered = {entry.path.split("?")[0] for entry in MATRIX}
    for pattern in urlpatterns:
        route = "/desk/" + str(pattern.pattern)
        shape = route.replace("<int:pk>", "{}").replace("<slug:slug>", "{}")
        assert any(_same_shape(shape, path) for path in covered), f"{route} is not in the permission matrix"


def _same_shape(shape: str, path: str) -> bool:
    parts, wanted = path.strip("/").split("/"), shape.strip("/").split("/")
    return len(parts) == len(wanted) and all(w == "{}" or w == p for w, p in zip(wanted, parts, strict=True))
