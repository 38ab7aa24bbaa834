"""The intake: Alice's answers are encrypted at rest, readable only with a configured key, checked question by
question, and never searchable, printed or dumped in plain text."""

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib import admin
from django.core import serializers
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import connection

from backend.errors import ServiceError
from backend.settings import env_fernet_keys
from patients.encryption import PLACEHOLDER_KEY, UndecryptableValue, placeholder_key_check
from patients.intake import CONSENT_VERSION, PRIVACY_NOTICE_VERSION, IntakeInvalid, answers_clean
from patients.models import Intake, Patient
from patients.services import intake_current, intake_submit, patient_find_or_create
from tests.conftest import local
from tests.factories import PatientFactory, StaffUserFactory
from tests.test_deployment import env_template
from tests.test_settings import start_django

ROOT = Path(__file__).resolve().parent.parent
KEY_A = "yN1pnm6B3LE4vWEqDA4KLl3cgn8gwGMf6Y0ZY_xfhJg="
KEY_B = "wGL5lkV4Ol9VVCR9L2xC8O_yrbIR4NaE5mwqDNDCtbg="
# Distinctive enough that finding it anywhere in the database or a string means the answers leaked.
REASON = "Sciatica since the ski fall at Lake Ostrava"
PRINT_KEYS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps(settings.INTAKE_ENCRYPTION_KEYS))
"""


def answers(**changes: object) -> dict:
    """Alice's first-visit intake, complete and valid, as the booking page sends it; `changes` on top."""
    return {
        "reason": REASON,
        "pain_areas": ["lower_back", "hips"],
        "pain_intensity": 6,
        "pain_duration": "6_weeks_to_3_months",
        "stress_level": 7,
        "sleep_quality": "poor",
        "goals": "Walk the dog without pain",
        "pregnant": False,
        "anticoagulants": False,
        "pacemaker": False,
        "epilepsy": False,
        "needle_fainting": False,
        "diabetes": False,
        "weakened_immunity": False,
        "skin_conditions": False,
        "medications": "Ibuprofen when needed",
        "allergies": "",
        "acupuncture_before": False,
        "emergency_contact_name": "Paul Moreau",
        "emergency_contact_phone": "+1 555 010 0199",
        **changes,
    }


def submit(patient: Patient, **changes: object) -> Intake:
    return intake_submit(patient=patient, answers=answers(**changes), consent_name="Alice Moreau")


def is_fernet_key(key: str) -> bool:
    return len(base64.urlsafe_b64decode(key)) == 32


