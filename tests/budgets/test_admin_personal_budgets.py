"""The personal-budget admin: read-only pages, and the form that makes a budget through the service."""

from datetime import date

import pytest
from django.urls import reverse

from budgets.models import PersonalBudget
from budgets.services.personal_budgets import AUDIT_CREATED
from people.models import AuditEvent
from tests.budgets.factories import FundingStreamFactory
from tests.budgets.helpers import create
from tests.people.factories import AdministratorFactory, BudgetHolderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator():
    return AdministratorFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, sign_in_verified, administrator):
    sign_in_verified(client, administrator)
    return client


@pytest.fixture
def stream():
    return FundingStreamFactory(code="ASC", payment_frequency="monthly")


def form_data(holder, stream, **overrides):
    return {
        "budget_holder": holder.public_id,
        "stream": stream.pk,
        "starts_on": "2026-04-01",
        "ends_on": "2027-03-31",
        "amount": "3650.00",
        "reason": "Agreed at review",
        **overrides,
    }


class TestPersonalBudgetAdmin:
    def test_the_list_and_a_budget_with_its_instalments_render_read_only(self, admin_client, stream):
        budget = create(BudgetHolderFactory(), stream, None)

        listing = admin_client.get(reverse("admin:budgets_personalbudget_changelist"))
        page = admin_client.get(reverse("admin:budgets_personalbudget_change", args=[budget.pk]))

        assert listing.status_code == page.status_code == 200
        assert budget.public_id in listing.content.decode()
        content = page.content.decode()
        assert "3650.00 GBP" in content
        assert budget.instalments.get(sequence=12).public_id in content
        assert 'name="_save"' not in content
        response = admin_client.post(
            reverse("admin:budgets_personalbudget_delete", args=[budget.pk]), {"post": "yes"}
        )
        assert response.status_code == 403

    def test_the_instalment_list_renders(self, admin_client, stream):
        budget = create(BudgetHolderFactory(), stream, None)

        response = admin_client.get(reverse("admin:budgets_instalment_changelist"))

        assert response.status_code == 200
        assert budget.instalments.get(sequence=1).public_id in response.content.decode()
        assert admin_client.get(reverse("admin:budgets_instalment_add")).status_code == 403

    def test_the_create_form_renders(self, admin_client, stream):
        response = admin_client.get(reverse("admin:budgets_personalbudget_add"))

        assert response.status_code == 200
        assert "Create a personal budget" in response.content.decode()

    def test_creating_goes_through_the_service(self, admin_client, administrator, stream):
        holder = BudgetHolderFactory()

        response = admin_client.post(reverse("admin:budgets_personalbudget_add"), form_data(holder, stream))

        budget = PersonalBudget.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:budgets_personalbudget_change", args=[budget.pk])
        assert (budget.budget_holder, budget.stream, budget.amount_minor) == (holder, stream, 365_000)
        assert (budget.starts_on, budget.ends_on, budget.created_by) == (
            date(2026, 4, 1),
            date(2027, 3, 31),
            administrator,
        )
        assert budget.explanation == {"source": "admin", "amount": "3650.00", "currency": "GBP"}
        assert budget.instalments.count() == 12
        assert AuditEvent.objects.get(action=AUDIT_CREATED).actor == administrator

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"amount": "10.001"}, "more decimals than GBP allows"),
            ({"amount": "-1"}, "greater than or equal to 0"),
            ({"ends_on": "2026-03-01"}, "cannot end before it starts"),
            ({"budget_holder": "per_nobody"}, "There is no budget holder"),
        ],
    )
    def test_a_bad_form_is_shown_again_with_the_reason(self, admin_client, stream, overrides, message):
        response = admin_client.post(
            reverse("admin:budgets_personalbudget_add"), form_data(BudgetHolderFactory(), stream, **overrides)
        )

        assert response.status_code == 200
        assert message in response.content.decode()
        assert not PersonalBudget.objects.exists()

    def test_a_domain_error_from_the_service_is_shown_on_the_form(self, admin_client, stream):
        holder = BudgetHolderFactory()
        existing = create(holder, stream, None)

        response = admin_client.post(reverse("admin:budgets_personalbudget_add"), form_data(holder, stream))

        assert response.status_code == 200
        assert existing.public_id in response.content.decode()
        assert PersonalBudget.objects.count() == 1
