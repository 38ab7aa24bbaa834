"""Staff sign-in: a password, a lockout after five wrong ones, idle sessions that end, and two-factor codes.

The actors: `mei`, a practitioner who signs in with her password, and `omar`, the manager, who uses an
authenticator app. The clock is frozen (time-machine), so TOTP codes and lockout waits are computed, not waited for.
"""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from backend.models import AuditEntry, StaffSecurity
from tests.factories import StaffUserFactory

PASSWORD = "a-long-clinic-passphrase"
NOON = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOON, tick=False)
    return time_machine


def staff_member(username: str, **fields):
    user = StaffUserFactory(username=username, **fields)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def mei(db):
    return staff_member("mei@example.org", role="Practitioner")


@pytest.fixture
def omar(db):
    user = staff_member("omar@example.org", role="Manager")
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return user


def code_for(user) -> str:
    """What the person's app shows right now."""
    device = TOTPDevice.objects.get(user=user)
    return str(TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()).zfill(6)


def sign_in(client, username: str, password: str = PASSWORD, path: str = "/staff/login/", **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def actions(username: str) -> list[str]:
    return list(AuditEntry.objects.filter(detail=username).order_by("id").values_list("action", flat=True))


# Password sign-in


def test_it_shows_a_labelled_sign_in_page_that_needs_no_javascript(client, db):
    page = client.get("/staff/login/").content.decode()

    assert '<label for="id_username">' in page
    assert '<label for="id_password">' in page
    assert 'method="post"' in page


def test_it_signs_staff_in_and_sends_them_to_the_desk(client, mei, clock):
    response = sign_in(client, "mei@example.org")

    assert response.status_code == 302
    assert response["Location"] == "/desk/"
    assert signed_in(client)
    assert actions("mei@example.org") == ["staff.login"]


def test_it_says_kindly_that_the_password_is_wrong_and_records_the_username_typed(client, mei, clock):
    response = sign_in(client, "mei@example.org", "not-her-password")

    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    assert 'id="form-errors"' in response.content.decode()
    assert not signed_in(client)
    failed = AuditEntry.objects.get(action="staff.login_failed")
    assert failed.detail == "mei@example.org"
    assert failed.actor is None


def test_it_signs_out_only_by_post(client, mei):
    client.force_login(mei)

    assert client.get("/staff/logout/").status_code == 405
    response = client.post("/staff/logout/")

    assert response["Location"] == "/staff/login/"
    assert not signed_in(client)


# Lockout (django-axes)


def test_it_locks_a_username_out_after_five_wrong_passwords_from_one_address(client, mei, clock):
    for _attempt in range(4):
        assert sign_in(client, "mei@example.org", "guess").status_code == 200
    fifth = sign_in(client, "mei@example.org", "guess")
    right_password = sign_in(client, "mei@example.org")

    assert fifth.status_code == 429
    assert right_password.status_code == 429
    assert "try again in 15 minutes" in right_password.content.decode()
    assert right_password["Retry-After"] == "900"
    assert not signed_in(client)
    assert actions("mei@example.org").count("staff.login_failed") == 6
    assert "staff.locked_out" in actions("mei@example.org")


def test_it_lets_the_locked_username_in_from_another_address_and_after_the_wait(client, mei, clock):
    for _attempt in range(5):
        sign_in(client, "mei@example.org", "guess", REMOTE_ADDR="203.0.113.7")

    # A stranger's guesses do not lock Mei out of the clinic's own computer...
    assert sign_in(client, "mei@example.org").status_code == 302
    client.logout()
    # ...and the stranger's address may try again once the wait is over.
    clock.move_to(NOON + timedelta(minutes=14))
    assert sign_in(client, "mei@example.org", REMOTE_ADDR="203.0.113.7").status_code == 429
    clock.move_to(NOON + timedelta(minutes=16))
    assert sign_in(client, "mei@example.org", REMOTE_ADDR="203.0.113.7").status_code == 302


def test_it_locks_out_on_the_admin_login_too(client, mei, clock):
    for _attempt in range(5):
        last = sign_in(client, "mei@example.org", "guess", path="/admin/login/")
    right_password = sign_in(client, "mei@example.org", path="/admin/login/")

    assert last.status_code == 429
    assert right_password.status_code == 429
    assert not signed_in(client)


# Idle sessions


def session_ends(client) -> datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_it_ends_a_staff_session_thirty_idle_minutes_after_the_last_request(client, mei, clock):
    client.force_login(mei)
    client.get("/api/v1/services/")

    assert client.session.get_expiry_age() == 30 * 60
    assert session_ends(client) == NOON + timedelta(minutes=30)


def test_it_does_not_keep_an_idle_session_alive_for_the_calendars_polls(client, mei, clock):
    client.force_login(mei)
    client.get("/api/v1/services/")

    clock.move_to(NOON + timedelta(minutes=10))
    client.get("/api/v1/services/", HTTP_X_MERIDIAN_POLL="1")
    assert session_ends(client) == NOON + timedelta(minutes=30)

    client.get("/api/v1/services/")
    assert session_ends(client) == NOON + timedelta(minutes=40)


def test_it_sets_the_idle_expiry_from_the_sign_in_itself(client, mei, clock):
    sign_in(client, "mei@example.org")

    assert session_ends(client) == NOON + timedelta(minutes=30)


def test_it_gives_anonymous_visitors_no_session_of_its_own(client, db):
    client.get("/api/v1/services/")

    assert not Session.objects.exists()


# Two-factor (django-otp)


def test_it_turns_two_factor_on_only_after_a_right_code(client, mei, clock):
    client.force_login(mei)
    page = client.get("/staff/two-factor/").content.decode()
    device = TOTPDevice.objects.get(user=mei)

    assert "<svg" in page
    assert "<script" not in page.split("<main", 1)[1]
    assert device.confirmed is False

    wrong = client.post("/staff/two-factor/", {"code": "000000" if code_for(mei) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert TOTPDevice.objects.get(user=mei).confirmed is False

    clock.move_to(NOON + timedelta(seconds=5))  # django-otp waits a moment after a wrong code
    right = client.post("/staff/two-factor/", {"code": code_for(mei)})

    assert right.status_code == 302
    assert TOTPDevice.objects.get(user=mei).confirmed is True
    assert "staff.two_factor_enabled" in actions("mei@example.org")


def test_it_shows_the_secret_as_text_for_phones_that_cannot_scan(client, mei, clock):
    client.force_login(mei)
    first = client.get("/staff/two-factor/").content.decode()
    reload = client.get("/staff/two-factor/").content.decode()
    secret = base64.b32encode(TOTPDevice.objects.get(user=mei).bin_key).decode()

    grouped = " ".join(secret[start : start + 4] for start in range(0, len(secret), 4))
    assert f"<code>{grouped}</code>" in first
    assert f"<code>{grouped}</code>" in reload  # the same key on a reload, not a new device each time


def test_it_asks_for_the_code_after_the_password(client, omar, clock):
    response = sign_in(client, "omar@example.org")

    assert response["Location"] == "/staff/code/?next=%2Fdesk%2F"
    assert client.get("/admin/")["Location"].startswith("/staff/code/")
    assert client.get("/desk/")["Location"].startswith("/staff/code/")


def test_it_refuses_the_api_to_a_session_that_still_owes_its_code(client, omar, clock):
    sign_in(client, "omar@example.org")
    response = client.get("/api/v1/services/")

    assert response.status_code == 403
    assert response.json() == {
        "error": "two_factor_required",
        "detail": "Please enter the code from your app first.",
        "fields": {},
    }


def test_it_refuses_a_wrong_code_and_accepts_the_right_one(client, omar, clock):
    sign_in(client, "omar@example.org")
    right_code = code_for(omar)
    wrong_code = "000000" if right_code != "000000" else "111111"

    wrong = client.post("/staff/code/", {"code": wrong_code, "next": "/admin/"})
    assert wrong.status_code == 400
    assert "not right" in wrong.content.decode()
    assert client.get("/admin/")["Location"].startswith("/staff/code/")

    clock.move_to(NOON + timedelta(seconds=5))
    right = client.post("/staff/code/", {"code": code_for(omar), "next": "/admin/"})
    assert right["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert actions("omar@example.org") == ["staff.login", "staff.two_factor_failed", "staff.two_factor_verified"]


def test_it_never_accepts_the_same_code_twice(client, omar, clock):
    sign_in(client, "omar@example.org")
    code = code_for(omar)
    client.post("/staff/code/", {"code": code})
    client.post("/staff/logout/")

    sign_in(client, "omar@example.org")
    clock.move_to(NOON + timedelta(seconds=5))
    assert client.post("/staff/code/", {"code": code}).status_code == 400


def test_it_sends_someone_who_must_use_two_factor_to_set_it_up_first(client, mei):
    StaffSecurity.objects.create(user=mei, two_factor_required=True)
    client.force_login(mei)

    assert client.get("/desk/")["Location"] == "/staff/two-factor/?next=%2Fdesk%2F"
    assert client.get("/admin/")["Location"] == "/staff/two-factor/?next=%2Fadmin%2F"
    assert client.get("/api/v1/services/").status_code == 403
    assert client.get("/staff/two-factor/").status_code == 200


def test_it_requires_two_factor_of_everyone_with_the_clinic_wide_switch(client, mei, settings):
    settings.STAFF_TWO_FACTOR_REQUIRED = True
    client.force_login(mei)

    assert client.get("/admin/")["Location"].startswith("/staff/two-factor/")


def test_it_lets_staff_without_two_factor_in_when_nobody_requires_it(client, mei):
    client.force_login(mei)

    assert client.get("/admin/").status_code == 200


def test_it_turns_two_factor_off_only_with_a_current_code(client, omar, clock):
    sign_in(client, "omar@example.org")
    client.post("/staff/code/", {"code": code_for(omar)})
    clock.move_to(NOON + timedelta(seconds=31))

    assert client.post("/staff/two-factor/turn-off/", {"code": "12"}).status_code == 400
    assert TOTPDevice.objects.filter(user=omar).exists()
    client.post("/staff/two-factor/turn-off/", {"code": code_for(omar)})

    assert not TOTPDevice.objects.filter(user=omar).exists()
    assert "staff.two_factor_disabled" in actions("omar@example.org")
