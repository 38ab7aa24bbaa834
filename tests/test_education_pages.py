"""The public library at /learn/: published articles by topic, a topic's own page, one article per page; what is
not published is not found, and an article's body is always sanitized."""

import pytest

from education.models import Article, Topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def sleep_topic() -> Topic:
    return Topic.objects.create(slug="sleep", name="Sleep")


@pytest.fixture
def winding_down(sleep_topic) -> Article:
    article = Article.objects.create(
        title="Winding down for better sleep",
        slug="winding-down",
        summary="A calm evening routine.",
        body_html="<p>Dim the lights.</p>",
        reading_minutes=2,
    )
    article.topics.set([sleep_topic])
    return article


@pytest.fixture
def draft(sleep_topic) -> Article:
    article = Article.objects.create(title="Draft on naps", slug="naps", body_html="<p>Soon.</p>", published=False)
    article.topics.set([sleep_topic])
    return article


def test_the_library_lists_published_articles_under_their_topics(client, winding_down, draft):
    page = client.get("/learn/")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<h2 id="topic-sleep">Sleep</h2>' in html
    assert 'href="/learn/winding-down/"' in html
    assert "A calm evening routine." in html
    assert "Draft on naps" not in html


def test_a_topic_page_lists_its_published_articles(client, winding_down, draft):
    page = client.get("/learn/topic/sleep/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Sleep</h1>" in html
    assert 'href="/learn/topic/sleep/" aria-current="page"' in html
    assert "Winding down for better sleep" in html
    assert "Draft on naps" not in html
    assert client.get("/learn/topic/knees/").status_code == 404


def test_an_article_has_its_own_page(client, winding_down):
    page = client.get("/learn/winding-down/")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<h1 id="article-title">Winding down for better sleep</h1>' in html
    assert "<p>Dim the lights.</p>" in html
    assert "2 min read" in html
    assert 'href="/learn/topic/sleep/">Sleep</a>' in html


def test_an_unpublished_or_missing_article_is_not_found(client, draft):
    assert client.get("/learn/naps/").status_code == 404
    assert client.get("/learn/no-such-article/").status_code == 404


def test_a_body_is_sanitized_whichever_way_it_is_saved(client):
    Article.objects.create(
        title="Unsafe",
        slug="unsafe",
        body_html='<p onclick="x()">Hi<script>alert(1)</script><img src="https://example.net/t.gif"></p>',
    )

    html = client.get("/learn/unsafe/").content.decode()
    assert "<p>Hi</p>" in html
    for unsafe in ("onclick", "alert(1)", "example.net"):
        assert unsafe not in html


def test_the_library_says_so_when_it_is_empty(client):
    assert "There are no articles yet." in client.get("/learn/").content.decode()
