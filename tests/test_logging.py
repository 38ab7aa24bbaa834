"""Secrets in addresses (manage links, calendar feeds) never reach a log: Django's or gunicorn's."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "WzEsInNlY3JldCJd:1xVsfl:not-a-real-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorns_access_log_hides_manage_and_feed_addresses(tmp_path):
    port = free_port()
    log = tmp_path / "access.log"
    environment = {
        "PATH": os.environ["PATH"],
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    server = subprocess.Popen(  # noqa: S603 - this interpreter's gunicorn, as docker-compose.yml runs it
        [sys.executable, "-m", "gunicorn", "backend.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(log), "--logger-class", "backend.gunicorn_logging.RedactingLogger"],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for path in (f"/manage/{SECRET}/", f"/feeds/{SECRET}.ics"):
            deadline = time.monotonic() + 20
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5)
                    break
                except urllib.error.HTTPError:
                    break  # a 404 or 500 is an answer: the request was logged
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    text = log.read_text()
    assert "/manage/…" in text
    assert "/feeds/…" in text
    assert SECRET not in text
