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
    assert article.source == "slug:how-stress-can-contribute-to-back-pain-and-how-to-combat-it"
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
    assert article.source == "slug:desk-neck-five-small-habits"  # no front matter: the slug of its title
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
        article_parse("<p>Only a paragraph.</p>", kind=".html")
    with pytest.raises(ImportFailed, match="unknown topic knees"):
        article_parse("---\ntitle: Knees\ntopics: [knees]\n---\nSome text.", kind=".md")


@pytest.mark.django_db
def test_importing_again_updates_the_article_and_never_duplicates_it():
    first = article_parse("---\ntitle: Cupping\ntopics: [cupping]\n---\nThe first text.", kind=".md")
    article, outcome = article_import(first)
    _, outcome_again = article_import(first)
    edited = article_parse("---\ntitle: Cupping\ntopics: [cupping]\n---\nBetter text.", kind=".md")
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


# --- review fixes: slugs, sources, the --unpublished flag, sizes, paragraphs that look like furniture ---------------


@pytest.mark.parametrize("slug", ["2019/05/bad slug post", "x" * 81, "café-au-lait"])
def test_a_front_matter_slug_that_cannot_be_linked_to_is_refused(slug: str):
    with pytest.raises(ImportFailed, match="cannot be used in a link"):
        article_parse(f"---\ntitle: Sleep\nslug: {slug}\n---\nSome text about sleep.", kind=".md")


@pytest.mark.django_db
def test_a_bad_slug_fails_its_file_alone_and_the_library_still_renders(client, tmp_path):
    (tmp_path / "bad.md").write_text("---\ntitle: Bad\nslug: 2019/05/bad slug post\n---\nA paragraph.")
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\nA paragraph about sleep at night.")

    results = articles_import_files([tmp_path])

    assert [(Path(result.path).name, result.outcome) for result in results] == [
        ("bad.md", "failed"),
        ("good.md", "created"),
    ]
    assert "cannot be used in a link" in results[0].error
    assert client.get("/learn/").status_code == 200


@pytest.mark.django_db
def test_a_file_the_database_refuses_fails_alone(monkeypatch, tmp_path):
    from django.db import DataError

    import education.services

    real_free_slug = education.services._free_slug

    def refusing(wanted: str) -> str:
        if wanted == "refused":
            raise DataError("value too long for type character varying(80)")
        return real_free_slug(wanted)

    monkeypatch.setattr(education.services, "_free_slug", refusing)
    (tmp_path / "a.md").write_text("---\ntitle: Refused\n---\nA paragraph.")
    (tmp_path / "b.md").write_text("---\ntitle: Kept\n---\nA paragraph.")

    results = articles_import_files([tmp_path])

    assert [result.outcome for result in results] == ["failed", "created"]
    assert "the database refused it" in results[0].error
    assert list(Article.objects.values_list("slug", flat=True)) == ["kept"]


@pytest.mark.django_db
def test_a_slug_taken_a_moment_ago_by_another_import_is_retried(monkeypatch):
    import education.services

    Article.objects.create(title="Other", slug="cupping", body_html="<p>Another clinic's.</p>")
    real_free_slug = education.services._free_slug
    answers = iter(["cupping"])  # the first look saw it free; another import has taken it since

    monkeypatch.setattr(education.services, "_free_slug", lambda wanted: next(answers, None) or real_free_slug(wanted))
    article, outcome = article_import(article_parse("---\ntitle: Cupping\n---\nText.", kind=".md"))

    assert (outcome, article.slug) == ("created", "cupping-2")


@pytest.mark.django_db
def test_two_posts_both_called_index_md_are_two_articles(tmp_path):
    for folder, title in (("a", "Sleep and stress"), ("b", "Cupping marks")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "index.md").write_text(f"# {title}\n\nA paragraph about {title.lower()}.")

    call_command(
        "import_articles", str(tmp_path / "a" / "index.md"), str(tmp_path / "b" / "index.md"), stdout=StringIO()
    )

    assert sorted(Article.objects.values_list("title", flat=True)) == ["Cupping marks", "Sleep and stress"]


