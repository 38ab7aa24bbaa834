"""`python manage.py load_clinic FILE.yaml`: load a clinic file (see "The clinic file" in DESIGN.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduling.clinic_file import ClinicFileError, clinic_file_load, clinic_file_parse


class Command(BaseCommand):
    help = "Create or update the clinic, locations, rooms, services and practitioners described in a YAML file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the clinic file, e.g. clinic.yaml")

    def handle(self, *args: object, file: Path, **options: object) -> None:
        try:
            summary = clinic_file_load(clinic_file_parse(file))
        except ClinicFileError as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{file}: {len(error.problems)} problem(s) found; nothing was loaded.") from None
        self.stdout.write(self.style.SUCCESS(f"Loaded {file}"))
        for line in summary.lines():
            self.stdout.write(f"  {line}")
