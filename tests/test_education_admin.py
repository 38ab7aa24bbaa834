"""The library in the admin, as the clinic's manager uses it: she edits and withdraws an article, but its slug (in
links already emailed) stays; she adds topics only from the matcher's vocabulary, and cannot rename one."""

import pytest

from backend.api.permissions import MANAGER
from education.models import Article, Topic
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client):
    """Ana, the clinic's manager: in the Manager group, not a superuser, so only the group's permissions count."""
    ana = StaffUserFactory(username="ana@example.org", role=MANAGER)
    client.force_login(ana)
    return ana


@pytest.fixture
def cupping() -> Article:
    topic = Topic.objects.create(slug="cupping", name="Cupping")
    article = Article.objects.create(title="Cupping", slug="cupping", body_html="<p>Round marks.</p>")
    article.topics.set([topic])
    return article


def test_the_manager_withdraws_an_article_but_cannot_change_its_slug(client, owner, cupping):
    form = client.get(f"/admin/education/article/{cupping.pk}/change/").content.decode()
    response = client.post(
        f"/admin/education/article/{cupping.pk}/change/",
        {
            "title": "Cupping, explained",
            "slug": "cupping-renamed",
            "summary": "",
            "body_html": "<p>Round marks.</p>",
            "topics": [cupping.topics.get().pk],
            "reading_minutes": 1,
            # "published" left out: unticked, the article is withdrawn
        },
    )

    assert 'name="slug"' not in form
    assert response.status_code == 302, response.content.decode()[:2000]
    cupping.refresh_from_db()
    assert (cupping.title, cupping.slug, cupping.published) == ("Cupping, explained", "cupping", False)


def test_the_manager_writes_a_new_article_and_chooses_its_slug(client, owner):
    response = client.post(
        "/admin/education/article/add/",
        {"title": "Breathing", "slug": "breathing", "body_html": "<p>Slowly.</p>", "reading_minutes": 1},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Article.objects.get().slug == "breathing"


def test_a_topic_is_added_from_the_vocabulary_only_and_its_slug_stays(client, owner):
    unknown = client.post("/admin/education/topic/add/", {"slug": "knees", "name": "Knees"})
    known = client.post("/admin/education/topic/add/", {"slug": "sleep", "name": "Sleep"})
    sleep = Topic.objects.get()
    renamed = client.post(f"/admin/education/topic/{sleep.pk}/change/", {"slug": "naps", "name": "Sleep and rest"})

    assert unknown.status_code == 200
    assert "Select a valid choice" in unknown.content.decode()
    assert known.status_code == 302
    assert renamed.status_code == 302
    sleep.refresh_from_db()
    assert (sleep.slug, sleep.name) == ("sleep", "Sleep and rest")