@pytest.mark.django_db
def test_the_same_export_from_another_folder_or_under_another_name_updates_the_same_article(tmp_path):
    moved = tmp_path / "export-2027" / "stress-back-pain.txt"
    moved.parent.mkdir()
    moved.write_bytes(SHIPPED_SEED.read_bytes())

    outcomes = [articles_import_files([path])[0].outcome for path in [*SEEDS, moved]]  # one run each

    assert outcomes == ["created"] + ["unchanged"] * len(SEEDS)
    assert Article.objects.count() == 1


@pytest.mark.django_db
def test_two_files_of_one_run_that_are_the_same_post_are_reported_not_merged(tmp_path):
    (tmp_path / "one.md").write_text("# Sleep\n\nThe first post about sleep.")
    (tmp_path / "two.md").write_text("# Sleep\n\nA different post with the same title.")

    results = articles_import_files([tmp_path])

    assert [result.outcome for result in results] == ["created", "failed"]
    assert "the same post as" in results[1].error
    assert "slug:" in results[1].error
    assert Article.objects.get().body_html == "<p>The first post about sleep.</p>"


@pytest.mark.django_db
def test_articles_imported_under_the_file_name_rule_are_recognised_after_the_migration():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("education.migrations.0003_article_source_by_slug")
    Article.objects.create(title="Cupping", slug="cupping-what-it-is", source="cupping.md", body_html="<p>Old.</p>")
    Article.objects.create(title="Sleep", slug="sleep", source="https://blog.example.org/sleep/", body_html="<p>A.</p>")

    migration.sources_by_slug(apps, None)
    results = articles_import_files([DEMO_ARTICLES / "cupping.md"])

    assert set(Article.objects.values_list("source", flat=True)) == {
        "slug:cupping-what-it-is",
        "https://blog.example.org/sleep/",
    }
    assert results[0].outcome == "updated"
    assert Article.objects.count() == 2


@pytest.mark.django_db
def test_unpublished_on_the_command_line_wins_over_the_front_matter(tmp_path):
    (tmp_path / "post.md").write_text("---\ntitle: Sleep\npublished: true\n---\nA paragraph about sleep.")

    call_command("import_articles", "--unpublished", str(tmp_path), stdout=StringIO())

    assert Article.objects.get().published is False


@pytest.mark.django_db
def test_the_front_matter_can_still_hold_back_a_post_imported_without_the_flag(tmp_path):
    (tmp_path / "post.md").write_text("---\ntitle: Sleep\npublished: false\n---\nA paragraph about sleep.")

    articles_import_files([tmp_path])

    assert Article.objects.get().published is False


def test_a_file_over_two_megabytes_is_refused(tmp_path):
    huge = tmp_path / "huge.html"
    huge.write_text("<h1>Huge</h1>" + "<p>words words words</p>" * 120_000)

    with pytest.raises(ImportFailed, match="larger than 2 MB"):
        article_file_parse(huge)


@pytest.mark.parametrize(
    "paragraph",
    [
        "Next, the practitioner feels your pulse on both wrists and looks at your tongue.",
        "Published studies on acupuncture for low back pain have mixed results, and we say so.",
        "Written notes by your practitioner stay in your file and are shared with no one.",
        "Read more about needles and how they are kept sterile in our article on needle safety.",
    ],
)
def test_a_real_paragraph_that_starts_like_furniture_is_kept(paragraph: str):
    article = article_parse(f"# Your first visit\n\nWhat happens first.\n\n{paragraph}\n\nThe end.", kind=".md")

    assert f"<p>{paragraph}</p>" in article.body_html
    assert article.removed == ()


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Posted by Dana Whitlow in Neck and shoulders", "posted by/in line"),
        ("Published on 3 May 2019 by Ana", "posted by/in line"),
        ("Filed under: Sleep", "posted by/in line"),
        ("Read more", "post navigation"),
        ("Continue reading →", "post navigation"),
        ("« Previous post", "post navigation"),
        ("Next article: Sleep and stress", "post navigation"),
    ],
)
def test_the_real_furniture_lines_still_go(line: str, kind: str):
    article = article_parse(f"# Sleep\n\nA paragraph about sleep.\n\n{line}", kind=".md")

    assert line not in article.body_html
    assert kind in article.removed
