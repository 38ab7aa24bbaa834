"""Reads of the library: the published articles by topic, the articles that fit a patient, and what was shared.

The matcher's index (education/ranking.py) is built once per state of the library, in each process: a match costs
one small query to check that state, the ranking itself, and the intake read when there is one.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from threading import Lock

from django.db.models import Count, Max, Prefetch, QuerySet

from backend.audit import SYSTEM, audit_write
from education.html import html_text
from education.models import Article, ArticleShare, Topic
from education.ranking import Document, LibraryIndex, PatientQuery
from patients.models import Patient
from patients.services import intake_current, intake_for_appointment
from scheduling.models import Appointment


@dataclass(frozen=True)
class ArticleMatch:
    article: Article
    score: float
    reason: str  # names topics only, e.g. "matches: lower back, stress": safe for an email


@dataclass(frozen=True)
class _Library:
    state: tuple
    index: LibraryIndex
    articles: Mapping[str, Article]


_library: _Library | None = None
_building = Lock()


def _library_state() -> tuple:
    # The highest id as well as the count and the latest change: a deleted and a new article in the same second
    # must not look like no change.
    found = Article.objects.aggregate(count=Count("id"), last_id=Max("id"), latest=Max("updated_at"))
    return found["count"], found["last_id"], found["latest"]


def library_index() -> _Library:
    """The published articles and their index, rebuilt only when an article was added, changed or deleted."""
    global _library
    state = _library_state()
    library = _library
    if library is not None and library.state == state:
        return library
    with _building:
        articles = list(Article.objects.filter(published=True).prefetch_related("topics").order_by("slug"))
        documents = [
            Document(
                article.slug,
                article.title,
                article.summary,
                html_text(article.body_html),
                tuple(topic.slug for topic in article.topics.all()),
            )
            for article in articles
        ]
        _library = _Library(state, LibraryIndex(documents), {article.slug: article for article in articles})
        return _library


def _matches(query: PatientQuery, limit: int) -> list[ArticleMatch]:
    library = library_index()
    ranked = library.index.rank(query, limit)
    return [ArticleMatch(library.articles[found.key], found.score, found.reason) for found in ranked]


def articles_for_text(
    text: str,
    areas: Sequence[str] = (),
    stress: int | None = None,
    sleep: str | None = None,
    service_slug: str | None = None,
    limit: int = 3,
) -> list[ArticleMatch]:
    """The best published articles for what a patient might say, best first (`manage.py match_articles`)."""
    return _matches(PatientQuery(text, tuple(areas), stress, sleep, service_slug), limit)


def query_of_answers(answers: Mapping[str, object], service_slug: str | None) -> PatientQuery:
    """The intake answers the matcher reads: the patient's own words, where it hurts, stress and sleep."""
    words = (answers.get(key) for key in ("reason", "goals", "pain_areas_other"))
    stress = answers.get("stress_level")
    return PatientQuery(
        text=" ".join(str(part) for part in words if part),
        areas=tuple(answers.get("pain_areas") or ()),
        stress=stress if isinstance(stress, int) else None,
        sleep=str(answers["sleep_quality"]) if answers.get("sleep_quality") else None,
        service=service_slug,
    )


def articles_for_appointment(
    appointment: Appointment, limit: int = 3, *, link_only: bool = False
) -> list[ArticleMatch]:
    """The best published articles for this visit, best first, from its intake and its service.

    The intake given with this appointment, else (unless `link_only`) the patient's current one. Pages opened with
    the appointment's manage link pass `link_only=True`: the link proves who booked, not whose record it is, so it
    must not reveal topics from another intake. The intake read is audited as the system's ("article matching").
    Without an intake the service alone decides, which may find nothing.
    """
    intake = intake_for_appointment(appointment)
    if intake is None and not link_only and appointment.patient_id is not None:
        intake = intake_current(appointment.patient)
    if intake is not None:
        audit_write(
            SYSTEM,
            "intake.read",
            patient_id=intake.patient_id,
            appointment_id=appointment.pk,
            intake_id=intake.pk,
            detail="article matching",
        )
    answers = intake.answers if intake is not None else {}
    return _matches(query_of_answers(answers, appointment.service.slug), limit)


def published_articles() -> QuerySet[Article]:
    return Article.objects.filter(published=True).prefetch_related("topics")


def topics_with_articles() -> QuerySet[Topic]:
    """Topics that have a published article, each with those articles (`topic.published_articles`)."""
    published = Article.objects.filter(published=True).order_by("title")
    return (
        Topic.objects.filter(articles__published=True)
        .distinct()
        .prefetch_related(Prefetch("articles", queryset=published, to_attr="published_articles"))
    )


def articles_shared_with(patient: Patient, limit: int = 20) -> QuerySet[ArticleShare]:
    """What the patient was shown or sent, latest first, for the staff's patient page."""
    return ArticleShare.objects.filter(patient=patient).select_related("article").order_by("-shared_at", "rank")[:limit]
