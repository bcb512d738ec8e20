import pytest

from people import services
from people.models import AuditEvent, ProviderDetails
from tests.people.factories import AgencyFactory, ProviderFactory

pytestmark = pytest.mark.django_db


class TestProviderDetailsSet:
    def test_bank_details_are_normalised_and_stored(self):
        provider = ProviderFactory()

        details = services.provider_details_set(
            provider=provider,
            by=None,
            provider_kind="personal_assistant",
            contact_name="Kim",
            postcode="ns1 4ml",
            payout_method="bank",
            bank_account_name="K SMITH",
            sort_code="20-00-00",
            account_number="5577 9911",
        )

        assert (details.sort_code, details.account_number, details.postcode) == (
            "200000",
            "55779911",
            "NS1 4ML",
        )
        audit = AuditEvent.objects.get(action="provider_details.set", object_id=provider.public_id)
        assert audit.detail["account_ending"] == "11"
        assert "55779911" not in str(audit.detail)

    def test_every_bad_bank_field_is_reported_at_once_and_nothing_is_stored(self):
        provider = ProviderFactory()

        with pytest.raises(services.ProviderDetailsInvalid) as raised:
            services.provider_details_set(
                provider=provider, by=None, payout_method="bank", sort_code="12345", account_number="12ab5678"
            )

        codes = {(error["code"], error["pointer"]) for error in raised.value.errors}
        assert codes == {
            ("required", "/bank_account_name"),
            ("invalid_sort_code", "/sort_code"),
            ("invalid_account_number", "/account_number"),
        }
        assert not ProviderDetails.objects.exists()

    def test_a_stripe_account_needs_an_acct_id_and_drops_bank_details(self):
        provider = ProviderFactory()
        with pytest.raises(services.ProviderDetailsInvalid):
            services.provider_details_set(
                provider=provider, by=None, payout_method="stripe", stripe_account_id="x"
            )

        details = services.provider_details_set(
            provider=provider,
            by=None,
            payout_method="stripe",
            stripe_account_id="acct_123",
            sort_code="200000",
            account_number="55779911",
        )

        assert (details.stripe_account_id, details.sort_code, details.account_number) == ("acct_123", "", "")

    def test_setting_again_replaces_the_details(self):
        provider = ProviderFactory()
        services.provider_details_set(
            provider=provider, by=None, payout_method="stripe", stripe_account_id="acct_1"
        )

        services.provider_details_set(provider=provider, by=None, payout_method="none", contact_name="New")

        details = ProviderDetails.objects.get(provider=provider)
        # The connected account is kept (it is the provider's, and Stripe would not make it again), but the
        # provider is no longer paid through it.
        assert (details.payout_method, details.stripe_account_id, details.contact_name) == (
            "none",
            "acct_1",
            "New",
        )

    def test_an_agency_has_no_provider_details(self):
        with pytest.raises(services.NotAProvider):
            services.provider_details_set(provider=AgencyFactory(), by=None)

    def test_the_database_refuses_incomplete_bank_details(self):
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            ProviderDetails.objects.create(provider=ProviderFactory(), payout_method="bank", sort_code="1")
