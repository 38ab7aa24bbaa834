"""A real SMTP server on loopback, so the outbox's tests see Meridian's mail as a mail server does: bytes on a wire.

`SmtpSink` runs aiosmtpd's `Controller` (its own thread and event loop) on 127.0.0.1 and a free port. It keeps
every message it accepts, raw and parsed; it can answer chosen recipients with a 4xx or 5xx, at RCPT or after
DATA; and it can hold sessions at RCPT or DATA, before replying, until the test lets them go. A held session whose
client goes away (a worker killed mid-send) is never accepted: a real server discards a transaction that was cut
off before it replied, and so does this one.

    python -m tests.smtp_sink --port 2525 --log deliveries.txt

runs one on its own, as the throughput benchmark does, writing a line per accepted message: the Unix time it
arrived and its Message-ID.
"""

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller

STAGES = ("RCPT", "DATA")
_HEADERS = BytesHeaderParser(policy=policy.default)
# aiosmtpd logs every command at INFO: a failing test's output would be all SMTP dialogue.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Delivery:
    """One message as the server received it."""

    raw: bytes
    email: EmailMessage
    recipients: tuple[str, ...]
    received_at: float  # time.time() when it was accepted (or refused)

    @property
    def message_id(self) -> str:
        return str(self.email["Message-ID"])


class Hold:
    """Sessions held at one stage of the SMTP dialogue, before the server replies.

    `reached` is set as soon as a session is held; `release()` lets every held session (and later ones) go on.
    `cut_off` counts held sessions whose client disappeared while it waited.
    """

    def __init__(self, stage: str, sessions: int | None) -> None:
        if stage not in STAGES:
            raise ValueError(f"Hold at one of {STAGES}, not {stage!r}.")
        self.stage = stage
        self.reached = threading.Event()
        self.held = 0
        self.cut_off = 0
        self._left = sessions  # None: every session that gets there
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def wait(self, timeout: float) -> bool:
        return self.reached.wait(timeout)

    def _take(self, stage: str) -> bool:
        if stage != self.stage or self._released.is_set() or self._left == 0:
            return False
        if self._left is not None:
            self._left -= 1
        self.held += 1
        return True

    async def _until_released(self) -> None:
        self.reached.set()
        try:
            while not self._released.is_set():
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:  # aiosmtpd cancels the session when its client goes away
            self.cut_off += 1
            raise


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps what it accepts. Use as a context manager, or start() and stop()."""

    def __init__(
        self, port: int | None = None, on_delivery: Callable[[Delivery], None] | None = None, *, keep: bool = True
    ) -> None:
        self.port = port or free_port()
        self.deliveries: list[Delivery] = []
        self.refused: list[Delivery] = []  # refused after DATA: the server saw the whole message
        self._on_delivery = on_delivery
        self._keep = keep  # False: a long run hands each message to `on_delivery` and keeps none in memory
        self._answers: dict[tuple[str, str], str] = {}
        self._hold: Hold | None = None
        self._arrived = threading.Condition()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._hold is not None:
            self._hold.release()
        self._controller.stop()

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def answer(self, recipient: str, reply: str, *, stage: str = "RCPT") -> None:
        """Reply `reply` (such as "451 4.3.0 Try again later") to every message for `recipient`, at `stage`."""
        if stage not in STAGES:
            raise ValueError(f"Answer at one of {STAGES}, not {stage!r}.")
        self._answers[(stage, recipient.lower())] = reply

    def hold(self, stage: str, sessions: int | None = 1) -> Hold:
        """Hold the next `sessions` sessions (None: all of them) at `stage` until the hold is released."""
        if self._hold is not None:
            self._hold.release()
        self._hold = Hold(stage, sessions)
        return self._hold

    def reset(self) -> None:
        """Forget what was received, every answer and every hold (between tests that share one sink)."""
        if self._hold is not None:
            self._hold.release()
        self._hold = None
        self._answers.clear()
        with self._arrived:
            self.deliveries.clear()
            self.refused.clear()

    def wait_for(self, count: int, timeout: float) -> list[Delivery]:
        """Wait until at least `count` messages were accepted (or `timeout` seconds passed); all of them so far."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.deliveries) < count and (left := deadline - time.monotonic()) > 0:
                self._arrived.wait(left)
            return list(self.deliveries)

    def message_ids(self) -> Counter[str]:
        """How many times each Message-ID was accepted."""
        with self._arrived:
            return Counter(delivery.message_id for delivery in self.deliveries)

    # --- called on the server's event loop -------------------------------------------------------------------

    async def _held(self, stage: str) -> None:
        hold = self._hold
        if hold is not None and hold._take(stage):
            await hold._until_released()

    def _answer(self, stage: str, recipients: list[str]) -> str | None:
        for recipient in recipients:
            reply = self._answers.get((stage, recipient.lower()))
            if reply:
                return reply
        return None

    def _record(self, raw: bytes, recipients: list[str], *, accepted: bool) -> None:
        # Headers only when nothing is kept: a benchmark's sink needs the Message-ID, not the MIME tree.
        parsed = message_from_bytes(raw, policy=policy.default) if self._keep else _HEADERS.parsebytes(raw)
        delivery = Delivery(raw, parsed, tuple(recipients), time.time())
        if self._keep:
            with self._arrived:
                (self.deliveries if accepted else self.refused).append(delivery)
                self._arrived.notify_all()
        if accepted and self._on_delivery is not None:
            self._on_delivery(delivery)


class _Handler:
    """aiosmtpd's hooks: each may wait (a hold), refuse (an answer) or accept."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options: list[str]) -> str:
        await self.sink._held("RCPT")
        reply = self.sink._answer("RCPT", [address])
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        await self.sink._held("DATA")
        reply = self.sink._answer("DATA", envelope.rcpt_tos)
        self.sink._record(envelope.original_content, envelope.rcpt_tos, accepted=reply is None)
        return reply or "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description="An SMTP sink on 127.0.0.1 that logs each accepted message.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True, help="a file to append '<unix time> <Message-ID>' lines to")
    arguments = parser.parse_args()
    stopped = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stopped.set())
    with open(arguments.log, "a", buffering=1) as log:  # line-buffered: a reader sees each line as it comes

        def write(delivery: Delivery) -> None:
            log.write(f"{delivery.received_at:.6f} {delivery.message_id}\n")

        with SmtpSink(arguments.port, on_delivery=write, keep=False):
            print("ready", flush=True)
            stopped.wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
