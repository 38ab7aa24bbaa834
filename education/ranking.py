"""Which articles fit a patient: BM25F over each article's title, summary, topics and body, with the patient's words
expanded through the topic vocabulary, and the article's topics boosted by what the intake and the booking say.

No ORM here. The selector (education/selectors.py) builds a `LibraryIndex` from the published articles once per
state of the library and asks it for each `PatientQuery`; the evaluation test and the benchmark use it directly.

A score has two parts, added:
- text: BM25F of the query against the article, scaled so that the best article for this query scores TEXT_WEIGHT
  (BM25 grows with the length of the query; the scaling keeps it comparable with the topic part);
- topics: each of the article's topics that the query activates adds its activation (capped), times the square root
  of the share of the article's topics that are activated: an article on back pain and stress wins when both are
  there, and loses to an article on back pain alone when only the back is.
Only articles sharing at least one topic with the query are offered: words alone ("general", "pain") are too weak a
reason to send someone an article.

Reasons name topics only ("matches: lower back, stress"), never the patient's words: they end up in emails.
"""

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from education.html import html_text
from education.vocabulary import AREA_TOPICS, CONCEPTS, SERVICE_TOPICS, SLEEP_TOPIC_WEIGHT, STRESS_QUIET

K1 = 1.2
B = 0.75
FIELD_WEIGHTS = {"title": 3.0, "summary": 1.5, "topics": 2.0, "body": 1.0}
TEXT_WEIGHT = 1.0
TOPIC_WEIGHT = 1.0
TOPIC_CAP = 1.5
# A concept's own words join the query at this weight, shared among them: a patient who wrote "sciatica" is also
# asking about the back, but their own words still count for more.
EXPANSION_WEIGHT = 2.0

_STOPWORDS_WRITTEN = """
    a about after again all also am an and any are as at be been before being but by can could did do does doing
    for from get got had has have having he her here him his how i if im in into is it its ive just me more most
    my myself no not now of off on once only or other our out over own same she should so some such than that the
    their them then there these they this those through to too under until up very was we were what when where
    which while who why will with would you your
"""
# Words just before a phrase that turn it around ("no trouble sleeping"), and answers just after it ("sleep is fine").
_NEGATORS_BEFORE_WRITTEN = "no not never dont doesnt isnt without nor havent hardly"
_TROUBLE_WRITTEN = "trouble problem issue difficulty complaint"
_FINE_WRITTEN = "fine ok okay good great normal well"
_LINKING_WRITTEN = "is are was been has feel feels seem seems"

