"""Meridian's settings: every value comes from the environment, and a wrong value stops the start.

The defaults make `make run` work on a bare machine (SQLite, an embedded Celery broker, email on the
console, DEBUG on only when asked for). Production sets DATABASE_URL, REDIS_URL, SECRET_KEY,
ALLOWED_HOSTS, EMAIL_URL and INTAKE_ENCRYPTION_KEYS; see `.env.example`.
"""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A strict boolean: "maybe" is an error, not False."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off).")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = env.str(name, default=str(default)).strip()
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_rate(name: str, default: str | None) -> str | None:
    """A DRF throttle rate such as "20/hour", or "none" to switch the limit off."""
    raw = env.str(name, default=default or "none").strip().lower()
    if raw == "none":
        return None
    count, _, period = raw.partition("/")
    if not count.isdigit() or period not in {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate such as 20/hour (or none).")
    return raw


def env_db_url(name: str, default: str) -> dict:
    """A PostgreSQL (or, for `make run`, SQLite) URL. Never echoed: it may hold a password."""
    raw = env.str(name, default=default).strip()
    try:
        config = environ.Env.db_url_config(raw)
    except (ValueError, KeyError) as error:
        raise ImproperlyConfigured(f"{name} is not a database URL ({error}).") from None
    if config.get("ENGINE") not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
        raise ImproperlyConfigured(f"{name} must be a postgres:// URL (or sqlite:// for the demo).")
    return config


def env_url(name: str, schemes: set[str]) -> str:
    """An optional URL with one of `schemes`; empty when unset."""
    raw = env.str(name, default="").strip()
    if raw and urlsplit(raw).scheme not in schemes:
        raise ImproperlyConfigured(f"{name} must be a {' or '.join(sorted(schemes))} URL, or unset.")
    return raw


def env_choice(name: str, default: str, choices: set[str]) -> str:
    raw = env.str(name, default=default).strip().upper()
    if raw not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} must be one of {', '.join(sorted(choices))}.")
    return raw


def env_fernet_keys(name: str, development_secret: str | None) -> tuple[str, ...]:
    """Comma-separated Fernet keys, newest first. Never echoed: they are secrets.

    Unset, it is an error unless `development_secret` is given (DEBUG only): then one key derived from it,
    the same on every start, so that `make run` reads yesterday's intakes on a bare machine.
    """
    raw = env.str(name, default="")
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys and development_secret is None:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off (make .env writes one; see README.md).")
    if not keys:
        digest = hashlib.sha256(f"{name}:{development_secret}".encode()).digest()
        return (base64.urlsafe_b64encode(digest).decode(),)
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: key {position} of {len(keys)} is not a Fernet key (32 bytes, url-safe base64)."
            ) from None
    return tuple(keys)


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "meridian-development-only-key-never-use-in-production"  # noqa: S105 - DEBUG only

# Intake answers (health data) are encrypted with the first key; every key decrypts. To rotate: put a new key
# first, restart, run `manage.py rotate_intake_keys`, then drop the old one. Production gets no derived key:
# it would tie health data to SECRET_KEY, which is rotated for other reasons and leaks more easily.
INTAKE_ENCRYPTION_KEYS = env_fernet_keys("INTAKE_ENCRYPTION_KEYS", SECRET_KEY if DEBUG else None)

ALLOWED_HOSTS = [
    host.strip() for host in env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
]
ALLOWED_HOSTS = [host for host in ALLOWED_HOSTS if host]
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Where patients reach this site: emails link to it (manage links, intake, articles), so it must be right.
SITE_URL = env_url("SITE_URL", {"http", "https"}).rstrip("/") or ("http://127.0.0.1:8000" if DEBUG else "")
if not SITE_URL:
    raise ImproperlyConfigured("SITE_URL must be set when DEBUG is off (such as https://booking.example.org).")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "backend",
    "backend.staff",
    "scheduling",
    "patients",
    "notifications",
    "education",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # after authentication: adds request.user.is_verified()
    "backend.staff.middleware.StaffIdleTimeoutMiddleware",
    "backend.staff.middleware.TwoFactorMiddleware",
    "scheduling.middleware.AdminInClinicTimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as its docs ask: it turns a lockout found during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "scheduling.context_processors.clinic",
            ],
        },
    },
]

