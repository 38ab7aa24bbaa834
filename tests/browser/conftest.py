"""Browser fixtures: Debian's Chromium, driven by Playwright, against pytest-django's live server; axe-core.

Pages are tested the way people use them: in a real browser, at a phone's width unless a test asks for a
desk's, with the keyboard, and checked by axe-core against WCAG 2.2 A/AA. Without Chromium or axe-core the
tests are skipped with a message that says how to install them; `.ci/run` installs both, so CI never skips.
"""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = (
    "Chromium is not installed at /usr/bin/chromium, so the browser tests are skipped. "
    "Install it with `apt-get install chromium` (Debian/Ubuntu), or run .ci/run, which does."
)
# Everything Chromium would fetch on its own (updates, sync, field trials) is off: the tests see only our pages.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_MISSING = (
    "axe-core is not installed (node_modules/axe-core/axe.min.js is missing), so the accessibility checks are "
    "skipped. Install it with `npm ci` in the repository's top folder, or run .ci/run, which does."
)
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

PHONE: ViewportSize = {"width": 360, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
# Long enough for a slow CI machine, short enough that a missing element fails in seconds, not half a minute.
TIMEOUT_MS = 10_000


def require_installed(path: Path, missing: str) -> Path:
    """Skip, saying how to install it, when a tool the browser tests need is not on this machine."""
    if not path.is_file():
        pytest.skip(missing)
    return path


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for all the browser tests; each test gets its own context (cookies, storage).

    Scoped to this package rather than the session so that it closes, and Django's async-safety check comes
    back, before the rest of the suite runs: Playwright's sync API keeps its asyncio loop marked as running
    on the main thread (in a greenlet) while the browser is open, and Django would otherwise refuse every
    ORM call a test makes, although no coroutine ever runs at the same time as that call.
    """
    executable = require_installed(CHROMIUM, CHROMIUM_MISSING)
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    """Opens a page in a fresh browser context (a second person, a second desk); all are closed afterwards.

    Relative URLs go to the live server, and nothing else is reachable: a page that needs the internet
    (a CDN script, a web font) fails here instead of quietly depending on it.
    """
    contexts = []
    own_origin = re.compile(rf"^{re.escape(live_server.url)}/")

    def open_page(viewport: ViewportSize = PHONE) -> Page:
        context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="en-US")
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        context.route(lambda url: not own_origin.match(url), lambda route: route.abort("blockedbyclient"))
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page) -> Page:
    """A page at a phone's size (360 x 740): patients book on their phones, so that is the default."""
    return open_page(PHONE)


@pytest.fixture
def desktop_page(open_page) -> Page:
    """A page at a desk's size (1280 x 800), for the front desk's calendar."""
    return open_page(DESKTOP)


class Axe:
    """axe-core, injected into the page under test; only WCAG 2.0 to 2.2 A and AA rules are run."""

    def __init__(self, script: Path):
        self.script = script

    def violations(self, page: Page) -> list[dict]:
        if not page.evaluate("() => 'axe' in window"):
            page.add_script_tag(path=self.script)
        results = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
        return results["violations"]

    def assert_accessible(self, page: Page, *, impact: tuple[str, ...] = ("serious", "critical")) -> None:
        """Fails listing every violation of the given impact: rule, what it asks, and where on the page."""
        found = [violation for violation in self.violations(page) if violation["impact"] in impact]
        if found:
            listing = "\n".join(describe_violation(violation) for violation in found)
            pytest.fail(f"axe-core found {len(found)} accessibility violation(s) on {page.url}:\n{listing}")


def describe_violation(violation: dict) -> str:
    targets = "\n".join(f"      {' >> '.join(map(str, node['target']))}" for node in violation["nodes"])
    return f"  - {violation['id']} ({violation['impact']}): {violation['help']}\n    {violation['helpUrl']}\n{targets}"


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe(require_installed(AXE_SCRIPT, AXE_MISSING))
