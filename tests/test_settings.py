"""Settings fail loudly on a bad value, and name the variable to fix.

Each case starts Django in a fresh interpreter with an environment built from scratch, so nothing
leaks in from the shell running the suite, and a settings error is seen the way an operator sees it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "DEBUG": "0",
    "SECRET_KEY": "settings-test-key",
    "ALLOWED_HOSTS": "testserver",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://127.0.0.1:1025",
    "SITE_URL": "https://booking.example.org",
    "DEFAULT_FROM_EMAIL": "Meridian Acupuncture <hello@example.org>",
    "INTAKE_ENCRYPTION_KEYS": "McdXYdQapUpH46iMfNFkv9dBGBsUUeKa8_RmnkZfIzw=",
}
REPORT = """
import json, django
django.setup()
from django.conf import settings
from backend.celery import app
print(json.dumps({
    "debug": settings.DEBUG,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "broker": app.conf.broker_url,
    "transport": app.connection_for_write().transport.driver_type,
    "booking_rate": settings.BOOKING_THROTTLE_RATE,
}))
"""


def start_django(**overrides: str | None) -> subprocess.CompletedProcess:
    """Run Django's setup with GOOD plus overrides; an override of None leaves the variable unset."""
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "backend.settings", **GOOD, **overrides}
    environment = {name: value for name, value in environment.items() if value is not None}
    return subprocess.run(  # noqa: S603 - this interpreter running a constant script
        [sys.executable, "-c", REPORT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def started(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_it_starts_cleanly_with_a_good_environment():
    report = started(start_django())

    assert report["debug"] is False
    assert report["engine"] == "django.db.backends.postgresql"
    assert report["booking_rate"] == "20/hour"


def test_it_starts_with_no_environment_at_all_when_debug_is_on():
    # `make run` on a bare machine: DEBUG=1 and nothing else.
    report = started(start_django(DEBUG="1", SECRET_KEY=None, ALLOWED_HOSTS=None, DATABASE_URL=None))

    assert report["debug"] is True
    assert report["engine"] == "django.db.backends.sqlite3"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("SECRET_KEY", None),
        ("SECRET_KEY", ""),
        ("ALLOWED_HOSTS", None),
        ("ALLOWED_HOSTS", ""),
        ("BOOKING_THROTTLE_RATE", "lots"),
        ("MANAGE_THROTTLE_RATE", "20/fortnight"),
        ("DB_CONN_MAX_AGE", "-1"),
        ("DB_CONN_MAX_AGE", "forever"),
        ("MANAGE_TOKEN_GRACE_HOURS", "1.5"),
        ("SECURE_COOKIES", "sometimes"),
        ("REDIS_URL", None),  # with DEBUG off: tasks must reach the workers
        ("EMAIL_URL", None),  # with DEBUG off: patients' email must not end up in the logs
        ("SITE_URL", None),  # with DEBUG off: emails would link nowhere
        ("DEFAULT_FROM_EMAIL", None),  # with DEBUG off: a placeholder sender would bounce
        ("INTAKE_ENCRYPTION_KEYS", None),  # with DEBUG off: no key derived from SECRET_KEY
        ("INTAKE_ENCRYPTION_KEYS", "not-a-fernet-key"),
    ],
)
def test_it_refuses_to_start_on_a_bad_value_and_names_it(variable, value):
    result = start_django(**{variable: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "nosuchdb://x"),
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "postgres://db:notaport/x"),
        ("REDIS_URL", "not a url"),
        ("EMAIL_URL", "bogus://"),
        ("SITE_URL", "ftp://booking.example.org"),
        ("LOG_LEVEL", "loud"),
        ("ALLOWED_HOSTS", " "),
    ],
)
def test_it_refuses_to_start_on_a_malformed_url_and_names_it(variable, value):
    result = start_django(**{variable: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def test_it_uses_redis_as_the_celery_broker_when_redis_url_is_set():
    report = started(start_django(REDIS_URL="redis://127.0.0.1:6379/0"))

    assert report["broker"] == "redis://127.0.0.1:6379/0"
    assert report["transport"] == "redis"


def test_it_uses_the_filesystem_broker_when_redis_url_is_unset_in_development():
    report = started(start_django(DEBUG="1", REDIS_URL=None))

    assert report["broker"] == "filesystem://"
    assert report["transport"] == "filesystem"
