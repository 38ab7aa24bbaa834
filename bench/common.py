"""What every benchmark shares: its own PostgreSQL database, Django set up against it, timing, the table.

Importing the `bench` package calls `configure()`, so Django is ready (pointed at the benchmark's
database, DEBUG off, rate limits off) before a benchmark module imports any model. The database itself
is created, migrated and dropped by `bench_database()`.
"""

import logging
import math
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

BENCH_DATABASE = "meridian_bench"

# Settings for a production-shaped run: DEBUG off (so no query log slows requests down) and no rate
# limits (the benchmarks book far more than 20 times an hour from one address).
_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "backend.settings",
    "SECRET_KEY": "benchmark-only-key-not-secret",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "REDIS_URL": "redis://127.0.0.1:6379/0",  # required with DEBUG off; the benchmarks send no task
    "EMAIL_URL": "memorymail://",
    "SITE_URL": "http://127.0.0.1:8000",  # required with DEBUG off; emails link to it
    "DEFAULT_FROM_EMAIL": "Meridian Acupuncture <bookings@example.org>",  # required with DEBUG off
    "INTAKE_ENCRYPTION_KEYS": "ATXEA42igRfzLqvl_4ZAYj1ZLF0KGLA09HwXGDLKVEc=",  # required with DEBUG off; bench only
    "DEBUG": "0",
    "BOOKING_THROTTLE_RATE": "none",
    "MANAGE_THROTTLE_RATE": "none",
    "LOG_LEVEL": "ERROR",
}


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def configure() -> None:
    """Point DATABASE_URL at the benchmark database and set Django up. Exits if there is no PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in {"postgres", "postgresql", "pgsql"}:
        sys.exit("The benchmarks need PostgreSQL: set DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres")
    os.environ["BENCH_SERVER_URL"] = url  # the server the benchmark database is created on
    os.environ["DATABASE_URL"] = _with_database(url, BENCH_DATABASE)
    for name, value in _ENVIRONMENT.items():
        os.environ.setdefault(name, value)

    import django  # here, after the environment that settings.py reads is in place

    # WhiteNoise warns that `collectstatic` has not run; the benchmarks serve no static files.
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    django.setup()
    # Every losing booking is a 409 that django.request logs as a warning; the table is the output here.
    logging.getLogger("django.request").setLevel(logging.ERROR)


def _run_on_server(*statements: str) -> None:
    import psycopg

    with psycopg.connect(_with_database(os.environ["BENCH_SERVER_URL"], "postgres"), autocommit=True) as server:
        for statement in statements:
            server.execute(statement)


@contextmanager
def bench_database() -> Iterator[None]:
    """A fresh, migrated database for one benchmark run, dropped afterwards (even after a crash)."""
    from django.core.management import call_command
    from django.db import connections

    _run_on_server(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)', f'CREATE DATABASE "{BENCH_DATABASE}"')
    try:
        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        yield
    finally:
        connections.close_all()
        _run_on_server(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


# --- timing ----------------------------------------------------------------------------------------------


def time_calls(call: Callable[[], object], *, repeat: int, warmup: int = 20) -> list[float]:
    """Milliseconds per call, after `warmup` calls that fill caches, open connections and so on."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest sample with at least `fraction` of them at or below it."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Row:
    name: str
    samples: list[float]
    target: str = "-"
    queries: int | None = None
    met: bool | None = None  # None: no target

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 0.99)


def print_table(title: str, rows: Sequence[Row], baseline: Row, notes: Sequence[str] = ()) -> None:
    """A Markdown table, ready to paste into docs/benchmarks.md."""
    print(f"\n### {title}\n")
    print("| measurement | n | median ms | p99 ms | median / baseline | SQL queries | target | met |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for row in [baseline, *rows]:
        ratio = "1.0 (baseline)" if row is baseline else f"{row.median / baseline.median:.1f}"
        queries = "-" if row.queries is None else str(row.queries)
        met = "-" if row.met is None else ("yes" if row.met else "**NO**")
        print(
            f"| {row.name} | {len(row.samples)} | {row.median:.2f} | {row.p99:.2f} | {ratio} | {queries} "
            f"| {row.target} | {met} |"
        )
    for note in notes:
        print(f"\n{note}")
