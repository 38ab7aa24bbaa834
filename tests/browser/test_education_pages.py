"""The library on a phone: /learn/ and one article, in a real Chromium, checked by axe; the article links back."""

import pytest
from playwright.sync_api import Page, expect

from education.services import DEMO_ARTICLES, articles_import_files
from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_browses_the_library_and_reads_an_article_on_a_phone(page: Page, axe, clinic):
    articles_import_files([DEMO_ARTICLES])

    page.goto("/learn/")
    expect(page.get_by_role("heading", name="Articles", exact=True)).to_be_visible()
    axe.assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_role("navigation", name="Topics").get_by_role("link", name="Lower back").click()
    expect(page.get_by_role("heading", name="Lower back", level=1)).to_be_visible()
    axe.assert_accessible(page)

    page.get_by_role("link", name="How Stress Can Contribute to Back Pain and How to Combat It").click()
    expect(page.get_by_role("heading", name="Pain Feedback Increases Mental Strain")).to_be_visible()
    axe.assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_role("link", name="All articles").first.click()
    expect(page).to_have_url(f"{page.url.split('/learn/')[0]}/learn/")
