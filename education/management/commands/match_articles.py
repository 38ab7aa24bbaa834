"""`python manage.py match_articles "free text" [--areas lower_back,neck] [--stress 0-10] [--sleep poor] ...`

Ranks the published articles for what a patient might write on the intake, with each score and reason, so that a
clinic can see why an article was picked and tune its library and vocabulary (education/vocabulary.py).
"""

from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand, CommandParser

from education.selectors import articles_for_text
from patients.intake import PAIN_AREAS, SLEEP_QUALITIES

AREAS = tuple(value for value, _label in PAIN_AREAS)
SLEEP = tuple(value for value, _label in SLEEP_QUALITIES)


def areas_list(raw: str) -> list[str]:
    areas = [area.strip() for area in raw.split(",") if area.strip()]
    unknown = [area for area in areas if area not in AREAS]
    if unknown:
        raise ArgumentTypeError(f"unknown area {', '.join(unknown)} (choose from {', '.join(AREAS)})")
    return areas


def stress_level(raw: str) -> int:
    if not raw.isdigit() or not 0 <= int(raw) <= 10:
        raise ArgumentTypeError("a whole number from 0 to 10")
    return int(raw)


class Command(BaseCommand):
    help = "Rank the published articles for an intake's words and answers, with scores and reasons."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text", help="what brings the patient in, in their words")
        parser.add_argument("--areas", type=areas_list, default=[], help=f"comma-separated: {','.join(AREAS)}")
        parser.add_argument("--stress", type=stress_level, help="stress from 0 to 10")
        parser.add_argument("--sleep", choices=SLEEP, help="sleep quality")
        parser.add_argument("--service", help="the booked service's slug, e.g. initial")
        parser.add_argument("--limit", type=int, default=5, help="how many articles (default 5)")

    def handle(self, *args: object, **options: object) -> None:
        matches = articles_for_text(
            options["text"],
            areas=options["areas"],
            stress=options["stress"],
            sleep=options["sleep"],
            service_slug=options["service"],
            limit=options["limit"],
        )
        if not matches:
            self.stdout.write("No published article matches.")
            return
        width = max(len(match.article.slug) for match in matches)
        self.stdout.write(f"{'#':>2}  {'article':<{width}}  {'score':>6}  reason")
        for rank, match in enumerate(matches, start=1):
            self.stdout.write(f"{rank:>2}  {match.article.slug:<{width}}  {match.score:>6.3f}  {match.reason}")