def stored_token(intake: Intake) -> str:
    """What the column holds, read past the ORM."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers FROM patients_intake WHERE id = %s", [intake.id])
        return cursor.fetchone()[0]


@pytest.fixture
def alice_moreau(db, alice) -> Patient:
    return patient_find_or_create(alice)


@pytest.fixture
def key_a(settings) -> None:
    settings.INTAKE_ENCRYPTION_KEYS = (KEY_A,)


# --- encryption at rest ----------------------------------------------------------------------------------


def test_it_never_stores_the_answers_in_plain_text(alice_moreau, key_a):
    intake = submit(alice_moreau, emergency_contact_name="Ostrava Contact")

    stored = stored_token(intake)

    assert "Ostrava" not in stored
    assert "lower_back" not in stored
    assert json.loads(Fernet(KEY_A).decrypt(stored))["reason"] == REASON


def test_it_reads_back_what_alice_submitted_with_her_consent(alice_moreau):
    now = local(2027, 3, 1, 8)

    intake_submit(patient=alice_moreau, answers=answers(), consent_name=" alice  moreau ", now=now)

    intake = Intake.objects.get(patient=alice_moreau)
    assert intake.answers == answers_clean(answers())
    assert intake.answers["reason"] == REASON
    assert (intake.consent_version, intake.privacy_notice_version) == (CONSENT_VERSION, PRIVACY_NOTICE_VERSION)
    assert intake.consent_at == intake.submitted_at == now
    assert intake.consent_name == "alice moreau"


def test_it_encrypts_with_the_first_key_and_decrypts_with_any(alice_moreau, settings):
    settings.INTAKE_ENCRYPTION_KEYS = (KEY_A,)
    old = submit(alice_moreau)

    settings.INTAKE_ENCRYPTION_KEYS = (KEY_B, KEY_A)
    new = submit(alice_moreau)

    assert Fernet(KEY_B).decrypt(stored_token(new))
    assert [intake.answers["reason"] for intake in Intake.objects.filter(id__in=[old.id, new.id])] == [REASON] * 2


def test_it_rotates_to_a_new_key_so_the_old_one_can_go(alice_moreau, settings):
    settings.INTAKE_ENCRYPTION_KEYS = (KEY_A,)
    submit(alice_moreau, goals="Sleep through the night")
    submit(alice_moreau, goals="Run again")
    settings.INTAKE_ENCRYPTION_KEYS = (KEY_B, KEY_A)

    first_run, second_run = io.StringIO(), io.StringIO()
    call_command("rotate_intake_keys", "--batch-size=1", stdout=first_run)
    call_command("rotate_intake_keys", stdout=second_run)

    assert "Re-encrypted 2 intake(s); 0 already used the first key." in first_run.getvalue()
    assert "Re-encrypted 0 intake(s); 2 already used the first key." in second_run.getvalue()
    settings.INTAKE_ENCRYPTION_KEYS = (KEY_B,)
    assert sorted(intake.answers["goals"] for intake in Intake.objects.all()) == [
        "Run again",
        "Sleep through the night",
    ]


def test_it_refuses_to_read_answers_without_their_key(alice_moreau, settings):
    settings.INTAKE_ENCRYPTION_KEYS = (KEY_A,)
    intake = submit(alice_moreau)
    settings.INTAKE_ENCRYPTION_KEYS = (KEY_B,)

    with pytest.raises(UndecryptableValue, match="INTAKE_ENCRYPTION_KEYS") as error:
        Intake.objects.get(id=intake.id)

    assert stored_token(intake) not in str(error.value)


def test_it_stops_a_rotation_at_an_intake_no_key_opens(alice_moreau, settings):
    settings.INTAKE_ENCRYPTION_KEYS = (KEY_A,)
    intake = submit(alice_moreau)
    settings.INTAKE_ENCRYPTION_KEYS = (KEY_B,)

    with pytest.raises(CommandError, match=f"Intake {intake.id}: .*INTAKE_ENCRYPTION_KEYS"):
        call_command("rotate_intake_keys", stdout=io.StringIO())

    settings.INTAKE_ENCRYPTION_KEYS = (KEY_A,)
    assert Intake.objects.get(id=intake.id).answers["reason"] == REASON


@pytest.mark.parametrize(
    "lookup",
    [
        {"answers": {"reason": REASON}},
        {"answers__contains": "Ostrava"},
        {"answers__icontains": "Ostrava"},
        {"answers__reason": REASON},
        {"answers__reason__icontains": "Ostrava"},
    ],
)
def test_it_refuses_to_filter_on_answers(alice_moreau, lookup):
    submit(alice_moreau)

    with pytest.raises(FieldError, match=r"Intake\.answers is encrypted"):
        Intake.objects.filter(**lookup).count()


def test_it_finds_intakes_that_have_answers(alice_moreau):
    submit(alice_moreau)

    assert Intake.objects.filter(answers__isnull=False).count() == 1


def test_it_keeps_answers_out_of_str_and_repr(alice_moreau):
    intake = submit(alice_moreau)

    for text in (str(intake), repr(intake)):
        assert "Ostrava" not in text
        assert "Paul Moreau" not in text
    assert str(intake) == f"Intake {intake.id} of patient {alice_moreau.id}"


def test_it_keeps_answers_out_of_dumped_fixtures(alice_moreau):
    intake = submit(alice_moreau)

    dumped = serializers.serialize("json", [intake])
    (restored,) = serializers.deserialize("json", dumped)

    assert "Ostrava" not in dumped
    assert restored.object.answers == intake.answers


# --- checking the answers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reason": "   "}, "reason", "Please answer this question."),
        ({"pain_areas": ["lower_back", "elbow"]}, "pain_areas", "Choose only from the listed options."),
        ({"pain_areas": "lower_back"}, "pain_areas", "Choose only from the listed options."),
        ({"pain_areas": ["other"]}, "pain_areas_other", "Tell us where else it hurts."),
        ({"pain_intensity": 11}, "pain_intensity", "Choose a whole number from 0 to 10."),
        ({"pain_intensity": True}, "pain_intensity", "Choose a whole number from 0 to 10."),
        ({"pain_intensity": None}, "pain_intensity", "Rate the pain from 0 (none) to 10 (the worst imaginable)."),
        ({"pain_duration": ""}, "pain_duration", "Choose how long the pain has lasted."),
        ({"stress_level": -1}, "stress_level", "Choose a whole number from 0 to 10."),
        ({"stress_level": "7.5"}, "stress_level", "Choose a whole number from 0 to 10."),
        ({"sleep_quality": "dreamless"}, "sleep_quality", "Choose one of the listed options."),
        ({"goals": "x" * 2001}, "goals", "Please shorten this to 2000 characters or fewer."),
        ({"pregnant": None}, "pregnant", "Answer yes or no."),
        ({"pacemaker": "maybe"}, "pacemaker", "Answer yes or no."),
        ({"acupuncture_before": None}, "acupuncture_before", "Answer yes or no."),
        ({"emergency_contact_name": ""}, "emergency_contact_name", "Please answer this question."),
        ({"emergency_contact_phone": None}, "emergency_contact_phone", "Enter a phone number."),
        ({"emergency_contact_phone": "ask Ostrava"}, "emergency_contact_phone", "Enter a phone number with digits"),
        ({"medications": ["aspirin"]}, "medications", "Enter text."),
        ({"favourite_colour": "blue"}, "favourite_colour", "The intake has no such question."),
    ],
)
def test_it_refuses_a_bad_answer_beside_its_field(alice_moreau, changes, field, message):
    with pytest.raises(IntakeInvalid) as error:
        submit(alice_moreau, **changes)

    assert isinstance(error.value, ServiceError)
    assert list(error.value.fields) == [field]
    assert error.value.fields[field][0].startswith(message)
    assert "Ostrava" not in error.value.fields[field][0]  # a message never repeats what was typed
    assert not Intake.objects.exists()


def test_it_reports_every_bad_answer_at_once_in_the_forms_order(alice_moreau):
    with pytest.raises(IntakeInvalid) as error:
        submit(alice_moreau, diabetes="often", pain_intensity=12, reason="")

    assert list(error.value.fields) == ["reason", "pain_intensity", "diabetes"]
    assert (error.value.field, error.value.detail) == ("reason", "Please answer this question.")


def test_it_takes_answers_as_a_form_sends_them():
    cleaned = answers_clean(
        answers(pain_intensity="6", pregnant="no", pacemaker="Yes", pain_areas=["hips", "lower_back", "hips"])
    )

    assert (cleaned["pain_intensity"], cleaned["pregnant"], cleaned["pacemaker"]) == (6, False, True)
    assert cleaned["pain_areas"] == ["lower_back", "hips"]
    assert cleaned["allergies"] is None


def test_it_asks_nothing_about_pain_of_a_patient_who_has_none():
    cleaned = answers_clean(answers(pain_areas=[], pain_intensity=None, pain_duration=None))

    assert (cleaned["pain_areas"], cleaned["pain_intensity"]) == ([], None)


@pytest.mark.parametrize("typed", ["Alice Moreau", "  alice   MOREAU ", "ALICE MOREAU"])
def test_it_accepts_the_patients_name_typed_loosely(alice_moreau, typed):
    intake_submit(patient=alice_moreau, answers=answers(), consent_name=typed)

    assert Intake.objects.filter(patient=alice_moreau).exists()


def test_it_accepts_a_name_typed_without_its_accents(db):
    zoe = PatientFactory(first_name="Zoé", last_name="Lefèvre")

    intake = intake_submit(patient=zoe, answers=answers(), consent_name="zoe lefevre")

    assert intake.consent_name == "zoe lefevre"


@pytest.mark.parametrize("typed", ["Alicia Moreau", "Moreau", "Bob Lindqvist", "   "])
def test_it_refuses_consent_under_another_name(alice_moreau, typed):
    with pytest.raises(ServiceError) as error:
        intake_submit(patient=alice_moreau, answers=answers(), consent_name=typed)

    assert error.value.field == "consent_name"
    assert "Alice" not in error.value.detail  # the name on record is never shown to whoever typed
    assert not Intake.objects.exists()


# --- what the rest of Meridian reads ---------------------------------------------------------------------


def test_it_keeps_every_intake_and_makes_the_latest_current(alice_moreau, bob):
    assert intake_current(alice_moreau) is None
    first = intake_submit(patient=alice_moreau, answers=answers(), consent_name="Alice Moreau", now=local(2027, 3, 1))
    latest = intake_submit(
        patient=alice_moreau, answers=answers(stress_level=3), consent_name="Alice Moreau", now=local(2027, 3, 8)
    )

    assert intake_current(alice_moreau) == latest
    assert intake_current(alice_moreau).answers["stress_level"] == 3
    assert set(alice_moreau.intakes.all()) == {first, latest}
    assert intake_current(patient_find_or_create(bob)) is None


def test_it_lists_the_safety_flags_answered_yes(alice_moreau):
    submit(alice_moreau, pacemaker="yes", pregnant=True, needle_fainting=True)

    assert intake_current(alice_moreau).safety_flags == ("pregnant", "pacemaker", "needle_fainting")


def test_it_lists_no_safety_flags_when_every_answer_is_no(alice_moreau):
    assert submit(alice_moreau).safety_flags == ()


def test_it_records_communication_preferences_with_the_intake(alice_moreau):
    assert (alice_moreau.reminders_opt_in, alice_moreau.education_opt_in) == (True, False)

    intake_submit(
        patient=alice_moreau,
        answers=answers(),
        consent_name="Alice Moreau",
        reminders_opt_in=False,
        education_opt_in=True,
    )
    submit(alice_moreau)  # None leaves them as they are

    alice_moreau.refresh_from_db()
    assert (alice_moreau.reminders_opt_in, alice_moreau.education_opt_in) == (False, True)


def test_it_shows_preferences_but_never_intakes_in_the_admin(client, alice_moreau):
    submit(alice_moreau)
    client.force_login(StaffUserFactory(username="manager@example.org", is_superuser=True))

    patient_page = client.get(f"/admin/patients/patient/{alice_moreau.id}/change/")

    assert 'name="education_opt_in"' in patient_page.content.decode()
    assert "Ostrava" not in patient_page.content.decode()
    assert not admin.site.is_registered(Intake)
    assert client.get("/admin/patients/intake/").status_code == 404


# --- settings --------------------------------------------------------------------------------------------


def test_it_refuses_a_malformed_key_without_echoing_it(monkeypatch):
    secret_looking = "my-s3cret-but-not-a-fernet-key"
    monkeypatch.setenv("INTAKE_ENCRYPTION_KEYS", f"{KEY_A}, {secret_looking}")

    with pytest.raises(ImproperlyConfigured) as error:
        env_fernet_keys("INTAKE_ENCRYPTION_KEYS", None)

    assert str(error.value).startswith("INTAKE_ENCRYPTION_KEYS: key 2 of 2 is not a Fernet key")
    assert secret_looking not in str(error.value)
    assert KEY_A not in str(error.value)


def test_it_never_echoes_a_malformed_key_when_django_starts():
    result = start_django(INTAKE_ENCRYPTION_KEYS=f"{KEY_A},my-s3cret-but-not-a-fernet-key")

    assert result.returncode != 0
    assert "INTAKE_ENCRYPTION_KEYS: key 2 of 2" in result.stderr.strip().splitlines()[-1]
    assert "my-s3cret" not in result.stderr
    assert KEY_A not in result.stderr


def test_it_requires_keys_when_debug_is_off(monkeypatch):
    monkeypatch.delenv("INTAKE_ENCRYPTION_KEYS", raising=False)

    with pytest.raises(ImproperlyConfigured, match="INTAKE_ENCRYPTION_KEYS must be set when DEBUG is off"):
        env_fernet_keys("INTAKE_ENCRYPTION_KEYS", None)


def test_it_derives_the_same_development_key_from_secret_key_on_every_start():
    # `make run` on a bare machine: DEBUG=1 and nothing else, twice.
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "backend.settings", "DEBUG": "1"}
    runs = [
        subprocess.run(  # noqa: S603 - this interpreter running a constant script
            [sys.executable, "-c", PRINT_KEYS], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    ]

    assert runs[0] == runs[1]
    (key,) = json.loads(runs[0])
    assert is_fernet_key(key)


def test_it_derives_different_development_keys_from_different_secrets(monkeypatch):
    monkeypatch.delenv("INTAKE_ENCRYPTION_KEYS", raising=False)

    (one,) = env_fernet_keys("INTAKE_ENCRYPTION_KEYS", "one secret")
    (other,) = env_fernet_keys("INTAKE_ENCRYPTION_KEYS", "another secret")

    assert one != other
    assert is_fernet_key(one)
    assert is_fernet_key(other)


def test_it_refuses_to_migrate_with_the_public_placeholder_key(settings):
    settings.INTAKE_ENCRYPTION_KEYS = (KEY_B, PLACEHOLDER_KEY)

    with pytest.raises(SystemCheckError, match=r"patients\.E001"):
        call_command("check")

    assert env_template()["INTAKE_ENCRYPTION_KEYS"] == PLACEHOLDER_KEY


def test_it_raises_no_placeholder_alarm_for_a_real_key(key_a):
    assert placeholder_key_check(None) == []


def test_it_writes_a_fresh_key_into_the_env_file(tmp_path):
    for name in ("Makefile", ".env.example"):
        (tmp_path / name).write_text((ROOT / name).read_text())

    subprocess.run(["make", "--silent", f"PYTHON={sys.executable}", ".env"], cwd=tmp_path, check=True)  # noqa: S603,S607

    written = dict(line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines() if line[:1].isupper())
    assert written["INTAKE_ENCRYPTION_KEYS"] != PLACEHOLDER_KEY
    assert is_fernet_key(written["INTAKE_ENCRYPTION_KEYS"])