_APOSTROPHES = re.compile("['\u2019\u2018`\u00b4]")
_WORD = re.compile(r"[a-z0-9]+")
# Longest first, so "sses" is tried before "es" and "s".
_SUFFIXES = (
    ("iness", "y"),
    ("ness", ""),
    ("fully", ""),
    ("ful", ""),
    ("ingly", ""),
    ("edly", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("sses", "ss"),
    ("ed", ""),
    ("ly", ""),
    ("es", ""),
    ("s", ""),
)
_DOUBLES_KEPT = frozenset({"ll", "ss", "zz", "ff"})


def words(text: str) -> list[str]:
    """Lower case, accents and apostrophes gone ("Can't", straight or curly, is "cant"), split on anything else."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(character for character in folded if not unicodedata.combining(character))
    return _WORD.findall(_APOSTROPHES.sub("", folded))


def stem(word: str) -> str:
    """A light suffix stripper: "headaches", "headache" -> "headach"; "sleeping" -> "sleep"; "cupping" -> "cup".

    Not Porter: it only needs to give one form to the words patients and articles use for one thing.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement in _SUFFIXES:
        if not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        if suffix == "s" and word[-2] in "su":  # "stress", "nervous", "bus" keep their s
            continue
        word = word[: -len(suffix)] + replacement
        if suffix in ("ing", "ed") and word[-2:] not in _DOUBLES_KEPT and word[-1] == word[-2]:
            word = word[:-1]  # "cupping" -> "cupp" -> "cup"
        break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # "migraine" and "migraines" meet at "migrain"
    return word


def tokens(text: str) -> list[str]:
    return [stem(word) for word in words(text)]


def _stems(written: str) -> frozenset[str]:
    return frozenset(tokens(written))


STOPWORDS = _stems(_STOPWORDS_WRITTEN)
_NEGATORS_BEFORE = _stems(_NEGATORS_BEFORE_WRITTEN)
_TROUBLE = _stems(_TROUBLE_WRITTEN)
_FINE = _stems(_FINE_WRITTEN)
_LINKING = _stems(_LINKING_WRITTEN)


@dataclass(frozen=True)
class _Phrase:
    tokens: tuple[str, ...]
    topic: str


def _compiled_phrases() -> dict[str, list[_Phrase]]:
    """Each concept phrase by its first token, longest first, so that "upper back" wins over "back"."""
    by_first: dict[str, list[_Phrase]] = defaultdict(list)
    for concept in CONCEPTS:
        for phrase in concept.phrases:
            stemmed = tuple(tokens(phrase))
            by_first[stemmed[0]].append(_Phrase(stemmed, concept.slug))
    for found in by_first.values():
        found.sort(key=lambda phrase: -len(phrase.tokens))
    return dict(by_first)


_PHRASES = _compiled_phrases()
LABELS = {concept.slug: concept.label for concept in CONCEPTS}
TOPIC_NAMES = {concept.slug: concept.name for concept in CONCEPTS}
_CONCEPT_TERMS = {
    concept.slug: sorted({t for phrase in concept.phrases for t in tokens(phrase)} - STOPWORDS) for concept in CONCEPTS
}


def _negated(stemmed: Sequence[str], start: int, end: int, topic: str) -> bool:
    """ "no back pain", "no trouble sleeping", "sleep is fine": mentions that say the patient is well.

    For sleep, a negation before the phrase is the complaint itself ("not sleeping", "don't sleep well").
    """
    before = stemmed[max(0, start - 2) : start]
    after = stemmed[end : end + 2]
    if len(before) == 2 and before[0] == "no" and before[1] in _TROUBLE:
        return True
    negated_before = any(word in _NEGATORS_BEFORE for word in before)
    fine_after = bool(after) and (after[0] in _FINE or (after[0] in _LINKING and after[1:2] and after[1] in _FINE))
    if topic == "sleep":
        return fine_after and not negated_before
    return negated_before or fine_after


def concept_hits(stemmed: Sequence[str]) -> Counter:
    """How often each topic's phrases occur in the tokens, longest phrase first, negated mentions skipped."""
    hits: Counter = Counter()
    position = 0
    while position < len(stemmed):
        matched = next(
            (
                phrase
                for phrase in _PHRASES.get(stemmed[position], ())
                if tuple(stemmed[position : position + len(phrase.tokens)]) == phrase.tokens
            ),
            None,
        )
        if matched is None:
            position += 1
            continue
        end = position + len(matched.tokens)
        if not _negated(stemmed, position, end, matched.topic):
            hits[matched.topic] += 1
        position = end
    return hits


@dataclass(frozen=True)
class PatientQuery:
    """What an intake and a booking say: the patient's own words, and the structured answers."""

    text: str = ""
    areas: tuple[str, ...] = ()
    stress: int | None = None  # 0 to 10
    sleep: str | None = None  # good / fair / poor / very_poor
    service: str | None = None  # the booked service's slug


@dataclass(frozen=True)
class Document:
    key: str  # the article's slug
    title: str
    summary: str
    body: str  # plain text
    topics: tuple[str, ...]  # topic slugs

    @classmethod
    def of_html(cls, key: str, title: str, summary: str, body_html: str, topics: Sequence[str]) -> "Document":
        """An article as stored or imported (a sanitized HTML body): the one way the selector, the evaluation test
        and the benchmark make a Document."""
        return cls(key, title, summary, html_text(body_html), tuple(topics))


@dataclass(frozen=True)
class Ranked:
    key: str
    score: float
    reason: str
    topics: tuple[str, ...]  # the article's topics this query activated, strongest first


def topic_activation(stemmed: Sequence[str], query: PatientQuery) -> dict[str, float]:
    """How strongly the query points to each topic: its words, where it hurts, stress, sleep and the service."""
    activation: defaultdict[str, float] = defaultdict(float)
    for topic, count in concept_hits(stemmed).items():
        activation[topic] += min(1.0 + 0.25 * (count - 1), 1.5)
    for area in query.areas:
        for topic, weight in AREA_TOPICS.get(area, {}).items():
            activation[topic] += weight
    if query.stress is not None and query.stress > STRESS_QUIET:
        activation["stress"] += (query.stress - STRESS_QUIET) / (10 - STRESS_QUIET)
    if query.sleep:
        activation["sleep"] += SLEEP_TOPIC_WEIGHT.get(query.sleep, 0.0)
    for topic, weight in SERVICE_TOPICS.get(query.service or "", {}).items():
        activation[topic] += weight
    return {topic: weight for topic, weight in activation.items() if weight > 0}


def topics_suggest(title: str, summary: str, body: str, limit: int = 3) -> tuple[str, ...]:
    """The topics an article is about, by the phrases the matcher looks for: title counts three times, summary twice.

    A topic is suggested when it scores at least 40 % of the strongest one and has at least three weighted mentions.
    """
    score: Counter = Counter()
    for text, weight in ((title, 3), (summary, 2), (body, 1)):
        for topic, count in concept_hits(tokens(text)).items():
            score[topic] += weight * count
    if not score:
        return ()
    strongest = score.most_common(1)[0][1]
    chosen = [topic for topic, value in score.most_common() if value >= max(3, 0.4 * strongest)]
    return tuple(chosen[:limit])


class _Speller:
    """Corrects a typo to a known term one edit away ("migrane" -> "migrain"), by symmetric deletion.

    Only words of five letters or more, only to a term with the same first letter and a length within one: a short
    or unknown word is more often a real word than a typo.
    """

    def __init__(self, frequency: Counter):
        self.frequency = frequency
        self.by_deletion: defaultdict[str, set[str]] = defaultdict(set)
        for term in frequency:
            if len(term) >= 4:
                for variant in self._deletions(term) | {term}:
                    self.by_deletion[variant].add(term)

    @staticmethod
    def _deletions(term: str) -> set[str]:
        return {term[:i] + term[i + 1 :] for i in range(len(term))}

    def correct(self, token: str) -> str:
        if token in self.frequency or len(token) < 5 or token.isdigit():
            return token
        found: set[str] = set()
        for variant in self._deletions(token) | {token}:
            found |= self.by_deletion.get(variant, set())
        near = [term for term in found if term[0] == token[0] and abs(len(term) - len(token)) <= 1]
        if not near:
            return token
        return min(near, key=lambda term: (-self.frequency[term], term))


class LibraryIndex:
    """BM25F over a fixed set of documents; build it once per state of the library, then rank many queries."""

    def __init__(self, documents: Iterable[Document]):
        self.documents = tuple(documents)
        fields = [self._fields(document) for document in self.documents]
        average = {
            name: (sum(sum(doc[name].values()) for doc in fields) / len(fields)) or 1.0 if fields else 1.0
            for name in FIELD_WEIGHTS
        }
        self._postings: defaultdict[str, list[tuple[int, float]]] = defaultdict(list)
        for position, doc in enumerate(fields):
            for term, weighted in self._weighted_frequencies(doc, average).items():
                self._postings[term].append((position, weighted))
        count = len(self.documents)
        self._idf = {term: _idf(count, len(found)) for term, found in self._postings.items()}
        known: Counter = Counter({term: len(found) for term, found in self._postings.items()})
        for terms in _CONCEPT_TERMS.values():
            known.update({term: 0 for term in terms if term not in known})
        self._speller = _Speller(known)

    @staticmethod
    def _fields(document: Document) -> dict[str, Counter]:
        topic_names = " ".join(TOPIC_NAMES.get(topic, topic) for topic in document.topics)
        texts = {"title": document.title, "summary": document.summary, "topics": topic_names, "body": document.body}
        return {name: Counter(t for t in tokens(text) if t not in STOPWORDS) for name, text in texts.items()}

    @staticmethod
    def _weighted_frequencies(doc: dict[str, Counter], average: dict[str, float]) -> Counter:
        """BM25F's pseudo-frequency: each field's count, length-normalised in that field, times the field's weight."""
        weighted: Counter = Counter()
        for name, weight in FIELD_WEIGHTS.items():
            length = sum(doc[name].values())
            norm = 1 - B + B * length / average[name]
            for term, count in doc[name].items():
                weighted[term] += weight * count / norm
        return weighted

    def _query_weights(self, stemmed: Sequence[str], activation: dict[str, float]) -> Counter:
        weights: Counter = Counter({term: 1.0 for term in stemmed if term not in STOPWORDS})
        for topic, strength in activation.items():
            terms = _CONCEPT_TERMS.get(topic, [])
            for term in terms:
                weights[term] += EXPANSION_WEIGHT * min(strength, 1.5) / math.sqrt(len(terms))
        return weights

    def _text_scores(self, weights: Counter) -> dict[int, float]:
        scores: defaultdict[int, float] = defaultdict(float)
        for term, weight in weights.items():
            idf = self._idf.get(term)
            if idf is None:
                continue
            for position, frequency in self._postings[term]:
                scores[position] += weight * idf * frequency * (K1 + 1) / (frequency + K1)
        return scores

    def rank(self, query: PatientQuery, limit: int = 3) -> list[Ranked]:
        """The best `limit` articles, best first, each with its score and a reason that names topics only."""
        stemmed = [self._speller.correct(token) for token in tokens(query.text)]
        activation = topic_activation(stemmed, query)
        text_scores = self._text_scores(self._query_weights(stemmed, activation))
        best = max(text_scores.values(), default=0.0)
        ranked = []
        for position, document in enumerate(self.documents):
            text = TEXT_WEIGHT * text_scores.get(position, 0.0) / best if best else 0.0
            matched = tuple(sorted((t for t in document.topics if t in activation), key=lambda t: -activation[t]))
            topical = _topical(matched, activation, len(document.topics))
            if matched:  # an article that shares no topic with the query is not offered, however its words score
                ranked.append(Ranked(document.key, round(text + topical, 4), reason_for(matched), matched))
        ranked.sort(key=lambda found: (-found.score, found.key))
        return ranked[:limit]


def _topical(matched: Sequence[str], activation: dict[str, float], topic_count: int) -> float:
    """The topic part of a score: each activated topic (capped, so one loud answer cannot drown the rest), scaled by
    the square root of the share of the article's topics that are activated."""
    if not matched:
        return 0.0
    strength = sum(min(activation[topic], TOPIC_CAP) for topic in matched)
    return TOPIC_WEIGHT * strength * math.sqrt(len(matched) / topic_count)


def _idf(documents: int, containing: int) -> float:
    """BM25's inverse document frequency, in the form that is never negative."""
    return math.log(1 + (documents - containing + 0.5) / (containing + 0.5))


def reason_for(topics: Sequence[str]) -> str:
    return "matches: " + ", ".join(LABELS.get(topic, topic) for topic in topics)
