"""Writes to the library: importing articles (idempotent by source) and recording what was shared with whom."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from django.db import transaction
from django.utils import timezone

from education.importing import ImportedArticle, ImportFailed, article_file_parse, article_files
from education.models import Article, ArticleShare, Topic
from education.ranking import TOPIC_NAMES

if TYPE_CHECKING:
    from education.selectors import ArticleMatch
    from patients.models import Patient
    from scheduling.models import Appointment

DEMO_ARTICLES = Path(__file__).resolve().parent / "demo" / "articles"
_CONTENT_FIELDS = ("title", "summary", "body_html", "reading_minutes")


@dataclass(frozen=True)
class ArticleImport:
    """What one import did: `outcome` is created, updated, unchanged or failed."""

    path: str
    outcome: Literal["created", "updated", "unchanged", "failed"]
    article: Article | None = None
    imported: ImportedArticle | None = None
    error: str = ""


def _topics_ensure(slugs: Sequence[str]) -> list[Topic]:
    return [Topic.objects.get_or_create(slug=slug, defaults={"name": TOPIC_NAMES.get(slug, slug)})[0] for slug in slugs]


def _free_slug(wanted: str) -> str:
    """The wanted slug, or the first of wanted-2, wanted-3... that no other article has."""
    slug, number = wanted, 1
    while Article.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{wanted[: 80 - len(str(number)) - 1]}-{number}"
    return slug


def article_import(imported: ImportedArticle, *, published: bool = True) -> tuple[Article, str]:
    """Create the article, or update the one with the same source: (article, "created" / "updated" / "unchanged").

    An update keeps the slug (links to it went out in emails) and the published flag (a manager may have withdrawn
    it), and keeps the topics unless the file names them: suggestions never overwrite a manager's choice.
    """
    topics = _topics_ensure(imported.topics)
    content = {name: getattr(imported, name) for name in _CONTENT_FIELDS}
    with transaction.atomic():
        article = Article.objects.select_for_update().filter(source=imported.source).first()
        if article is None:
            chosen = imported.published if imported.published is not None else published
            article = Article.objects.create(
                source=imported.source, slug=_free_slug(imported.slug), published=chosen, **content
            )
            article.topics.set(topics)
            return article, "created"
        changed = [name for name, value in content.items() if getattr(article, name) != value]
        topics_change = imported.topics_declared and {t.pk for t in topics} != set(
            article.topics.values_list("pk", flat=True)
        )
        if not changed and not topics_change:
            return article, "unchanged"
        for name in changed:
            setattr(article, name, content[name])
        # Saved even when only the topics change: updated_at is the matcher's cache key.
        article.save()
        if topics_change:
            article.topics.set(topics)
        return article, "updated"


def articles_import_files(paths: Sequence[Path], *, published: bool = True) -> list[ArticleImport]:
    """Import every export named (folders: the exports inside), each on its own: one bad file stops no other."""
    results = []
    for path in article_files(list(paths)):
        try:
            imported = article_file_parse(path)
        except (ImportFailed, OSError) as error:
            results.append(ArticleImport(str(path), "failed", error=str(error)))
            continue
        article, outcome = article_import(imported, published=published)
        results.append(ArticleImport(str(path), outcome, article, imported))
    return results


def article_shares_record(
    *,
    patient: "Patient",
    appointment: "Appointment | None",
    matches: Sequence["ArticleMatch"],
    channel: str,
    message_id: int | None = None,
) -> int:
    """Record that `matches` were shown or sent to the patient; returns how many rows were new.

    Idempotent where it can be: for a message (`message_id`) each article once, and on the appointment page each
    article once per appointment. The unique constraints decide; a row another worker wrote a moment ago is skipped.
    """
    if channel not in ArticleShare.Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    already = _already_shared(appointment, channel, message_id)
    now = timezone.now()
    rows = [
        ArticleShare(
            patient=patient,
            appointment=appointment,
            article=match.article,
            rank=rank,
            reason=match.reason[:200],
            channel=channel,
            message_id=message_id,
            shared_at=now,
        )
        for rank, match in enumerate(matches, start=1)
        if match.article.pk not in already
    ]
    ArticleShare.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _already_shared(appointment: "Appointment | None", channel: str, message_id: int | None) -> set[int]:
    if message_id is not None:
        found = ArticleShare.objects.filter(message_id=message_id)
    elif channel == ArticleShare.Channel.MANAGE_PAGE and appointment is not None:
        found = ArticleShare.objects.filter(appointment=appointment, channel=channel)
    else:
        return set()
    return set(found.values_list("article_id", flat=True))
