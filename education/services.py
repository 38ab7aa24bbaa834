"""Writes to the library: importing articles (idempotent by source) and recording what was shared with whom."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from backend.audit import Actor
from education.importing import ImportedArticle, ImportFailed, article_file_parse, article_files
from education.models import Article, ArticleShare, Topic
from education.ranking import TOPIC_NAMES
from education.selectors import ArticleMatch, articles_for_appointment

if TYPE_CHECKING:
    from patients.models import Patient
    from scheduling.models import Appointment

DEMO_ARTICLES = Path(__file__).resolve().parent / "demo" / "articles"
_CONTENT_FIELDS = ("title", "summary", "body_html", "reading_minutes")
_CREATE_ATTEMPTS = 5  # another import taking the same free slug at the same moment: pick the next one and retry


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

    A new article is published unless `published=False` (the command's --unpublished, which wins over the file) or
    the file says `published: false`. An update keeps the slug (links to it went out in emails) and the published
    flag (a manager may have withdrawn it), and keeps the topics unless the file names them: suggestions never
    overwrite a manager's choice.
    """
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            with transaction.atomic():
                return _article_import_once(imported, published)
        except IntegrityError:
            # Another import created this source, or took the free slug, after we looked: look again.
            if attempt == _CREATE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _article_import_once(imported: ImportedArticle, published: bool) -> tuple[Article, str]:
    topics = _topics_ensure(imported.topics)
    content = {name: getattr(imported, name) for name in _CONTENT_FIELDS}
    article = Article.objects.select_for_update().filter(source=imported.source).first()
    if article is None:
        chosen = published and imported.published is not False
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
    article.save()
    if topics_change:
        article.topics.set(topics)
    return article, "updated"


def articles_import_files(paths: Sequence[Path], *, published: bool = True) -> list[ArticleImport]:
    """Import every export named (folders: the exports inside), each on its own: one bad file stops no other.

    Two files of one run that are the same post (the same source: see education/importing.py) would overwrite each
    other: the second is reported as failed instead.
    """
    results = []
    seen: dict[str, Path] = {}
    for path in article_files(list(paths)):
        try:
            imported = article_file_parse(path)
            if imported.source in seen:
                raise ImportFailed(
                    f"the same post as {seen[imported.source]} ({imported.source}): give one of them its own "
                    "slug: or source: in its front matter"
                )
            seen[imported.source] = path
            article, outcome = article_import(imported, published=published)
        except (ImportFailed, OSError) as error:
            results.append(ArticleImport(str(path), "failed", error=str(error)))
        except DatabaseError as error:  # a value the database refuses: this file fails, the others go on
            results.append(ArticleImport(str(path), "failed", error=f"the database refused it ({error})"[:300]))
        else:
            results.append(ArticleImport(str(path), outcome, article, imported))
    return results


def articles_suggest_on_manage_page(
    appointment: "Appointment", actor: Actor, *, record: bool = True
) -> list[ArticleMatch]:
    """Up to three articles for the visit, for its manage page, recorded as shown (once per appointment and article).

    Nothing for a cancelled visit. The intake is read as `actor` (the patient's link: the topics are shown to whoever
    holds it) from this appointment's own intake only. `record=False` for a request whose page nobody may see
    (a browser's prefetch): the articles are chosen but not recorded as shown.
    """
    if appointment.status == appointment.Status.CANCELLED or appointment.patient_id is None:
        return []
    matches = articles_for_appointment(appointment, link_only=True, actor=actor)
    if record:
        article_shares_record(
            patient=appointment.patient, appointment=appointment, matches=matches, channel="manage_page"
        )
    return matches


def article_shares_record(
    *,
    patient: "Patient",
    appointment: "Appointment | None",
    matches: Sequence[ArticleMatch],
    channel: str,
    message_id: int | None = None,
) -> int:
    """Record that `matches` were shown or sent to the patient; returns how many rows were inserted.

    Idempotent where it can be: for a message (`message_id`) each article once, and on the appointment page each
    article once per appointment. The unique constraints decide; a row another worker wrote a moment ago is skipped
    (and not counted).
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
    inserted = 0
    for row in rows:  # at most three: one savepoint each, so that a row lost to a race is not counted
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            continue
        inserted += 1
    return inserted


def _already_shared(appointment: "Appointment | None", channel: str, message_id: int | None) -> set[int]:
    if message_id is not None:
        found = ArticleShare.objects.filter(message_id=message_id)
    elif channel == ArticleShare.Channel.MANAGE_PAGE and appointment is not None:
        found = ArticleShare.objects.filter(appointment=appointment, channel=channel)
    else:
        return set()
    return set(found.values_list("article_id", flat=True))
