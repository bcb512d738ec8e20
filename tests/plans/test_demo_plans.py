"""The demo world's plans (api.md, "Demo data"): made through the real workflow, with the personal budgets,
instalments and timeline they bring, the officers who approve them, and a seed that changes nothing the
second time."""

import re
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from budgets.models import FundingStream, Instalment, InstalmentStatus, PersonalBudget, PersonalBudgetStatus
from ledger.money import money_format
from people.models import Organisation, OrganisationKind, User
from plans import demo
from plans.models import (
    PlanVersionStatus,
    StreamApproval,
    StreamApprovalStatus,
    SupportItem,
    TimelineEntry,
)
from plans.selectors.plans import plan_version_active, support_items_for_provider
from plans.selectors.timeline import timeline_for_person

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(autouse=True)
def today(monkeypatch):
    """Pin "today" (the day instalments are posted to, and the plans' agreement and review dates)."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def seeded():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows of every model of plans, budgets, the ledger and people."""
    models = [
        model
        for label in ("plans", "budgets", "ledger", "people")
        for model in apps.get_app_config(label).get_models()
    ]
    return {model._meta.label: model.objects.count() for model in models}


def holder_of(username):
    return User.objects.get(username=username).budget_holder


class TestHoldersPlan:
    def test_an_active_plan_funded_by_three_streams_agreed_by_alex_and_approved_by_each_agency(self, seeded):
        holder = holder_of("holder")
        version = plan_version_active(budget_holder=holder)

        assert version is not None and version.status == PlanVersionStatus.ACTIVE
        assert (version.starts_on, version.ends_on) == demo.DEMO_PLAN_YEAR
        assert version.agreed_by.username == "holder"
        approvals = StreamApproval.objects.filter(version=version).select_related("stream", "decided_by")
        assert {(a.stream.code, a.status, a.decided_by.username) for a in approvals} == {
            ("ASC", StreamApprovalStatus.APPROVED, "officer-asc"),
            ("ILF", StreamApprovalStatus.APPROVED, "officer-ilf"),
            ("ATW", StreamApprovalStatus.APPROVED, "officer-atw"),
        }
        budgets = {
            budget.stream.code: budget
            for budget in PersonalBudget.objects.filter(
                budget_holder=holder, status=PersonalBudgetStatus.ACTIVE
            ).select_related("stream")
        }
        assert set(budgets) == {"ASC", "ILF", "ATW"}
        for approval in approvals:
            assert budgets[approval.stream.code].amount_minor == approval.amount_minor

    def test_outcomes_in_alexs_own_words_with_informal_support_first(self, seeded):
        version = plan_version_active(budget_holder=holder_of("holder"))

        outcomes = list(version.outcomes.order_by("position"))
        assert [outcome.in_own_words for outcome in outcomes] == [
            "I want to get up and out in the morning without rushing",
            "I want to keep my job at the garden centre",
            "I want to see my friends at the Thursday club",
        ]
        assert all(outcome.success_looks_like for outcome in outcomes)
        assert all(outcome.informal_supports.exists() for outcome in outcomes)
        assert {support.who for support in version.informal_supports.all()} >= {
            "Jordan, my brother",
            "Mrs Patel next door",
            "The Thursday club's volunteers",
        }
        assert all(item.outcomes.exists() for item in version.support_items.all())

    def test_items_with_the_split_personal_care_and_the_providers_at_agreed_rates(self, seeded):
        version = plan_version_active(budget_holder=holder_of("holder"))

        items = {
            item.service.service_code: item
            for item in version.support_items.select_related("service", "provider", "stream")
        }
        assert set(items) == {"ASC-PC", "ASC-PA", "ATW-SW", "ATW-TRAVEL"}
        care = items["ASC-PC"]
        assert care.split == {"cap": {"stream": "ASC", "amount": "250.00", "per": "week"}, "rest": "ILF"}
        assert (care.provider.slug, care.agreed_rate_minor) == ("bright-care", 2450)
        assert (items["ATW-SW"].provider.slug, items["ATW-SW"].agreed_rate_minor) == ("able-assist", 1800)
        assert items["ASC-PA"].provider is None and items["ATW-TRAVEL"].provider is None

    def test_each_provider_is_engaged_for_the_items_api_md_names(self, seeded):
        def engaged(slug):
            provider = Organisation.objects.get(slug=slug)
            return {
                (item.version.plan.budget_holder.user.username, item.service.service_code)
                for item in support_items_for_provider(provider=provider)
            }

        assert engaged("bright-care") == {("holder", "ASC-PC")}
        assert engaged("able-assist") == {("holder", "ATW-SW")}
        assert engaged("dales-adaptations") == {("holder2", "DFG-RAMP")}


