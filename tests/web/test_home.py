import re

import pytest
from django.urls import reverse

from tests.people.factories import (
    AgencyOfficerFactory,
    BudgetHolderFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    ProviderUserFactory,
    RepresentativeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HOME = reverse("web:home")


class TestHomeSendsEachRoleWhereTheyStart:
    def test_a_budget_holder_goes_to_their_budget(self, client):
        holder = BudgetHolderFactory()
        client.force_login(holder.user)

        response = client.get(HOME)

        assert response.status_code == 302
        assert response["Location"] == reverse("web:person-home", args=[holder.public_id])

    def test_a_representative_of_one_person_goes_to_that_persons_budget(self, client):
        grant = RepresentativeFactory(power="view")
        client.force_login(grant.user)

        response = client.get(HOME)

        assert response["Location"] == reverse("web:person-home", args=[grant.budget_holder.public_id])

    def test_a_representative_of_several_people_chooses_whom(self, client):
        grant = RepresentativeFactory(budget_holder__full_name="Alex Morgan", power="view")
        RepresentativeFactory(user=grant.user, budget_holder__full_name="Sam Okafor", power="approve")
        client.force_login(grant.user)

        html = client.get(HOME).content.decode()

        assert "Alex Morgan</a>: view only" in html
        assert "Sam Okafor</a>: view and approve" in html
        assert reverse("web:person-home", args=[grant.budget_holder.public_id]) in html

    def test_a_representative_whose_grant_ended_is_told_so(self, client):
        user = UserFactory(role="representative")
        client.force_login(user)

        html = client.get(HOME).content.decode()

        assert "Nobody has asked you to act for them yet" in html

    def test_a_navigator_goes_to_their_caseload(self, client, sign_in_verified):
        sign_in_verified(client, NavigatorFactory())
        assert client.get(HOME)["Location"] == reverse("web:caseload")

    def test_an_agency_officer_goes_to_their_approvals(self, client, sign_in_verified):
        sign_in_verified(client, AgencyOfficerFactory())
        assert client.get(HOME)["Location"] == reverse("web:approvals")

    def test_finance_see_their_role_and_a_single_heading(self, client, sign_in_verified):
        sign_in_verified(client, FinanceOfficerFactory(first_name="Morgan"))

        html = client.get(HOME).content.decode()

        assert "Hello, Morgan" in html
        assert "Finance officer" in html
        assert len(re.findall(r"<h1[ >]", html)) == 1

    def test_a_provider_user_is_pointed_at_their_api_keys(self, client):
        client.force_login(ProviderUserFactory(organisation__name="Bright Care"))

        html = client.get(HOME).content.decode()

        assert "Bright Care" in html
        assert reverse("web:api-keys") in html

    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(HOME)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:sign-in"))

    def test_sign_out_is_a_form_with_csrf(self, client):
        client.force_login(ProviderUserFactory())

        html = client.get(HOME).content.decode()

        form = re.search(r'<form method="post" action="/sign-out/".*?</form>', html, re.S).group(0)
        assert "csrfmiddlewaretoken" in form
