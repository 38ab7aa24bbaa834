"""The intake API: each role reads what it needs and nothing more; Alice reads and updates her own intake with the
manage link of her appointment, and nobody else's; no response carrying answers is ever cached."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from backend.api.permissions import FRONT_DESK, MANAGER, PRACTITIONER
from patients.models import Intake
from patients.services import intake_current, intake_submit
from scheduling.manage_tokens import manage_token
from scheduling.models import Appointment
from scheduling.services import appointment_book, appointment_cancel, appointment_hold
from tests.conftest import local
from tests.factories import StaffUserFactory
from tests.test_api import assert_error, with_token
from tests.test_intake import REASON, answers

pytestmark = pytest.mark.django_db

FULL = {
    "id",
    "patient",
    "submitted_at",
    "safety_flags",
    "consent_version",
    "consent_at",
    "privacy_notice_version",
    "consent_name",
    "answers",
}
SAFETY_ONLY = FULL - {"answers", "consent_name"}
# Everything Alice typed that is not a yes/no, and her consenting name: none of it may reach the front desk.
TYPED_BY_ALICE = (REASON, "Walk the dog", "Ibuprofen", "Paul Moreau", "555 010 0199", "Alice Moreau")


def staff(username: str, role: str | None = None, **fields):
    user = StaffUserFactory(username=username, **fields)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def signed_in(api, user):
    api.force_authenticate(user)
    return api


@pytest.fixture
def alices_visit(dr_chen, follow_up, alice, monday_morning) -> Appointment:
    return appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)


@pytest.fixture
def alices_intake(alices_visit) -> Intake:
    return intake_submit(
        patient=alices_visit.patient,
        appointment=alices_visit,
        answers=answers(pregnant=True, anticoagulants=True, diabetes=True),
        consent_name="Alice Moreau",
    )


@pytest.fixture
def bobs_visit(dr_okafor, follow_up, bob, monday_morning) -> Appointment:
    return appointment_book(service=follow_up, practitioner=dr_okafor, start=local(2027, 3, 3, 10), patient=bob)


@pytest.fixture
def actors(dr_chen, dr_okafor) -> dict:
    for practitioner, username in ((dr_chen, "mei@example.org"), (dr_okafor, "ada@example.org")):
        practitioner.user = staff(username, PRACTITIONER)
        practitioner.save()
    patient_in_a_staff_group = get_user_model().objects.create(username="alice@example.org")
    patient_in_a_staff_group.groups.add(Group.objects.get_or_create(name=MANAGER)[0])
    return {
        "manager": staff("owner@example.org", MANAGER),
        "superuser": staff("root@example.org", is_superuser=True),
        "dr_chen": dr_chen.user,
        "dr_okafor": dr_okafor.user,
        "practitioner_without_a_calendar": staff("locum@example.org", PRACTITIONER),
        "front_desk": staff("desk@example.org", FRONT_DESK),
        "staff_without_a_role": staff("intern@example.org"),
        "not_staff_though_in_a_group": patient_in_a_staff_group,
        "anonymous": None,
    }


# --- staff: the permission matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["current", "by_id"])
@pytest.mark.parametrize(
    ("actor", "status", "visible"),
    [
        ("manager", 200, FULL),
        ("superuser", 200, FULL),
        ("dr_chen", 200, FULL),  # Alice's practitioner
        ("dr_okafor", 404, "not_found"),  # not hers: as if there were no such intake
        ("practitioner_without_a_calendar", 404, "not_found"),
        ("front_desk", 200, SAFETY_ONLY),
        ("staff_without_a_role", 403, "permission_denied"),
        ("not_staff_though_in_a_group", 403, "permission_denied"),
        ("anonymous", 401, "not_authenticated"),
    ],
)
def test_it_shows_each_role_what_it_may_read(api, actors, alices_intake, endpoint, actor, status, visible):
    if actors[actor] is not None:
        signed_in(api, actors[actor])
    url = {
        "current": f"/api/v1/intakes/?patient={alices_intake.patient_id}",
        "by_id": f"/api/v1/intakes/{alices_intake.id}/",
    }[endpoint]
    response = api.get(url)
    if isinstance(visible, str):  # refused: the error's code
        assert_error(response, status, visible)
        assert not [text for text in TYPED_BY_ALICE if text in response.content.decode()]
        return
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == visible
    assert (body["id"], body["patient"]) == (alices_intake.id, alices_intake.patient_id)
    if visible == FULL:
        assert body["safety_flags"] == ["pregnant", "anticoagulants", "diabetes"]
        assert body["answers"]["reason"] == REASON
    else:
        assert body["safety_flags"] == ["pregnant", "anticoagulants"]  # the desk's flags, not clinical ones
        assert not [text for text in TYPED_BY_ALICE if text in response.content.decode()]


def test_a_practitioner_keeps_reading_a_patient_whose_visit_was_cancelled(api, actors, bobs_visit, alices_intake):
    bobs_intake = intake_submit(patient=bobs_visit.patient, answers=answers(), consent_name="Bob Lindqvist")
    appointment_cancel(appointment=bobs_visit, by_staff=True, reason="Flu")
    dr_okafor = signed_in(api, actors["dr_okafor"])
    assert dr_okafor.get(f"/api/v1/intakes/{bobs_intake.id}/").status_code == 200
    assert dr_okafor.get(f"/api/v1/intakes/?patient={bobs_visit.patient_id}").json()["id"] == bobs_intake.id
    assert_error(dr_okafor.get(f"/api/v1/intakes/{alices_intake.id}/"), 404, "not_found")


def test_a_time_held_for_nobody_yet_opens_no_intake(api, actors, alices_intake, dr_okafor, follow_up):
    appointment_hold(service=follow_up, practitioner=dr_okafor, start=local(2027, 3, 2, 10))
    response = signed_in(api, actors["dr_okafor"]).get(f"/api/v1/intakes/?patient={alices_intake.patient_id}")
    assert_error(response, 404, "not_found")


def test_it_reads_the_latest_intake_as_current_and_earlier_ones_by_id(
    api, actors, alices_intake, time_machine, monday_morning
):
    time_machine.move_to(local(2027, 3, 1, 9), tick=False)
    latest = intake_submit(patient=alices_intake.patient, answers=answers(stress_level=2), consent_name="Alice Moreau")
    dr_chen = signed_in(api, actors["dr_chen"])
    current = dr_chen.get(f"/api/v1/intakes/?patient={alices_intake.patient_id}").json()
    assert (current["id"], current["answers"]["stress_level"]) == (latest.id, 2)
    earlier = dr_chen.get(f"/api/v1/intakes/{alices_intake.id}/").json()
    assert (earlier["id"], earlier["answers"]["stress_level"]) == (alices_intake.id, 7)


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("", 400, "validation_error"),
        ("?patient=alice", 400, "validation_error"),
        ("?patient=0", 400, "validation_error"),
        ("?patient=999999", 404, "not_found"),
        ("?patient=99999999999999999999999", 404, "not_found"),  # past any id: not found, not a 500
    ],
)
def test_it_answers_a_bad_patient_query_in_the_error_shape(api, actors, alices_intake, query, status, code):
    response = signed_in(api, actors["manager"]).get(f"/api/v1/intakes/{query}")
    assert_error(response, status, code, "patient" if status == 400 else None)


def test_it_answers_a_patient_without_an_intake_and_an_unknown_id_with_404(api, actors, alices_visit):
    manager = signed_in(api, actors["manager"])
    assert_error(manager.get(f"/api/v1/intakes/?patient={alices_visit.patient_id}"), 404, "not_found")
    assert_error(manager.get("/api/v1/intakes/999999/"), 404, "not_found")
    assert_error(manager.get("/api/v1/intakes/99999999999999999999999/"), 404, "not_found")


def test_staff_only_read_intakes(api, actors, alices_intake):
    manager = signed_in(api, actors["manager"])
    assert_error(manager.put(f"/api/v1/intakes/{alices_intake.id}/", {}, format="json"), 405, "method_not_allowed")
    assert_error(manager.delete(f"/api/v1/intakes/{alices_intake.id}/"), 405, "method_not_allowed")


# --- Alice, with the manage link of her appointment ---------------------------------------------------------


def intake_url(appointment: Appointment) -> str:
    return f"/api/v1/appointments/{appointment.pk}/intake/"


def update(**changes) -> dict:
    return {"answers": answers(**changes), "consent_name": "Alice Moreau"}


def test_alice_reads_her_intake_with_her_manage_token(api, alices_visit, alices_intake):
    response = api.get(intake_url(alices_visit), **with_token(manage_token(alices_visit)))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == FULL
    assert (body["id"], body["answers"]["reason"]) == (alices_intake.id, REASON)


def test_a_manage_token_opens_only_its_own_appointments_intake(api, actors, alices_visit, bobs_visit, alices_intake):
    intake_submit(patient=bobs_visit.patient, answers=answers(), consent_name="Bob Lindqvist")
    alices_token = with_token(manage_token(alices_visit))
    assert_error(api.get(intake_url(bobs_visit), **alices_token), 404, "not_found")
    assert_error(api.put(intake_url(bobs_visit), update(), format="json", **alices_token), 404, "not_found")
    assert_error(api.get(intake_url(alices_visit), **with_token("forged")), 404, "not_found")
    assert_error(api.get(intake_url(alices_visit)), 401, "not_authenticated")
    # Staff read intakes as their role allows, at /api/v1/intakes/; this URL answers to the token only.
    assert_error(signed_in(api, actors["manager"]).get(intake_url(alices_visit)), 403, "permission_denied")
    assert Intake.objects.filter(patient=bobs_visit.patient).count() == 1


def test_a_held_times_token_opens_no_intake(api, alices_intake, dr_okafor, follow_up):
    hold = appointment_hold(service=follow_up, practitioner=dr_okafor, start=local(2027, 3, 3, 10))
    token = with_token(manage_token(hold))
    assert_error(api.get(intake_url(hold), **token), 404, "not_found")
    assert_error(api.put(intake_url(hold), update(), format="json", **token), 404, "not_found")


def test_a_manage_token_stops_opening_the_intake_after_the_visit(api, alices_visit, alices_intake, time_machine):
    token = with_token(manage_token(alices_visit))
    time_machine.move_to(local(2027, 3, 2, 11, 1), tick=False)
    assert_error(api.get(intake_url(alices_visit), **token), 404, "not_found")


def test_alice_updates_her_intake_and_the_earlier_one_is_kept(api, alices_visit, alices_intake, time_machine):
    time_machine.move_to(local(2027, 3, 1, 9), tick=False)
    body = {**update(anticoagulants=True, stress_level=3), "education_opt_in": True}  # ignored: see below
    response = api.put(intake_url(alices_visit), body, format="json", **with_token(manage_token(alices_visit)))
    assert response.status_code == 200, response.content
    patient = alices_visit.patient
    patient.refresh_from_db()
    current = intake_current(patient)
    assert response.json()["id"] == current.id != alices_intake.id
    assert (current.answers["stress_level"], current.safety_flags) == (3, ("anticoagulants",))
    # A manage link proves who booked, not who owns the record: it never changes communication preferences.
    assert (patient.education_opt_in, patient.reminders_opt_in) == (False, True)
    assert Intake.objects.filter(patient=patient).count() == 2


def test_alice_submits_her_first_intake_by_post(api, alices_visit):
    token = with_token(manage_token(alices_visit))
    assert_error(api.get(intake_url(alices_visit), **token), 404, "not_found")
    response = api.post(intake_url(alices_visit), update(), format="json", **token)
    assert response.status_code == 201, response.content
    assert api.get(intake_url(alices_visit), **token).json()["answers"]["reason"] == REASON


def test_alice_sees_every_bad_answer_beside_its_question_and_nothing_is_recorded(api, alices_visit, alices_intake):
    body = update(reason="   ", pain_intensity=11, pregnant="maybe", sleep_quality="Sleeps like a log at Ostrava")
    response = api.put(intake_url(alices_visit), body, format="json", **with_token(manage_token(alices_visit)))
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"reason", "pain_intensity", "sleep_quality", "pregnant"}
    assert error["fields"]["pain_intensity"] == ["Choose a whole number from 0 to 10."]
    assert "Ostrava" not in response.content.decode()  # messages never repeat what was typed
    assert intake_current(alices_visit.patient).id == alices_intake.id


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({**update(), "consent_name": "Bob Lindqvist"}, 400, "invalid", "consent_name"),
        ({**update(), "consent_name": ""}, 400, "invalid", "consent_name"),
        ({"answers": ["not", "a", "form"], "consent_name": "Alice Moreau"}, 400, "validation_error", "answers"),
        ({"consent_name": "Alice Moreau"}, 400, "validation_error", "answers"),
    ],
)
def test_it_refuses_a_malformed_update_by_its_field(api, alices_visit, alices_intake, body, status, code, field):
    response = api.put(intake_url(alices_visit), body, format="json", **with_token(manage_token(alices_visit)))
    assert_error(response, status, code, field)
    assert Intake.objects.count() == 1


def test_it_throttles_the_manage_link(api, settings, alices_visit, alices_intake):
    settings.MANAGE_THROTTLE_RATE = "2/hour"
    for _ in range(2):
        api.get(intake_url(alices_visit), **with_token("forged"))
    assert_error(api.get(intake_url(alices_visit), **with_token(manage_token(alices_visit))), 429, "throttled")


# --- no copies in caches ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "method", "url", "body", "status"),
    [
        ("manager", "get", "/api/v1/intakes/?patient={patient}", None, 200),
        ("front_desk", "get", "/api/v1/intakes/{intake}/", None, 200),
        ("dr_chen", "get", "/api/v1/intakes/{intake}/", None, 200),
        ("dr_okafor", "get", "/api/v1/intakes/{intake}/", None, 404),
        ("alice", "get", "/api/v1/appointments/{appointment}/intake/", None, 200),
        ("alice", "put", "/api/v1/appointments/{appointment}/intake/", update(), 200),
        ("alice", "post", "/api/v1/appointments/{appointment}/intake/", update(pain_intensity=11), 400),
    ],
)
def test_no_intake_response_is_kept_in_a_cache(
    api, actors, alices_visit, alices_intake, actor, method, url, body, status
):
    url = url.format(patient=alices_visit.patient_id, intake=alices_intake.id, appointment=alices_visit.pk)
    headers = with_token(manage_token(alices_visit)) if actor == "alice" else {}
    if actor != "alice":
        signed_in(api, actors[actor])
    response = api.get(url, **headers) if method == "get" else getattr(api, method)(url, body, format="json", **headers)
    assert response.status_code == status, response.content
    directives = {directive.strip() for directive in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives


def test_a_manage_token_opens_only_the_intake_given_through_its_appointment(
    api, alices_visit, alices_intake, dr_chen, follow_up, alice
):
    # Someone who knows Alice's email and birth date books too: their link must not open her answers.
    other = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 4, 10), patient=alice)
    assert other.patient_id == alices_visit.patient_id
    response = api.get(intake_url(other), **with_token(manage_token(other)))
    assert_error(response, 404, "not_found")
    assert REASON not in response.content.decode()
