"""Real processes around the outbox, for its slow tests and its benchmark: a private Redis, Celery workers, beat's
tick, and one-off sweeps and bookings in processes of their own.

Nothing here touches the shared Redis on 6379 that other tests and people use: a `PrivateRedis` is a redis-server
of its own on a free port, without persistence, and only it is ever flushed or stopped.

    python -m tests.outbox_processes sweep [--batch N] [--start-line]
    python -m tests.outbox_processes book SERVICE_ID PRACTITIONER_ID START EMAIL

run one sweep of the outbox (claiming due rows and enqueueing one send task each, as beat's sweeper does) or one
online booking through the booking service, configured by the environment like any Meridian process, and print
the result as one line of JSON. With `--start-line` the sweeper says "ready" once Django is set up and waits for a
line on its standard input, so that two of them can be started at the same instant.
"""

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

from tests.smtp_sink import free_port

ROOT = Path(__file__).resolve().parent.parent


def wait_until(condition, timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it is true or `timeout` seconds have passed; whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def database_url(settings_dict: Mapping[str, object]) -> str:
    """A DATABASE_URL for the database Django is connected to (in a test: the test database)."""
    user = quote(str(settings_dict.get("USER") or ""))
    password = quote(str(settings_dict.get("PASSWORD") or ""))
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


def meridian_environment(*, database: str, redis: str, smtp_port: int, **overrides: str) -> dict[str, str]:
    """The environment of a production-shaped Meridian process (DEBUG off) on these servers, from this process's
    Django settings: the same SECRET_KEY, SITE_URL and intake keys, so the processes read each other's data."""
    from django.conf import settings

    environment = dict(os.environ)
    environment.update(
        DJANGO_SETTINGS_MODULE="backend.settings",
        DEBUG="0",
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS=",".join(settings.ALLOWED_HOSTS),
        SITE_URL=settings.SITE_URL,
        DEFAULT_FROM_EMAIL=settings.DEFAULT_FROM_EMAIL,
        INTAKE_ENCRYPTION_KEYS=",".join(settings.INTAKE_ENCRYPTION_KEYS),
        DATABASE_URL=database,
        REDIS_URL=redis,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    environment.update(overrides)
    return environment


class PrivateRedis:
    """A redis-server of our own on a free port: no snapshots, no append-only file, gone when stopped."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it (again, on the same port, empty: it keeps nothing on disk)."""
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        if not wait_until(self.is_up, timeout=10):
            raise RuntimeError(f"redis-server on port {self.port} did not answer; see {self.directory}/redis.log")

    def stop(self) -> None:
        """SHUTDOWN NOSAVE: it answers nothing more, and comes back empty."""
        if self._process is None:
            return
        with contextlib.suppress(Exception):  # the connection drops as it shuts down; it may already be gone
            self.client().shutdown(nosave=True)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def is_up(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:
            return False

    def flush(self) -> None:
        self.client().flushall()

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5, socket_connect_timeout=2)

    def beat_tick(self) -> None:
        """What beat does every minute: publish the sweeper's task. A worker on this Redis runs it."""
        from kombu import Connection

        from backend.celery import app

        with Connection(self.url) as connection:
            app.send_task("notifications.tasks.sweep_due_messages", connection=connection)


class CeleryWorker:
    """`celery -A backend worker` in a process group of its own, logging to a file the tests can read."""

    def __init__(
        self, name: str, environment: Mapping[str, str], log: Path, *, pool: str = "prefork", concurrency: int = 2
    ) -> None:
        self.name = name
        self.log = log
        self._command = [sys.executable, "-m", "celery", "-A", "backend", "worker", f"--pool={pool}"]
        self._command += ["--concurrency", str(concurrency), "--hostname", f"{name}@%h", "--loglevel", "INFO"]
        # No gossip, mingle or heartbeat: workers of one test need not know of each other, and start faster.
        self._command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        self._environment = dict(environment)
        self._process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "CeleryWorker":
        with open(self.log, "ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own command line
                self._command,
                cwd=ROOT,
                env=self._environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() reaches the pool's children too
            )
        if not wait_until(lambda: " ready." in self.output() or self._process.poll() is not None, timeout):
            raise RuntimeError(f"worker {self.name} did not get ready in {timeout} s:\n{self.output()[-3000:]}")
        if self._process.poll() is not None:
            raise RuntimeError(f"worker {self.name} exited ({self._process.returncode}):\n{self.output()[-3000:]}")
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL to the main process and every pool process at once: no warm shutdown, nothing acknowledged."""
        self._signal(signal.SIGKILL)
        self._wait(10)

    def stop(self, timeout: float = 20) -> None:
        """A warm shutdown (SIGTERM: finish what is running), or a kill if it takes longer than `timeout`."""
        if self._process is None or self._process.poll() is not None:
            self._signal(signal.SIGKILL)  # the pool's children may outlive a main process that died
            return
        self._signal(signal.SIGTERM)
        if not self._wait(timeout):
            self.kill()

    def _signal(self, number: int) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, number)

    def _wait(self, timeout: float) -> bool:
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        # The group outlives its leader while a child still runs: wait for the whole group to be gone.
        return wait_until(lambda: not _group_alive(self._process.pid), timeout=timeout)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


class Sweeper:
    """A sweep in a process of its own, started now and waiting at the start line until `go()`."""

    def __init__(self, environment: Mapping[str, str], *, batch: int | None = None) -> None:
        command = [sys.executable, "-m", "tests.outbox_processes", "sweep", "--start-line"]
        if batch is not None:
            command += ["--batch", str(batch)]
        self._process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=ROOT,
            env=dict(environment),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self._process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the sweeper did not start: {line}{self._process.stderr.read()}")

    def go(self) -> None:
        self._process.stdin.write("go\n")
        self._process.stdin.flush()

    def result(self, timeout: float = 60) -> dict[str, int]:
        out, err = self._process.communicate(timeout=timeout)
        if self._process.returncode != 0:
            raise RuntimeError(f"the sweeper failed ({self._process.returncode}):\n{err}")
        return json.loads(out.strip().splitlines()[-1])


def run_command(environment: Mapping[str, str], *arguments: str, timeout: float = 60) -> dict:
    """`python -m tests.outbox_processes ARGUMENTS...` to the end; its JSON answer (it must exit 0)."""
    finished = subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-m", "tests.outbox_processes", *arguments],
        cwd=ROOT,
        env=dict(environment),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed ({finished.returncode}):\n{finished.stderr}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


# --- the commands, in their own process --------------------------------------------------------------------


def _sweep(batch: int | None, start_line: bool) -> dict[str, int]:
    from notifications.services import messages_sweep
    from notifications.tasks import enqueue_send, sweep_due_messages

    if start_line:
        print("ready", flush=True)
        sys.stdin.readline()
    if batch is None:
        return sweep_due_messages()  # the beat task's own body, run here
    return vars(messages_sweep(enqueue=enqueue_send, batch=batch))


def _book(service_id: int, practitioner_id: int, start: str, email: str) -> dict[str, int]:
    from patients.services import PatientDetails
    from scheduling.models import Practitioner, Service
    from scheduling.services import appointment_book

    appointment = appointment_book(
        service=Service.objects.get(pk=service_id),
        practitioner=Practitioner.objects.get(pk=practitioner_id),
        start=datetime.fromisoformat(start),
        patient=PatientDetails("Pat", "Lindgren", email, "+1 555 010 0100", date(1985, 4, 12)),
    )
    return {"appointment": appointment.pk}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.outbox_processes")
    commands = parser.add_subparsers(dest="command", required=True)
    sweep = commands.add_parser("sweep", help="one sweep of the outbox, enqueueing to the configured broker")
    sweep.add_argument("--batch", type=int, default=None, help="rows claimed per transaction (default: the task's)")
    sweep.add_argument("--start-line", action="store_true", help="say 'ready', then wait for a line on stdin")
    book = commands.add_parser("book", help="one online booking through the booking service")
    book.add_argument("service", type=int)
    book.add_argument("practitioner", type=int)
    book.add_argument("start", help="an ISO 8601 time with its offset")
    book.add_argument("email")
    arguments = parser.parse_args()

    import django

    django.setup()
    if arguments.command == "sweep":
        answer = _sweep(arguments.batch, arguments.start_line)
    else:
        answer = _book(arguments.service, arguments.practitioner, arguments.start, arguments.email)
    print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
