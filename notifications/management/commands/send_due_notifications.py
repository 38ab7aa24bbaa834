"""`python manage.py send_due_notifications`: one sweep in the foreground, sending each due message here.

For clinics that run cron instead of Celery beat, and for tests. Safe beside running workers and beat: the
sweep claims rows with SKIP LOCKED, and each send re-checks and locks its row.
"""

from django.core.management.base import BaseCommand, CommandParser

from notifications.services import Outcome, message_deliver, messages_sweep


class Command(BaseCommand):
    help = "Send every message that is due now, in this process (one sweep of the outbox)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="Send at most this many messages.")

    def handle(self, *args, limit: int | None, **options) -> None:
        outcomes: dict[str, int] = {}

        def deliver_here(message_id: int) -> None:
            outcome = message_deliver(message_id=message_id)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

        result = messages_sweep(enqueue=deliver_here, limit=limit)
        counts = ", ".join(f"{outcomes.get(outcome, 0)} {outcome}" for outcome in (Outcome.SENT, Outcome.SKIPPED))
        retry = outcomes.get(Outcome.RETRY, 0) + outcomes.get(Outcome.FAILED, 0)
        self.stdout.write(
            f"{result.claimed} due: {counts}, {retry} failed or to retry; "
            f"{result.stale} skipped as stale, {result.released} queued again."
        )