# SQLite only serves the zero-setup `make run`; the exclusion constraints that forbid double booking
# exist on PostgreSQL only, so every real deployment and the test suite use PostgreSQL.
DATABASES = {"default": env_db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # `make run`'s web, worker and beat share one SQLite file. IMMEDIATE takes the write lock when a transaction
    # begins, so a writer waits its turn instead of failing halfway ("database is locked") after, say, an email
    # has gone out.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache backs rate limiting. It lives in the database on purpose: a request that books an
# appointment must never depend on Redis being up.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "meridian_cache",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Staff sign-in (backend/staff/). Axes comes first: it refuses a locked-out login before any password is checked.
# It needs `request` passed to `authenticate`, as Django's login views (ours and the admin's) do.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "/desk/"
# A staff session ends after this many minutes without a request (the desk calendar's polling does not count).
STAFF_IDLE_MINUTES = env_int("STAFF_IDLE_MINUTES", 30, 1)
# Every staff member must sign in with a code from an authenticator app; a manager can also require it per person.
STAFF_TWO_FACTOR_REQUIRED = env_bool("STAFF_TWO_FACTOR_REQUIRED", False)
# After this many wrong passwords for one username from one address, that pair waits STAFF_LOCKOUT_MINUTES.
# Keyed on the pair: a stranger cannot lock a colleague out of the clinic's own computers, and no address gets
# more than this many guesses at one account per wait.
AXES_FAILURE_LIMIT = env_int("STAFF_LOGIN_FAILURE_LIMIT", 5, 1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("STAFF_LOCKOUT_MINUTES", 15, 1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The wait runs from the attempt that locked; trying again meanwhile does not restart it, so the page's time is true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The address as the rate limits see it (NUM_PROXIES decides whether X-Forwarded-For is believed).
AXES_CLIENT_IP_CALLABLE = "backend.staff.lockout.client_address"
AXES_LOCKOUT_CALLABLE = "backend.staff.lockout.lockout_response"
OTP_TOTP_ISSUER = "Meridian"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's secret or its QR code

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Messages such as "Booked Alice Moreau." name patients: kept in the session, never in a readable cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None

# Email: console under `make run`, SMTP from EMAIL_URL in production (smtp://user:pass@host:port).
if not DEBUG and not env.str("EMAIL_URL", default="").strip():
    raise ImproperlyConfigured("EMAIL_URL must be set when DEBUG is off (smtp://host:port; consolemail:// prints).")
try:
    EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
except (ImproperlyConfigured, ValueError, KeyError) as error:
    raise ImproperlyConfigured(f"EMAIL_URL is not an email URL such as smtp://host:25 ({error}).") from None
vars().update(EMAIL_CONFIG)
# Seconds before a silent mail server counts as down (the send is then retried later, not left hanging).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, 1)
# The sender patients see. A placeholder would have the clinic's reminders bounce or land in spam.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Meridian <bookings@example.org>" if DEBUG else "").strip()
if not DEFAULT_FROM_EMAIL:
    raise ImproperlyConfigured("DEFAULT_FROM_EMAIL must be set when DEBUG is off, such as: Clinic <hello@example.org>.")

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport, so `make run`
# needs no broker at all. Task arguments are ids only, never names, emails or health data.
REDIS_URL = env_url("REDIS_URL", {"redis", "rediss"})
if not REDIS_URL and not DEBUG:
    # The filesystem broker lives on one machine's disk: in production a task would reach no worker.
    raise ImproperlyConfigured("REDIS_URL must be set when DEBUG is off (the filesystem broker is for make run).")
CELERY_DATA_DIR = BASE_DIR / "var" / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, 1)}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "store_processed": False,
    }
# Celery's Django fixup closes the database connection around every task unless told to reuse it: a new
# PostgreSQL connection per email was a third of a send's time. CONN_MAX_AGE and the health checks still apply.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
NOTIFICATIONS_SWEEP_SECONDS = env_int("NOTIFICATIONS_SWEEP_SECONDS", 60, 1)
CELERY_BEAT_SCHEDULE = {
    "release-expired-holds": {"task": "scheduling.tasks.release_expired_holds", "schedule": 60.0},
    "sweep-due-messages": {
        "task": "notifications.tasks.sweep_due_messages",
        "schedule": float(NOTIFICATIONS_SWEEP_SECONDS),
        # A sweep that waited in the queue past the next one is dropped: after a worker outage, one sweep
        # catches up, not the hundred that piled up meanwhile.
        "options": {"expires": NOTIFICATIONS_SWEEP_SECONDS},
    },
}

# The outbox (notifications/). A message still queued this long after it was claimed lost its task (the broker
# restarted empty) and is queued again; a delivery that keeps failing is tried this many times, then shown to
# staff as failed.
NOTIFICATIONS_REQUEUE_AFTER_SECONDS = env_int("NOTIFICATIONS_REQUEUE_AFTER_SECONDS", 600, 60)
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 5, 1)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so a missing credential is a 401 with a WWW-Authenticate header, not a 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "backend.api.errors.exception_handler",
    # How many reverse proxies stand in front of Meridian. Rate limits count clients by the address
    # the outermost trusted proxy saw; with 0, X-Forwarded-For is ignored and cannot be forged.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Meridian API",
    "DESCRIPTION": "Booking for acupuncture clinics: services, availability and appointments.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from our own static files: a clinic's API docs load no third-party script.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# Rate limits for anonymous writes, tunable per deployment (a load test raises them).
BOOKING_THROTTLE_RATE = env_rate("BOOKING_THROTTLE_RATE", "20/hour")
MANAGE_THROTTLE_RATE = env_rate("MANAGE_THROTTLE_RATE", "60/hour")

# A manage link stays valid until this long after the appointment ends.
MANAGE_TOKEN_GRACE_HOURS = env_int("MANAGE_TOKEN_GRACE_HOURS", 0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_manage_links": {"()": "backend.logging.RedactManageLinks"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_manage_links"]}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}),
    },
}
