"""The ranker alone (no database): normalisation, phrases and negation, typos, reasons that name topics only, and
the quality gates: the article a practitioner would pick comes first for at least 90 % of the original evaluation
intakes (which the vocabulary was tuned on) and for at least 80 % of the held-out ones (which it was not)."""

from pathlib import Path

import pytest
import yaml

from education.importing import article_file_parse, article_files
from education.ranking import Document, LibraryIndex, PatientQuery, concept_hits, stem, tokens, topics_suggest
from education.services import DEMO_ARTICLES

SETS = Path(__file__).resolve().parent / "education"


def eval_intakes(name: str = "eval_intakes.yaml") -> list[dict]:
    return yaml.safe_load((SETS / name).read_text())


def query_of(intake: dict) -> PatientQuery:
    areas = tuple(intake.get("areas") or ())
    return PatientQuery(intake["reason"], areas, intake.get("stress"), intake.get("sleep"), intake.get("service"))


@pytest.fixture(scope="module")
def demo_index() -> LibraryIndex:
    articles = [article_file_parse(path) for path in article_files([DEMO_ARTICLES])]
    return LibraryIndex(
        Document.of_html(article.slug, article.title, article.summary, article.body_html, article.topics)
        for article in articles
    )


@pytest.mark.parametrize(
    ("written", "stemmed"),
    [("headaches", "headach"), ("migraines", "migrain"), ("sleeping", "sleep"), ("cupping", "cup"),
     ("stressed", "stress"), ("nervous", "nervous"), ("worries", "worry"), ("shoulders", "shoulder")],
)  # fmt: skip
def test_it_gives_one_stem_to_the_forms_of_a_word(written: str, stemmed: str):
    assert stem(written) == stemmed


def test_it_reads_curly_apostrophes_and_accents_like_plain_ones():
    assert tokens("I can\u2019t sleep") == tokens("i cant sleep") == tokens("I can't SLEEP")
    assert tokens("Café") == ["caf"]


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("My lower back hurts and I can't sleep", {"lower-back", "sleep"}),
        ("Upper back pain and a stiff neck", {"neck-shoulders"}),  # "upper back" is not the lower back
        ("No back pain, sleep is fine", set()),
        ("no trouble sleeping", set()),
        ("I don't sleep well", {"sleep"}),  # a negation before "sleep" is the complaint itself
        ("not sleeping at all", {"sleep"}),
    ],
)
def test_it_finds_topics_in_a_patients_words_and_respects_negation(text: str, topics: set):
    assert set(concept_hits(tokens(text))) == topics


def test_it_suggests_topics_from_the_same_phrases():
    assert topics_suggest("Sleep and stress", "", "When stress keeps you awake at night, sleep suffers.") == (
        "sleep",
        "stress",
    )
    assert topics_suggest("Our new opening hours", "", "We now open at eight on Saturdays.") == ()


def test_it_ranks_with_a_readable_reason_that_never_quotes_the_patient(demo_index):
    words = "Sciatica after my divorce, Lake Ostrava ski fall"
    ranked = demo_index.rank(PatientQuery(words, ("lower_back",), 9, "poor", "initial"), limit=3)

    assert ranked[0].key == "how-stress-can-contribute-to-back-pain-and-how-to-combat-it"
    assert ranked[0].reason == "matches: lower back, stress"
    assert ranked[0].score > ranked[1].score >= ranked[2].score > 0
    for found in ranked:
        assert found.reason.startswith("matches: ")
        assert not {"sciatica", "divorce", "ostrava", "ski", "fall"} & set(found.reason.replace(",", "").split())


def test_it_corrects_a_typo_to_a_word_the_library_knows(demo_index):
    assert demo_index.rank(PatientQuery("bad migranes"), limit=1)[0].key == "headaches-and-migraine"
    assert demo_index.rank(PatientQuery("insomina"), limit=1)[0].key == "sleep-and-anxiety"


def test_it_lets_structured_answers_and_the_service_decide_without_words(demo_index):
    assert demo_index.rank(PatientQuery("", ("abdomen",)), limit=1)[0].key == "digestive-health"
    assert demo_index.rank(PatientQuery("", service="cupping"), limit=1)[0].key == "cupping-what-it-is"
    assert demo_index.rank(PatientQuery("", (), 2, "good"), limit=3) == []  # nothing to go on: nothing offered


def test_a_focused_article_wins_a_single_concern_and_a_broad_one_a_mixed_concern(demo_index):
    back_only = demo_index.rank(PatientQuery("back pain", ("lower_back",), 1, "good"), limit=1)
    back_and_stress = demo_index.rank(PatientQuery("back pain", ("lower_back",), 9, "good"), limit=1)

    assert back_only[0].key == "lower-back-pain"
    assert back_and_stress[0].key == "how-stress-can-contribute-to-back-pain-and-how-to-combat-it"


def test_the_evaluation_set_is_large_and_varied_enough():
    intakes = eval_intakes()

    assert len(intakes) >= 30
    assert len({intake["expected"] for intake in intakes}) >= 9
    assert len({intake["reason"] for intake in intakes}) == len(intakes)


def top1_misses(index: LibraryIndex, intakes: list[dict]) -> list[tuple]:
    ranked = [(intake, [found.key for found in index.rank(query_of(intake), limit=3)]) for intake in intakes]
    return [(intake["reason"], intake["expected"], got) for intake, got in ranked if got[:1] != [intake["expected"]]]


def test_it_picks_the_practitioners_article_first_for_at_least_90_percent_of_the_evaluation_set(demo_index):
    intakes = eval_intakes()
    misses = top1_misses(demo_index, intakes)

    accuracy = 1 - len(misses) / len(intakes)
    assert accuracy >= 0.9, f"top-1 accuracy {accuracy:.0%}; misses:\n" + "\n".join(map(str, misses))


def test_it_picks_the_practitioners_article_first_for_at_least_80_percent_of_the_held_out_intakes(demo_index):
    # The honest gate. These 36 intakes (heldout_intakes.yaml and check_intakes.yaml) were written without reading
    # education/vocabulary.py and committed before the matcher ran on them, and nothing has been tuned on them since
    # (docs/benchmarks.md). First run: 22 of 24 and 9 of 12, 86 % together. 80 % on the two together (12-intake
    # sets alone are too noisy to gate) leaves room for a changing library, not for a matcher that only knows the
    # set it was tuned on.
    intakes = eval_intakes("heldout_intakes.yaml") + eval_intakes("check_intakes.yaml")
    misses = top1_misses(demo_index, intakes)

    assert len(intakes) >= 30
    assert len({intake["expected"] for intake in intakes}) == 11
    accuracy = 1 - len(misses) / len(intakes)
    assert accuracy >= 0.8, f"top-1 accuracy {accuracy:.0%}; misses:\n" + "\n".join(map(str, misses))
