"""Celery entry points for the outbox: the sweeper beat runs every minute, and one send task per message.

Both take ids or nothing, never an address, a name or health data. Neither uses an ETA or a countdown: a
message waits in its row until it is due, and a failed attempt goes back to its row with a later due time.
"""

from celery import shared_task
from kombu.exceptions import OperationalError

from notifications.services import EnqueueFailed, SweepResult, message_deliver, messages_sweep


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_message(message_id: int) -> str:
    return message_deliver(message_id=message_id)


def enqueue_send(message_id: int) -> None:
    try:
        # retry=False: with the broker down, the sweeper gives the rows back at once rather than hang on it.
        send_message.apply_async(args=[message_id], retry=False)
    except OperationalError as error:
        raise EnqueueFailed(str(error)) from error


@shared_task(acks_late=True)
def sweep_due_messages() -> dict[str, int]:
    result: SweepResult = messages_sweep(enqueue=enqueue_send)
    return vars(result)
