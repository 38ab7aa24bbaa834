"""`python manage.py rotate_intake_keys`: re-encrypt every intake with the first key of INTAKE_ENCRYPTION_KEYS.

Rotation: put the new key first (`INTAKE_ENCRYPTION_KEYS=new,old`), restart every process, run this, then drop
the old key. Safe to run again: intakes the first key already opens are left alone. Each batch commits on its
own, so an interrupted run loses nothing and the next one carries on.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from patients.encryption import UndecryptableValue
from patients.services import intake_keys_rotate_batch


class Command(BaseCommand):
    help = "Re-encrypt every intake's answers with the first key of INTAKE_ENCRYPTION_KEYS, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="intakes per transaction (default 500)")

    def handle(self, *args: object, batch_size: int, **options: object) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        rotated = already_current = 0
        last_id: int | None = 0
        while last_id is not None:
            try:
                batch = intake_keys_rotate_batch(after_id=last_id, size=batch_size)
            except UndecryptableValue as error:
                raise CommandError(f"{error} Earlier batches are done; run this again once that key is back.") from None
            rotated += batch.rotated
            already_current += batch.already_current
            last_id = batch.last_id
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted {rotated} intake(s); {already_current} already used the first key.")
        )
