import re

import pytest
from django.urls import reverse

from tests.people.factories import AgencyOfficerFactory, RepresentativeFactory

pytestmark = pytest.mark.django_db

HOME = reverse("web:home")


class TestHome:
    def test_staff_see_their_role_and_organisation(self, client, sign_in_verified):
        officer = AgencyOfficerFactory(first_name="Chris", organisation__name="Adult Social Care")
        sign_in_verified(client, officer)

        html = client.get(HOME).content.decode()

        assert "Hello, Chris" in html
        assert "Agency officer" in html
        assert "Adult Social Care" in html
        assert len(re.findall(r"<h1[ >]", html)) == 1

    def test_representative_sees_who_they_act_for(self, client):
        grant = RepresentativeFactory(budget_holder__full_name="Alex Morgan", power="view")
        client.force_login(grant.user)

        html = client.get(HOME).content.decode()

        assert "Representative" in html
        assert "Alex Morgan: view only" in html

    def test_sign_out_is_a_form_with_csrf(self, client):
        grant = RepresentativeFactory()
        client.force_login(grant.user)

        html = client.get(HOME).content.decode()

        form = re.search(r'<form method="post" action="/sign-out/".*?</form>', html, re.S).group(0)
        assert "csrfmiddlewaretoken" in form