class TestHolder2sPlan:
    def test_an_adaptation_and_housing_related_support(self, seeded):
        holder = holder_of("holder2")
        version = plan_version_active(budget_holder=holder)

        items = {item.service.service_code: item for item in version.support_items.select_related("service")}
        assert set(items) == {"DFG-RAMP", "SP-HS"}
        assert items["DFG-RAMP"].provider.slug == "dales-adaptations"
        assert items["DFG-RAMP"].agreed_rate_minor == 245_000
        approvers = set(
            StreamApproval.objects.filter(version=version).values_list("stream__code", "decided_by__username")
        )
        assert approvers == {("DFG", "officer-dfg"), ("SP", "officer-sp")}
        budgets = PersonalBudget.objects.filter(budget_holder=holder, status=PersonalBudgetStatus.ACTIVE)
        # The ramp plus the stream's 10% contingency, paid at once; two hours a week of support.
        assert {(b.stream.code, b.amount_minor) for b in budgets} == {("DFG", 269_500), ("SP", 240_900)}


class TestOfficers:
    def test_every_agency_has_an_officer_with_the_demo_second_factor(self, seeded):
        officers = {
            user.username: user.organisation
            for user in User.objects.filter(role="agency_officer").select_related("organisation")
        }
        agencies = set(
            FundingStream.objects.filter(code__in=demo.APPROVERS).values_list("agency__slug", flat=True)
        )
        assert {organisation.slug for organisation in officers.values()} == agencies
        for code, username in demo.APPROVERS.items():
            assert officers[username] == FundingStream.objects.get(code=code).agency
            assert User.objects.get(username=username).totpdevice_set.filter(confirmed=True).exists()
        assert Organisation.objects.filter(kind=OrganisationKind.AGENCY).count() == len(agencies)


class TestMoneyAndTimeline:
    def test_every_instalment_due_by_today_is_posted_and_told_once(self, seeded):
        due = Instalment.objects.filter(due_on__lte=TODAY, amount_minor__gt=0)
        assert due.exists()
        assert not due.filter(status=InstalmentStatus.SCHEDULED).exists()
        assert Instalment.objects.filter(status=InstalmentStatus.SCHEDULED, due_on__gt=TODAY).exists()
        told = list(
            TimelineEntry.objects.filter(kind="instalment.due").values_list("detail__instalment", flat=True)
        )
        assert sorted(told) == sorted(due.values_list("public_id", flat=True))

    def test_the_timeline_is_alive_for_each_side(self, seeded):
        holder = holder_of("holder")

        person = list(timeline_for_person(budget_holder=holder, viewer=User.objects.get(username="rep")))
        navigator = list(
            timeline_for_person(budget_holder=holder, viewer=User.objects.get(username="navigator"))
        )
        officer = list(
            timeline_for_person(budget_holder=holder, viewer=User.objects.get(username="officer-atw"))
        )

        person_kinds = {entry.kind for entry in person}
        assert {"message", "note", "plan.agreed", "plan.activated", "instalment.due"} <= person_kinds
        assert {entry.actor.username for entry in person if entry.kind == "message"} == {
            "holder",
            "navigator",
            "rep",
        }
        assert any(entry.visibility == "staff" for entry in navigator)
        assert not any(entry.visibility == "staff" for entry in person)
        assert officer and {entry.stream.code for entry in officer} == {"ATW"}
        # Newest first: the surplus notice finance gave (payments.demo, seeded last), then the providers'
        # invoices (invoicing.demo), which come after the plans' messages.
        assert person[0].kind == "reclaim.notified"
        assert next(entry for entry in person if not entry.kind.startswith("reclaim.")).kind.startswith(
            "invoice."
        )
        assert "message" in person_kinds
        assert any(
            entry.text.startswith("£") and "from Access to Work is due to you on" in entry.text
            for entry in person
        )


class TestSeedDemo:
    def test_running_it_twice_changes_nothing(self, seeded):
        before = row_counts()

        call_command("seed_demo", stdout=StringIO())

        assert row_counts() == before
        assert before["plans.SupportPlan"] == 2
        assert before["plans.PlanVersion"] == 2

    def test_it_prints_the_plans_budgets_and_engagements(self, seeded):
        assert "holder (Alex Morgan): plan version 1, active" in seeded
        assert "bright-care: si_" in seeded
        assert "dales-adaptations: si_" in seeded
        assert "officer-ilf" in seeded and "officer-sp" in seeded
        assert "0 failed" in seeded

    def test_the_readme_says_what_the_seed_makes(self, seeded):
        section = README.read_text().split("\n## The demo world\n", 1)[1].split("\n## ", 1)[0]
        for username in ("holder", "holder2"):
            holder = holder_of(username)
            budgets = PersonalBudget.objects.filter(budget_holder=holder, status=PersonalBudgetStatus.ACTIVE)
            expected = ", ".join(
                f"{b.stream.code} {money_format(b.amount_minor, currency=b.currency)}"
                for b in budgets.select_related("stream").order_by("stream__code")
            )
            rows = [
                line.rstrip(" |") for line in section.splitlines() if line.startswith(f"| `{username}` |")
            ]
            assert any(row.endswith(f"| {expected}") for row in rows), (expected, rows)
        for spec in demo.OFFICERS:
            assert re.search(rf"\| `{spec.username}` \|", section), spec.username
        for item in SupportItem.objects.filter(provider__isnull=False).select_related("provider"):
            assert f"`{item.provider.slug}`" in section
