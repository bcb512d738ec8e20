"""Every page each role can reach, found by following the links from their home page in the demo world:
each answers 200, has no serious or critical axe-core violation at 320px and at 1280px wide, does not scroll
sideways, has one <h1> and a title of its own; a screenshot of each at 320px is saved in var/screenshots/.

Following links (GET only) changes nothing, so confirmation pages are checked too without acting on them."""

import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from people.models import User
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, screenshot, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Who signs in, and pages each must reach (a crawl that found fewer would hide a broken menu).
ROLES = {
    "holder": {"/people/", "/invoices/", "/plan/", "/statements/", "/timeline/", "/auto-approval/"},
    "rep": {"/people/", "/invoices/", "/plan/", "/statements/", "/timeline/"},
    "navigator": {"/caseload/", "/plan/edit/", "/reviews/", "/invoices/", "/timeline/"},
    "officer-asc": {"/approvals/", "/funded-people/", "/streams/", "/streams/ASC/statements/"},
    "finance": {
        "/settings/tokens/",
        "/finance/statement-runs/",
        "/streams/",
        "/streams/DFG/statements/",
        "/finance/payment-runs/",
        "/finance/payment-runs/start/",
        "/finance/funding/",
    },
    "bright-care": {"/settings/api-keys/", "/provider/payouts/"},
}
MAX_PAGES = 80
# Not pages of Purse's own (the admin, the API's documentation) or not a page at all (downloads: PDF, CSV).
SKIP = re.compile(r"^/(admin|api|static)/|^/sign-out/|^/session/|^mailto:|^tel:|/(pdf|csv|bacs-file)/(\?|$)")


def _same_site_paths(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "main a[href], header a[href], nav a[href]", "els => els.map(e => e.href)"
    )
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not SKIP.search(path):
            paths.append(path)
    return paths


def _crawl(page, live_server, username: str) -> dict[str, str]:
    """Visit every page reachable from home; return {path: title}."""
    sign_in_as(page, live_server, User.objects.get(username=username))
    seen: dict[str, str] = {}
    queue = deque(["/"])
    queued = {"/"}
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        response = page.goto(path)
        assert response is not None and response.status == 200, (
            f"{username}: {path} answered {response.status}"
        )
        final = urlsplit(page.url)
        here = final.path + (f"?{final.query}" if final.query else "")
        if here in seen:
            continue
        page.set_viewport_size(PHONE)
        assert_accessible(page)
        assert page.locator("h1").count() == 1, f"{username}: {here} has {page.locator('h1').count()} <h1>"
        screenshot(page, f"{username}{re.sub(r'[^a-z0-9]+', '-', here.lower()).rstrip('-')}")
        page.set_viewport_size(DESKTOP)
        assert_accessible(page)
        page.set_viewport_size(PHONE)
        seen[here] = page.title()
        for link in _same_site_paths(page, live_server.url):
            if link not in queued:
                queued.add(link)
                queue.append(link)
    return seen


@pytest.fixture
def demo_world(db):
    call_command("seed_demo", verbosity=0)


@pytest.mark.parametrize("username", list(ROLES))
def test_every_page_of_each_role_is_accessible_at_320_and_1280_pixels(
    page, live_server, demo_world, username
):
    seen = _crawl(page, live_server, username)

    for expected in ROLES[username]:
        assert any(expected in path for path in seen), f"{username} never reached a {expected} page: {seen}"
    for path, title in seen.items():
        assert title.endswith(" - Purse") and title != "Purse - Purse", f"{path} has no title of its own"
    # Titles tell pages apart: the same title only for the pages of one list (?page=2, ?status=...).
    by_title: dict[str, set[str]] = {}
    for path, title in seen.items():
        by_title.setdefault(title, set()).add(path.split("?")[0])
    shared = {title: paths for title, paths in by_title.items() if len(paths) > 1}
    assert not shared, f"pages share a title: {shared}"
