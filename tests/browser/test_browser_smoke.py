"""The browser-test machinery works, shown on pages that exist today: the admin's login and the API docs."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import AXE_MISSING, CHROMIUM_MISSING, PHONE, require_installed
from tests.factories import StaffUserFactory


@pytest.mark.browser
def test_it_serves_the_admin_login_styled_and_accessible_at_a_phones_width(page: Page, axe):
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto("/admin/login/")

    expect(page.get_by_label("Username")).to_be_visible()
    stylesheets = [response for response in responses if response.request.resource_type == "stylesheet"]
    assert stylesheets, "the login page asked for no stylesheet"
    assert all(response.ok for response in stylesheets), [(r.url, r.status) for r in stylesheets]
    # Reflow (WCAG 1.4.10): nothing makes a phone scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    axe.assert_accessible(page)


@pytest.mark.browser
def test_a_staff_member_signs_in_to_the_admin_with_the_keyboard_alone(page: Page):
    front_desk = StaffUserFactory(username="frontdesk@example.org")
    front_desk.set_password("correct horse battery staple")
    front_desk.save()

    page.goto("/admin/")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("frontdesk@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery staple")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


@pytest.mark.browser
def test_the_api_docs_render_from_our_own_server_alone(page: Page, live_server):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Meridian API")
    assert [url for url in requested if not url.startswith(f"{live_server.url}/")] == []


@pytest.mark.parametrize(
    ("missing", "how_to_install"), [(CHROMIUM_MISSING, "apt-get install chromium"), (AXE_MISSING, "npm ci")]
)
def test_it_skips_saying_how_to_install_what_is_missing(tmp_path, missing, how_to_install):
    with pytest.raises(pytest.skip.Exception, match=re.escape(how_to_install)):
        require_installed(tmp_path / "not-installed", missing)
