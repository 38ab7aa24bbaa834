"""`python manage.py import_articles PATH...`: import a clinic's blog exports (.md, .html, .txt, or folders of them).

Idempotent: a post imported again updates its article, never duplicates it. A post is recognised by its address
(front matter `source:`, or an HTML page's canonical URL), else by its slug (front matter `slug:`, else made from
the title): never by the file's name or folder, so the same export imported from another folder updates the same
articles, and `a/index.md` and `b/index.md` are two articles. Prints what it did with each file, including the
page furniture it removed and the mojibake it repaired.
"""

from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from education.services import ArticleImport, articles_import_files

OUTCOMES = ("created", "updated", "unchanged", "failed")


class Command(BaseCommand):
    help = (
        "Import blog exports (.md, .html, .txt) into the article library; running it again updates them. A post is "
        "the same post when it has the same address (front matter source:, or the page's canonical URL), else the "
        "same slug (front matter slug:, else made from the title); the file's name and folder do not matter. Give a "
        "post a slug: or source: before retitling it, or it is imported as a new article."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="export files, or folders of them")
        parser.add_argument(
            "--unpublished",
            action="store_true",
            help="new articles start unpublished (to review in the admin), whatever their front matter says",
        )

    def handle(self, *args: object, paths: list[Path], unpublished: bool, **options: object) -> None:
        results = articles_import_files(paths, published=not unpublished)
        for result in results:
            self.stdout.write(describe(result))
        counts = Counter(result.outcome for result in results)
        self.stdout.write(", ".join(f"{counts[outcome]} {outcome}" for outcome in OUTCOMES))
        failed = counts["failed"]
        if failed:
            raise CommandError(f"{failed} of {len(results)} files could not be imported (see above).")


def describe(result: ArticleImport) -> str:
    if result.outcome == "failed":
        return f"{result.path}: failed: {result.error}"
    imported, article = result.imported, result.article
    lines = [f'{result.path}: {result.outcome} /learn/{article.slug}/ "{article.title}"']
    origin = "from the file" if imported.topics_declared else "suggested"
    lines.append(f"  {article.reading_minutes} min read; topics ({origin}): {', '.join(imported.topics) or 'none'}")
    if imported.removed:
        lines.append(f"  removed: {'; '.join(imported.removed)}")
    if imported.repaired:
        plural = "s" if imported.repaired != 1 else ""
        lines.append(f"  repaired {imported.repaired} mis-decoded character sequence{plural} (mojibake)")
    return "\n".join(lines)
