"""How well and how fast articles are matched to intakes: accuracy on the evaluation set, and time per match.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.article_matching

The demo library (education/demo/articles/, 11 articles) is imported into the benchmark database; every intake of
tests/education/eval_intakes.yaml (free text, pain areas, stress, sleep, service, and the article a practitioner
would pick) is matched. Measured in the same run, the baseline is a naive matcher: the article sharing the most
distinct words with the patient's text (no stemming, no vocabulary, no structured answers).

Rows: the ranker alone on an index built once (education/ranking.py); `articles_for_text` (the selector: one query
to check that the library is unchanged, then the ranker); building the index, which happens once per change of
the library.
"""

import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from bench.common import Row, bench_database, print_table, time_calls
from education.html import html_text
from education.models import Article
from education.ranking import STOPWORDS, Document, LibraryIndex, PatientQuery, words
from education.selectors import articles_for_text, library_index
from education.services import DEMO_ARTICLES, articles_import_files

EVAL_SET = Path(__file__).resolve().parent.parent / "tests" / "education" / "eval_intakes.yaml"
TOP1_TARGET = 0.9
ROUNDS = 20  # each intake matched this many times for the timing rows

Matcher = Callable[[dict], list[str]]


def query_of(intake: dict) -> PatientQuery:
    areas = tuple(intake.get("areas") or ())
    return PatientQuery(intake["reason"], areas, intake.get("stress"), intake.get("sleep"), intake.get("service"))


def naive_matcher(documents: Sequence[Document]) -> Matcher:
    vocabularies = [(doc.key, set(words(f"{doc.title} {doc.summary} {doc.body}"))) for doc in documents]

    def match(intake: dict) -> list[str]:
        asked = set(words(intake["reason"])) - STOPWORDS
        scored = sorted(((len(asked & vocabulary), key) for key, vocabulary in vocabularies), key=lambda s: -s[0])
        return [key for overlap, key in scored[:3] if overlap > 0]

    return match


def accuracy(match: Matcher, intakes: Sequence[dict]) -> tuple[float, float]:
    found = [match(intake) for intake in intakes]
    top1 = sum(keys[:1] == [intake["expected"]] for keys, intake in zip(found, intakes, strict=True))
    top3 = sum(intake["expected"] in keys[:3] for keys, intake in zip(found, intakes, strict=True))
    return top1 / len(intakes), top3 / len(intakes)


def per_match_samples(match: Matcher, intakes: Sequence[dict]) -> list[float]:
    """Milliseconds per single match, every intake ROUNDS times."""
    samples: list[float] = []
    for intake in intakes:
        samples.extend(time_calls(lambda intake=intake: match(intake), repeat=ROUNDS, warmup=2))
    return samples


def main() -> None:
    intakes = yaml.safe_load(EVAL_SET.read_text())
    with bench_database():
        articles_import_files([DEMO_ARTICLES])
        documents = [
            Document(a.slug, a.title, a.summary, html_text(a.body_html), tuple(t.slug for t in a.topics.all()))
            for a in Article.objects.filter(published=True).prefetch_related("topics")
        ]
        index = LibraryIndex(documents)
        naive = naive_matcher(documents)

        def ranker(intake: dict) -> list[str]:
            return [found.key for found in index.rank(query_of(intake), limit=3)]

        def selector(intake: dict) -> list[str]:
            query = query_of(intake)
            found = articles_for_text(query.text, query.areas, query.stress, query.sleep, query.service, limit=3)
            return [match.article.slug for match in found]

        library_index()  # built once here, as the first match after a change of the library builds it
        measured = {name: accuracy(match, intakes) for name, match in (("naive", naive), ("ranker", ranker))}
        assert accuracy(selector, intakes) == measured["ranker"], "the selector and the ranker disagree"

        baseline = Row("naive keyword overlap (baseline)", per_match_samples(naive, intakes))
        top1 = measured["ranker"][0]
        builds = time_calls(lambda: LibraryIndex(documents), repeat=50)
        rows = [
            Row("ranker alone (BM25F + topics), per match", per_match_samples(ranker, intakes)),
            Row("articles_for_text (selector), per match", per_match_samples(selector, intakes), queries=1),
            Row(f"index build, {len(documents)} articles (once per library change)", builds),
        ]
        print_table(
            "Article matching: time per match",
            rows,
            baseline,
            notes=[f"{len(intakes)} intakes x {ROUNDS} rounds; {len(documents)} published articles."],
        )
        print("\n### Article matching: accuracy on the evaluation set\n")
        print("| matcher | intakes | top-1 | top-3 | target | met |")
        print("|---|---:|---:|---:|---|---|")
        for name, label in (("naive", "naive keyword overlap (baseline)"), ("ranker", "ranker (BM25F + topics)")):
            first, three = measured[name]
            met = "-" if name == "naive" else ("yes" if first >= TOP1_TARGET else "**NO**")
            target = "-" if name == "naive" else f"top-1 ≥ {TOP1_TARGET:.0%}"
            print(f"| {label} | {len(intakes)} | {first:.1%} | {three:.1%} | {target} | {met} |")
        ratio = top1 / measured["naive"][0] if measured["naive"][0] else float("inf")
        median = statistics.median(rows[0].samples)
        print(f"\nTop-1 accuracy, ranker / baseline: {ratio:.1f}x. Median match: {median:.3f} ms (ranker).")


if __name__ == "__main__":
    main()
