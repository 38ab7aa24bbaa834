# ruff: noqa: RUF001 - curly quotes, dashes and mojibake are what these tests are about
"""The importer: the clinic's real blog export comes out clean (title, paragraphs, no mojibake, no furniture), small
.md and .html exports lose their page furniture, every mojibake pattern is repaired and correct text is left alone,
and importing again updates, never duplicates."""

import re
from datetime import datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from education.importing import ImportFailed, article_file_parse, article_files, article_parse, mojibake_repair
from education.models import Article
from education.services import DEMO_ARTICLES, article_import, articles_import_files

ROOT = Path(__file__).resolve().parent.parent
SEED_NAME = "blog-export-stress-and-back-pain.txt"
SHARED_SEED = ROOT.parent / "shared" / "seeds" / SEED_NAME  # beside the clone, as CI lays it out
SHIPPED_SEED = DEMO_ARTICLES / SEED_NAME
EXPORTS = ROOT / "tests" / "education" / "exports"
SEEDS = [SHIPPED_SEED] + ([SHARED_SEED] if SHARED_SEED.is_file() else [])
# Typographic characters a clean article may use; anything else outside ASCII is suspect.
TYPOGRAPHY = set("’‘“”—–…é")
MOJIBAKE_SIGNS = ("โ", "€", "Ã", "â€", "Â", "™", "\ufffd")


def odd_characters(text: str) -> set[str]:
    return {character for character in text if ord(character) > 127 and character not in TYPOGRAPHY}


def test_it_ships_the_same_seed_export_as_the_shared_folder():
    if not SHARED_SEED.is_file():
        pytest.skip(f"{SHARED_SEED} is not beside this clone")
    assert SHIPPED_SEED.read_bytes() == SHARED_SEED.read_bytes()


@pytest.mark.parametrize("seed", SEEDS, ids=lambda path: str(path.parent.name))
def test_the_seed_export_comes_out_clean(seed: Path):
    article = article_file_parse(seed)

    assert article.title == "How Stress Can Contribute to Back Pain and How to Combat It"
    assert article.slug == "how-stress-can-contribute-to-back-pain-and-how-to-combat-it"
    assert article.source == SEED_NAME
    text = article.body_html
    for sign in MOJIBAKE_SIGNS:
        assert sign not in text, sign
    assert odd_characters(text + article.summary + article.title) == set()
    assert "surface-level solutions—like ergonomic chairs or pain relievers—may not" in text
    assert "supports the body’s natural healing process" in text
    assert "the brain’s perception of pain" in text  # correct already: left as it was
    assert article.repaired == 3
    for furniture in ("Leave a Reply", "Lorem", "lorem", "Your email address", "Search", "Gallery", "<p>,</p>"):
        assert furniture not in text, furniture
    assert "<h2>About</h2>" not in text
    assert "<h2>Tags</h2>" not in text


@pytest.mark.parametrize("seed", SEEDS, ids=lambda path: str(path.parent.name))
def test_the_seed_export_keeps_its_real_paragraphs_and_headings(seed: Path):
    article = article_file_parse(seed)

    paragraphs = re.findall(r"<p>(.*?)</p>", article.body_html)
    headings = re.findall(r"<h2>(.*?)</h2>", article.body_html)
    assert len(paragraphs) == 6
    assert paragraphs[0].startswith("Emotional stress creates measurable changes in the body.")
    assert paragraphs[-1].startswith("Stress-related back pain deserves more than short-term fixes.")
    assert headings == [
        "Pain Feedback Increases Mental Strain",
        "Acupuncture Supports Muscle Release and Nervous System Balance",
        "Whole-Body Strategies Improve Results",
        "Reconnect the Mind and Body Through Restorative Care",
    ]
    assert article.summary.startswith("Emotional stress creates measurable changes in the body.")
    assert article.reading_minutes == 3
    assert set(article.topics) == {"stress", "lower-back"}
    assert "placeholder text (lorem ipsum) x2" in article.removed
    assert "comment form: Leave a Reply" in article.removed


@pytest.mark.parametrize(
    ("broken", "repaired", "sequences"),
    [
        ("solutionsโ€”like", "solutions—like", 1),  # em dash read as Windows-874
        ("bodyโ€™s", "body’s", 1),  # right quote: 0x99 is empty in Windows-874 and came through as 1252's ™
        ("โ€œquotedโ€\x9d", "“quoted”", 2),  # curly double quotes
        ("waitโ€ฆ", "wait…", 1),  # ellipsis: 0xA6 is a Thai letter in Windows-874
        ("donâ€™t", "don’t", 1),  # the same right quote read as Windows-1252
        ("CafÃ©", "Café", 1),  # a Latin letter read as Windows-1252
    ],
)
def test_it_repairs_each_mojibake_pattern(broken: str, repaired: str, sequences: int):
    assert mojibake_repair(broken) == (repaired, sequences)


@pytest.mark.parametrize("correct", ["Café au lait", "brain’s", "naïve — fine", "สวัสดีครับ", "€20 a session"])
def test_it_leaves_correct_text_alone(correct: str):
    assert mojibake_repair(correct) == (correct, 0)


