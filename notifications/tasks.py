"""Celery entry points for the outbox: the sweeper beat runs every minute, and one send task per message.

Both take ids or nothing, never an address, a name or health data. Neither uses an ETA or a countdown: a
message waits in its row until it is due, and a failed attempt goes back to its row with a later due time.
"""

from functools import partial

from celery import shared_task
from django.db import close_old_connections
from kombu import Producer
from kombu.exceptions import OperationalError

from notifications.services import EnqueueFailed, SweepResult, message_deliver, messages_sweep


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_message(message_id: int) -> str:
    # As Django does per request: CONN_MAX_AGE and the health check decide whether the connection is kept. (Celery
    # closes it around every task anyway unless CELERY_DB_REUSE_MAX is set; see docs/benchmarks.md.)
    close_old_connections()
    return message_deliver(message_id=message_id)


def enqueue_send(message_id: int, producer: Producer | None = None) -> None:
    try:
        # retry=False: with the broker down, the sweeper gives the rows back at once rather than hang on it.
        send_message.apply_async(args=[message_id], retry=False, producer=producer)
    except OperationalError as error:
        raise EnqueueFailed(str(error)) from error


@shared_task(acks_late=True)
def sweep_due_messages() -> dict[str, int]:
    # One producer for the whole sweep rather than one from the pool per message: after downtime a sweep
    # enqueues thousands (measured: 0.35 instead of 0.41 ms each; bench/notifications_throughput.py).
    with send_message.app.producer_or_acquire() as producer:
        result: SweepResult = messages_sweep(enqueue=partial(enqueue_send, producer=producer))
    return vars(result)
