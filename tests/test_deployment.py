"""The deployment files agree with the code they deploy.

No Docker engine runs where the suite runs, so these tests check what can be checked without one:
docker-compose.yml, the shared env file, the Dockerfile and Procfile.dev against backend/settings.py
(parsed, not imported, to learn which variables it reads) and against the modules they start.
"""

import ast
import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "backend" / "settings.py"
ENV_TEMPLATE = ROOT / ".env.example"
SERVICES = {"db", "redis", "web", "worker", "beat", "mail"}
APP_SERVICES = ("migrate", "web", "worker", "beat")
# Their defaults only suit `make run` (SQLite, a dev key, console email...), so production must set them.
REQUIRED_IN_PRODUCTION = {"DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL", "EMAIL_URL"}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


def command(name: str) -> list[str]:
    raw = service(name)["command"]
    return shlex.split(raw) if isinstance(raw, str) else raw


def env_files(name: str) -> list[str]:
    raw = service(name).get("env_file", [])
    entries = [raw] if isinstance(raw, str | dict) else raw
    return [entry["path"] if isinstance(entry, dict) else entry for entry in entries]


def env_template() -> dict[str, str]:
    """NAME=value lines of .env.example, as compose reads them (comments and blank lines skipped)."""
    values = {}
    for line in ENV_TEMPLATE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip().strip("\"'")
    return values


def settings_variables() -> set[str]:
    """Names settings.py reads: env.str("NAME", ...), env.db_url("NAME", ...), env_bool("NAME", ...)..."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and reads_environment(node.func):
            names.add(first.value)
    return names


def reads_environment(func: ast.expr) -> bool:
    """env.<cast>(...), the typed helpers env_bool/env_int/env_rate, or os.getenv/os.environ.get."""
    name = ast.unparse(func)
    return name.startswith(("env.", "env_")) or name in {"os.getenv", "os.environ.get"}


def test_it_finds_the_variables_settings_reads():
    # Guards the parser itself: if it found nothing, the checks below would prove nothing.
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "EMAIL_URL", "BOOKING_THROTTLE_RATE", "DB_CONN_MAX_AGE"} <= (
        settings_variables()
    )


def test_it_defines_the_six_services_each_with_a_healthcheck():
    services = compose()["services"]

    assert set(services) >= SERVICES
    for name in SERVICES:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_it_gives_web_worker_and_beat_one_shared_env_file():
    files = {name: env_files(name) for name in APP_SERVICES}

    assert files["web"] == [".env"]
    assert all(found == files["web"] for found in files.values()), files


def test_it_sets_only_variables_that_settings_reads():
    unknown = set(env_template()) - settings_variables()

    assert not unknown, f".env.example sets variables settings.py never reads: {sorted(unknown)}"


def test_it_sets_every_variable_production_needs():
    assert settings_variables() >= REQUIRED_IN_PRODUCTION
    assert set(env_template()) >= REQUIRED_IN_PRODUCTION
    assert env_template()["DEBUG"] == "0"


def test_it_starts_settings_cleanly_from_the_env_file():
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "backend.settings", **env_template()}

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_it_points_database_url_at_the_db_service():
    database = environ.Env.db_url_config(env_template()["DATABASE_URL"])
    db = service("db")["environment"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"]) == ("db", 5432)
    assert (database["USER"], database["PASSWORD"], database["NAME"]) == (
        db["POSTGRES_USER"],
        db["POSTGRES_PASSWORD"],
        db["POSTGRES_DB"],
    )


def test_it_points_redis_url_at_the_redis_service():
    url = urlsplit(env_template()["REDIS_URL"])

    assert (url.scheme, url.hostname, url.port) == ("redis", "redis", 6379)
    assert "redis" in service("redis")["image"]


def test_it_points_email_url_at_the_mail_service_smtp_port():
    email = environ.Env.email_url_config(env_template()["EMAIL_URL"])

    assert email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (email["EMAIL_HOST"], email["EMAIL_PORT"]) == ("mail", 1025)
    assert "1025" in [str(port) for port in service("mail").get("expose", [])]


# Only the image runs collectstatic, so WhiteNoise finds no staticfiles/ here and says so.
@pytest.mark.filterwarnings("ignore:No directory at:UserWarning")
def test_it_serves_web_with_gunicorn_and_the_wsgi_application():
    web = command("web")
    module_name, _, attribute = web[web.index("gunicorn") + 1].partition(":")

    application = getattr(importlib.import_module(module_name), attribute)

    assert callable(application)
    assert web[web.index("--bind") + 1].endswith(":8000")


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_it_runs_worker_and_beat_from_the_backend_celery_app(name):
    argv = command(name)
    app_name = argv[argv.index("-A") + 1]

    app = find_app(app_name)

    assert argv[0] == "celery"
    assert name in argv
    assert isinstance(app, Celery)
    assert app is importlib.import_module("backend.celery").app


def test_it_migrates_before_web_worker_and_beat_start():
    migrate = " ".join(command("migrate"))

    assert "manage.py migrate --noinput" in migrate
    assert "manage.py createcachetable" in migrate
    for name in ("web", "worker", "beat"):
        assert service(name)["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_it_builds_on_python_3_11_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [line.strip() for line in dockerfile.splitlines() if line.strip() and not line.startswith("#")]

    assert re.fullmatch(r"FROM python:3\.11(-slim)?", instructions[0])
    assert "RUN pip install -r requirements.txt" in instructions
    assert "collectstatic" in dockerfile
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users
    assert users[-1] not in {"root", "0"}
    assert "backend.wsgi:application" in dockerfile


def test_the_images_collectstatic_step_gives_settings_everything_they_require():
    """The build has no .env: the variables on collectstatic's RUN line must be enough for settings to load."""
    from tests.test_settings import GOOD, start_django

    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    (step,) = [line for line in dockerfile.splitlines() if "collectstatic" in line and line.startswith("RUN ")]
    assignments = dict(re.findall(r"\b([A-Z_]+)=(\S+)", step.split("python manage.py")[0]))

    result = start_django(**(dict.fromkeys(GOOD) | assignments))

    assert result.returncode == 0, result.stderr


def test_it_starts_web_worker_and_beat_under_make_run():
    procfile = dict(line.split(":", 1) for line in (ROOT / "Procfile.dev").read_text().splitlines() if line)

    assert set(procfile) == {"web", "worker", "beat"}
    assert "runserver 127.0.0.1:8000" in procfile["web"]
    # The filesystem broker and SQLite want one process per worker, not a prefork pool.
    assert "--pool=solo" in procfile["worker"]
    assert "celery -A backend beat" in procfile["beat"]


def test_it_documents_every_variable_in_the_readme():
    readme = (ROOT / "README.md").read_text()

    undocumented = {name for name in settings_variables() if f"`{name}`" not in readme}

    assert not undocumented, f"README.md's configuration table lacks {sorted(undocumented)}"


def test_make_runs_database_migrates_and_takes_the_demo_on_sqlite(tmp_path):
    """`make run` works on a bare machine: every migration must run on SQLite too, and the demo clinic load.

    SQLite rebuilds a table to change it, and a rebuild that carried the PostgreSQL-only exclusion constraints
    would fail; this is where such a migration is caught before a newcomer's first `make run` is.
    """
    environment = {
        "PATH": os.environ["PATH"],
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "backend.settings",
    }
    for command in (["migrate", "--noinput"], ["createcachetable"], ["load_demo"]):
        result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, f"manage.py {' '.join(command)}:\n{result.stderr[-3000:]}"