def test_it_strips_the_furniture_of_an_html_page_and_sanitizes_what_is_left():
    article = article_file_parse(EXPORTS / "sleep-post.html")

    assert article.title == "Winding down for better sleep"
    assert article.source == "https://blog.example.org/2024/03/winding-down-for-better-sleep/"
    body = article.body_html
    assert "<h2>Start an hour before bed</h2>" in body
    assert "<strong>keep the same wake-up time</strong>" in body
    assert '<a href="https://example.org/sleep" rel="noopener noreferrer nofollow">our sleep guide</a>' in body
    assert "<li>Slow breathing</li>" in body
    for gone in (
        "cookies",
        "Home",
        "Posted by",
        "Lorem",
        "Share this",
        "Facebook",
        "Leave a Reply",
        "Recent Posts",
        "Search",
        "Tags",
        "2024 Willow",
        "javascript:",
        "onclick",
        "<img",
        "tracker",
        "dataLayer",
        "font-family",
    ):
        assert gone not in body, gone
    assert article.topics[0] == "sleep"


def test_it_strips_the_furniture_of_a_markdown_export():
    article = article_file_parse(EXPORTS / "neck-post.md")

    assert article.title == "Desk neck: five small habits"
    assert article.source == "neck-post.md"
    assert re.findall(r"<p>(.*?)</p>", article.body_html) == [
        "Sitting at a screen all day loads the neck and shoulders. Here are five habits our patients find useful.",
        "Raise the screen so its top is at eye level, and take a short walk every hour.",
    ]
    assert article.topics == ("neck-shoulders",)
    assert article.topics_declared is False
    removed = {"posted by/in line", "page element: div.share-buttons", "comment form: Leave a Comment"}
    assert removed <= set(article.removed)


def test_it_refuses_a_file_without_a_title_or_with_an_unknown_topic():
    with pytest.raises(ImportFailed, match="no title"):
        article_parse("<p>Only a paragraph.</p>", kind=".html", source="untitled.html")
    with pytest.raises(ImportFailed, match="unknown topic knees"):
        article_parse("---\ntitle: Knees\ntopics: [knees]\n---\nSome text.", kind=".md", source="knees.md")


@pytest.mark.django_db
def test_importing_again_updates_the_article_and_never_duplicates_it():
    first = article_parse("---\ntitle: Cupping\ntopics: [cupping]\n---\nThe first text.", kind=".md", source="c.md")
    article, outcome = article_import(first)
    _, outcome_again = article_import(first)
    edited = article_parse("---\ntitle: Cupping\ntopics: [cupping]\n---\nBetter text.", kind=".md", source="c.md")
    article.slug = "cupping-kept"
    article.published = False  # a manager withdrew it; an import must not publish it again
    article.save()
    updated, outcome_updated = article_import(edited)

    assert (outcome, outcome_again, outcome_updated) == ("created", "unchanged", "updated")
    assert Article.objects.count() == 1
    assert updated.pk == article.pk
    assert (updated.slug, updated.published, updated.body_html) == ("cupping-kept", False, "<p>Better text.</p>")


@pytest.mark.django_db
def test_the_demo_library_imports_whole_and_twice_changes_nothing():
    first = articles_import_files([DEMO_ARTICLES])
    second = articles_import_files([DEMO_ARTICLES])

    assert len(first) >= 9
    assert {result.outcome for result in first} == {"created"}
    assert {result.outcome for result in second} == {"unchanged"}
    assert Article.objects.filter(published=True).count() == len(first)
    for article in Article.objects.all():
        assert 300 <= len(re.sub(r"<[^>]+>", " ", article.body_html).split()) <= 700, article.slug
        assert odd_characters(article.body_html) == set(), article.slug


@pytest.mark.django_db
def test_the_command_reports_what_it_did_with_each_file(tmp_path):
    broken = tmp_path / "broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\ntext")
    out = StringIO()

    with pytest.raises(CommandError, match="1 of 3 files could not be imported"):
        call_command("import_articles", str(SHIPPED_SEED), str(EXPORTS / "sleep-post.html"), str(broken), stdout=out)
    call_command("import_articles", str(SHIPPED_SEED), stdout=(again := StringIO()))

    report = out.getvalue()
    assert f'{SHIPPED_SEED}: created /learn/how-stress-can-contribute-to-back-pain-and-how-to-combat-it/ "How' in report
    assert "topics (suggested): stress, lower-back" in report
    assert "removed: stray punctuation; comment form: Leave a Reply;" in report
    assert "repaired 3 mis-decoded character sequences (mojibake)" in report
    assert f"{broken}: failed: the front matter is not valid YAML" in report
    assert "2 created, 0 updated, 0 unchanged, 1 failed" in report
    assert "0 created, 0 updated, 1 unchanged, 0 failed" in again.getvalue()
    assert Article.objects.count() == 2


@pytest.mark.django_db
def test_load_demo_fills_the_library_once(settings, time_machine):
    settings.DEBUG = True
    time_machine.move_to(datetime(2026, 11, 24, 10, tzinfo=ZoneInfo("America/New_York")), tick=False)
    shipped = len(article_files([DEMO_ARTICLES]))
    call_command("load_demo", stdout=(first := StringIO()))
    call_command("load_demo", stdout=(again := StringIO()))

    assert f"Demo library: {shipped} articles at /learn/ ({shipped} new)." in first.getvalue()
    assert f"Demo library: {shipped} articles at /learn/ (0 new)." in again.getvalue()
    assert Article.objects.filter(published=True).count() == shipped
