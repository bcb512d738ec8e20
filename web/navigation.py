"""The service navigation each role sees at the top of every page (a template context processor)."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from people.models import Role


@dataclass(frozen=True)
class NavItem:
    text: str
    href: str
    current: bool


def _items(user: Any) -> list[tuple[str, str, tuple]]:
    """(text, URL name, URL arguments) for what this user's role works on."""
    role = user.role
    if role == Role.BUDGET_HOLDER:
        holder = getattr(user, "budget_holder", None)
        if holder is None:
            return [("Home", "web:home", ())]
        per = (holder.public_id,)
        return [
            ("Home", "web:person-home", per),
            ("Invoices", "web:invoices", per),
            ("My plan", "web:plan", per),
            ("Statements", "web:statements", per),
            ("Messages", "web:timeline", per),
            ("Unspent money", "web:person-reclaims", per),
        ]
    if role == Role.REPRESENTATIVE:
        return [("People I act for", "web:home", ())]
    if role == Role.NAVIGATOR:
        return [("Caseload", "web:caseload", ())]
    if role == Role.AGENCY_OFFICER:
        return [
            ("Plans to approve", "web:approvals", ()),
            ("People we fund", "web:funded-people", ()),
            ("Statements", "web:stream-statements", ()),
            ("Surplus reclaims", "web:surplus", ()),
        ]
    if role == Role.PROVIDER_USER:
        return [
            ("Home", "web:home", ()),
            ("API keys", "web:api-keys", ()),
            ("Payouts", "web:provider-payouts", ()),
        ]
    if role in (Role.FINANCE_OFFICER, Role.ADMINISTRATOR):
        return [
            ("Home", "web:home", ()),
            ("Statement runs", "web:statement-runs", ()),
            ("Payment runs", "web:payment-runs", ()),
            ("Funding received", "web:funding", ()),
            ("Agency statements", "web:stream-statements", ()),
            *([("Surplus reclaims", "web:surplus", ())] if role == Role.FINANCE_OFFICER else []),
            ("Reconciliation", "web:reconciliation", ()),
        ]
    return [("Home", "web:home", ())]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """`nav_items` for the signed-in user (after their second factor), and the session's length for the
    timeout warning."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    session = {
        "session_seconds": settings.SESSION_COOKIE_AGE,
        "session_minutes": settings.SESSION_COOKIE_AGE // 60,
    }
    if user.needs_second_factor and not user.is_verified():
        return session
    path = request.path
    items = []
    for text, name, args in [*_items(user), ("API tokens", "web:tokens", ())]:
        href = reverse(name, args=args)
        items.append(NavItem(text=text, href=href, current=path == href))
    # The longest match is the current section: /people/per_x/invoices/inv_y/ is under "Invoices".
    if not any(item.current for item in items):
        under = [item for item in items if item.href != "/" and path.startswith(item.href)]
        if under:
            best = max(under, key=lambda item: len(item.href))
            items = [NavItem(i.text, i.href, i is best) for i in items]
    return {"nav_items": items, **session}


# The pages about one person, in the order their tabs appear: (text, URL name, who sees it).
PERSON_TABS = (
    ("Home", "web:person-home", "all"),
    ("Invoices", "web:invoices", "all"),
    ("Plan", "web:plan", "all"),
    ("Statements", "web:statements", "all"),
    ("Timeline", "web:timeline", "all"),
    ("Edit plan", "web:plan-edit", "navigator"),
    ("Reviews", "web:reviews", "navigator"),
    ("Unspent money", "web:person-reclaims", "all"),
    ("Reserves", "web:reserves", "navigator"),
)


def person_tabs(*, person: Any, viewer: Any, current: str) -> list[NavItem]:
    """The tabs of a person's pages for someone who is not the person (their own are the service
    navigation); `current` is the URL name of the page shown."""
    tabs = []
    for text, name, who in PERSON_TABS:
        if who == "navigator" and not viewer.is_navigator:
            continue
        href = reverse(name, args=[person.public_id])
        tabs.append(NavItem(text=text, href=href, current=name == current))
    return tabs
