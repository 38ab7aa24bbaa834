"""Reads of the library: the published articles by topic, the articles that fit a patient, and what was shared.

The matcher's index (education/ranking.py) is built once per state of the library, in each process: a match costs
one small query to check that state, the ranking itself, and the intake read when there is one.

The state is every published article's (id, updated_at, topic slug), compared whole rather than summarised by a
count or a latest time: an edit saved with a clock behind another server's, a transaction that commits after a
later one, an article withdrawn with .update(), a topic removed from an article or deleted all change it.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from threading import Lock

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from backend.api.permissions import MANAGER, PRACTITIONER, role_of
from backend.audit import SYSTEM, Actor, audit_write
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


def _state_of(rows: Iterable[tuple]) -> tuple:
    return tuple(sorted(rows, key=lambda row: (row[0], row[2] or "")))


def _library_state() -> tuple:
    """One query: (id, updated_at, topic slug or None) of every published article, in a stable order."""
    return _state_of(Article.objects.filter(published=True).values_list("id", "updated_at", "topics__slug"))


def document_of(article: Article) -> Document:
    """The ranker's view of an article (its topics prefetched): the one way an article becomes a Document."""
    topics = tuple(topic.slug for topic in article.topics.all())
    return Document.of_html(article.slug, article.title, article.summary, article.body_html, topics)


def library_index() -> _Library:
    """The published articles and their index, rebuilt only when the published library changed (see above)."""
    library = _library
    if library is not None and library.state == _library_state():
        return library
    with _building:
        # Another thread may have rebuilt it while this one waited for the lock: check again.
        library = _library
        if library is not None and library.state == _library_state():
            return library
        return _library_build()


def _library_build() -> _Library:
    global _library
    articles = list(Article.objects.filter(published=True).prefetch_related("topics").order_by("slug"))
    # The state of what was read, not a state read before or after it: if the library changes meanwhile, the next
    # match sees a different state and builds again, rather than keeping an index older than its state.
    state = _state_of(
        (article.pk, article.updated_at, slug)
        for article in articles
        for slug in ([topic.slug for topic in article.topics.all()] or [None])
    )
    documents = [document_of(article) for article in articles]
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
    appointment: Appointment, limit: int = 3, *, link_only: bool = False, actor: Actor = SYSTEM
) -> list[ArticleMatch]:
    """The best published articles for this visit, best first, from its intake and its service.

    The intake given with this appointment, else (unless `link_only`) the patient's current one. Pages opened with
    the appointment's manage link pass `link_only=True`: the link proves who booked, not whose record it is, so it
    must not reveal topics from another intake. The intake read is audited as `actor`'s ("article matching"): the
    system's for an email, the link holder's for the manage page, where the topics are shown to them.
    Without an intake the service alone decides, which may find nothing.
    """
    intake = intake_for_appointment(appointment)
    if intake is None and not link_only and appointment.patient_id is not None:
        intake = intake_current(appointment.patient)
    if intake is not None:
        audit_write(
            actor,
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


def articles_shared_with(
    patient: Patient, viewer: AbstractBaseUser | AnonymousUser, limit: int = 20
) -> QuerySet[ArticleShare] | None:
    """What the patient was shown or sent, latest first, with why, for the staff's patient page; None when `viewer`
    may not know.

    An article chosen from an intake tells its topic ("Fertility support"), title and reason alike, so only those
    who may read the intake see it: managers, and practitioners who treat the patient. The front desk sees nothing
    of it (None: not "none shared", which would be a claim).
    """
    role = role_of(viewer)
    if role == PRACTITIONER and not patient.appointments.filter(practitioner__user=viewer).exists():
        return None
    if role not in (MANAGER, PRACTITIONER):
        return None
    return ArticleShare.objects.filter(patient=patient).select_related("article").order_by("-shared_at", "rank")[:limit]
