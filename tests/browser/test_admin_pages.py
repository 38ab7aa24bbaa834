"""A manager's admin pages, in a real Chromium at a desk's width: axe-core finds nothing serious or critical."""

from datetime import date

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from scheduling.models import Closure, TimeOff
from tests.conftest import local
from tests.factories import StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def manager_page(desktop_page: Page, client, live_server) -> Page:
    """A desk-sized page signed in as the clinic's manager (a superuser), by the session cookie."""
    client.force_login(StaffUserFactory(username="manager@example.org", is_superuser=True))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    desktop_page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return desktop_page


@pytest.fixture
def schedule(dr_chen, downtown):
    time_off = TimeOff.objects.create(
        practitioner=dr_chen, start=local(2027, 3, 2, 9), end=local(2027, 3, 2, 13), reason="Dentist"
    )
    closure = Closure.objects.create(location=downtown, date=date(2027, 1, 1), reason="New Year's Day")
    return {"time_off": time_off, "closure": closure}


def test_the_practitioner_page_with_its_hours_and_time_off_is_accessible(manager_page: Page, axe, dr_chen, schedule):
    manager_page.goto(f"/admin/scheduling/practitioner/{dr_chen.pk}/change/")

    expect(manager_page.get_by_label("Day, row 1")).to_have_value("0")  # Monday, read out as such
    expect(manager_page.get_by_label("Start date, row 1")).to_be_visible()
    axe.assert_accessible(manager_page)


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/admin/scheduling/practitioner/", "Select practitioner to change"),
        ("/admin/scheduling/timeoff/", "Select time off to change"),
        ("/admin/scheduling/timeoff/{time_off}/change/", "Change time off"),
        ("/admin/scheduling/closure/", "Select closure to change"),
        ("/admin/scheduling/closure/{closure}/change/", "Change closure"),
        ("/admin/scheduling/service/", "Select service to change"),
        ("/admin/scheduling/service/{service}/change/", "Change service"),
        ("/admin/scheduling/location/", "Select location to change"),
        ("/admin/scheduling/location/{location}/change/", "Change location"),
        ("/admin/scheduling/clinic/1/change/", "Change clinic"),
    ],
)
def test_the_set_up_pages_are_accessible(manager_page: Page, axe, schedule, follow_up, downtown, url, heading):
    ids = {"time_off": schedule["time_off"].pk, "closure": schedule["closure"].pk}
    manager_page.goto(url.format(**ids, service=follow_up.pk, location=downtown.pk))

    expect(manager_page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    axe.assert_accessible(manager_page)
