"""Real headless Chromium (Debian's package) driven by Playwright, with axe-core checking every page.

Browser tests run against pytest-django's live server whenever Chromium is installed. Without it they are
skipped, never silently: each says why and how to install it (`./scripts/setup` installs it when run as
root), and `./scripts/test` prints the same before the run."""

import functools
import json
import os
import re
import shutil
import weakref
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM is still used synchronously.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PURSE_CHROMIUM", "/usr/bin/chromium")
AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A browser test that hangs (a page waiting on something that never comes) fails after this long rather than
# holding up the whole run; the slowest, the crawl of every page of one role, takes under a minute.
BROWSER_TEST_TIMEOUT_SECONDS = 300
PHONE = {"width": 320, "height": 640}
_NO_JS_PAGES: "weakref.WeakSet" = weakref.WeakSet()
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(BROWSER_TEST_TIMEOUT_SECONDS))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(
            f"the browser tests did not run: Chromium is not installed at {CHROMIUM} "
            "(apt-get install chromium, or set PURSE_CHROMIUM to where it is)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context at phone width (320 CSS pixels), as most budget holders use Purse."""
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def page_no_js(browser, live_server):
    """The same phone-width context with JavaScript turned off: every core flow must still work."""
    context = browser.new_context(
        viewport=PHONE, base_url=live_server.url, locale="en-GB", java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    _NO_JS_PAGES.add(page)
    yield page
    _NO_JS_PAGES.discard(page)
    context.close()


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page, *, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on the page; return violations of those impacts."""
    if not AXE_JS.exists():
        pytest.fail("axe-core is missing: run ./scripts/setup (npm ci installs it).")
    if page in _NO_JS_PAGES:
        return _axe_on_copy(page, impacts=impacts)
    # One expression that defines axe and runs it, whatever the page's own scripts do.
    options = "{runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}}"
    result = page.evaluate(f"{_axe_source()}\n;axe.run(document, {options})")
    return [v for v in result["violations"] if v["impact"] in impacts]


def _axe_on_copy(page, *, impacts) -> list[dict]:
    """axe-core needs timers, which a page without JavaScript never runs: check the same HTML (its scripts
    taken out, so it stays as a no-JavaScript browser shows it) at the same address and size in a page that
    runs scripts."""
    html = re.sub(r"<script\b.*?</script>", "", page.content(), flags=re.S | re.I)
    url = page.url
    context = page.context.browser.new_context(viewport=page.viewport_size, locale="en-GB")
    try:
        copy = context.new_page()
        copy.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
        copy.goto(url)
        return axe_violations(copy, impacts=impacts)
    finally:
        context.close()


def assert_accessible(page) -> None:
    """No serious or critical axe violations, and nothing wider than the viewport (reflow at 320px)."""
    violations = axe_violations(page)
    assert not violations, json.dumps(
        [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]} for v in violations],
        indent=2,
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    width = page.viewport_size["width"] if page.viewport_size else PHONE["width"]
    assert overflow <= 0, f"The page scrolls sideways by {overflow}px at {width}px wide."


def sign_in_as(page, live_server, user) -> None:
    """Give the browser a signed-in session for `user` (with the second factor passed, for staff), as if
    they had signed in: the sign-in pages themselves are walked in test_sign_in_pages.py."""
    from django.conf import settings
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    if user.needs_second_factor:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="browser tests", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots():
    """Each run's screenshots replace the last run's, so the folder shows this run only."""
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot as a test artefact in var/screenshots/<name>.png."""
    folder = SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def assert_accessible_at_both_widths(page, name: str | None = None) -> None:
    """`assert_accessible` at 320px (saving the screenshot `name`, if given) and at 1280px; ends at 320px."""
    page.set_viewport_size(PHONE)
    assert_accessible(page)
    if name:
        screenshot(page, name)
    page.set_viewport_size(DESKTOP)
    assert_accessible(page)
    page.set_viewport_size(PHONE)


def tab_to(page, selector: str, *, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has focus: proves it is reachable by keyboard."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} could not be reached with the Tab key")
